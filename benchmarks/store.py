"""Storing a run's scores in PostgreSQL: the foreign keys checked row by row against
checked once for the run (scoring/run_store.py: store_table), the subjects either locked
one by one (`locked`: their trigger turned off) or found without a lock (`bulk`: kept
by their trigger, migration 0030).

    .venv/bin/python benchmarks/store.py [--subjects 1000000] [--repeat 2]

A fresh schema in database `test` at 127.0.0.1:5432 (CREDITGOV_BENCH_PG) with the
product's tables, `--subjects` subjects made by one INSERT … SELECT, then the scores of
one run of that many subjects stored by the product's own step (scoring/run_store.py:
run_store.store_table, the run's transaction committed) — alternately with the per-row checks
(the baseline: what a role without the privilege gets) and with the checks for the
whole run, with and without a lock on each subject, `--repeat` times each. Prints both side by side, with the time spent in the
COPY and in the checks and how far the process's memory grew while storing, and writes
benchmarks/results/store.json. The machine is
shared: compare lines of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
PG = os.environ.get("CREDITGOV_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DIMS = ("integrity", "compliance", "finance", "society")
HOW = ("row", "locked", "bulk")


class _Prepared:
    """The two things the store step reads of a prepared model: its first-level
    dimensions and whether they are weighted."""

    dims = [(code, None, None) for code in DIMS]
    weighted = True


def _scores(n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(7)
    return pa.table({"subject_id": pa.array(np.arange(1, n + 1)), "score_centi": pa.array(rng.integers(0, 100_000, n)),
                     "grade": pa.array(rng.choice(["AAA", "AA", "A", "B", "C"], n)),
                     "colour": pa.array(rng.choice(["green", "yellow", "red"], n)),
                     **{f"dim{k}": pa.array(rng.integers(0, 10_000, n)) for k in range(len(DIMS))}})


@contextlib.contextmanager
def _peak() -> Iterator[list[float]]:
    """How far this process's resident memory grew above where it stood at the start
    (MB, sampled every 10 ms): what the store step holds beside the run's table."""
    page = os.sysconf("SC_PAGE_SIZE") / 2**20

    def rss() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    start, grew, done = rss(), [0.0], threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            grew[0] = max(grew[0], rss() - start)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield grew
    finally:
        done.set()
        t.join()
        grew[0] = max(grew[0], rss() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "store.json")
    args = ap.parse_args()

    import sqlalchemy as sa

    from creditgov.core import db, schema
    from creditgov.scoring import run_store
    from creditgov.scoring.models import EvaluationRun

    name = "bench_store_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE SCHEMA {name}"))
    url = f"{PG}?options=-csearch_path%3D{name}"
    phases: dict[str, float] = {}
    lines: list[dict[str, Any]] = []
    try:
        schema.upgrade(url)
        with db.session_scope(url) as s:
            s.execute(sa.text("INSERT INTO subjects (id, kind, name, attributes, status, created_at, updated_at) "
                              "SELECT g, 'enterprise', 'subject ' || g, '{}', 'active', now(), now() "
                              "FROM generate_series(1, :n) g"), {"n": args.subjects})
        with db.session_scope(url) as s:
            s.execute(sa.text("ANALYZE subjects"))
        table = _scores(args.subjects)
        bulk_allowed = db.may_skip_row_triggers
        for attempt in range(args.repeat):
            for how in HOW:
                db.may_skip_row_triggers = (lambda _s, _t: False) if how == "row" else bulk_allowed  # type: ignore[assignment]
                with db.session_scope(url) as s:  # subjects kept by their trigger, or (off) locked row by row
                    s.execute(sa.text(f"ALTER TABLE subjects {'DISABLE' if how == 'locked' else 'ENABLE'} "
                                      "TRIGGER subjects_keys_kept"))
                with db.session_scope(url) as s:
                    run = EvaluationRun(model_name="bench", model_version="1", model_hash="-", as_of=dt.date(2026, 11, 1),
                                        engine="duckdb", status="running", started_at=dt.datetime.now(), actor="bench",
                                        subjects=0, grades={}, timings={})
                    s.add(run)
                    s.flush()
                    run_id = run.id
                phases.clear()
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                with _peak() as grew, db.session_scope(url) as s:
                    run_store.store_table(s, _Prepared(), run_id, table, phases)  # type: ignore[arg-type]  # see _Prepared
                seconds = time.perf_counter() - t0
                line = {"checks_by": how, "attempt": attempt + 1, "scores": args.subjects, "seconds": round(seconds, 2),
                        "copy_seconds": round(phases.get("store_copy", 0.0), 2),
                        "check_seconds": round(phases.get("store_keys", 0.0), 2),
                        "memory_growth_mb": round(grew[0], 1), "load_average": round(load, 2)}
                lines.append(line)
                print(f"{how:>6}  attempt {attempt + 1}: {seconds:6.2f} s  (COPY {line['copy_seconds']:.2f} s, "
                      f"checks {line['check_seconds']:.2f} s, memory +{grew[0]:,.0f} MB, load {load:.2f})")
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    best = {how: min(x["seconds"] for x in lines if x["checks_by"] == how) for how in HOW}
    checks = {how: min(x["check_seconds"] for x in lines if x["checks_by"] == how) for how in HOW}
    ratio = round(best["bulk"] / best["row"], 3)
    print(f"best: row by row {best['row']:.2f} s, for the run at once {best['bulk']:.2f} s — ratio {ratio} "
          f"({args.subjects / best['row']:,.0f} against {args.subjects / best['bulk']:,.0f} scores/s); "
          f"subjects locked one by one {best['locked']:.2f} s (checks {checks['locked']:.2f} s against "
          f"{checks['bulk']:.2f} s unlocked)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "store", "subjects": args.subjects, "machine": {"cpus": os.cpu_count()},
        "python": platform.python_version(), "when": dt.datetime.now().isoformat(timespec="seconds"),
        "lines": lines, "best_seconds": best, "best_check_seconds": checks, "ratio_bulk_to_row": ratio,
        "ratio_bulk_to_locked": round(best["bulk"] / best["locked"], 3)}, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
