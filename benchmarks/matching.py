"""信易贷 matching: 100,000 needs × 500 products, time and peak memory, beside a
hand-written DuckDB join of the same criteria in the same run.

    .venv/bin/python benchmarks/matching.py [--needs 100000] [--products 500] [--repeat 3] [--seed 7]

Issue 16: the matcher (`creditgov.finance.matching.compute`) judges every (need,
product) pair whose product serves the need's subject kind on five criteria — band in
any named model at least its floor, on none of the excluded lists, amount in range,
term in range, collateral — and keeps, with each criterion's outcome and how far it
misses, the eligible pairs and the near misses (one criterion failing), the best 20
per need. The baseline is one hand-written DuckDB query of the same criteria that
returns only the eligible pairs (no reasons, no near misses, no ranking): what the
database alone costs for the answer "which pairs qualify". Goal: the matcher within
2× of the baseline.

The inputs are synthetic and seeded: subjects of three kinds graded by the models a
kind is graded by, a few per cent on the serious-dishonesty or key-attention lists,
and products with random kinds, floors, excluded lists, ranges and collateral. They
are written once as Parquet under benchmarks/work/matching/; each variant then runs
in a fresh child process that reads them, so its peak memory (the process's maximum
resident set, DuckDB's included) is its own, reported beside the resident set after
loading. Each variant runs `--repeat` times; the best time counts. The eligible pairs
of the matcher (run without the per-need limit) are checked equal to the baseline's.
Prints a table and writes benchmarks/results/matching.json. Never part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "work" / "matching"
RESULTS = ROOT / "results"
GOAL = 2.0
TABLES = ("needs", "products", "product_kinds", "product_bands", "product_lists", "subject_bands", "subject_lists")
KIND_MODELS = {"enterprise": ["public-credit-enterprise", "qianjiang-score"],
               "merchant": ["public-credit-enterprise"], "homestay": ["changxing-homestay"]}
LISTS = ["serious-dishonesty", "key-attention", "red"]

BASELINE = """
SELECT n.need_id, p.product_id
FROM needs n
JOIN product_kinds k ON k.kind = n.kind
JOIN products p ON p.product_id = k.product_id
WHERE n.amount BETWEEN p.amount_min AND p.amount_max
  AND n.term BETWEEN p.term_min AND p.term_max
  AND (p.collateral_free OR n.collateral)
  AND (NOT EXISTS (SELECT 1 FROM product_bands b WHERE b.product_id = p.product_id)
       OR EXISTS (SELECT 1 FROM product_bands b JOIN subject_bands s
                    ON s.model = b.model AND s.subject_id = n.subject_id AND s.band_rank <= b.floor_rank
                  WHERE b.product_id = p.product_id))
  AND NOT EXISTS (SELECT 1 FROM product_lists l JOIN subject_lists sl
                    ON sl.list_code = l.list_code AND sl.subject_id = n.subject_id
                  WHERE l.product_id = p.product_id)
