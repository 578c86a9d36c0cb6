"""Two officers deciding the same case at once leave exactly one outcome — raced with
real threads and real connections on PostgreSQL (and on SQLite, whose writers queue)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.concurrency import at_once
from tests.workflows.helpers import add_record, count, make_firm

from creditgov.commitments import service as commitments_service
from creditgov.core import db
from creditgov.exchange.models import QueuedChange as ExchangePackage
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.security.models import AuditEntry
from creditgov.workflows import flows
from creditgov.workflows.common import AlreadyDecided
from creditgov.workflows.eligibility import record_condition
from creditgov.workflows.models import Objection, RepairApplication
from creditgov.workflows.objection import file_objection
from creditgov.workflows.repair import apply_repair, forward_repair, reject_repair

D = dt.date


def _forwarded(url: str, today) -> tuple[int, int]:
    today("2026-05-06")
    with db.session_scope(url) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        record_condition(s, kind="obligations-fulfilled", subject_id=firm.id, record_id=rec.id)
        commitments_service.sign(s, subject_id=firm.id, template_code="credit-repair")
        a = apply_repair(s, subject_id=firm.id, record_id=rec.id)
        forward_repair(s, application_id=a.id, unit="credit")
        return a.id, rec.id


def _race(url: str, deciders: dict[str, Callable[[Session], object]]) -> dict[str, str]:
    """Start every decider at the same instant, each in its own session and transaction:
    who decided ("won") and who found it decided ("lost"); any other error is raised, so
    a crash is not mistaken for a loss."""
    names = list(deciders)

    def run(i: int) -> str:
        with db.session_scope(url) as s:
            deciders[names[i]](s)
        return "won"

    outcomes = at_once(run, len(names), returning=(AlreadyDecided,), timeout=60)
    return {name: "lost" if isinstance(o, AlreadyDecided) else o for name, o in zip(names, outcomes, strict=True)}


def _outcome_is_single(url: str, app_id: int, rec_id: int, results: dict[str, str]) -> None:
    assert sorted(results.values()) == ["lost"] * (len(results) - 1) + ["won"], results
    winner = next(k for k, v in results.items() if v == "won")
    with db.session_scope(url) as s:
        a = s.get(RepairApplication, app_id)
        rec = s.get(CreditRecord, rec_id)
        assert a is not None and rec is not None
        approved = winner.startswith("approve")
        assert a.status == ("approved" if approved else "rejected")
        assert a.decided_by == winner
        assert rec.status == ("repaired" if approved else "active")
        assert count(s, RecordStatusChange, RecordStatusChange.record_id == rec_id,
                     RecordStatusChange.to_status == "repaired") == (1 if approved else 0)
        assert count(s, ExchangePackage, ExchangePackage.record_id == rec_id) == (1 if approved else 0)
        decisions = [d for (d,) in s.execute(select(AuditEntry.detail).where(
            AuditEntry.action.in_(("repair.approve", "repair.reject"))))]
        assert sum(f'"application": {app_id},' in d for d in decisions) == 1


def test_approve_and_reject_at_once(county: str, today) -> None:
    app_id, rec_id = _forwarded(county, today)
    results = _race(county, {
        "approve:A": lambda s: flows.approve_repair(s, application_id=app_id, department="market",
                                                    actor="approve:A"),
        "reject:B": lambda s: reject_repair(s, application_id=app_id, unit="market",
                                            reason="材料存疑", actor="reject:B"),
    })
    _outcome_is_single(county, app_id, rec_id, results)


def test_three_approvals_at_once(county: str, today) -> None:
    app_id, rec_id = _forwarded(county, today)
    def approver(name: str) -> Callable[[Session], object]:
        return lambda s: flows.approve_repair(s, application_id=app_id, department="market", actor=name)

    results = _race(county, {f"approve:{n}": approver(f"approve:{n}") for n in range(3)})
    _outcome_is_single(county, app_id, rec_id, results)


def test_the_second_decision_waits_for_the_first_then_finds_it_decided(county: str, today) -> None:
    """The first officer holds its transaction open after deciding; the second must
    block (not read a stale 'forwarded' and decide too) and then lose."""
    app_id, rec_id = _forwarded(county, today)
    decided, release, second_done = threading.Event(), threading.Event(), threading.Event()
    lost: list[Exception] = []

    def first() -> None:
        with db.session_scope(county) as s:
            flows.approve_repair(s, application_id=app_id, department="market", actor="approve:first")
            decided.set()
            release.wait(timeout=20)

    def second() -> None:
        try:
            with db.session_scope(county) as s:
                reject_repair(s, application_id=app_id, unit="market", reason="不予修复", actor="reject:second")
        except AlreadyDecided as exc:
            lost.append(exc)
        finally:
            second_done.set()

    t1 = threading.Thread(target=first)
    t1.start()
    assert decided.wait(timeout=30)
    t2 = threading.Thread(target=second)
    t2.start()
    assert not second_done.wait(timeout=0.7), "the second decision did not wait for the first's transaction"
    release.set()
    t1.join(timeout=30)
    t2.join(timeout=30)
    assert len(lost) == 1 and "approved now" in str(lost[0])
    _outcome_is_single(county, app_id, rec_id, {"approve:first": "won", "reject:second": "lost"})


def test_objection_decisions_race_too(county: str, today) -> None:
    today("2026-05-06")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        o = file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="有误")[0]
        oid, rid = o.id, rec.id
    results = _race(county, {
        "upheld": lambda s: flows.decide_objection(s, objection_id=oid, outcome="upheld", reason="无误",
                                                   department="market"),
        "deleted": lambda s: flows.decide_objection(s, objection_id=oid, outcome="deleted", reason="有误",
                                                    department="market"),
    })
    assert sorted(results.values()) == ["lost", "won"], results
    winner = next(k for k, v in results.items() if v == "won")
    with db.session_scope(county) as s:
        assert s.get(Objection, oid).outcome == winner  # type: ignore[union-attr]
        assert s.get(CreditRecord, rid).status == ("active" if winner == "upheld" else "revoked")  # type: ignore[union-attr]
        assert count(s, RecordStatusChange, RecordStatusChange.record_id == rid) == 2
