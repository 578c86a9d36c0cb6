"""Products and matching on a real store (SQLite and PostgreSQL): a product is shown
and matched only once the credit office approved it; every match names each criterion
of the product, whether it holds and how close; a grade change is picked up by the
refresh the worker runs (and a list entry by the same stamp)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.finance import access, matching, service
from creditgov.finance.models import NeedMatch
from creditgov.finance.schemas import ProductIn
from creditgov.security.crypto import create_key_file
from tests.finance.helpers import MODEL, a_bank, a_need, a_product, graded
from tests.lists.helpers import add_run, make_subject


@pytest.fixture
def ring(tmp_path: Path):
    return create_key_file(tmp_path / "f.key")


def _reasons(rows: list[dict], product_id: int) -> dict[str, dict]:
    row = next(r for r in rows if r["product"]["id"] == product_id)
    return {x["criterion"]: x for x in row["reasons"]}


def test_a_product_is_matched_only_once_approved(county: str, ring) -> None:
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        data = ProductIn.model_validate({"code": "x", "name": "草稿产品", "kinds": ["enterprise"],
                                         "amount_min": "1", "amount_max": "9999999", "term_min": 1, "term_max": 60,
                                         "rate_min": "3", "rate_max": "5"})
        p = service.add_product(s, bank=bank, data=data, actor="bank-officer")
        n = a_need(s, ring, firm)
        assert access.matches_for_need(s, n.id) == []
        with pytest.raises(Conflict):  # a draft is not decided before it is submitted
            service.decide_product(s, product_id=p.id, approve=True, note=None, actor="office")
        service.submit_product(s, bank=bank, product_id=p.id, actor="bank-officer")
        with pytest.raises(InvalidInput):  # a rejection says why
            service.decide_product(s, product_id=p.id, approve=False, note=" ", actor="office")
        service.decide_product(s, product_id=p.id, approve=True, note=None, actor="office")
        matching.recompute(s, product_ids=[p.id])
        rows = access.matches_for_need(s, n.id)
        assert [r["product"]["id"] for r in rows] == [p.id] and rows[0]["eligible"]
        with pytest.raises(InvalidInput, match="unknown model"):
            service.add_product(s, bank=bank, data=ProductIn.model_validate(
                {**data.model_dump(), "code": "y", "min_bands": {"no-such-model": "good"}}), actor="b")


def test_every_criterion_explains_itself(county: str, ring) -> None:
    with db.session_scope(county) as s:
        bank = a_bank(s)
        good, fair, poor = graded(s, [("enterprise", "B"), ("enterprise", "C"), ("merchant", "D")])
        homestay = make_subject(s, kind="homestay")
        p = a_product(s, bank)
        secured = a_product(s, bank, "p2", kinds=["enterprise"], collateral_free=False, min_bands={}, lists_absent=[],
                            amount_max="5000000", term_max=60)
        n_good = a_need(s, ring, good, amount="500000", term=12)
        n_fair = a_need(s, ring, fair, amount="1100000", term=30)
        n_poor = a_need(s, ring, poor, amount="500000", term=12, collateral=True)
        n_home = a_need(s, ring, homestay)
        r = _reasons(access.matches_for_need(s, n_good.id), p.id)
        assert all(x["holds"] for x in r.values())
        assert r["band"]["got"] == f"{MODEL}: good"
        # Fair firm, amount 10 % over, term 6 months over: three fail, so not kept (one miss at most) …
        assert p.id not in {m["product"]["id"] for m in access.matches_for_need(s, n_fair.id)}
        # … but the secured product fails on collateral only, and says so.
        r2 = _reasons(access.matches_for_need(s, n_fair.id), secured.id)
        assert [k for k, x in r2.items() if not x["holds"]] == ["collateral"] and r2["collateral"]["gap_text"]
        row = next(m for m in access.matches_for_need(s, n_fair.id) if m["product"]["id"] == secured.id)
        assert not row["eligible"] and row["fails"] == 1
        # A poor merchant: band fails, two bands short, and only that.
        r3 = _reasons(access.matches_for_need(s, n_poor.id), p.id)
        assert [k for k, x in r3.items() if not x["holds"]] == ["band"]
        assert r3["band"]["gap"] == 2 and "2 band(s) short" in r3["band"]["gap_text"]
        # The secured product takes no merchant: never paired.
        assert secured.id not in {m["product"]["id"] for m in access.matches_for_need(s, n_poor.id)}
        # The homestay is a kind neither product serves.
        assert access.matches_for_need(s, n_home.id) == []


def test_a_grade_change_is_picked_up_by_the_refresh(county: str, ring, monkeypatch) -> None:
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "C")])
        p = a_product(s, bank)
        n = a_need(s, ring, firm)
        first = matching.refresh(s)
        assert first["recomputed"] is True
        assert matching.refresh(s) == {"recomputed": False}  # nothing changed: nothing done
        r = _reasons(access.matches_for_need(s, n.id), p.id)
        assert not r["band"]["holds"] and r["band"]["gap"] == 1
        # A newer published run grades the firm B (good): the refresh sees the new run.
        add_run(s, MODEL, dt.date(2026, 10, 31), [(firm, "B", "green")])
        assert matching.refresh(s)["recomputed"] is True
        rows = access.matches_for_need(s, n.id)
        assert rows[0]["eligible"] and _reasons(rows, p.id)["band"]["holds"]
        firm_id = firm.id
    # The firm is put on the serious-dishonesty list: the lists criterion now fails.
    from tests.lists.helpers import publish_manual_entry

    publish_manual_entry(county, monkeypatch, "serious-dishonesty", firm_id)
    with db.session_scope(county) as s:
        assert matching.refresh(s)["recomputed"] is True
        r = _reasons(access.matches_for_need(s, n.id), p.id)
        assert not r["lists"]["holds"] and "serious-dishonesty" in r["lists"]["gap_text"]
        stored = s.execute(select(NeedMatch).where(NeedMatch.need_id == n.id)).scalar_one()
        assert stored.lists_hit == "serious-dishonesty" and not stored.eligible


def test_a_reason_says_what_the_need_asks_and_a_product_without_a_floor_asks_no_grade(county: str, ring) -> None:
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        p = a_product(s, bank)  # 6–24 months, a band floor
        any_grade = a_product(s, bank, "p2", min_bands={}, term_max=60)
        long_need = a_need(s, ring, firm, term=30)
        short_need = a_need(s, ring, firm, amount="400000", term=3)
        term = _reasons(access.matches_for_need(s, long_need.id), p.id)["term"]
        assert not term["holds"] and (term["rule_zh"], term["got_zh"], term["gap_zh"]) == (
            "期限 6–24 个月", "需求 30 个月", "超出最长期限 6 个月")
        assert (term["rule_en"], term["got_en"], term["gap_en"]) == (
            "Lends for 6–24 months", "asks 30 months", "6 months over its longest term")
        short = _reasons(access.matches_for_need(s, short_need.id), p.id)["term"]
        assert (short["got_en"], short["gap_zh"], short["gap_en"]) == (
            "asks 3 months", "短于最短期限 3 个月", "3 months under its shortest term")
        amount = _reasons(access.matches_for_need(s, long_need.id), p.id)["amount"]
        assert (amount["got_zh"], amount["got_en"]) == ("需求 500,000.00 元", "asks 500,000.00 yuan")
        band = _reasons(access.matches_for_need(s, long_need.id), any_grade.id)["band"]
        assert band["holds"] and (band["rule_zh"], band["rule_en"], band["got_zh"], band["got_en"]) == (
            "信用等级: 不限", "Credit band: no grade required", "", "")
        graded_band = _reasons(access.matches_for_need(s, long_need.id), p.id)["band"]
        assert graded_band["rule_zh"].startswith("信用等级不低于") and graded_band["got_zh"]


def test_the_default_rule_is_one_more_criterion_of_the_query() -> None:
    """The matcher alone: a subject of `subject_defaults` fails the standing criterion
    (one miss more, kept as a near miss beside one other); without the table nobody is
    excluded."""
    import pyarrow as pa

    def facts(defaults: list[int] | None) -> matching.Facts:
        return matching.Facts(
            needs=pa.table({"need_id": [1, 2, 3, 4], "subject_id": [10, 20, 20, 10], "kind": ["enterprise"] * 4,
                            "amount": [500000.0, 500000.0, 500000.0, 5000.0], "term": pa.array([12, 12, 30, 30],
                                                                                             pa.int32()),
                            "collateral": [False] * 4}),
            products=pa.table({"product_id": [7], "amount_min": [100000.0], "amount_max": [1000000.0],
                               "term_min": pa.array([6], pa.int32()), "term_max": pa.array([24], pa.int32()),
                               "rate_min": [3.5], "collateral_free": [True]}),
            product_kinds=pa.table({"product_id": [7], "kind": ["enterprise"]}),
            product_bands=pa.table({"product_id": pa.array([], pa.int64()), "model": pa.array([], pa.string()),
                                    "floor_rank": pa.array([], pa.int32())}),
            product_lists=pa.table({"product_id": pa.array([], pa.int64()), "list_code": pa.array([], pa.string())}),
            subject_bands=pa.table({"subject_id": pa.array([], pa.int64()), "model": pa.array([], pa.string()),
                                    "band_rank": pa.array([], pa.int32())}),
            subject_lists=pa.table({"subject_id": pa.array([], pa.int64()), "list_code": pa.array([], pa.string())}),
            subject_defaults=None if defaults is None else pa.table({"subject_id": pa.array(defaults, pa.int64())}))

    for keep in (None, matching.KEEP_PER_NEED):
        rows = {r["need_id"]: r for r in matching.compute(facts([20]), keep=keep).to_pylist()}
        assert rows[1]["eligible"] and rows[1]["fails"] == 0
        assert not rows[2]["eligible"] and rows[2]["fails"] == 1
        stored = NeedMatch(**{k: rows[2][k] for k in ("band_ok", "lists_ok", "amount_ok", "term_ok",
                                                      "collateral_ok", "fails")})
        assert not matching.standing_held(stored)
        # In default and a term too long: still kept, so the subject sees how near it is;
        # two misses of other criteria are not.
        assert not rows[3]["term_ok"] and rows[3]["fails"] == 2 and 4 not in rows
        assert {r["need_id"]: r["eligible"] for r in matching.compute(facts(None), keep=keep).to_pylist()} == {
            1: True, 2: True, 3: False}


def test_a_default_is_picked_up_by_the_refresh_unless_the_policy_allows_it(county: str, ring, tmp_path: Path
                                                                           ) -> None:
    from creditgov.finance import policy as finance_policy
    from creditgov.finance.models import Loan

    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        p = a_product(s, bank)
        n = a_need(s, ring, firm)
        other = a_need(s, ring, firm, amount="600000")
        assert matching.refresh(s)["recomputed"] is True
        # A loan put into default by hand (no rematch of its own): the stamp sees it.
        from tests.finance.helpers import a_loan

        loan = a_loan(s, ring, bank, firm, p, amount="700000", granted_on=None)
        loan.status = "default"
        s.flush()
        assert matching.refresh(s)["recomputed"] is True
        assert not _reasons(access.matches_for_need(s, n.id), p.id)["default"]["holds"]
        assert not access.matches_for_need(s, other.id)[0]["eligible"]
        # A deployment's policy that does not exclude defaults: matched again, no such row.
        text = finance_policy.POLICY.text().replace("exclude: true", "exclude: false")
        (tmp_path / "fund.yaml").write_text(text, "utf-8")
        finance_policy.load_policy(s, path=tmp_path / "fund.yaml", actor="admin")
        assert matching.refresh(s)["recomputed"] is True
        rows = access.matches_for_need(s, n.id)
        assert rows[0]["eligible"] and "default" not in _reasons(rows, p.id)
        assert s.get(Loan, loan.id).status == "default"  # type: ignore[union-attr]
