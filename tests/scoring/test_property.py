"""Two paths, one answer: for generated models and generated data, the per-subject
explainer and the compiled plan (on DuckDB and inside SQLite) give the same integer
numerator, score, grade, colour, first-level scores and item points for every subject."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from creditgov.core import db
from creditgov.scoring import compile as compiler
from creditgov.scoring import engines, explain
from creditgov.scoring.model import EvaluationModel
from creditgov.scoring.prepared import prepare
from creditgov.scoring.service import catalog_info
from creditgov.subjects.models import Subject
from tests import store_template
from tests.scoring.synth import Entry, Rec, Subj, clear, write

AS_OF = dt.date(2026, 11, 1)
ITEMS = ("market.penalty", "market.complaint", "court.dishonest_debtor", "civility.volunteer", "tax.credit_grade",
         "utility.bill", "tourism.homestay_check", "police.case", "opinion.positive")
RECORD_ITEMS = ("market.penalty", "market.complaint", "court.dishonest_debtor", "civility.volunteer",
                "opinion.positive")
STATUSES = ("active", "active", "active", "disputed", "repaired", "revoked", "expired")
GRADES = ("A", "B", "C", "D", "M")

# ----------------------------------------------------------------------------- data

days = st.integers(min_value=-900, max_value=40)


def _date(offset: int) -> dt.date:
    return AS_OF + dt.timedelta(days=offset)


values = st.one_of(st.none(), st.decimals(min_value=Decimal("-50"), max_value=Decimal("20000"), places=2,
                                          allow_nan=False, allow_infinity=False))
moments = st.sampled_from([dt.datetime(2026, 10, 1), dt.datetime(2026, 11, 1, 0, 0), dt.datetime(2026, 11, 1, 23, 59, 59),
                           dt.datetime(2026, 11, 2, 0, 0), dt.datetime(2027, 1, 1), dt.datetime(2025, 5, 5, 12)])


@st.composite
def records(draw: Any) -> Rec:
    item = draw(st.sampled_from(ITEMS))
    occurred = _date(draw(days))
    changes = []
    for _ in range(draw(st.integers(0, 2))):
        changes.append((draw(st.sampled_from([None, "active", "disputed"])), draw(st.sampled_from(STATUSES)),
                        draw(moments)))
    return Rec(
        item=item, occurred_on=occurred, value=draw(values), grade=draw(st.one_of(st.none(), st.sampled_from(GRADES))),
        status=draw(st.sampled_from(STATUSES)),
        published_from=draw(st.one_of(st.none(), days.map(_date))),
        published_until=draw(st.one_of(st.none(), days.map(_date))),
        is_current=draw(st.sampled_from([True, True, True, False])),
        changes=changes,
    )


attr_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000),
                        st.floats(min_value=-10, max_value=5000, allow_nan=False, allow_infinity=False),
                        st.sampled_from(["a", "b", "甲", "10"]))


@st.composite
def subjects(draw: Any) -> Subj:
    attrs = {}
    for key in ("cap", "park", "birth_year", "tag"):
        if draw(st.booleans()):
            v = draw(attr_values)
            if key == "birth_year" and isinstance(v, int) and not isinstance(v, bool):
                v = 1900 + v % 120
            attrs[key] = v
    lists = [Entry(draw(st.sampled_from(["red", "serious-dishonesty"])),
                   status=draw(st.sampled_from(["published", "published", "proposed", "exited"])),
                   published_on=draw(st.one_of(st.none(), days.map(_date))),
                   expires_on=draw(st.one_of(st.none(), days.map(_date))),
                   exited_on=draw(st.one_of(st.none(), days.map(_date))))
             for _ in range(draw(st.integers(0, 2)))]
    return Subj(kind=draw(st.sampled_from(["enterprise", "enterprise", "individual"])),
                industry=draw(st.sampled_from([None, "ecommerce", "retail"])),
                established_on=draw(st.one_of(st.none(), st.integers(-9000, 30).map(_date))),
                status=draw(st.sampled_from(["confirmed", "confirmed", "provisional"])),
                attributes=attrs, records=draw(st.lists(records(), max_size=8)), lists=lists)


# ----------------------------------------------------------------------------- models


def pts(draw: Any, weighted: bool) -> Any:
    if weighted:
        return draw(st.integers(0, 100))
    return draw(st.one_of(st.integers(-50, 50), st.decimals(min_value=-20, max_value=20, places=3).map(str)))


def window(draw: Any) -> dict[str, int] | None:
    return draw(st.one_of(st.none(), st.builds(dict, days=st.integers(1, 800)),
                          st.builds(dict, months=st.integers(1, 30))))


@st.composite
def items(draw: Any, weighted: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["attribute_band", "category_map", "records", "records", "grade", "ratio",
                                 "assessment", "list"]))

    def missing() -> Any:
        return draw(st.one_of(st.sampled_from(["lowest", "highest"]), st.just(pts(draw, weighted))))

    def bands(lo: float, hi: float, places: int = 2) -> list[dict[str, Any]]:
        cuts = sorted(draw(st.lists(st.decimals(min_value=lo, max_value=hi, places=places), min_size=1, max_size=3,
                                    unique=True)), reverse=True)
        out = [{"min": str(c), "points": pts(draw, weighted)} for c in cuts]
        top = cuts[0] + Decimal("0.5")
        if draw(st.booleans()) and top <= Decimal(str(hi)):
            out[0]["max"] = str(top)
        return out

    if kind == "attribute_band":
        derived = draw(st.sampled_from([None, "established_years", "age"]))
        if derived == "established_years":
            b = [{"min": y, "points": pts(draw, weighted)} for y in sorted(draw(st.lists(st.integers(0, 25),
                                                                                      min_size=1, max_size=3,
                                                                                      unique=True)), reverse=True)]
            return {"kind": kind, "derived": derived, "bands": b, "default": pts(draw, weighted), "missing": missing()}
        src = {"derived": "age"} if derived == "age" else {"attribute": draw(st.sampled_from(["cap", "park", "tag"]))}
        return {"kind": kind, **src, "bands": bands(-5, 3000), "default": pts(draw, weighted), "missing": missing()}
    if kind == "category_map":
        src = draw(st.sampled_from([{"field": "industry"}, {"field": "kind"}, {"attribute": "tag"}]))
        keys = draw(st.lists(st.sampled_from(["ecommerce", "retail", "enterprise", "a", "甲", "10"]), min_size=1,
                             max_size=3, unique=True))
        return {"kind": kind, **src, "map": {k: pts(draw, weighted) for k in keys}, "default": pts(draw, weighted),
                "missing": missing()}
    if kind == "records":
        match: dict[str, Any] = {}
        if draw(st.booleans()):
            match["items"] = draw(st.lists(st.sampled_from([i for i in ITEMS if i != "police.case"]), min_size=1,
                                           max_size=3, unique=True))
        if draw(st.booleans()) or not match:
            match["polarity"] = draw(st.lists(st.sampled_from(["negative", "positive", "basic", "neutral"]),
                                              min_size=1, max_size=2, unique=True))
        if draw(st.booleans()):
            match["severity"] = draw(st.lists(st.sampled_from(["minor", "general", "serious"]), min_size=1,
                                              max_size=2, unique=True))
        if draw(st.integers(0, 4)) == 0:
            match["grades"] = draw(st.lists(st.sampled_from(GRADES), min_size=1, max_size=2, unique=True))
        w = window(draw)
        if w:
            match["window"] = w
        measure = draw(st.sampled_from(["count", "count", "sum"]))
        it: dict[str, Any] = {"kind": kind, "match": match, "measure": measure,
                              "points": draw(st.integers(-30, 30)) if weighted else pts(draw, weighted),
                              "base": pts(draw, weighted)}
        if measure == "sum":
            it["unit"] = draw(st.sampled_from([1, 10, 1000]))
        elif w and draw(st.booleans()):
            it["decay"] = {"half_life_days": draw(st.integers(30, 800))}
        if draw(st.booleans()):
            it["cap"] = draw(st.integers(20, 100)) if weighted else draw(st.integers(0, 60))
        if draw(st.booleans()):
            it["floor"] = draw(st.integers(0, 20)) if weighted else draw(st.integers(-60, 0))
        if "cap" in it and "floor" in it and it["floor"] > it["cap"]:
            it["floor"], it["cap"] = it["cap"], it["floor"]
        return it
    if kind == "grade":
        keys = draw(st.lists(st.sampled_from(GRADES), min_size=1, max_size=4, unique=True))
        it = {"kind": kind, "item": "tax.credit_grade", "map": {k: pts(draw, weighted) for k in keys},
              "missing": missing()}
        w = window(draw)
        return {**it, "window": w} if w else it
    if kind == "ratio":
        it = {"kind": kind, "item": "utility.bill", "good_max": str(draw(st.sampled_from([0, 1, "2.5"]))),
              "min_records": draw(st.integers(1, 3)), "bands": bands(0, 1, 3), "default": pts(draw, weighted),
              "missing": missing()}
        w = window(draw)
        return {**it, "window": w} if w else it
    if kind == "assessment":
        use_bands = draw(st.booleans())
        it = {"kind": kind, "item": draw(st.sampled_from(["tourism.homestay_check", "civility.volunteer"])),
              "aggregate": draw(st.sampled_from(["latest", "mean", "min", "max"]))}
        if use_bands:
            it["bands"] = bands(-10, 200)
            it["missing"] = missing()
        else:
            it["factor"] = str(draw(st.sampled_from([1, "0.5", "1.25"])))
            it["missing"] = pts(draw, weighted)
        w = window(draw)
        return {**it, "window": w} if w else it
    return {"kind": "list", "lists": draw(st.lists(st.sampled_from(["red", "serious-dishonesty"]), min_size=1,
                                                   max_size=2, unique=True)),
            "points": pts(draw, weighted), "absent": pts(draw, weighted)}


def _points_range(draw: Any) -> dict[str, Any]:
    """A points aggregation whose range holds its base (a base above `max` is refused
    on load: every score would be clamped)."""
    base = draw(st.integers(0, 100))
    return {"mode": "points", "base": base, "min": 0, "max": draw(st.integers(max(50, base), 200))}


@st.composite
def models(draw: Any) -> EvaluationModel:
    weighted = draw(st.booleans())
    counter = iter(range(10**6))

    def node(depth: int) -> dict[str, Any]:
        code = f"n{next(counter)}"
        n: dict[str, Any] = {"code": code, "name": code}
        if weighted:
            n["weight"] = draw(st.integers(1, 5))
        if depth >= 3 or draw(st.booleans()):
            n["item"] = draw(items(weighted))
        else:
            n["children"] = [node(depth + 1) for _ in range(draw(st.integers(1, 3)))]
            if not weighted and draw(st.booleans()):
                n["min"], n["max"] = -draw(st.integers(0, 50)), draw(st.integers(0, 80))
        return n

    aggregation: dict[str, Any] = (
        {"mode": "weighted", "scale": draw(st.sampled_from([100, 1000]))} if weighted else
        _points_range(draw))
    # A grade starts at a score the model can reach: no higher than its highest score.
    top = aggregation["scale"] if weighted else aggregation["max"]
    n_grades = draw(st.integers(1, 4))
    mins = sorted(draw(st.lists(st.integers(1, min(99, top)), min_size=n_grades - 1, max_size=n_grades - 1,
                                unique=True)), reverse=True)
    colours = st.sampled_from(["green", "yellow", "red"])
    grades: list[dict[str, Any]] = [{"label": "ABCD"[i], "min": m, "colour": draw(colours)} for i, m in enumerate(mins)]
    grades.append({"label": "ABCD"[n_grades - 1], "colour": draw(colours)})
    doc: dict[str, Any] = {
        "name": "prop", "version": "1", "title": "generated",
        "scope": {"kinds": draw(st.sampled_from([["enterprise"], ["enterprise", "individual"]])),
                  **({"industries": ["ecommerce", "retail"]} if draw(st.integers(0, 3)) == 0 else {}),
                  **({"attributes": {"park": 1}} if draw(st.integers(0, 5)) == 0 else {}),
                  "statuses": draw(st.sampled_from([["confirmed"], ["confirmed", "provisional"]]))},
        "aggregation": aggregation,
        "grades": grades,
        "indicators": [node(1) for _ in range(draw(st.integers(1, 3)))],
    }
    if draw(st.booleans()):
        b = draw(items(False))
        if b["kind"] != "list":
            b = {"kind": "list", "lists": ["red"], "points": 3}
        doc["bonuses"] = [{"code": "bonus", "name": "bonus", "item": b}]
    overrides = []
    for k in range(draw(st.integers(0, 2))):
        when = draw(st.sampled_from([
            {"items": ["court.dishonest_debtor"], "window": {"months": 24}},
            {"polarity": ["negative"], "min_count": 2},
            {"kind": "list", "lists": ["serious-dishonesty"]}]))
        overrides.append({"code": f"o{k}", "name": f"o{k}", "when": when,
                          "cap_grade": draw(st.sampled_from([g["label"] for g in grades]))})
    doc["overrides"] = overrides
    return EvaluationModel.model_validate(doc)


# ----------------------------------------------------------------------------- the property


@pytest.fixture(scope="module")
def prop_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('prop')) / 'prop.db'}"
    store_template.fill(url)
    return url


def batch_rows(url: str, p: Any, engine: str) -> dict[int, dict[str, Any]]:
    with engines.open_source(engine, url, p) as src:
        table = engines.execute(src, compiler.build(p, src, with_items=True))
    return {r["subject_id"]: r for r in table.to_pylist()}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(model=models(), data=st.lists(subjects(), min_size=1, max_size=8))
def test_explain_and_compiled_plan_agree(prop_store: str, model: EvaluationModel, data: list[Subj]) -> None:
    clear(prop_store)
    write(prop_store, data)
    with db.session_scope(prop_store) as s:
        p = prepare(model, catalog_info(s), AS_OF)
        loaded = explain.load_subject_data(s, [sid for (sid,) in s.execute(select(Subject.id))])
    expected: dict[int, dict[str, Any]] = {}
    for sid, sd in loaded.items():
        if not explain.in_scope(p, sd):
            continue
        e = explain.evaluate(p, sd)
        row = {"n": e.n, "score_centi": e.score_centi, "grade": e.grade, "colour": e.colour}
        for k, code in enumerate(e.dimensions):
            raw = e.dimensions[code] * (100 if p.weighted else 1000)
            row[f"dim{k}"] = int(raw)
        for leaf, it in zip((*p.leaves, *p.bonuses), (*e.items, *e.bonuses), strict=True):
            row[f"i{leaf.index}"] = it.milli
        expected[sid] = row
    for engine in ("duckdb", "sqlite"):
        got = batch_rows(prop_store, p, engine)
        assert set(got) == set(expected), engine
        for sid, row in expected.items():
            assert {k: got[sid][k] for k in row} == row, (engine, sid)