"""


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def generate(n_needs: int, n_products: int, seed: int) -> dict[str, int]:
    """The synthetic inputs, as Parquet files in WORK."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rnd = random.Random(seed)
    kinds = rnd.choices(["enterprise", "merchant", "homestay"], weights=[5, 3, 2], k=n_needs)
    needs = {"need_id": list(range(1, n_needs + 1)), "subject_id": list(range(1, n_needs + 1)), "kind": kinds,
             "amount": [float(rnd.choice([5, 10, 20, 30, 50, 80, 100, 150, 200, 300, 500]) * 10000)
                        for _ in range(n_needs)],
             "term": [rnd.choice([3, 6, 12, 18, 24, 36, 48, 60]) for _ in range(n_needs)],
             "collateral": [rnd.random() < 0.3 for _ in range(n_needs)]}
    sb: dict[str, list[Any]] = {"subject_id": [], "model": [], "band_rank": []}
    sl: dict[str, list[Any]] = {"subject_id": [], "list_code": []}
    for sid, kind in zip(needs["subject_id"], kinds, strict=True):
        for model in KIND_MODELS[kind]:
            if rnd.random() < 0.9:  # a few are not graded
                sb["subject_id"].append(sid)
                sb["model"].append(model)
                sb["band_rank"].append(rnd.choices([0, 1, 2, 3], weights=[2, 4, 3, 1])[0])
        for code, p in (("serious-dishonesty", 0.02), ("key-attention", 0.03), ("red", 0.05)):
            if rnd.random() < p:
                sl["subject_id"].append(sid)
                sl["list_code"].append(code)
    prods: dict[str, list[Any]] = {k: [] for k in ("product_id", "amount_min", "amount_max", "term_min",
                                                   "term_max", "rate_min", "collateral_free")}
    pk: dict[str, list[Any]] = {"product_id": [], "kind": []}
    pb: dict[str, list[Any]] = {"product_id": [], "model": [], "floor_rank": []}
    pl: dict[str, list[Any]] = {"product_id": [], "list_code": []}
    for pid in range(1, n_products + 1):
        lo = rnd.choice([1, 2, 5, 10, 20, 50]) * 10000
        prods["product_id"].append(pid)
        prods["amount_min"].append(float(lo))
        prods["amount_max"].append(float(lo * rnd.choice([5, 10, 20, 50])))
        tmin = rnd.choice([1, 3, 6, 12])
        prods["term_min"].append(tmin)
        prods["term_max"].append(tmin + rnd.choice([6, 12, 24, 36, 48]))
        prods["rate_min"].append(round(rnd.uniform(3.0, 6.0), 3))
        prods["collateral_free"].append(rnd.random() < 0.7)
        served = rnd.sample(["enterprise", "merchant", "homestay"], rnd.choice([1, 1, 2, 3]))
        for k in served:
            pk["product_id"].append(pid)
            pk["kind"].append(k)
        models = sorted({m for k in served for m in KIND_MODELS[k]})
        for m in rnd.sample(models, rnd.randint(0, min(2, len(models)))):
            pb["product_id"].append(pid)
            pb["model"].append(m)
            pb["floor_rank"].append(rnd.choice([0, 1, 1, 2]))
        for code in LISTS:
            if rnd.random() < 0.5:
                pl["product_id"].append(pid)
                pl["list_code"].append(code)
    WORK.mkdir(parents=True, exist_ok=True)
    schema_ints = {"need_id", "subject_id", "product_id"}
    for name, cols in (("needs", needs), ("products", prods), ("product_kinds", pk), ("product_bands", pb),
                       ("product_lists", pl), ("subject_bands", sb), ("subject_lists", sl)):
        arrays = {c: pa.array(v, pa.int64() if c in schema_ints else None) for c, v in cols.items()}
        for c in ("term", "term_min", "term_max", "band_rank", "floor_rank"):
            if c in arrays:
                arrays[c] = arrays[c].cast(pa.int32())
        pq.write_table(pa.table(arrays), WORK / f"{name}.parquet")
    from collections import Counter

    per_kind, served_by = Counter(kinds), Counter(pk["kind"])
    pairs = sum(per_kind[k] * served_by[k] for k in per_kind)
    return {"needs": n_needs, "products": n_products, "pairs_judged": pairs, "product_kinds": len(pk["kind"]),
            "subject_bands": len(sb["model"]), "subject_lists": len(sl["list_code"])}


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(variant: str, repeat: int) -> dict[str, Any]:
    """One variant in this (fresh) process: best time, rows, peak and loaded memory."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT.parent / "src"))
    from creditgov.finance import matching

    facts = matching.Facts(**{t: pq.read_table(WORK / f"{t}.parquet") for t in TABLES})
    loaded = _rss_mb()
    times = []
    rows = eligible = 0
    pairs: set[tuple[int, int]] | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        if variant == "baseline":
            import duckdb

            con = duckdb.connect()
            for t in TABLES:
                con.register(t, getattr(facts, t))
            out = con.execute(BASELINE).to_arrow_table()
            con.close()
        else:
            out = matching.compute(facts, keep=None if variant == "matcher-all" else matching.KEEP_PER_NEED)
        times.append(time.perf_counter() - t0)
        rows = out.num_rows
        eligible = rows if variant == "baseline" else int(pc.sum(out.column("eligible").cast("int64")).as_py() or 0)
    if variant in ("baseline", "matcher-all"):
        if variant == "matcher-all":
            out = out.filter(out.column("eligible"))
        pairs_hash = hash(frozenset(zip(out.column("need_id").to_pylist(), out.column("product_id").to_pylist(),
                                        strict=True)))
    else:
        pairs_hash = 0
    del pairs
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"variant": variant, "seconds": round(min(times), 3), "all_seconds": [round(t, 3) for t in times],
            "rows": rows, "eligible": eligible, "peak_rss_mb": round(peak, 1), "loaded_rss_mb": round(loaded, 1),
            "pairs_hash": pairs_hash}


def run_child(variant: str, repeat: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    p = subprocess.run([sys.executable, __file__, "--child", variant, "--repeat", str(repeat)],
                       capture_output=True, text=True, env=env, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--needs", type=int, default=100_000)
    ap.add_argument("--products", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.repeat)))
        return
    say(f"generating {a.needs:,} needs × {a.products:,} products (seed {a.seed})")
    sizes = generate(a.needs, a.products, a.seed)
    say(f"{sizes['pairs_judged']:,} (need, product) pairs of a kind the product serves")
    results = {}
    for variant in ("baseline", "matcher", "matcher-all"):
        say(f"running {variant} ({a.repeat}×, fresh process)")
        results[variant] = run_child(variant, a.repeat)
    base, m, m_all = results["baseline"], results["matcher"], results["matcher-all"]
    same = base["pairs_hash"] == m_all["pairs_hash"] and base["eligible"] == m_all["eligible"]
    ratio = round(m["seconds"] / base["seconds"], 2) if base["seconds"] else None
    ratio_all = round(m_all["seconds"] / base["seconds"], 2) if base["seconds"] else None
    print()
    print(f"{'variant':<14}{'best s':>9}{'rows':>12}{'eligible':>12}{'peak MB':>10}{'loaded MB':>11}")
    for r in results.values():
        print(f"{r['variant']:<14}{r['seconds']:>9.3f}{r['rows']:>12,}{r['eligible']:>12,}"
              f"{r['peak_rss_mb']:>10.1f}{r['loaded_rss_mb']:>11.1f}")
    print(f"\nmatcher / baseline: {ratio}× (kept best 20 per need), {ratio_all}× (all kept rows); goal ≤ {GOAL}×")
    print(f"eligible pairs identical to the baseline's: {'yes' if same else 'NO'}")
    res = {"benchmark": "matching", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()},
           "inputs": {**sizes, "seed": a.seed}, "repeat": a.repeat, "results": results,
           "ratio": ratio, "ratio_all_rows": ratio_all, "goal": GOAL, "within_goal": ratio is not None
           and ratio <= GOAL, "eligible_identical": same}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "matching.json"
    out.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out.relative_to(ROOT.parent)}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
