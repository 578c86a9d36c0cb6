"""Ingestion throughput: records per second and peak memory, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/ingest.py [--subjects 100000] [--seed 7] [--skip-postgres] [--skip-sqlite]
        [--no-synthetic] [--no-later] [--repeat N]

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
SQLite, then the rows it stored copied again into an empty table of the same shape by
`INSERT ... SELECT` (the ceiling) and by `executemany` binding what the product binds
(the best a writer that binds its rows from Python can do), (e) on PostgreSQL (a fresh schema in database `test` at 127.0.0.1:5432), each
followed by a second ingest of the same files and by the next seed's county ingested
onto the filled store (new records through the matching path, shared subjects
re-registered; `--no-later` leaves it out). Each
line reports wall seconds, rows/s, CPU seconds and peak RSS of the measuring process
and, for ingest, of its helper process (files are prepared on the second core, see
docs/ingestion.md), and the load average when it started. Prints a side-by-side table
and writes benchmarks/results/ingest.json. The machine is shared and its speed differs
from day to day: compare lines of the same run, not runs.
"""

from __future__ import annotations

import argparse
import hashlib
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


def pg_ceiling(url: str, bulk_keys: bool = False) -> dict[str, object]:
    """A bare `COPY` of the rows the product just stored into an empty copy of
    credit_records with the same columns, defaults, checks, indexes and foreign keys:
    PostgreSQL's own ceiling for these rows. Dumping them first is untimed. `bulk_keys`:
    the COPY without the per-row foreign-key triggers, then each key checked and locked
    once for the load, as the product loads a source's first file (core.db.lock_references)."""
    import io

    import sqlalchemy as sa

    eng = sa.create_engine(url)
    raw = eng.raw_connection()
    try:
        pg = raw.driver_connection
        assert pg is not None
        buf = io.BytesIO()
        with pg.cursor() as cur:
            with cur.copy("COPY credit_records TO STDOUT") as cp:
                for block in cp:
                    buf.write(block)
            cur.execute("CREATE TABLE bare_records (LIKE credit_records INCLUDING ALL)")
            fks = cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                              " WHERE conrelid = 'credit_records'::regclass AND contype = 'f'").fetchall()
            for name, definition in fks:
                cur.execute(f"ALTER TABLE bare_records ADD CONSTRAINT bare_{name} {definition}")
        pg.commit()
        data = buf.getvalue()
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        with pg.cursor() as cur:
            if bulk_keys:  # as the product loads a first file: no per-row checks, then each key once
                cur.execute("SET LOCAL session_replication_role = replica")
            with cur.copy("COPY bare_records FROM STDIN") as cp:
                for i in range(0, len(data), 1 << 20):
                    cp.write(data[i:i + (1 << 20)])
            if bulk_keys:
                cur.execute("SET LOCAL session_replication_role = origin")
                for column, target, key in (("subject_id", "subjects", "id"), ("item_code", "catalog_items", "code"),
                                            ("department_code", "departments", "code"),
                                            ("batch_id", "ingest_batches", "id")):
                    cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {target} t JOIN (SELECT DISTINCT {column} AS v "
                                f"FROM bare_records) u ON t.{key} = u.v FOR KEY SHARE OF t) l")
            n = cur.execute("SELECT count(*) FROM bare_records").fetchone()[0]  # type: ignore[index]  # one row
        pg.commit()
        seconds = time.perf_counter() - t0
        ru = resource.getrusage(resource.RUSAGE_SELF)
        with pg.cursor() as cur:
            cur.execute("DROP TABLE bare_records")
        pg.commit()
    finally:
        raw.close()
        eng.dispose()
    return {"rows": n, "seconds": round(seconds, 3),
            "cpu_s": round(ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime, 2)}


