"""The public boards and the credit-merchant selection on a real store (SQLite and
PostgreSQL): a board ranks within one model and one subject kind (a firm scored by
two models is in each model's table once), pages without overlap or loss, shows a
resident only masked and only after opting in, cuts to the street or the grid; a
selection draws candidates from grades and clean records, counts its public period
in working days, refuses late objections and early decisions, and its awards become
traceable positive records that show on the board and earn points."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.points import boards, ledger, merchants
from creditgov.points import service as points_service
from creditgov.records.models import CreditRecord
from tests.points.board_helpers import NASTY, build


@pytest.fixture
def county(store: str) -> dict[str, int]:
    return build(store)


def test_a_board_ranks_within_one_model_and_kind_and_pages(store: str, county: dict[str, int]) -> None:
    with db.session_scope(store) as s:
        b = boards.board(s, region_code="S1", model="public-credit-enterprise", kind="enterprise", per_page=3)
        tables = {(t["model"], t["kind"]): t["subjects"] for t in b["tables"]}
        assert tables == {("public-credit-enterprise", "enterprise"): 7, ("qianjiang-score", "enterprise"): 1,
                          ("community-resident", "individual"): 1, ("yiwu-ecommerce", "merchant"): 4}
        assert (b["total"], b["pages"]) == (7, 3)
        pages = [boards.board(s, region_code="S1", model="public-credit-enterprise", kind="enterprise",
                              per_page=3, page=p)["rows"] for p in (1, 2, 3)]
        rows = [r for p in pages for r in p]
        assert [r["score"] for r in rows] == ["95.00", "90.00", "90.00", "80.00", "70.00", "60.00", "50.00"]
        assert [r["rank"] for r in rows] == [1, 2, 2, 4, 5, 6, 7]
        assert len({r["subject_id"] for r in rows}) == 7           # no overlap, nothing lost
        assert rows[0]["name"] == NASTY                            # hostile text unharmed in the data
        assert all(r["band"] in ("excellent", "good") for r in rows)
        # The unpublished later run does not show; the street's other firm does not either.
        assert "远方企业" not in {r["name"] for r in rows}
        # The firm scored by the other model: once in that model's table, on its own scale.
        q = boards.board(s, region_code="S1", model="qianjiang-score")["rows"]
        assert [(r["subject_id"], r["score"], r["rank"]) for r in q] == [(county["firm3"], "800.00", 1)]
        # A grid's board holds only the grid.
        g1 = boards.board(s, region_code="S1G1", model="public-credit-enterprise", kind="enterprise")
        assert [r["score"] for r in g1["rows"]] == ["90.00", "80.00", "60.00"]
        assert g1["region"]["name"] == "一网格"


def test_residents_only_masked_and_only_opted_in(store: str, county: dict[str, int]) -> None:
    with db.session_scope(store) as s:
        b = boards.board(s, region_code="S1", model="community-resident", kind="individual")
        assert [(r["name"], r["subject_id"], r["uscc"]) for r in b["rows"]] == [("王*国", None, None)]
        assert boards.opted_in(s, county["shown"]) and not boards.opted_in(s, county["shy"])
        boards.set_opt_in(s, subject_id=county["shown"], opted_in=False, actor="王建国")
        assert boards.board(s, region_code="S1", model="community-resident")["table"] is None


def test_selection_from_grades_to_awards_on_the_board(store: str, county: dict[str, int],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(store) as s:
        sel = merchants.open_selection(s, code="2026", title="2026年度诚信商户评选", actor="office")
        # Opened on Sunday 2026-11-01: five working days end on Friday 2026-11-06.
        assert sel.objection_until == dt.date(2026, 11, 6)
        out = merchants.selection_out(s, sel)
        assert {c["subject_id"] for c in out["candidates"]} == {county["m0"], county["m1"]}
        with pytest.raises(InvalidInput, match="negative record"):
            merchants.nominate(s, code="2026", subject_id=county["m2"], text="好店", actor="resident")
        with pytest.raises(InvalidInput, match="band"):
            merchants.nominate(s, code="2026", subject_id=county["m3"], text="好店", actor="resident")
        merchants.object_to(s, code="2026", subject_id=county["m1"], text=NASTY, actor="resident")
        with pytest.raises(Conflict, match="public period"):
            merchants.decide(s, code="2026", decision_no="信用办〔2026〕9号", actor="office")
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-09")
    with db.session_scope(store) as s:
        with pytest.raises(Conflict, match="no nominations or objections"):
            merchants.object_to(s, code="2026", subject_id=county["m0"], text="迟到", actor="resident")
        with pytest.raises(InvalidInput, match="reason"):
            merchants.decide(s, code="2026", decision_no="信用办〔2026〕9号", reject={county["m1"]: " "},
                             actor="office")
        d = merchants.decide(s, code="2026", decision_no="信用办〔2026〕9号", reject={county["m1"]: "异议属实"},
                             actor="office")
        assert d["awarded"] == [county["m0"]]
        with pytest.raises(Conflict, match="decided"):
            merchants.decide(s, code="2026", decision_no="x", actor="office")
        office = merchants.selection_out(s, merchants.get(s, "2026"), public=False)
        rejected = next(c for c in office["candidates"] if c["subject_id"] == county["m1"])
        assert rejected["objection_texts"][0]["text"] == NASTY and rejected["objection_texts"][0]["outcome"] == "upheld"
        rec = s.execute(select(CreditRecord).where(CreditRecord.source == "merchant-award")).scalar_one()
        assert (rec.subject_id, rec.item_code, rec.document_no) == (county["m0"], "market.credit_merchant",
                                                                    "信用办〔2026〕9号")
        assert json.loads(rec.raw or "{}")["selection"] == "2026"   # traceable back to the round
        awards = boards.board(s, region_code="S1G1")["awards"]
        assert [(a["name"], a["decision_no"]) for a in awards] == [("诚信小店", "信用办〔2026〕9号")]
        # The award's record earns its points in the daily pass (market.credit_merchant: 300).
        points_service.run_daily(s, actor="test")
        assert ledger.balance(s, county["m0"]) >= 300
