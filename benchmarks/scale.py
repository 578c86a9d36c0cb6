"""Evaluation at province scale: how the time of a run grows with subjects, per engine.

    .venv/bin/python benchmarks/scale.py                          # 1M and 4M subjects
    .venv/bin/python benchmarks/scale.py --sizes 200000 1000000   # a quicker curve
    .venv/bin/python benchmarks/scale.py --sizes 1000000 --store postgres \
        --engines duckdb spark-local spark-local-driver spark-cluster spark-cluster-driver

For each size, the county benchmarks/evaluate.py writes (about 21 records a subject,
every subject a park enterprise in `qujiang-park`'s scope; cached in benchmarks/work),
its record segments written into one shared place (`CREDITGOV_SEGMENTS`), then the model
evaluated end to end — snapshot, plan, scores stored as an evaluation run — on:

- `duckdb`, the default engine;
- `spark local[2]`: one JVM on this machine;
- `spark cluster`: a standalone master and two workers started here on loopback (1 core
  each, `--worker-memory` each), whose executors read the segment files themselves.

`--store postgres` fills the same county into a PostgreSQL schema instead (`scale_<n>_<seed>`
of the test database, kept for the next run; `--drop` removes it after): there the Spark
executors read the subjects through JDBC and write the scores into the store themselves;
a name's `-locked` runs with the subjects' keys-kept trigger off, so the store locks
each subject as before migration 0030 (e.g. `duckdb-locked`); `-staged` has the driver
stage the subjects instead
(`CREDITGOV_SPARK_SUBJECTS=stage`) and its `-driver` has the driver collect and store
the scores (`CREDITGOV_SPARK_SCORES=driver`), e.g. `spark-local-driver` or
`spark-cluster-staged-driver`, side by side. On any store, `-mem<limit>` sets the run's
DuckDB memory limit (`CREDITGOV_DUCKDB_MEMORY`, core/duck.py; half the machine unless
set): `duckdb-mem80%` is DuckDB's own default, `duckdb-mem4GB` a small machine.

Each run is a child process of its own, watched every 0.2 s through /proc: wall time,
the run's own timings, the peak resident memory of every process of the run (the child,
its Spark driver JVM and, for the cluster, the workers and their executors) and the
bytes those processes read (`rchar`: every read call, from disk or page cache). The
grades of every engine are compared with DuckDB's. DuckDB at the smallest size is the
baseline every other figure is divided by. Results: benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import evaluate as county  # noqa: E402
from tests.spark_cluster import standalone  # noqa: E402

from creditgov.core import db, schema  # noqa: E402
from creditgov.scoring import segments  # noqa: E402

RUN = """
import datetime, json, sys
from creditgov.scoring import service
r = service.evaluate(sys.argv[1], ref=sys.argv[3], as_of=datetime.date.fromisoformat(sys.argv[4]),
                     engine=sys.argv[2], actor="bench")
print(json.dumps({"seconds": r.seconds, "timings": r.timings, "grades": r.grades, "subjects": r.subjects}))
"""


def _sessions_of(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            out.add(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3]))
        except (OSError, IndexError, ValueError):
            pass
    return out


class Watch:
    """Every 0.2 s: the summed RSS of the processes in the watched sessions (its peak) and
    each one's `rchar` (the last value seen per process, summed at the end)."""

    def __init__(self, sessions: set[int]) -> None:
        self.sessions = sessions
        self.peak_rss = 0
        self.rchar: dict[int, int] = {}
        self.base: dict[int, int] = {}
        self._stop = threading.Event()
        self._sample(first=True)
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _sample(self, first: bool = False) -> None:
        rss = 0
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[3]) not in self.sessions:
                    continue
                rss += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
                io = dict(line.split(": ") for line in (d / "io").read_text().splitlines())
                pid = int(d.name)
                if first:
                    self.base[pid] = int(io["rchar"])
                self.rchar[pid] = int(io["rchar"])
            except (OSError, IndexError, ValueError, KeyError):
                continue
        self.peak_rss = max(self.peak_rss, rss)

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._t.join()
        read = sum(v - self.base.get(pid, 0) for pid, v in self.rchar.items())
        return {"peak_rss_mb": round(self.peak_rss / 2**20, 1), "read_mb": round(read / 2**20, 1)}


