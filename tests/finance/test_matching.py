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
