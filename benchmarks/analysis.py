"""Analysis at scale: the store's SQL against the record segments (grid risk, the
statistics form) and the score copies (grade distribution, trend) on DuckDB and Spark.

    .venv/bin/python benchmarks/analysis.py                      # 1M subjects (~21M records)
    .venv/bin/python benchmarks/analysis.py --subjects 200000
    .venv/bin/python benchmarks/analysis.py --only scores        # the scores' part alone

The county is benchmarks/evaluate.py's (cached in benchmarks/work): every subject has
twelve utility bills in the last year, so grid risk aggregates about 12 records a
subject. Its record segments are written first (timed apart: evaluation and the worker
keep them current, analysis never writes them). Then grid risk is computed for the
whole county by each reader, in that order, twice each (the second run shows a warm
page cache and, for Spark, a running session):

- `store`: SQL on the SQLite store (the baseline every figure is divided by);
- `duckdb`: the segments and the rows newer than them, on DuckDB;
- `spark`: the same on Spark `local[2]`.

Then the statistics form of November 2026 (statistics/service.py), whose records table
counts every record by department, the same way (its other tables are the store's in
every case).

Then scores: the county gets `--runs` published runs of its model, one a month (each
evaluated on DuckDB, which also writes its score copy beside the segments: the copy's
time is in the run's timings), and the grade distribution of the latest run by grid
and the trend of all of them by street are read the same three ways — from the store's
`evaluation_scores`, or from the runs' score copies on DuckDB and on Spark.

Every reader must give the baseline's figures, grid by grid and cell by cell. Results:
benchmarks/results/analysis.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import evaluate as county  # noqa: E402
from scale import county_store  # noqa: E402
from sqlalchemy import select  # noqa: E402

from creditgov.analysis import service  # noqa: E402
from creditgov.core import db  # noqa: E402
from creditgov.core.clock import add_months  # noqa: E402
from creditgov.scoring import score_copies, segments  # noqa: E402
from creditgov.scoring import service as scoring  # noqa: E402
from creditgov.scoring.models import EvaluationRun  # noqa: E402
from creditgov.statistics import service as statistics  # noqa: E402

ON = dt.date(2026, 11, 1)
RUNS = 6


def risk(url: str, engine: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    with db.session_scope(url) as s:
        out = service.grid_risk(s, on=ON, engine=engine)
    return time.perf_counter() - t0, out


def form(url: str, engine: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    with db.session_scope(url) as s:
        out = statistics.form(s, statistics.period("2026-11"), engine=engine)
    return time.perf_counter() - t0, out


def published_runs(url: str, model: str, n: int) -> dict[str, Any]:
    """Make sure `model` has `n` published runs (one a month up to ON), evaluating the
    missing ones on DuckDB; the runs' times and the score copies' share of them."""
    with db.session_scope(url) as s:
        have = {r.as_of for r in s.execute(select(EvaluationRun).where(
            EvaluationRun.model_name == model, EvaluationRun.published.is_(True),
            EvaluationRun.status == "done")).scalars()}
    made = []
    for k in range(n - 1, -1, -1):
        as_of = add_months(ON, -k)
        if as_of in have:
            continue
        r = scoring.evaluate(url, ref=model, as_of=as_of, engine="duckdb", publish=True, actor="bench")
        made.append({"run_id": r.run_id, "as_of": as_of.isoformat(), "subjects": r.subjects, "seconds": r.seconds,
                     "score_copy": r.timings.get("score_copy"), "store": r.timings.get("store")})
        print(f"run {r.run_id} as of {as_of}: {r.seconds:.1f} s, of which the score copy "
              f"{r.timings.get('score_copy')} s and storing the scores {r.timings.get('store')} s")
    with db.session_scope(url) as s:
        t0 = time.perf_counter()
        back = score_copies.backfill(s, url, last=n)
        seconds = round(time.perf_counter() - t0, 1)
        # Every run's own timings (also those an earlier run of this benchmark made).
        runs = [{"run_id": r.id, "as_of": r.as_of.isoformat(), "subjects": r.subjects, "seconds": r.seconds,
                 "score_copy": r.timings.get("score_copy"), "store": r.timings.get("store")}
                for r in s.execute(select(EvaluationRun).where(
                    EvaluationRun.model_name == model, EvaluationRun.published.is_(True),
                    EvaluationRun.status == "done").order_by(EvaluationRun.as_of)).scalars()]
    return {"made": [m["run_id"] for m in made], "runs": runs, "backfilled": back, "backfill_seconds": seconds}


def grades(url: str, engine: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    with db.session_scope(url) as s:
        out = service.distribution(s, what="grade", by="grid", model=county.MODEL, engine=engine)
    return time.perf_counter() - t0, out


def trend(url: str, engine: str, last: int = RUNS) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    with db.session_scope(url) as s:
        out = service.trend(s, model=county.MODEL, by="street", last=last, engine=engine)
    return time.perf_counter() - t0, out


def compare(name: str, url: str, fn: Any, digits: Any, result: dict[str, Any]) -> None:
    """Each reader twice; every reader's figures must be the store's."""
    want = None
    for engine in ("store", "duckdb", "spark"):
        runs = []
        for _ in range(2):
            seconds, out = fn(url, engine)
            runs.append(round(seconds, 2))
            if want is None:
                want = digits(out)
            elif digits(out) != want:
                raise SystemExit(f"{name} on {engine}: figures differ from the store's")
        result[engine] = {"seconds": runs}
    base = min(result["store"]["seconds"])
    print(f"{name}\n{'reader':8} {'first s':>9} {'second s':>9} {'× store':>8}")
    for engine, r in result.items():
        r["ratio_to_store"] = round(min(r["seconds"]) / base, 3)
        print(f"{engine:8} {r['seconds'][0]:9.2f} {r['seconds'][1]:9.2f} {r['ratio_to_store']:8.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=RUNS, help="published runs the trend reads")
    ap.add_argument("--only", choices=("records", "scores"), help="only grid risk and the form, or only the "
                    "grade distribution and the trend (the other figures are kept from the last results)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "analysis.json")
    args = ap.parse_args()
    work = ROOT / "benchmarks" / "work"
    work.mkdir(parents=True, exist_ok=True)
    url = county_store(work, args.subjects, args.seed)
    if args.only == "scores":
        result = json.loads(args.out.read_text()) if args.out.exists() else {"subjects": args.subjects}
        scores(url, args, result)
        return
    t0 = time.perf_counter()
    copied = segments.refresh(url, min_rows=0)
    result: dict[str, Any] = {"subjects": args.subjects, "on": ON.isoformat(),
                              "segments": {**copied, "seconds": round(time.perf_counter() - t0, 1)}, "readers": {}}
    print(f"segments: {copied['action']} {copied['rows']:,} rows in {result['segments']['seconds']} s")
    compare("grid risk", url, risk, lambda out: out["rows"], result["readers"])
    _, out = risk(url, "duckdb")
    result["records_counted"] = sum(r["bills"] + r["loans"] + r["overdue_loans"] + r["arrears_records"]
                                    for r in out["rows"])
    result["statistics"] = {}
    compare("statistics form, 2026-11", url, form,
            lambda out: [(t["key"], t["rows"], t["total"]) for t in out["tables"]], result["statistics"])
    if args.only == "records":
        write(args.out, result)
        return
    scores(url, args, result)


def scores(url: str, args: argparse.Namespace, result: dict[str, Any]) -> None:
    """The grade distribution and the trend, from the store and from the score copies."""
    result["runs"] = published_runs(url, county.MODEL, args.runs)
    result["grades"], result["trend"] = {}, {}
    compare("grade distribution by grid, latest run", url, grades,
            lambda out: (out["rows"], out["totals"]), result["grades"])
    compare(f"trend of {args.runs} runs by street", url, lambda u, e: trend(u, e, args.runs),
            lambda out: out["runs"], result["trend"])
    write(args.out, result)


def write(out: Path, result: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
