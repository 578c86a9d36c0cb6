"""The points ledger on a real store (SQLite and PostgreSQL): credits from published
runs and positive records, reversal of a revoked record's points, caps, expiry oldest
first, manual awards with a second person, and the job run twice adding nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.points import earning, ledger, service
from creditgov.points.models import PointsAward, PointsEntry
from creditgov.records import service as records_service
from tests.lists.helpers import add_record, add_run, make_subject


def entries(s, subject_id: int) -> list[tuple[str, int, str | None]]:
    q = select(PointsEntry.kind, PointsEntry.amount, PointsEntry.ref_type).where(
        PointsEntry.subject_id == subject_id).order_by(PointsEntry.id)
    return [tuple(r) for r in s.execute(q)]


def test_a_revoked_volunteering_record_reverses_its_points(store: str) -> None:
    with db.session_scope(store) as s:
        person = make_subject(s, kind="individual")
        rec = add_record(s, person, "civility.volunteer", occurred_on=dt.date(2026, 9, 1), department="civility")
        rec.value = Decimal("6")   # six hours at 10 points an hour
        pid, rid = person.id, rec.id
    with db.session_scope(store) as s:
        service.run_daily(s, actor="test")
    with db.session_scope(store) as s:
        assert ledger.balance(s, pid) == 60
        records_service.change_status(s, record_id=rid, to_status="revoked", reason="objection upheld",
                                      actor="test")
    with db.session_scope(store) as s:
        out = service.run_daily(s, actor="test")
        assert out["reversed_records"] == 1
    with db.session_scope(store) as s:
        assert ledger.balance(s, pid) == 0
        # Nothing deleted: the credit stays, a new entry reverses it and points at it.
        assert entries(s, pid) == [("earn", 60, "record"), ("reverse", -60, "entry")]
        rev = s.execute(select(PointsEntry).where(PointsEntry.kind == "reverse")).scalar_one()
        earn = s.execute(select(PointsEntry).where(PointsEntry.kind == "earn")).scalar_one()
        assert rev.reverses_id == earn.id and earn.ref_id == rid and "revoked" in (rev.note or "")
        # Running again changes nothing.
        service.run_daily(s, actor="test")
        assert len(entries(s, pid)) == 2


def test_reversal_never_takes_the_balance_below_zero(store: str) -> None:
    with db.session_scope(store) as s:
        person = make_subject(s, kind="individual")
        rec = add_record(s, person, "civility.honour", occurred_on=dt.date(2026, 9, 1), department="civility")
        pid, rid = person.id, rec.id
        service.run_daily(s, actor="test")
        ledger.lock_account(s, pid)
        ledger.post(s, subject_id=pid, amount=-250, kind="redeem", cause="redemption", ref_type="redemption",
                    ref_id=None, cause_key="test:spend", actor="test")
        records_service.change_status(s, record_id=rid, to_status="revoked", reason="wrong person", actor="test")
        service.run_daily(s, actor="test")
        assert ledger.balance(s, pid) == 0
        rev = s.execute(select(PointsEntry).where(PointsEntry.kind == "reverse")).scalar_one()
        assert rev.amount == -50 and "250 points already used" in (rev.note or "")


def test_published_runs_earn_once_per_month_and_a_replaced_run_is_reversed(store: str) -> None:
    with db.session_scope(store) as s:
        a, b, c = (make_subject(s, kind="individual") for _ in range(3))
        first = add_run(s, "community-resident", dt.date(2026, 9, 30),
                        [(a, "AAA", "green"), (b, "A", "green"), (c, "C", "red")])
        add_run(s, "community-resident", dt.date(2026, 9, 15), [(a, "AAA", "green")], published=False)
        ids = a.id, b.id, c.id
    with db.session_scope(store) as s:
        out = earning.credit_runs(s, actor="test")
        assert out == {"runs": 1, "credited": 2, "reversed": 0}
        assert [ledger.balance(s, i) for i in ids] == [100, 50, 0]
        assert earning.credit_runs(s, actor="test")["credited"] == 0   # idempotent
    with db.session_scope(store) as s:
        a2, b2 = (s.get(type(a), i) for i in ids[:2])
        add_run(s, "community-resident", dt.date(2026, 9, 30), [(a2, "A", "green"), (b2, "A", "green")])
    with db.session_scope(store) as s:
        out = earning.credit_runs(s, actor="test")
        assert out["reversed"] == 2 and out["credited"] == 2
        assert [ledger.balance(s, i) for i in ids] == [50, 50, 0]
        notes = s.execute(select(PointsEntry.note).where(PointsEntry.kind == "reverse")).scalars().all()
        assert all(f"run {first.id} was replaced" in (n or "") for n in notes)


def test_a_cap_per_year_cuts_the_credit_and_says_so(store: str) -> None:
    with db.session_scope(store) as s:
        person = make_subject(s, kind="individual")
        for day, hours in ((dt.date(2026, 3, 1), 80), (dt.date(2026, 6, 1), 30), (dt.date(2026, 7, 1), 5)):
            add_record(s, person, "civility.volunteer", occurred_on=day, department="civility").value = Decimal(hours)
        service.run_daily(s, actor="test")
        assert ledger.balance(s, person.id) == 1000   # 800 + 300 capped to 200 + 0
        notes = s.execute(select(PointsEntry.note).where(PointsEntry.subject_id == person.id)).scalars().all()
        assert any("cut to 200 by the cap of 1000 per year" in (n or "") for n in notes)


def test_points_expire_24_months_after_earning_oldest_first(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2024-11-01")
    with db.session_scope(store) as s:
        person = make_subject(s, kind="individual")
        pid = person.id
        add_record(s, person, "civility.honour", occurred_on=dt.date(2024, 10, 1), department="civility")
        service.run_daily(s, actor="test")      # 300, expiring 2026-11-01
    monkeypatch.setenv("CREDITGOV_TODAY", "2025-06-01")
    with db.session_scope(store) as s:
        add_record(s, s.get(type(person), pid), "grid.family_virtue", occurred_on=dt.date(2025, 5, 1),
                   department="grid")
        service.run_daily(s, actor="test")      # 200, expiring 2027-06-01
        ledger.lock_account(s, pid)
        ledger.post(s, subject_id=pid, amount=-100, kind="redeem", cause="redemption", ref_type="redemption",
                    ref_id=None, cause_key="test:spend", actor="test")   # taken from the oldest lot
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-31")
    with db.session_scope(store) as s:
        assert service.run_daily(s, actor="test")["expired"] == {"subjects": 0, "points": 0}
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(store) as s:
        assert service.run_daily(s, actor="test")["expired"] == {"subjects": 1, "points": 200}
        assert ledger.balance(s, pid) == 200
        assert service.run_daily(s, actor="test")["expired"]["points"] == 0
    monkeypatch.setenv("CREDITGOV_TODAY", "2027-06-01")
    with db.session_scope(store) as s:
        assert service.run_daily(s, actor="test")["expired"]["points"] == 200
        assert ledger.balance(s, pid) == 0


def test_a_manual_award_needs_a_second_person_and_respects_the_cap(store: str) -> None:
    with db.session_scope(store) as s:
        person = make_subject(s, kind="individual")
        with pytest.raises(InvalidInput, match="at most 200"):
            ledger.propose_award(s, subject_id=person.id, points=201, reason="too much", actor="user:grid1")
        a, new = ledger.propose_award(s, subject_id=person.id, points=200, reason="helped a neighbour",
                                      actor="user:grid1")
        assert new
        # The same proposal sent again while it waits (a retry, a form sent twice) is the first one.
        again, new = ledger.propose_award(s, subject_id=person.id, points=200, reason=" helped a neighbour ",
                                          actor="user:grid1")
        assert (again.id, new) == (a.id, False)
        with pytest.raises(Conflict, match="second person"):
            ledger.decide_award(s, a.id, approve=True, actor="user:grid1")
        ledger.decide_award(s, a.id, approve=True, actor="user:office")
        assert ledger.balance(s, person.id) == 200
        with pytest.raises(Conflict, match="already approved"):
            ledger.decide_award(s, a.id, approve=True, actor="user:office2")
        # Once decided, the same words make a new proposal (a second good deed).
        b, new = ledger.propose_award(s, subject_id=person.id, points=150, reason="again", actor="user:grid1")
        assert new and b.id != a.id
        twin, new = ledger.propose_award(s, subject_id=person.id, points=150, reason="again", actor="user:grid2")
        assert new and twin.id != b.id  # another person's proposal is theirs
        with pytest.raises(Conflict, match="100 award points left this month"):
            ledger.decide_award(s, b.id, approve=True, actor="user:office")
    with db.session_scope(store) as s:   # the refused approval left nothing behind
        assert s.execute(select(func.count()).select_from(PointsEntry)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(PointsAward)).scalar_one() == 3
