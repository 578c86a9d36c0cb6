"""Retention on SQLite and PostgreSQL: an adverse record is archived five years after
its behaviour ended (out of the file, publication and evaluation, still traceable),
query logs are purged after ten years, and the audit chain still verifies across the
purged segments — while a segment record tampered with afterwards is caught."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from tests.lists.helpers import make_subject
from tests.workflows.helpers import add_record, make_firm, status_changes

from creditgov import bootstrap
from creditgov.core import clock, db
from creditgov.exchange.models import QueuedChange as ExchangePackage
from creditgov.measures import service as measures_service
from creditgov.measures.models import CreditCheck
from creditgov.records.models import CreditRecord
from creditgov.scoring.explain import load_subject_data, status_on
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.security.models import AuditEntry, AuditPurgedSegment
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows import eligibility, flows, retention


def test_a_six_year_old_adverse_record_is_archived_and_stays_traceable(county: str, today, keyring: KeyRing,
                                                                      cli) -> None:
    today("2026-11-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        old = add_record(s, firm, "market.penalty", published=dt.date(2020, 10, 1))
        recent = add_record(s, firm, "market.penalty", published=dt.date(2024, 1, 10))
        paid_late = add_record(s, firm, "tax.arrears", published=dt.date(2020, 6, 1))
        honour = add_record(s, firm, "civility.honour", published=dt.date(2019, 5, 1))
        # the arrears were paid in 2022: the behaviour ended then, five years are not over
        eligibility.record_condition(s, kind="obligations-fulfilled", subject_id=firm.id, record_id=paid_late.id,
                                     met_on=dt.date(2022, 3, 1))
        ids = {"firm": firm.id, "old": old.id, "recent": recent.id, "paid_late": paid_late.id, "honour": honour.id}
    due = json.loads(cli("--db", county, "retention", "due", "--json").output)
    assert ids["old"] in {d["record_id"] for d in due} and ids["recent"] not in {d["record_id"] for d in due}
    out = bootstrap.job("retention")(county)  # the daily job, as the worker runs it
    assert ids["old"] in out["archived"]
    assert not {ids["recent"], ids["paid_late"], ids["honour"]} & set(out["archived"])
    assert ids["old"] not in bootstrap.job("retention")(county)["archived"]  # twice: nothing more
    with db.session_scope(county) as s:
        rec = s.get(CreditRecord, ids["old"])
        assert rec is not None and rec.status == "archived"
        assert status_changes(s, ids["old"]) == [("active", "archived")]
        trace = retention.archived(s, subject_id=ids["firm"])
        assert [t["record_id"] for t in trace] == [ids["old"]] and "5 years" in trace[0]["reason"]
        # out of the credit file, still in its history view for authorised staff
        f = subject_service.credit_file(s, keyring, str(ids["firm"])).as_dict()
        assert ids["old"] not in {r["id"] for r in f["records"]}
        hist = subject_service.credit_file(s, keyring, str(ids["firm"]), history=True).as_dict()
        assert {r["id"]: r["status"] for r in hist["records"]}[ids["old"]] == "archived"
        # out of publication, and out of evaluation from the day it was archived
        assert ids["old"] not in {r.id for r in flows.published_records(s, ids["firm"], dt.date(2021, 1, 1))}
        data = load_subject_data(s, [ids["firm"]])[ids["firm"]]
        row = next(r for r in data.records if r.id == ids["old"])
        changes = data.changes.get(ids["old"], [])
        assert status_on(row, changes, dt.date(2026, 11, 2)) == "archived"
        # the places it went are told to withdraw it
        kinds = set(s.execute(select(ExchangePackage.kind).where(ExchangePackage.record_id == ids["old"])).scalars())
        assert kinds == {"record.archived"}
        pkg = s.execute(select(ExchangePackage).where(ExchangePackage.record_id == ids["old"])).scalars().first()
        assert pkg is not None  # Order 45: withdrawn within 3 working days, Sunday 1 November → Wednesday
        assert (pkg.payload["withdraw_by"], pkg.payload["withdraw_rule"]) == ("2026-11-04", "samr-order-45")
    shown = json.loads(cli("--db", county, "retention", "archived", "--subject", str(ids["firm"]), "--json").output)
    assert [r["record_id"] for r in shown] == [ids["old"]] and shown[0]["actor"] == "worker:retention"


def _person(s: Session, keyring: KeyRing, rid: str) -> int:
    return subject_service.insert_subject(s, keyring, kind="individual", name="李四", uscc=None, resident_id=rid,
                                          status="confirmed", source="test", batch_id=None, now=clock.now())


def test_audit_verifies_after_query_logs_are_purged(county: str, today, keyring: KeyRing, cli) -> None:
    today("2015-03-02")
    with db.session_scope(county) as s:
        measures_service.load_measures(s, actor="test")
        person = _person(s, keyring, "330522198001011234")
        firm = make_subject(s)
        firm_id = firm.id
    # old reads and checks, interleaved with changes that must stay
    for n in range(3):
        with db.session_scope(county) as s:
            subject_service.credit_file(s, keyring, str(person), actor="officer:old", purpose=f"核查 {n}")
            measures_service.check(s, subject_id=firm_id, scenario="public-bidding", actor="officer:old")
            firm_row = s.get(Subject, firm_id)
            assert firm_row is not None
            add_record(s, firm_row, "market.complaint", published=dt.date(2015, 3, 2))
    today("2017-01-10")
    with db.session_scope(county) as s:
        subject_service.credit_file(s, keyring, str(person), actor="officer:later", purpose="复查")
        kept_check = measures_service.check(s, subject_id=firm_id, scenario="public-bidding").check_id
    today("2026-11-01")
    with db.session_scope(county) as s:
        before = s.execute(select(AuditEntry.id).where(AuditEntry.action.in_(("subject.read", "check")))).all()
        changes = s.execute(select(AuditEntry.id).where(AuditEntry.action == "record.status")).all()
        assert audit.verify(s).ok
    with db.session_scope(county) as s:
        out = retention.purge_query_logs(s)
    assert out["audit"]["purged"] == 6 and out["credit_checks"]["checks"] == 3
    with db.session_scope(county) as s:
        after = s.execute(select(AuditEntry.id).where(AuditEntry.action.in_(("subject.read", "check")))).all()
        assert len(after) == len(before) - 6  # the 2017 read and check stay
        assert s.execute(select(AuditEntry.id).where(AuditEntry.action == "record.status")).all() == changes
        assert [c for (c,) in s.execute(select(CreditCheck.check_id))] == [kept_check]
        r = audit.verify(s)
        assert r.ok and r.purged == 6, r
        cp = s.execute(select(AuditEntry).where(AuditEntry.action == "audit.purge")).scalar_one()
        assert json.loads(cp.detail)["entries"] == 6
    res = cli("--db", county, "audit", "verify", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["ok"] is True, res.output
    assert json.loads(res.output)["purged"] == 6
    # ten years on, the 2017 logs go too: a second checkpoint, and the chain still verifies
    today("2027-02-01")
    with db.session_scope(county) as s:
        assert retention.purge_query_logs(s)["audit"]["purged"] == 2
    with db.session_scope(county) as s:
        r = audit.verify(s)
        assert r.ok and r.purged == 8
        segments = s.execute(select(AuditPurgedSegment)).scalars().all()
        assert {x.checkpoint_entry_id for x in segments} == {
            e for (e,) in s.execute(select(AuditEntry.id).where(AuditEntry.action == "audit.purge"))}
    # tampering after the purge is caught (and rolled back here)
    with db.session_scope(county) as s:
        victim = s.execute(select(AuditPurgedSegment).order_by(AuditPurgedSegment.id).limit(1)).scalar_one()
        s.execute(delete(AuditPurgedSegment).where(AuditPurgedSegment.id == victim.id))
        bad = audit.verify(s)
        assert not bad.ok and bad.broken_id == victim.checkpoint_entry_id and "checkpoint" in (bad.reason or "")
        s.rollback()
    with db.session_scope(county) as s:
        kept = s.execute(select(AuditEntry.id).where(AuditEntry.action == "record.status")
                         .order_by(AuditEntry.id).limit(1)).scalar_one()
        s.execute(delete(AuditEntry).where(AuditEntry.id == kept))  # a deletion no checkpoint vouches for
        bad = audit.verify(s)
        assert not bad.ok and "previous-hash link broken" in (bad.reason or "")
        s.rollback()
    with db.session_scope(county) as s:
        s.execute(update(AuditEntry).where(AuditEntry.action == "audit.purge").values(detail="{}"))
        assert not audit.verify(s).ok
        s.rollback()
    with db.session_scope(county) as s:
        assert audit.verify(s).ok