def run(url: str, engine: str, env: dict[str, str], extra_sessions: set[int]) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-c", RUN, url, engine, county.MODEL, county.AS_OF.isoformat()], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    watch = Watch({proc.pid, *extra_sessions})
    t0 = time.perf_counter()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    seen = watch.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{err[-3000:]}")
    r = json.loads(out.strip().splitlines()[-1])
    return {**r, "wall_seconds": round(wall, 2), **seen}


def county_store(work: Path, n: int, seed: int) -> str:
    path = work / f"evaluate-{n}-{seed}.db"
    if not path.exists():
        print(f"writing a county of {n:,} park enterprises into {path}")
        county.fill_sqlite(path, n, seed)
    else:
        schema.upgrade(f"sqlite:///{path}")
    return f"sqlite:///{path}"


def _schema(n: int, seed: int) -> str:
    return f"scale_{n}_{seed}"


def county_pg(n: int, seed: int) -> str:
    """The county in a PostgreSQL schema of the test database, filled once: a schema whose
    list entries (written last) are there is complete; any other is filled again."""
    import sqlalchemy as sa

    name = _schema(n, seed)
    url = f"{county.PG_BASE}{'&' if '?' in county.PG_BASE else '?'}options=-csearch_path%3D{name}"
    eng = sa.create_engine(county.PG_BASE)
    try:
        with eng.begin() as c:
            done = c.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{name}.list_entries"}).scalar()
            if done:
                done = c.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {name}.list_entries)")).scalar()
            if not done:
                c.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
                c.execute(sa.text(f"CREATE SCHEMA {name}"))
    finally:
        eng.dispose()
    if done:
        schema.upgrade(url)
    else:
        print(f"writing a county of {n:,} park enterprises into PostgreSQL schema {name}")
        county.fill_postgres(url, n, seed)
    return url


def drop_pg(url: str, name: str) -> None:
    import sqlalchemy as sa

    db.engine_for(url).dispose()
    eng = sa.create_engine(county.PG_BASE)
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    eng.dispose()


def _run_engine(args: argparse.Namespace, size: dict[str, Any], name: str, url: str, env: dict[str, str]) -> None:
    if name.startswith("duckdb"):
        size["engines"][name] = run(url, "duckdb", env, set())
    elif name.startswith("spark-local"):
        env["CREDITGOV_SPARK_MASTER"] = "local[2]"
        size["engines"][name] = run(url, "spark", env, set())
    else:
        with standalone(args.work / "scale-cluster-logs", workers=2, cores=1,
                        memory=args.worker_memory) as c:
            env["CREDITGOV_SPARK_MASTER"] = c.master
            size["engines"][name] = run(url, "spark", env, _sessions_of({p.pid for p, _ in c.workers}))


