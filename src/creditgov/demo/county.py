"""The synthetic county: a complete, deliberately dirty, reproducible ingestion folder.

Why synthetic: the platform has to be demonstrated and load-tested without anyone's real
data. The folder looks like what a county credit office actually receives — fourteen
departments, each with its own column names, encoding, date form and codes — and it carries
*countable* dirt (full-width digits, wrong check digits, repeated rows, an overlapping
supplement file, codes the spec's map does not know, an item the county was refused,
records about subjects nobody registered), so ingestion's rejections can be checked
against the numbers `generate` returns.

Reproducible: every random choice comes from a `random.Random` seeded with the seed and a
stream name (one stream per source), so the same arguments give byte-identical files and
one source's volume never shifts another's draws. Nothing reads the clock (`as_of` defaults
to 2026-11-01) and nothing iterates a set.

Scalable: subjects are kept as parallel lists (a few hundred bytes each); records are
streamed row by row. Faker is slow, so it only fills small name pools up front, which the
seeded random then combines.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from creditgov.demo.context import COUNTY_CODE, COUNTY_NAME, Progress, _Ctx
from creditgov.demo.data_requests import _requests
from creditgov.demo.deliveries import _deliveries
from creditgov.demo.departments.civility import _civility
from creditgov.demo.departments.court import _court, _court_lawsuits
from creditgov.demo.departments.credit import _credit_grades
from creditgov.demo.departments.environment import _environment
from creditgov.demo.departments.finance import _finance
from creditgov.demo.departments.grid import _grid_events
from creditgov.demo.departments.market import (
    _market_annual_and_abnormal,
    _market_complaints,
    _market_credit_merchants,
    _market_penalties,
    _market_quality,
)
from creditgov.demo.departments.opinion import _opinion
from creditgov.demo.departments.police import _police
from creditgov.demo.departments.ratings import _ratings
from creditgov.demo.departments.safety import _safety
from creditgov.demo.departments.social import _social_insured
from creditgov.demo.departments.tax import _tax
from creditgov.demo.departments.tourism import _tourism
from creditgov.demo.departments.utility import _utility
from creditgov.demo.names import _make_pools
from creditgov.demo.population import _links, _make_orgs, _make_people, _make_regions
from creditgov.ingest.schemas import Manifest
from creditgov.subjects.schemas import RegionFile

DEFAULT_AS_OF = dt.date(2026, 11, 1)

KINDS = ("individual", "merchant", "enterprise", "homestay", "social_org")
KIND_SHARES = {"individual": 0.55, "merchant": 0.20, "enterprise": 0.15, "homestay": 0.06,
               "social_org": 0.04}


def _subject_counts(n: int) -> dict[str, int]:
    counts = {k: int(n * KIND_SHARES[k]) for k in KINDS if k != "individual"}
    if n >= 20_000:
        counts["homestay"] = max(counts["homestay"], 500)
    counts = {"individual": n - sum(counts.values()), **counts}
    return counts


# libyaml's emitter when present (6x faster on a million-subject region tree; same text).
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(path: Path, doc: Any, flow: bool | None = False) -> None:
    text = yaml.dump(doc, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, default_flow_style=flow,
                     width=200)
    path.write_text(text, encoding="utf-8")


def generate(out: Path, *, subjects: int, seed: int, as_of: dt.date | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    """Write a complete ingestion folder for a fictional county under `out`.

    Same `subjects`, `seed` and `as_of` give byte-identical files. `progress(stage, count)`
    is called after each file (and every 250,000 rows of a big one). Also writes, under
    `deliveries/<day>/`, earlier files of three sources to be ingested on their days
    (`demo/deliveries.py`: a late source, a volume spike and a rejection spike). Returns a summary:
    subjects per kind, regions, rows per data file, the dirt inserted per file and in
    total, and every file written (relative to `out`).
    """
    if subjects < 100:
        raise ValueError("subjects must be at least 100")
    if as_of is not None and as_of < dt.date(2016, 1, 1):
        raise ValueError("as_of must be 2016 or later (the register's founding dates assume it)")
    out = Path(out)
    ctx = _Ctx(out=out, seed=seed, as_of=as_of or DEFAULT_AS_OF, n=subjects, progress=progress)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "specs").mkdir(parents=True, exist_ok=True)
    counts = _subject_counts(subjects)
    pools = _make_pools(seed)
    regions = _make_regions(ctx)
    ctx.say("regions", len(regions.rows))
    people = _make_people(ctx, regions, pools, counts["individual"])
    orgs = _make_orgs(ctx, regions, pools, counts)
    _links(ctx, orgs, people)
    firms = orgs.of("enterprise", "merchant", "homestay")
    _market_penalties(ctx, orgs, firms)
    _market_annual_and_abnormal(ctx, orgs, firms)
    _market_complaints(ctx, orgs, firms)
    _market_quality(ctx, orgs, orgs.of("enterprise", "merchant"))
    _market_credit_merchants(ctx, orgs, orgs.of("merchant", "homestay"))
    _tax(ctx, orgs)
    _court(ctx, orgs, firms)
    overdue = _finance(ctx, orgs, firms)
    _court_lawsuits(ctx, orgs, firms, people, overdue)
    _environment(ctx, orgs, orgs.of("enterprise", "merchant"), regions.park)
    _safety(ctx, orgs, firms)
    _social_insured(ctx, orgs)
    _credit_grades(ctx, orgs)
    _ratings(ctx, orgs)
    _tourism(ctx, orgs)
    _grid_events(ctx, people)
    _civility(ctx, orgs, people)
    _opinion(ctx, orgs, firms)
    _police(ctx, people)
    _utility(ctx, orgs, people)

    written = []
    for name, spec in ctx.specs.items():
        _dump(out / "specs" / f"{name}.yaml", spec)
        written.append(f"specs/{name}.yaml")
    _dump(out / "regions.yaml", {"levels": ["county", "street", "grid", "micro_grid"], "regions": regions.rows},
          flow=None)
    RegionFile.model_validate({"levels": ["county", "street", "grid", "micro_grid"], "regions": regions.rows})
    requests = _requests(ctx)
    _dump(out / "data_requests.yaml", {"requests": requests["requests"]}, flow=None)
    manifest = {"county": COUNTY_NAME, "regions": "regions.yaml", "data_requests": "data_requests.yaml",
                "specs": ["specs/*.yaml"], "data_dir": "data"}
    Manifest.model_validate(manifest)
    _dump(out / "manifest.yaml", manifest, flow=None)
    written += ["manifest.yaml", "regions.yaml", "data_requests.yaml"]
    written += [f"data/{f}" for f in ctx.files]
    deliveries, delivered, delivered_dirt = _deliveries(ctx, orgs, people, _dump)
    written += delivered
    ctx.say("done", len(written))

    dirt: dict[str, int] = {}
    for c in ctx.files.values():
        for k, v in c.items():
            if k != "rows":
                dirt[k] = dirt.get(k, 0) + v
    kinds_by_spec = {name: s["kind"] for name, s in ctx.specs.items()}
    statuses = [r["status"] for r in requests["requests"]]
    return {
        "county": COUNTY_NAME,
        "county_code": COUNTY_CODE,
        "seed": seed,
        "as_of": ctx.as_of.isoformat(),
        "subjects": counts,
        "regions": {
            "streets": len(regions.streets),
            "grids": sum(1 for r in regions.rows if r["level"] == "grid"),
            "micro_grids": sum(1 for r in regions.rows if r["level"] == "micro_grid"),
            "park": regions.streets[regions.park].code,
            "homestay_town": regions.streets[regions.homestay].code,
        },
        "records": {f: c["rows"] for f, c in ctx.files.items()},
        "record_rows": sum(c["rows"] for f, c in ctx.files.items()
                           if kinds_by_spec[ctx.file_spec[f]] == "records"),
        "total_rows": sum(c["rows"] for c in ctx.files.values()),
        "specs": {name: {"file": s["file"], "format": s["format"], "encoding": s.get("encoding", "utf-8"),
                         "department": s["department"], "kind": s["kind"], "items": s.get("items", [])}
                  for name, s in ctx.specs.items()},
        "file_spec": dict(ctx.file_spec),
        "requests": {"total": len(statuses), "approved": statuses.count("approved"),
                     "rejected": statuses.count("rejected")},
        "dirt": dirt,
        "dirt_by_file": {f: {k: v for k, v in c.items() if k != "rows" and v} for f, c in ctx.files.items()},
        "files": sorted(written),
        # Earlier files of three sources, each folder ingested on its day (demo/deliveries.py),
        # and the rows of them written dirty on purpose (the court's rejection spike).
        "deliveries": deliveries,
        "deliveries_dirt": delivered_dirt,
    }