def sqlite_ceiling(url: str, bind: bool = False) -> dict[str, object]:
    """One `INSERT ... SELECT` per 5,000 rows of the rows the product just stored, from a
    staging file written beforehand (untimed), into an empty copy of credit_records with
    its indexes and the store's PRAGMAs: SQLite's own ceiling for these rows. `bind`: the
    same rows bound from Python instead, one `executemany` per 5,000 (read beforehand,
    untimed), binding the columns the product binds (writer.VAR_COLUMNS) and the batch's
    constants as literals, as `core.db.bulk_insert` does — the best any writer that binds
    its rows from Python can do."""
    import re
    import sqlite3

    path = url.removeprefix("sqlite:///")
    staging = f"{path}-staging"
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "temp_store=MEMORY",
                   "cache_size=-200000"):
        con.execute(f"PRAGMA {pragma}")
    ddl = [sql for (sql,) in con.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'credit_records' AND type IN ('table', 'index')"
        " AND sql IS NOT NULL ORDER BY type DESC")]
    con.execute(f"ATTACH '{staging}' AS staging")
    con.execute("CREATE TABLE staging.r AS SELECT * FROM credit_records ORDER BY id")
    for sql in ddl:
        sql = re.sub(r"\bcredit_records\b", "bare_records", sql, count=1)
        sql = re.sub(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)", r"\1bare_\2", sql)
        # An unnamed UNIQUE in the table makes its own index; a named one is renamed above.
        con.execute(sql.replace('"credit_records"', '"bare_records"'))
    n = con.execute("SELECT max(rowid) FROM staging.r").fetchone()[0] or 0
    if bind:
        from creditgov.ingest.writer import VAR_COLUMNS

        fixed = [c for (c,) in con.execute("SELECT name FROM pragma_table_info('credit_records')")
                 if c not in VAR_COLUMNS and c != "id"]
        data = con.execute(f"SELECT {', '.join(VAR_COLUMNS)} FROM staging.r ORDER BY rowid").fetchall()
        first = con.execute(f"SELECT {', '.join(fixed)} FROM staging.r ORDER BY rowid LIMIT 1").fetchone() or ()

        def literal(v: object) -> str:
            return "NULL" if v is None else str(int(v)) if isinstance(v, bool | int) else "'" + str(v).replace("'", "''") + "'"

        insert = (f"INSERT INTO bare_records ({', '.join([*VAR_COLUMNS, *fixed])}) VALUES"
                  f" ({', '.join(['?'] * len(VAR_COLUMNS) + [literal(v) for v in first])})")
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    con.execute("BEGIN IMMEDIATE")
    if bind:
        cur = con.cursor()
        for start in range(0, len(data), 5000):
            cur.executemany(insert, data[start:start + 5000])
    else:
        for start in range(0, n, 5000):
            con.execute(f"INSERT INTO bare_records SELECT * FROM staging.r WHERE rowid > {start} AND rowid <= {start + 5000}")
    con.execute("COMMIT")
    seconds = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rows = con.execute("SELECT count(*) FROM bare_records").fetchone()[0]
    con.execute("DROP TABLE bare_records")  # the next bound copies into a fresh one
    con.close()
    for p in Path(staging).parent.glob(Path(staging).name + "*"):
        p.unlink()
    return {"rows": rows, "seconds": round(seconds, 3),
            "cpu_s": round(ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime, 2)}


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
    elif kind in ("bare-copy", "bare-copy-bulk-keys", "bare-insert-select", "bare-executemany"):
        # The store the product has just filled (same run): its rows, into its own table shape.
        out.update(pg_ceiling(url, bulk_keys=kind == "bare-copy-bulk-keys") if kind.startswith("bare-copy")
                   else sqlite_ceiling(url, bind=kind == "bare-executemany"))
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(out))
        return
    else:
        from creditgov.core import db, schema
        from creditgov.security.crypto import create_key_file

        schema.upgrade(url)
        from creditgov.catalog import service as catalog_service

        with db.session_scope(url) as s:
            catalog_service.load_catalog(s, actor="bench")
        # A second run over the same store (kind "again") needs the first run's key: the
        # key file lives, beside the store's name, until main() removes it.
        from creditgov.security.crypto import load_key_file

        key_file = WORK / f"bench-{hashlib.sha256(url.encode()).hexdigest()[:8]}.key"
        ring = load_key_file(key_file) if kind in ("again", "later") else create_key_file(key_file)
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
    if kind in ("ingest", "again", "later"):
        out["helper_cpu_s"] = round(helper.ru_utime + helper.ru_stime, 2)
        out["helper_peak_rss_mb"] = round(helper.ru_maxrss / 1024, 1)
    print(json.dumps(out))


