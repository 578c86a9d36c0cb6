"""Ingestion throughput: records per second and peak memory, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/ingest.py [--subjects 100000] [--seed 7] [--skip-postgres]

Generates (once, cached under benchmarks/work/) a synthetic county, then in separate
processes: (a) a baseline that only reads and decodes every source file with the
readers ingestion uses (chunks of rows), (b) a baseline that inserts the same number of
rows, of credit_records' width, with its two indexes (random 32-hex natural keys) and
the store's PRAGMAs, into SQLite with bare executemany — the floor for inserting from
Python, (c) the same rows inserted by one `INSERT ... SELECT` per 5,000 rows from a
staging SQLite file written beforehand (untimed) — SQLite's own cost of the insert,
with no Python per row — and two bounds of that copy: with both indexes built after the
insert, in the same transaction (a bulk load's best case), and into a table with no
index at all (SQLite's ceiling for one row per record), (d) `creditgov ingest` on
SQLite, (e) on PostgreSQL (a fresh schema in database `test` at 127.0.0.1:5432). Each
line reports wall seconds, rows/s, CPU seconds and peak RSS of the measuring process
and, for ingest, of its helper process (files are prepared on the second core, see
docs/ingestion.md), and the load average when it started. Prints a side-by-side table
and writes benchmarks/results/ingest.json. The machine is shared and its speed differs
from day to day: compare lines of the same run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work"
RESULTS = ROOT / "results"
PG = os.environ.get("CREDITGOV_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CREDITGOV_TODAY", "2026-11-01")


def child(kind: str, county: str, url: str) -> None:
    """Runs in a child process so peak memory (ru_maxrss) is its own."""
    from creditgov.ingest import service

    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    out: dict[str, object] = {"kind": kind, "load_average": round(os.getloadavg()[0], 2)}
    if kind == "read":
        plans, _ = service.plan([Path(county)])
        from creditgov.ingest.readers import read_chunks, read_rows
        from creditgov.ingest.writer import CHUNK

        n = 0
        for pl in plans:
            for f in pl.files:
                if pl.spec.kind == "records":
                    n += sum(len(c.rows) for c in read_chunks(pl.spec, f, CHUNK))
                else:
                    n += sum(1 for _ in read_rows(pl.spec, f))
        out.update(rows=n)
    elif kind in ("raw-insert", "staged-insert", "staged-late", "staged-bare"):
        import hashlib
        import sqlite3

        n = int(url)
        db = WORK / f"raw-{uuid.uuid4().hex[:6]}.db"
        con = sqlite3.connect(db, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-200000"):
            con.execute(f"PRAGMA {pragma}")
        columns = ("s INTEGER, item TEXT, occ TEXT, dec TEXT, v TEXT, g TEXT, t TEXT, dep TEXT, doc TEXT, st TEXT,"
                   " pf TEXT, pu TEXT, nk TEXT, ver INT, cur INT, sup INT, ch TEXT, src TEXT, b INT, sv TEXT,"
                   " line INT, rh TEXT, raw TEXT, ca TEXT")
        names = "s, item, occ, dec, v, g, t, dep, doc, st, pf, pu, nk, ver, cur, sup, ch, src, b, sv, line, rh, raw, ca"
        # staged-late builds both indexes after the insert, in the same transaction (a bulk
        # load's best case); staged-bare builds none (SQLite's ceiling for one row per record).
        indexes = ["CREATE UNIQUE INDEX ru ON r (nk, ver)", "CREATE INDEX rs ON r (s, item)"]
        con.execute(f"CREATE TABLE r (id INTEGER PRIMARY KEY, {columns})")
        if kind in ("raw-insert", "staged-insert"):
            for ddl in indexes:
                con.execute(ddl)

        def h(i: int, salt: bytes) -> str:
            return hashlib.blake2b(salt + i.to_bytes(8, "little"), digest_size=16).hexdigest()

        def chunks():  # type: ignore[no-untyped-def]
            for start in range(0, n, 5000):
                yield [(i % 100000 + 1, "utility.bill", "2026-01-01", None, "0.00", None, None, "utility", None,
                        "active", "2026-01-01", "2029-01-01", h(i, b"n"), 1, 1, None, h(i, b"c"), "utility_bills",
                        1, "1", i, h(i, b"r"), "\x1e" + "x" * 70, "2026-11-01 00:00:00.000000")
                       for i in range(start, min(n, start + 5000))]

        insert = f"INSERT INTO r ({names}) VALUES ({', '.join(['?'] * 24)})"
        staging = WORK / f"staging-{uuid.uuid4().hex[:6]}.db"
        if kind != "raw-insert":  # the staging file is written first, untimed
            st = sqlite3.connect(staging, isolation_level=None)
            st.execute("PRAGMA journal_mode=OFF")
            st.execute(f"CREATE TABLE r (id INTEGER PRIMARY KEY, {columns})")
            st.execute("BEGIN")
            for rows in chunks():
                st.executemany(insert, rows)
            st.execute("COMMIT")
            st.close()
            con.execute(f"ATTACH '{staging}' AS staging")
        t0 = time.perf_counter()  # raw-insert: rows are made in chunks below; making them is part of the floor
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        con.execute("BEGIN IMMEDIATE")
        if kind == "raw-insert":
            for rows in chunks():
                con.executemany(insert, rows)
        else:
            for start in range(0, n, 5000):
                con.execute(f"INSERT INTO r ({names}) SELECT {names} FROM staging.r"
                            f" WHERE id > {start} AND id <= {start + 5000}")
            if kind == "staged-late":
                for ddl in indexes:
                    con.execute(ddl)
        con.execute("COMMIT")
        con.close()
        for p in [*WORK.glob(db.name + "*"), *WORK.glob(staging.name + "*")]:
            p.unlink()
        out.update(rows=n)
    else:
        from creditgov.core import db, schema
        from creditgov.security.crypto import create_key_file

        schema.upgrade(url)
        from creditgov.catalog import service as catalog_service

        with db.session_scope(url) as s:
            catalog_service.load_catalog(s, actor="bench")
        key_file = WORK / f"bench-{uuid.uuid4().hex[:6]}.key"
        ring = create_key_file(key_file)
        key_file.unlink()  # the ring is in memory; nothing of the run is kept
        out["load_average"] = round(os.getloadavg()[0], 2)
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        r = service.ingest_paths(url, ring, [Path(county)], actor="bench")
        out.update(rows=r.counts.read, accepted=r.counts.accepted, rejected=r.counts.rejected,
                   duplicates=r.counts.duplicates)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    me, helper = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = ru0.ru_utime + ru0.ru_stime  # the measured part, not the set-up
    out["cpu_s"] = round(me.ru_utime + me.ru_stime - cpu0, 2)
    out["peak_rss_mb"] = round(me.ru_maxrss / 1024, 1)
    if kind == "ingest":
        out["helper_cpu_s"] = round(helper.ru_utime + helper.ru_stime, 2)
        out["helper_peak_rss_mb"] = round(helper.ru_maxrss / 1024, 1)
    print(json.dumps(out))


def run_child(kind: str, county: Path, url: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", kind, str(county), url],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--child", nargs=3)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    county = WORK / f"county-{a.subjects}-{a.seed}"
    if not (county / "manifest.yaml").exists():
        t = time.perf_counter()
        from creditgov.demo.county import generate

        generate(county, subjects=a.subjects, seed=a.seed)
        print(f"generated {county.name} in {time.perf_counter() - t:.1f} s")
    rows: list[dict] = []
    rows.append({"what": "baseline: read+decode only", **run_child("read", county, "-")})
    total = rows[0]["rows"]
    rows.append({"what": "baseline: raw SQLite executemany", **run_child("raw-insert", county, str(total))})
    rows.append({"what": "baseline: SQLite INSERT..SELECT", **run_child("staged-insert", county, str(total))})
    rows.append({"what": "bound: INSERT..SELECT, indexes after", **run_child("staged-late", county, str(total))})
    rows.append({"what": "bound: INSERT..SELECT, no index", **run_child("staged-bare", county, str(total))})
    db_file = WORK / f"ingest-{uuid.uuid4().hex[:6]}.db"
    rows.append({"what": "creditgov ingest, SQLite", **run_child("ingest", county, f"sqlite:///{db_file}")})
    for p in WORK.glob(db_file.name + "*"):
        p.unlink()
    if not a.skip_postgres:
        import sqlalchemy as sa

        schema_name = "bench_" + uuid.uuid4().hex[:8]
        eng = sa.create_engine(PG)
        with eng.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {schema_name}"))
        try:
            url = f"{PG}?options=-csearch_path%3D{schema_name}"
            rows.append({"what": "creditgov ingest, PostgreSQL", **run_child("ingest", county, url)})
        finally:
            with eng.begin() as c:
                c.execute(sa.text(f"DROP SCHEMA {schema_name} CASCADE"))
    for r in rows:
        r["rows_per_s"] = round(r["rows"] / r["seconds"]) if r["seconds"] else None
    print(f"\ningestion of a {a.subjects:,}-subject county (seed {a.seed}), {platform.processor() or platform.machine()},"
          f" {os.cpu_count()} cores")
    print(f"{'what':36} {'rows':>11} {'seconds':>9} {'rows/s':>10} {'CPU s':>7} {'peak MB':>9}"
          f" {'helper CPU s':>13} {'helper MB':>10} {'load':>5}")
    for r in rows:
        print(f"{r['what']:36} {r['rows']:>11,} {r['seconds']:>9.2f} {r['rows_per_s']:>10,} {r['cpu_s']:>7.1f}"
              f" {r['peak_rss_mb']:>9.1f} {r.get('helper_cpu_s', ''):>13} {r.get('helper_peak_rss_mb', ''):>10}"
              f" {r['load_average']:>5}")
    goal = next((r for r in rows if r["what"] == "creditgov ingest, SQLite"), None)
    if goal:
        print(f"goal: 100,000 rows/s on SQLite; measured {goal['rows_per_s']:,}"
              f" ({goal['rows_per_s'] / 1000:.0f}%); load average at the end {os.getloadavg()[0]:.1f}")
    doc = {"benchmark": "ingest", "subjects": a.subjects, "seed": a.seed, "cores": os.cpu_count(),
           "load_average": [round(x, 2) for x in os.getloadavg()],
           "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": rows}
    (RESULTS / "ingest.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written {RESULTS / 'ingest.json'}")


if __name__ == "__main__":
    main()
