"""The reference semantics, by hand: which records are in force, windows, decay,
missing-data policies, clamps, weights, overrides and bonuses — exact numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from creditgov.core.errors import InvalidInput
from creditgov.scoring.explain import ListRow, RecordRow, StatusChange, SubjectData, evaluate
from creditgov.scoring.model import EvaluationModel
from creditgov.scoring.prepared import decay_milli, prepare
from creditgov.scoring.service import shipped_catalog

AS_OF = dt.date(2026, 11, 1)
CAT = shipped_catalog()


def model(indicators: list[dict[str, Any]], *, mode: str = "points", **extra: Any) -> EvaluationModel:
    doc: dict[str, Any] = {
        "name": "t", "version": "1", "title": "t", "scope": {"kinds": ["enterprise"]},
        "aggregation": {"mode": mode, **extra.pop("aggregation", {"max": 1000})},
        "grades": extra.pop("grades", [{"label": "A", "min": 80, "colour": "green"},
                                       {"label": "B", "min": 60, "colour": "yellow"},
                                       {"label": "C", "colour": "red"}]),
        "indicators": indicators, **extra,
    }
    return EvaluationModel.model_validate(doc)


def leaf(code: str, item: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"code": code, "name": code, "item": item, **kw}


_ids = iter(range(1, 10**6))


def rec(item: str, occurred: dt.date, **kw: Any) -> RecordRow:
    base: dict[str, Any] = {"value": None, "grade": None, "status": "active", "published_from": None,
                            "published_until": None, "is_current": True}
    base.update(kw)
    return RecordRow(next(_ids), item, occurred, base["value"], base["grade"], base["status"],
                     base["published_from"], base["published_until"], base["is_current"])


def subject(records: list[RecordRow] = (), **kw: Any) -> SubjectData:  # type: ignore[assignment]
    s = SubjectData(id=1, kind=kw.pop("kind", "enterprise"), industry=kw.pop("industry", None),
                    established_on=kw.pop("established_on", None), status="confirmed",
                    attributes=kw.pop("attributes", {}), records=list(records))
    s.changes = kw.pop("changes", {})
    s.lists = kw.pop("lists", [])
    return s


COUNT_PENALTIES = leaf("pen", {"kind": "records", "match": {"items": ["market.penalty"], "window": {"months": 12}},
                               "points": -10})


def points_of(m: EvaluationModel, s: SubjectData) -> Decimal:
    return evaluate(prepare(m, CAT, AS_OF), s).items[0].points


def test_only_records_in_force_count() -> None:
    m = model([COUNT_PENALTIES])
    d = dt.date(2026, 6, 1)
    records = [
        rec("market.penalty", d),                                                  # counts
        rec("market.penalty", d, status="revoked"),                                # never counts
        rec("market.penalty", d, is_current=False),                                # superseded
        rec("market.penalty", dt.date(2026, 11, 2)),                               # after the as-of date
        rec("market.penalty", d, published_from=dt.date(2026, 11, 2)),             # not yet published
        rec("market.penalty", d, published_until=dt.date(2026, 10, 31)),           # publication ended
        rec("market.penalty", d, published_until=AS_OF),                           # last day: counts
        rec("market.penalty", dt.date(2025, 11, 1)),                               # on the cut-off: outside
        rec("market.penalty", dt.date(2025, 11, 2)),                               # just inside
    ]
    e = evaluate(prepare(m, CAT, AS_OF), subject(records))
    assert e.items[0].input["records"] == 3
    assert e.items[0].points == Decimal(-30)
    assert len(e.excluded) == 5  # the window is not an exclusion: that record is simply outside the item


def test_status_history_decides_the_status_on_the_as_of_date() -> None:
    m = model([COUNT_PENALTIES])
    d = dt.date(2026, 6, 1)
    repaired_before = rec("market.penalty", d, status="repaired")
    repaired_after = rec("market.penalty", d, status="repaired")
    disputed_then_active = rec("market.penalty", d, status="active")
    disputed_now = rec("market.penalty", d, status="active")
    changes = {
        repaired_before.id: [StatusChange(1, repaired_before.id, "active", "repaired", dt.datetime(2026, 11, 1, 23, 59))],
        repaired_after.id: [StatusChange(2, repaired_after.id, "active", "repaired", dt.datetime(2026, 11, 2, 0, 0))],
        disputed_then_active.id: [
            StatusChange(3, disputed_then_active.id, "active", "disputed", dt.datetime(2026, 8, 1)),
            StatusChange(4, disputed_then_active.id, "disputed", "active", dt.datetime(2026, 9, 1))],
        disputed_now.id: [StatusChange(5, disputed_now.id, "active", "disputed", dt.datetime(2026, 10, 1)),
                          StatusChange(6, disputed_now.id, "disputed", "active", dt.datetime(2026, 12, 1))],
    }
    s = subject([repaired_before, repaired_after, disputed_then_active, disputed_now], changes=changes)
    e = evaluate(prepare(m, CAT, AS_OF), s)
    counted = {r["id"] for r in e.items[0].records}
    assert counted == {repaired_after.id, disputed_then_active.id}
    reasons = {r["id"]: r["reason"] for r in e.excluded}
    assert reasons == {repaired_before.id: "repaired on the as-of date", disputed_now.id: "disputed on the as-of date"}


def test_secret_items_never_enter_evaluation() -> None:
    from creditgov.core.errors import ConfigError

    m = model([leaf("x", {"kind": "records", "match": {"items": ["police.case"]}, "points": -10})])
    with pytest.raises(ConfigError, match="secret|class secret"):
        prepare(m, CAT, AS_OF)
    # a polarity filter silently leaves secret items out
    m2 = model([leaf("neg", {"kind": "records", "match": {"polarity": ["negative"]}, "points": -1})])
    p = prepare(m2, CAT, AS_OF)
    assert "police.case" not in p.used_items and "market.penalty" in p.used_items
    e = evaluate(p, subject([rec("police.case", dt.date(2026, 1, 1)), rec("market.penalty", dt.date(2026, 1, 1))]))
    assert e.items[0].points == Decimal(-1)


def test_decay_halves_points_each_half_life_and_is_rounded_half_away_from_zero() -> None:
    assert decay_milli(-10_000, 0, 365) == -10_000
    assert decay_milli(-10_000, 365, 365) == -5_000
    assert decay_milli(-10_000, 730, 365) == -2_500
    assert decay_milli(3, 365, 365) == 2  # 1.5 rounds away from zero
    assert decay_milli(-3, 365, 365) == -2
    m = model([leaf("pen", {"kind": "records", "match": {"items": ["market.penalty"], "window": {"days": 1000}},
                            "points": -10, "decay": {"half_life_days": 365}})])
    s = subject([rec("market.penalty", AS_OF), rec("market.penalty", AS_OF - dt.timedelta(days=365))])
    assert points_of(m, s) == Decimal("-15")


def test_caps_floors_base_and_sums_per_unit() -> None:
    m = model([leaf("vol", {"kind": "records", "match": {"items": ["civility.volunteer"]}, "measure": "sum",
                            "points": "0.5", "base": 10, "cap": 12})])
    two = [rec("civility.volunteer", dt.date(2026, 1, 1), value=Decimal("1.5")),
           rec("civility.volunteer", dt.date(2026, 2, 1), value=Decimal("0.25"))]
    # 1.5 h -> 0.75, 0.25 h -> 0.125 (both exact): 10 + 0.875
    assert points_of(m, subject(two)) == Decimal("10.875")
    ten_hours = [rec("civility.volunteer", dt.date(2026, 1, 1), value=Decimal(10))]
    assert points_of(m, subject(ten_hours)) == Decimal(12)  # 10 + 5, capped at 12
    m2 = model([leaf("amt", {"kind": "records", "match": {"items": ["court.judgement"]}, "measure": "sum",
                             "unit": 100000, "points": -5, "floor": -12})])
    assert points_of(m2, subject([rec("court.judgement", dt.date(2026, 1, 1), value=Decimal("250000"))])) == Decimal(-12)  # -12.5 floored
    assert points_of(m2, subject([rec("court.judgement", dt.date(2026, 1, 1), value=Decimal("150000"))])) == Decimal("-7.5")


def test_grade_ratio_assessment_and_missing_policies() -> None:
    grade = leaf("tax", {"kind": "grade", "item": "tax.credit_grade", "map": {"A": 100, "B": 80}, "missing": "lowest"})
    p = prepare(model([grade]), CAT, AS_OF)
    latest_wins = [rec("tax.credit_grade", dt.date(2025, 4, 10), grade="A"),
                   rec("tax.credit_grade", dt.date(2026, 4, 10), grade="B")]
    assert evaluate(p, subject(latest_wins)).items[0].points == 80
    assert evaluate(p, subject([])).items[0].points == 80  # lowest of the map
    unknown = evaluate(p, subject([rec("tax.credit_grade", dt.date(2026, 4, 10), grade="M")])).items[0]
    assert unknown.missing and unknown.points == 80

    ratio = leaf("bills", {"kind": "ratio", "item": "utility.bill", "good_max": 0, "min_records": 3,
                           "bands": [{"min": 1, "points": 10}, {"min": "0.75", "points": 5}], "default": -5,
                           "missing": 0})
    p = prepare(model([ratio]), CAT, AS_OF)
    bills = [rec("utility.bill", dt.date(2026, m_, 1), value=Decimal(v)) for m_, v in ((6, 0), (7, 0), (8, 3), (9, 0))]
    assert evaluate(p, subject(bills)).items[0].points == 5      # 3 of 4 on time = 0.75
    assert evaluate(p, subject(bills[:3])).items[0].points == -5  # 2 of 3
    assert evaluate(p, subject(bills[:2])).items[0].missing       # fewer than min_records

    mean = leaf("chk", {"kind": "assessment", "item": "tourism.homestay_check", "aggregate": "mean", "missing": 60})
    p = prepare(model([mean]), CAT, AS_OF)
    checks = [rec("tourism.homestay_check", dt.date(2026, m_, 1), value=Decimal(v)) for m_, v in ((3, "90.5"), (6, "85"), (9, "88"))]
    # (90.50 + 85.00 + 88.00) / 3 = 87.8333 -> 87.83
    assert evaluate(p, subject(checks)).items[0].points == Decimal("87.83")
    assert evaluate(p, subject([])).items[0].points == 60


def test_attribute_bands_categories_and_derived_values() -> None:
    years = leaf("years", {"kind": "attribute_band", "derived": "established_years", "missing": 0,
                           "bands": [{"min": 10, "points": 30}, {"min": 3, "points": 20}], "default": 5})
    cap = leaf("cap", {"kind": "attribute_band", "attribute": "registered_capital", "missing": "highest",
                       "bands": [{"min": 100, "max": 500, "points": 7}], "default": 1})
    ind = leaf("ind", {"kind": "category_map", "field": "industry", "map": {"ecommerce": 4}, "default": 2,
                       "missing": -1})
    age = leaf("age", {"kind": "attribute_band", "derived": "age", "missing": 0,
                       "bands": [{"min": 18, "max": 60, "points": 3}]})
    p = prepare(model([years, cap, ind, age]), CAT, AS_OF)
    s = subject(established_on=dt.date(2016, 11, 1), industry="ecommerce",
                attributes={"registered_capital": 100, "birth_year": 1990})
    assert [i.points for i in evaluate(p, s).items] == [30, 7, 4, 3]
    s = subject(established_on=dt.date(2016, 11, 2), attributes={"registered_capital": "100", "birth_year": True})
    # 9 full years; a numeric string and a boolean are not numbers: missing
    assert [i.points for i in evaluate(p, s).items] == [20, 7, -1, 0]
    assert [i.missing for i in evaluate(p, s).items] == [False, True, True, True]


def test_weighted_model_combines_exactly_and_rounds_once() -> None:
    m = model([{"code": "a", "name": "a", "weight": 1, "children": [
                    leaf("a1", {"kind": "list", "lists": ["red"], "points": 100, "absent": 0}, weight=1),
                    leaf("a2", {"kind": "list", "lists": ["red"], "points": 100, "absent": 100}, weight=2)]},
               {"code": "b", "name": "b", "weight": 2, "children": [
                    leaf("b1", {"kind": "list", "lists": ["red"], "points": 50, "absent": 50}, weight=1)]}],
              mode="weighted", aggregation={"scale": 100})
    e = evaluate(prepare(m, CAT, AS_OF), subject())
    # 1/3 * (1/3*0 + 2/3*100) + 2/3 * 50 = 22.222... + 33.333... = 55.555... -> 55.56
    assert e.score == Decimal("55.56")
    assert e.dimensions == {"a": Decimal("66.67"), "b": Decimal("50.00")}
    assert (e.grade, e.colour) == ("C", "red")


def test_overrides_cap_the_grade_and_bonuses_add_points() -> None:
    m = model([leaf("base", {"kind": "list", "lists": ["red"], "points": 0, "absent": 0})],
              aggregation={"base": 85, "max": 100},
              bonuses=[leaf("red", {"kind": "list", "lists": ["red"], "points": 10})],
              overrides=[{"code": "veto", "name": "veto", "when": {"items": ["court.dishonest_debtor"]},
                          "cap_grade": "C"},
                         {"code": "black", "name": "black", "when": {"kind": "list", "lists": ["serious-dishonesty"]},
                          "cap_grade": "B"}])
    p = prepare(m, CAT, AS_OF)
    on_red = ListRow("red", "published", dt.date(2026, 1, 1), None, None)
    e = evaluate(p, subject(lists=[on_red]))
    assert (e.score, e.grade) == (Decimal("95.00"), "A")
    e = evaluate(p, subject([rec("court.dishonest_debtor", dt.date(2026, 1, 1))], lists=[on_red]))
    assert (e.score, e.grade, e.grade_from_score, e.colour) == (Decimal("95.00"), "C", "A", "red")
    assert [o["code"] for o in e.overrides if o["triggered"]] == ["veto"]
    black_exited = ListRow("serious-dishonesty", "published", dt.date(2026, 1, 1), None, AS_OF)
    black_expiring = ListRow("serious-dishonesty", "published", dt.date(2026, 1, 1), dt.date(2026, 11, 2), None)
    proposed = ListRow("serious-dishonesty", "proposed", dt.date(2026, 1, 1), None, None)
    assert evaluate(p, subject(lists=[black_exited, proposed])).grade == "A"
    assert evaluate(p, subject(lists=[black_expiring])).grade == "B"


def test_total_is_clamped_to_the_model_range() -> None:
    m = model([COUNT_PENALTIES], aggregation={"base": 5, "min": 0, "max": 100})
    e = evaluate(prepare(m, CAT, AS_OF), subject([rec("market.penalty", dt.date(2026, 6, 1))]))
    assert e.score == Decimal("0.00") and e.items[0].points == -10


def test_subject_outside_scope_is_refused() -> None:
    p = prepare(model([COUNT_PENALTIES]), CAT, AS_OF)
    with pytest.raises(InvalidInput, match="outside the scope"):
        evaluate(p, subject(kind="individual"))