def run_child(kind: str, county: Path, url: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", kind, str(county), url],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def pg_rows(county: Path, rows: list[dict], later: Path | None) -> None:
    """Ingest, its bare-COPY ceiling, a second ingest and another county's files, in a
    fresh schema of database `test`."""
    import sqlalchemy as sa

    schema_name = "bench_" + uuid.uuid4().hex[:8]
    eng = sa.create_engine(PG)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema_name}"))
    try:
        url = f"{PG}?options=-csearch_path%3D{schema_name}"
        rows.append({"what": "creditgov ingest, PostgreSQL", **run_child("ingest", county, url)})
        rows.append({"what": "ceiling: PostgreSQL bare COPY, same rows", **run_child("bare-copy", county, url)})
        rows.append({"what": "ceiling: bare COPY, keys checked once", **run_child("bare-copy-bulk-keys", county, url)})
        rows.append({"what": "ingest again, PostgreSQL (all seen)", **run_child("again", county, url)})
        if later is not None:
            rows.append({"what": "next county, PostgreSQL (matching)", **run_child("later", later, url)})
    finally:
        with eng.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema_name} CASCADE"))
        eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="run the store lines this many times, alternating")
    ap.add_argument("--no-synthetic", action="store_true",
                    help="skip the synthetic-table baselines (b), (c); keep the same-rows ceilings")
    ap.add_argument("--no-later", action="store_true",
                    help="skip the next county's ingestion onto the filled store (the matching path)")
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
    # Another county of the same size (the next seed) ingested onto the filled store: its
    # records are new but go through the matching path (the sources have records), and
    # the registrations it shares with the first county's subjects correct them.
    later = None
    if not a.no_later:
        later = WORK / f"county-{a.subjects}-{a.seed + 1}"
        if not (later / "manifest.yaml").exists():
            from creditgov.demo.county import generate

            generate(later, subjects=a.subjects, seed=a.seed + 1)
    rows: list[dict] = []
    rows.append({"what": "baseline: read+decode only", **run_child("read", county, "-")})
    total = rows[0]["rows"]
    if not a.no_synthetic:
        rows.append({"what": "baseline: raw SQLite executemany", **run_child("raw-insert", county, str(total))})
        rows.append({"what": "baseline: SQLite INSERT..SELECT", **run_child("staged-insert", county, str(total))})
        rows.append({"what": "bound: INSERT..SELECT, indexes after", **run_child("staged-late", county, str(total))})
        rows.append({"what": "bound: INSERT..SELECT, no index", **run_child("staged-bare", county, str(total))})
    # The ceilings take the rows the product stored (same run, same rows) and insert them
    # again, bare, into an empty table of credit_records' shape with its indexes and keys.
    # With --repeat the lines alternate and the ratios compare the best of each.
    for _ in range(a.repeat):
        if not a.skip_sqlite:
            db_file = WORK / f"ingest-{uuid.uuid4().hex[:6]}.db"
            lite = f"sqlite:///{db_file}"
            rows.append({"what": "creditgov ingest, SQLite", **run_child("ingest", county, lite)})
            rows.append({"what": "ceiling: SQLite INSERT..SELECT, same rows",
                         **run_child("bare-insert-select", county, lite)})
            rows.append({"what": "bound: executemany from Python, same rows",
                         **run_child("bare-executemany", county, lite)})
            rows.append({"what": "ingest again, SQLite (all seen)", **run_child("again", county, lite)})
            if later is not None:
                rows.append({"what": "next county, SQLite (matching)", **run_child("later", later, lite)})
            for p in WORK.glob(db_file.name + "*"):
                p.unlink()
        if not a.skip_postgres:
            pg_rows(county, rows, later)
    for p in WORK.glob("bench-*.key"):
        p.unlink()
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
    by: dict[str, dict] = {}
    for r in rows:  # the best line of each kind
        if r["what"] not in by or r["rows_per_s"] > by[r["what"]]["rows_per_s"]:
            by[r["what"]] = r
    ratios: dict[str, float] = {}
    for name, product, ceiling in (
            ("sqlite_vs_insert_select", "creditgov ingest, SQLite", "ceiling: SQLite INSERT..SELECT, same rows"),
            ("sqlite_vs_executemany", "creditgov ingest, SQLite", "bound: executemany from Python, same rows"),
            ("postgresql_vs_copy", "creditgov ingest, PostgreSQL", "ceiling: PostgreSQL bare COPY, same rows"),
            ("postgresql_vs_copy_keys_once", "creditgov ingest, PostgreSQL", "ceiling: bare COPY, keys checked once")):
        if product in by and ceiling in by:
            # Rows read by the product against rows the ceiling stored: the product also
            # reads the rows it rejects, filters or finds duplicate.
            stored = by[product]["accepted"]
            ratios[name] = round(stored / by[product]["seconds"] / by[ceiling]["rows_per_s"], 3)
            print(f"{name}: product {stored / by[product]['seconds']:,.0f} stored rows/s"
                  f" ({by[product]['rows_per_s']:,} read rows/s), ceiling {by[ceiling]['rows_per_s']:,} rows/s,"
                  f" ratio {ratios[name]:.2f}" + (" (goal 0.80)" if name != "sqlite_vs_executemany" else ""))
    bound, ceiling = "bound: executemany from Python, same rows", "ceiling: SQLite INSERT..SELECT, same rows"
    if bound in by and ceiling in by:
        ratios["executemany_vs_insert_select"] = round(by[bound]["rows_per_s"] / by[ceiling]["rows_per_s"], 3)
        print(f"a writer binding its rows from Python reaches at most {ratios['executemany_vs_insert_select']:.2f}"
              " of the INSERT..SELECT ceiling")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    doc = {"benchmark": "ingest", "subjects": a.subjects, "seed": a.seed, "cores": os.cpu_count(),
           "load_average": [round(x, 2) for x in os.getloadavg()],
           "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": rows,
           "ratios": ratios}
    out = RESULTS / ("ingest.json" if a.subjects == 100_000 else f"ingest-{a.subjects}.json")
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
