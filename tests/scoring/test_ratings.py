"""Ratings as inputs (docs/ratings.md): industry ratings and the city credit score come
in through specs, are kept as ratings with their issuer and validity, count only while
valid, the latest of each issuer and type wins, and the combined pack names the
ratings behind each grade in both languages — on SQLite and PostgreSQL, the explainer
and the compiled plan giving the same digits."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select

from creditgov.catalog.models import CatalogItem
from creditgov.catalog.schemas import CatalogItemIn
from creditgov.core import db
from creditgov.core.clock import add_months
from creditgov.ingest import service as ingest_service
from creditgov.records.models import CreditRecord
from creditgov.scoring import narrative, service
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from tests.scoring.conftest import AS_OF

RATED = ("environment.credit_rating", "safety.credit_rating", "agriculture.quality_rating", "city_credit.score")
ISSUERS = {"environment.credit_rating": "environment", "safety.credit_rating": "safety",
           "agriculture.quality_rating": "agriculture", "city_credit.score": "city_credit"}
FIRM = "91330522MA2B00010N"  # the mini county's manufacturing enterprise
HOSTILE = "<b>环保\"诚信'</b>"


# ----------------------------------------------------------------------------- the scheme

def _item(**kw: Any) -> dict[str, Any]:
    base = {"code": "environment.credit_rating", "name_zh": "企业环境信用评价等级", "name_en": "Env rating",
            "polarity": "basic", "department": "environment", "data_class": "public", "value_kind": "grade",
            "legal_basis": "环发〔2013〕150号",
            "rating": {"scheme": "environment", "validity_months": 12, "basis": "环发〔2013〕150号",
                       "levels": [{"code": "G", "name_zh": "环保诚信企业", "name_en": "trustworthy"},
                                  {"code": "R", "name_zh": "环保不良企业", "name_en": "poor"}]}}
    base.update(kw)
    return base


def test_a_rating_scheme_is_validated_on_load() -> None:
    assert CatalogItemIn.model_validate(_item()).rating is not None
    with pytest.raises(ValidationError, match="basic item whose value kind is grade or score"):
        CatalogItemIn.model_validate(_item(polarity="negative", severity="general"))
    with pytest.raises(ValidationError, match="validity"):
        CatalogItemIn.model_validate(_item(max_publication_months=36))
    twice = _item()
    twice["rating"] = {**twice["rating"], "levels": twice["rating"]["levels"] * 2}
    with pytest.raises(ValidationError, match="unique"):
        CatalogItemIn.model_validate(twice)


# ----------------------------------------------------------------------------- the generated county

@pytest.fixture(params=["sqlite", "postgres"])
def any_county(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("county" if request.param == "sqlite" else "county_pg"))


def test_county_ratings_keep_issuer_level_and_validity(any_county: str) -> None:
    with db.session_scope(any_county) as s:
        schemes = {c: r for c, r in s.execute(select(CatalogItem.code, CatalogItem.rating)
                                              .where(CatalogItem.code.in_(RATED))).tuples()}
        rows = s.execute(select(CreditRecord).where(CreditRecord.item_code.in_(RATED))).scalars().all()
        assert {r.item_code for r in rows} == set(RATED)
        for r in rows:
            scheme = schemes[r.item_code]
            assert r.department_code == ISSUERS[r.item_code]
            assert r.grade in {lv["code"] for lv in scheme["levels"]}
            assert r.published_from == (r.decided_on or r.occurred_on)
            assert r.published_until == add_months(r.published_from, scheme["validity_months"])
        assert all(r.value is not None for r in rows if r.item_code == "city_credit.score")
        # a plausible share of the enterprises is rated, not all of them
        firms = s.execute(select(Subject.id).where(Subject.kind == "enterprise")).scalars().all()
        rated = {r.subject_id for r in rows if r.item_code == "environment.credit_rating"}
        assert 0.1 * len(firms) < len(rated) < 0.8 * len(firms)


def _run(url: str, engine: str, as_of: dt.date = AS_OF) -> tuple[Any, list[dict[str, Any]]]:
    with db.session_scope(url) as s:
        p = service.prepared_for(s, "combined-supervision", as_of)[1]
    table, _, _ = service.compute(url, p, engine)
    return p, table.to_pylist()


def test_combined_pack_grades_the_county_and_names_the_ratings_behind_each_grade(any_county: str) -> None:
    p, rows = _run(any_county, "postgres" if any_county.startswith("postgresql") else "sqlite")
    assert len({r["grade"] for r in rows}) >= 3
    with db.session_scope(any_county) as s:
        explained = service.explain_many(s, p, [r["subject_id"] for r in rows])
        depts = {r.id: r.department_code for r in s.execute(
            select(CreditRecord).where(CreditRecord.item_code.in_(RATED))).scalars()}
        fired = 0
        for r in rows:
            e = explained[r["subject_id"]]
            assert (e.score_centi, e.grade) == (r["score_centi"], r["grade"])
            zh = narrative.narrate(s, e.as_dict(), p.model, "zh")
            en = narrative.narrate(s, e.as_dict(), p.model, "en")
            for it_zh, it_en in zip(zh["items"], en["items"], strict=True):
                rated = [x for x in it_zh["records"] if x["item"] in RATED]
                if not rated:
                    continue
                last = max(rated, key=lambda x: (x["occurred_on"], x["id"]))
                issuer = {"environment": ("生态环境分局", "Ecology and Environment Bureau"),
                          "safety": ("应急管理局", "Emergency Management"),
                          "agriculture": ("农业农村局", "Agriculture and Rural Affairs Bureau"),
                          "city_credit": ("市公共信用信息中心", "City Public Credit Information Centre")}[depts[last["id"]]]
                assert issuer[0] in it_zh["sentence"] and issuer[1] in it_en["sentence"]
                assert last["occurred_on"] in it_zh["sentence"] and "有效期" in it_zh["sentence"]
                assert "valid" in it_en["sentence"] and last["occurred_on"] in it_en["sentence"]
                named = {x["record"]: x for x in zh["ratings"]}
                assert last["id"] in named and named[last["id"]]["level"] == last["grade"]
                assert named[last["id"]]["level_name"] in it_zh["sentence"]
            for o in zh["overrides"]:
                if o["triggered"] and o["code"] != "serious_dishonesty_veto":
                    fired += 1
                    assert "依据" in zh["summary"] and "The rating" in en["summary"]
    assert fired > 0


def test_latest_city_score_wins_among_valid_ones(any_county: str) -> None:
    p, rows = _run(any_county, "duckdb")
    with db.session_scope(any_county) as s:
        explained = service.explain_many(s, p, [r["subject_id"] for r in rows])
        valid: dict[int, list[CreditRecord]] = {}
        for r in s.execute(select(CreditRecord).where(
                CreditRecord.item_code == "city_credit.score", CreditRecord.published_from <= AS_OF,
                CreditRecord.published_until >= AS_OF, CreditRecord.status == "active")).scalars():
            valid.setdefault(r.subject_id, []).append(r)
    twice = 0
    for sid, e in explained.items():
        city = next(i for i in e.items if i.code == "city_score")
        mine = valid.get(sid, [])
        assert city.missing == (not mine)
        if len(mine) >= 2:
            twice += 1
            last = max(mine, key=lambda x: (x.occurred_on, x.id))
            assert [x["id"] for x in city.records] == [last.id]
            assert Decimal(city.input["value"]) == last.value
    assert twice > 10


# ----------------------------------------------------------------------------- exact edges

ENV_ROWS = [["企业名称", "统一社会信用代码", "评价结果", "评定日期", "公布日期"],
            [HOSTILE, FIRM, "环保不良企业", "2025.4.1", "2025.4.10"],
            [HOSTILE, FIRM, "环保诚信企业", "2026.4.1", "2026.4.8"]]
ENV_SPEC = {
    "name": "environment_ratings", "version": "1", "department": "environment", "kind": "records",
    "file": "environment_ratings.csv", "format": "csv",
    "columns": {"name": "企业名称", "uscc": "统一社会信用代码", "grade": "评价结果", "occurred_on": "评定日期",
                "decided_on": "公布日期"},
    "steps": [{"field": "*", "op": "trim"}, {"field": "uscc", "op": "upper"},
              {"field": "grade", "op": "map", "map": {"环保诚信企业": "G", "环保良好企业": "B", "环保警示企业": "Y",
                                                       "环保不良企业": "R"}},
              {"field": "occurred_on", "op": "date"}, {"field": "decided_on", "op": "date"}],
    "item": "environment.credit_rating", "items": ["environment.credit_rating"], "order": 50,
}


@pytest.fixture
def rated_store(store: str, keyring: KeyRing, mini: Path) -> str:
    """The mini county with two environmental ratings of one firm: red for 2024, valid
    2025-04-10..2026-04-10, then green for 2025, valid 2026-04-08..2027-04-08."""
    with (mini / "data" / "environment_ratings.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(ENV_ROWS)
    (mini / "specs" / "environment_ratings.yaml").write_text(yaml.safe_dump(ENV_SPEC, allow_unicode=True), "utf-8")
    req = yaml.safe_load((mini / "data_requests.yaml").read_text("utf-8"))
    req["requests"].append({"item": "environment.credit_rating", "department": "environment",
                            "status": "approved", "requested_on": dt.date(2025, 1, 10),
                            "decided_on": dt.date(2025, 1, 20)})
    (mini / "data_requests.yaml").write_text(yaml.safe_dump(req, allow_unicode=True), "utf-8")
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    return store


def _firm_result(url: str, as_of: dt.date) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    engines = ("postgres", "duckdb") if url.startswith("postgresql") else ("sqlite", "duckdb")
    with db.session_scope(url) as s:
        sid = s.execute(select(Subject.id).where(Subject.uscc == FIRM)).scalar_one()
    p, rows = None, []
    for engine in engines:
        p, got = _run(url, engine, as_of)
        assert not rows or got == rows, engine
        rows = got
    assert p is not None
    with db.session_scope(url) as s:
        e = service.explain_many(s, p, [sid])[sid]
        row = next(r for r in rows if r["subject_id"] == sid)
        assert (e.score_centi, e.grade) == (row["score_centi"], row["grade"])
        return e, narrative.narrate(s, e.as_dict(), p.model, "zh"), narrative.narrate(s, e.as_dict(), p.model, "en")


def _env(e: Any) -> Any:
    return next(i for i in e.items if i.code == "environment_rating")


def _fired(e: Any) -> set[str]:
    return {o["code"] for o in e.overrides if o["triggered"]}


def test_a_rating_counts_from_its_effective_date(rated_store: str) -> None:
    # 2026-04-05: the green rating was decided on 04-01 but takes effect on 04-08
    e, zh, en = _firm_result(rated_store, dt.date(2026, 4, 5))
    assert _env(e).input["grade"] == "R" and "environment_red" in _fired(e) and e.grade == "D"
    assert "生态环境分局于 2025-04-01 评定企业环境信用评价等级为「环保不良企业(红牌)」" in zh["summary"]
    assert "有效期 2025-04-10 至 2026-04-10" in zh["summary"]
    assert "“environmentally poor (red)” (R) by Ecology and Environment Bureau on 2025-04-01" in en["summary"]
    assert any(x["reason"] == "not yet published on the as-of date" and x["item"] == "environment.credit_rating"
               for x in zh["excluded_records"])


def test_the_latest_valid_rating_wins_over_an_older_one_still_valid(rated_store: str) -> None:
    # 2026-04-09: both are valid; the green one is the latest, so neither its points nor
    # the red-rating override read the older red one
    e, zh, _en = _firm_result(rated_store, dt.date(2026, 4, 9))
    assert _env(e).input["grade"] == "G" and _env(e).points == Decimal(100)
    assert "environment_red" not in _fired(e)
    env = next(i for i in zh["items"] if i["code"] == "environment_rating")
    assert "「环保诚信企业(绿牌)」（G），有效期 2026-04-08 至 2027-04-08" in env["sentence"]
    assert [x["level"] for x in zh["ratings"] if x["item"] == "environment.credit_rating"] == ["G"]


def test_an_expired_rating_no_longer_counts(rated_store: str) -> None:
    e, zh, en = _firm_result(rated_store, dt.date(2027, 5, 1))
    assert _env(e).missing and _env(e).input["grade"] is None and "environment_red" not in _fired(e)
    gone = [x for x in zh["excluded_records"] if x["item"] == "environment.credit_rating"]
    assert len(gone) == 2 and {x["reason_text"] for x in gone} == {"评价结果已过有效期"}
    assert {x["reason_text"] for x in en["excluded_records"]
            if x["item"] == "environment.credit_rating"} == {"rating validity ended"}


def test_the_demo_county_ships_a_spec_per_rating(county_dir: Path) -> None:
    """Each rating spec the generator ships validates and names its issuer's item."""
    from creditgov.ingest.schemas import SourceSpec

    specs = {p.stem: SourceSpec.model_validate(yaml.safe_load(p.read_text("utf-8")))
             for p in (county_dir / "specs").glob("*.yaml")}
    for name, item in (("environment_credit_ratings", "environment.credit_rating"),
                       ("safety_integrity_ratings", "safety.credit_rating"),
                       ("farm_produce_ratings", "agriculture.quality_rating"),
                       ("city_credit_scores", "city_credit.score")):
        assert specs[name].items == [item] and specs[name].department == ISSUERS[item]