def _keys_trigger(url: str, *, on: bool) -> None:
    """The subjects' keys-kept trigger (migration 0030) turned on or off."""
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text(f"ALTER TABLE subjects {'ENABLE' if on else 'DISABLE'} TRIGGER subjects_keys_kept"))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 4_000_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark-local", "spark-cluster"])
    ap.add_argument("--worker-memory", default="4g", help="memory of each cluster worker (its executor gets most)")
    ap.add_argument("--partitions", default="8", help="CREDITGOV_SPARK_PARTITIONS for the Spark runs")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--drop", action="store_true", help="drop the PostgreSQL schema after the run")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    shared = args.work / "scale-shared"
    os.environ["CREDITGOV_SEGMENTS"] = (shared / "segments").as_uri()
    os.environ.setdefault("CREDITGOV_TODAY", county.AS_OF.isoformat())
    conf = args.work / "scale-spark.conf"
    mem_gb = max(1, int(args.worker_memory.rstrip("gG")) - 1)
    conf.write_text(f"spark.driver.memory 4g\nspark.executor.memory {mem_gb}g\nspark.executor.cores 1\n"
                    "spark.cores.max 2\n", encoding="utf-8")
    base_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                "CREDITGOV_SPARK_CONF": str(conf), "CREDITGOV_SPARK_PARTITIONS": args.partitions,
                "CREDITGOV_SPARK_STAGING": (shared / "staging").as_uri()}
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "model": county.MODEL, "sizes": {},
                           "worker_memory": args.worker_memory, "partitions": args.partitions,
                           "store": args.store}
    stores: list[str] = []
    for n in args.sizes:
        url = county_store(args.work, n, args.seed) if args.store == "sqlite" else county_pg(n, args.seed)
        stores.append(url)
        t = time.perf_counter()
        copy = segments.refresh(url)
        st = segments.status(url)
        size: dict[str, Any] = {"records": st["rows"] + st["tail"], "segment_bytes": st["bytes"],
                                "segments_written": {**copy, "wall_seconds": round(time.perf_counter() - t, 2)},
                                "engines": {}}
        out["sizes"][str(n)] = size
        print(f"{n:,} subjects, {size['records']:,} records; segments {st['bytes'] / 2**20:.0f} MB "
              f"({copy['action']}, {copy.get('seconds', 0):.1f} s)")
        for name in args.engines:
            env = dict(base_env)
            if args.store == "postgres" and name.startswith("spark-cluster"):
                # the store is on loopback, where `auto` sends no cluster's executors; this
                # cluster is on the same machine: insist, as the cluster test does
                env["CREDITGOV_SPARK_SUBJECTS"] = env["CREDITGOV_SPARK_SCORES"] = "jdbc"
            if "-staged" in name:
                env["CREDITGOV_SPARK_SUBJECTS"] = "stage"
            if "-driver" in name:
                env["CREDITGOV_SPARK_SCORES"] = "driver"
            if "-mem" in name:  # DuckDB's memory limit (core/duck.py), e.g. duckdb-mem80% or duckdb-mem4GB
                env["CREDITGOV_DUCKDB_MEMORY"] = name.split("-mem", 1)[1].split("-")[0]
            locked = "-locked" in name and args.store == "postgres"
            if locked:  # the subjects' trigger off: the store step locks each subject, as before 0030
                _keys_trigger(url, on=False)
            try:
                _run_engine(args, size, name, url, env)
            finally:
                if locked:
                    _keys_trigger(url, on=True)
            r = size["engines"][name]
            r["same_grades_as_duckdb"] = r["grades"] == size["engines"].get("duckdb", r)["grades"]
            print(f"  {name:14} {r['seconds']:8.1f} s  peak {r['peak_rss_mb']:8.0f} MB  read {r['read_mb']:8.0f} MB  "
                  f"same grades {r['same_grades_as_duckdb']}  {r['timings']}")
    # Side by side, against DuckDB at the smallest size.
    first = str(args.sizes[0])
    base = out["sizes"][first]["engines"].get("duckdb", {}).get("seconds")
    print(f"\n{'engine':14} " + " ".join(f"{int(n):>12,}" for n in out["sizes"]) + "   (seconds; x baseline)")
    for name in args.engines:
        cells = []
        for n in out["sizes"]:
            r = out["sizes"][n]["engines"].get(name)
            cells.append(f"{r['seconds']:6.1f} {r['seconds'] / base:4.1f}x" if r and base else f"{'-':>12}")
        print(f"{name:14} " + " ".join(f"{c:>12}" for c in cells))
    out["baseline"] = {"engine": "duckdb", "subjects": int(first), "seconds": base}
    if len(args.sizes) > 1:
        lo, hi = str(min(args.sizes)), str(max(args.sizes))
        growth = {}
        for name in args.engines:
            a, b = out["sizes"][lo]["engines"].get(name), out["sizes"][hi]["engines"].get(name)
            if a and b:
                per = (b["seconds"] - a["seconds"]) / (int(hi) - int(lo))
                growth[name] = {"seconds_per_million_subjects": round(per * 1e6, 2),
                                "fixed_seconds": round(a["seconds"] - per * int(lo), 2),
                                "time_ratio": round(b["seconds"] / a["seconds"], 2),
                                "size_ratio": round(int(hi) / int(lo), 2)}
        out["growth"] = growth
        print("growth (a line through the smallest and the largest size): " + json.dumps(growth))
    if args.store == "postgres" and args.drop:
        for n, url in zip(args.sizes, stores, strict=True):
            drop_pg(url, _schema(n, args.seed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
