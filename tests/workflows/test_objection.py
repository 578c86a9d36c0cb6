"""Objection (异议): marked at once, routed to the supplying department, decided within
working days (one extension to 20), three outcomes, one review, notices and alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from tests.workflows.helpers import (
    add_record,
    count,
    make_firm,
    put_on_serious_list,
    status_changes,
)

from creditgov.alerts import contacts as alerts_service
from creditgov.alerts import outbox
from creditgov.alerts import queries as alert_queries
from creditgov.alerts.inbox import messages as inbox
from creditgov.alerts.models import Alert, ChannelConfig, InboxMessage, Notification
from creditgov.alerts.schemas import ContactIn, ContactsFile
from creditgov.catalog.models import Department
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.exchange.models import QueuedChange as ExchangePackage
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.models import AuditEntry
from creditgov.workflows import flows
from creditgov.workflows.materials import materials
from creditgov.workflows.models import Objection
from creditgov.workflows.objection import (
    extend_objection,
    file_objection,
    objection_dict,
    request_review,
)
from creditgov.workflows.overdue import flag_overdue

D = dt.date


@pytest.fixture
def firm_with_record(county: str, today) -> tuple[int, int]:
    today("2026-06-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 5, 10))
        return firm.id, rec.id


def _file(url: str, firm: int, rec: int, tmp_path: Path | None = None, **kw) -> Objection:
    evidence = []
    if tmp_path is not None:
        f = tmp_path / "缴款凭证.pdf"
        f.write_bytes(b"%PDF-1.4 receipt of payment")
        evidence = [f]
    with db.session_scope(url) as s:
        return file_objection(s, subject_id=firm, record_ids=[rec], reason="处罚金额登记错误",
                              evidence=evidence, files_dir=tmp_path / "files" if tmp_path else None,
                              actor="subject:test", **kw)[0]


def test_filing_marks_at_once_routes_and_sets_the_working_day_deadline(county: str, firm_with_record, today,
                                                                        tmp_path: Path) -> None:
    firm, rec = firm_with_record
    today("2026-09-30")
    o = _file(county, firm, rec, tmp_path)
    assert (o.status, o.department_code, o.received_on, o.due_on) == ("open", "market", D(2026, 9, 30),
                                                                       D(2026, 10, 13))
    with db.session_scope(county) as s:
        assert s.get(CreditRecord, rec).status == "disputed"  # type: ignore[union-attr]
        assert status_changes(s, rec) == [("active", "disputed")]
        # withheld from publication while open
        assert rec not in [r.id for r in flows.published_records(s, firm)]
        # the evidence: name and hash in the database, the bytes under the files folder
        ev = materials(s, "objection", o.id)
        digest = hashlib.sha256(b"%PDF-1.4 receipt of payment").hexdigest()
        assert ev == [{"file": "缴款凭证.pdf", "sha256": digest, "size": 27, "stored_as": f"{digest[:2]}/{digest}"}]
        assert (tmp_path / "files" / digest[:2] / digest).read_bytes() == b"%PDF-1.4 receipt of payment"
        # the subject and the department are told, with the date
        sub = [m.topic for m in inbox(s, recipient_kind="subject", recipient=str(firm))]
        dep = [m for m in inbox(s, recipient_kind="department", recipient="market") if m.subject_id == firm]
        assert sub == ["objection.received"]
        assert [m.topic for m in dep] == ["objection.assigned"] and "2026-10-13" in dep[0].body
        d = objection_dict(s, s.get(Objection, o.id))  # type: ignore[arg-type]
        assert (d["deadline"], d["working_days_left"], d["overdue"]) == ("2026-10-13", 5, False)
        assert s.execute(select(AuditEntry.action).where(AuditEntry.action == "objection.file")).scalar()


def test_upheld_returns_the_record_to_force(county: str, firm_with_record, today) -> None:
    firm, rec = firm_with_record
    o = _file(county, firm, rec)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="decided by 'market'"):
            flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason="x", department="tax")
        with pytest.raises(InvalidInput, match="reason"):
            flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason=" ", department="market")
    with db.session_scope(county) as s:
        flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason="经核实处罚信息无误",
                               department="market", actor="officer:market")
    with db.session_scope(county) as s:
        assert s.get(CreditRecord, rec).status == "active"  # type: ignore[union-attr]
        assert status_changes(s, rec) == [("active", "disputed"), ("disputed", "active")]
        assert rec in [r.id for r in flows.published_records(s, firm)]
        assert [m.topic for m in inbox(s, recipient_kind="subject", recipient=str(firm))][0] == \
            "objection.upheld"
        with pytest.raises(InvalidInput, match="another decision came first"):
            flows.decide_objection(s, objection_id=o.id, outcome="deleted", reason="x", department="market")


def test_deleted_revokes_exits_lists_and_queues_the_change(county: str, today) -> None:
    today("2026-03-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty_serious", published=D(2026, 3, 1))
        firm_id, rec_id = firm.id, rec.id
    entry = put_on_serious_list(county, today, firm_id, rec_id, "2026-03-02")
    today("2026-05-06")
    o = _file(county, firm_id, rec_id)
    with db.session_scope(county) as s:
        flows.decide_objection(s, objection_id=o.id, outcome="deleted", reason="处罚决定已被复议撤销",
                               department="market")
    with db.session_scope(county) as s:
        assert s.get(CreditRecord, rec_id).status == "revoked"  # type: ignore[union-attr]
        e = s.get(ListEntry, entry)
        assert e is not None and (e.status, e.exit_kind, e.exited_on) == ("exited", "manual", D(2026, 5, 6))
        pk = list(s.execute(select(ExchangePackage).where(ExchangePackage.record_id == rec_id)).scalars())
        assert [(p.record_id, p.recipient, p.kind, p.cause) for p in pk] == \
            [(rec_id, "upper-platform", "record.revoked", f"objection:{o.id}")]
        with pytest.raises(InvalidInput, match="favour"):
            request_review(s, objection_id=o.id, reason="x")


def test_corrected_makes_a_new_version(county: str, firm_with_record, today) -> None:
    firm, rec = firm_with_record
    o = _file(county, firm, rec)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="names what changes"):
            flows.decide_objection(s, objection_id=o.id, outcome="corrected", reason="x", department="market")
        with pytest.raises(InvalidInput, match="cannot correct"):
            flows.decide_objection(s, objection_id=o.id, outcome="corrected", reason="x", department="market",
                                   corrections={"status": "repaired"})
    with db.session_scope(county) as s:
        flows.decide_objection(s, objection_id=o.id, outcome="corrected", reason="金额更正为2000元",
                               department="market", corrections={"value": "2000", "text": "罚款2000元"})
    with db.session_scope(county) as s:
        old = s.get(CreditRecord, rec)
        o2 = s.get(Objection, o.id)
        assert old is not None and o2 is not None and o2.result_record_id is not None
        new = s.get(CreditRecord, o2.result_record_id)
        assert new is not None
        assert (old.is_current, old.status, new.is_current, new.status) == (False, "active", True, "active")
        assert (new.version, new.supersedes_id, new.natural_key) == (2, old.id, old.natural_key)
        assert (str(new.value), new.text, new.source) == ("2000.00", "罚款2000元", "objection")
        assert [r.id for r in flows.published_records(s, firm)] == [new.id]
        assert [p.kind for p in s.execute(select(ExchangePackage).where(
            ExchangePackage.record_id.in_((old.id, new.id)))).scalars()] == ["record.corrected"]


def test_one_extension_to_twenty_working_days_in_total(county: str, firm_with_record, today) -> None:
    firm, rec = firm_with_record
    today("2026-09-30")
    o = _file(county, firm, rec)
    today("2026-10-12")
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="reason"):
            extend_objection(s, objection_id=o.id, reason="", department="market")
        with pytest.raises(InvalidInput, match="handled by 'market'"):
            extend_objection(s, objection_id=o.id, reason="x", department="tax")
        got = extend_objection(s, objection_id=o.id, reason="需向上级核实处罚文书", department="market")
        assert (got.due_on, got.extended_on) == (D(2026, 11, 3), D(2026, 10, 12))
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="already extended"):
        extend_objection(s, objection_id=o.id, reason="again", department="market")


def test_extension_must_come_before_the_deadline(county: str, firm_with_record, today) -> None:
    firm, rec = firm_with_record
    today("2026-09-30")
    o = _file(county, firm, rec)
    today("2026-10-14")
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="due on 2026-10-13"):
        extend_objection(s, objection_id=o.id, reason="late", department="market")


def test_one_review_by_the_review_authority(county: str, firm_with_record, today) -> None:
    firm, rec = firm_with_record
    today("2026-09-18")
    o = _file(county, firm, rec)
    with db.session_scope(county) as s:
        flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason="无误", department="market")
    today("2026-09-18")
    with db.session_scope(county) as s:
        r = request_review(s, objection_id=o.id, reason="处罚主体认定错误")
        # 5 working days: the working Sunday 09-20 counts, Mid-Autumn 09-25 does not
        assert (r.status, r.review_due_on, r.review_authority) == ("reviewing", D(2026, 9, 24), "credit")
        assert s.get(CreditRecord, rec).status == "disputed"  # type: ignore[union-attr]
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="for 'credit'"):
            flows.decide_review(s, objection_id=o.id, outcome="deleted", reason="x", unit="market")
        flows.decide_review(s, objection_id=o.id, outcome="corrected", reason="主体更正", unit="credit",
                            corrections={"text": "更正后的处罚信息"})
    with db.session_scope(county) as s:
        got = s.get(Objection, o.id)
        assert got is not None and (got.status, got.review_outcome) == ("reviewed", "corrected")
        assert status_changes(s, rec) == [("active", "disputed"), ("disputed", "active"),
                                          ("active", "disputed"), ("disputed", "active")]
        assert s.get(CreditRecord, got.result_record_id).text == "更正后的处罚信息"  # type: ignore[union-attr]
        with pytest.raises(InvalidInput, match="once"):
            request_review(s, objection_id=o.id, reason="again")
        topics = [m.topic for m in inbox(s, recipient_kind="subject", recipient=str(firm))]
        assert topics[:3] == ["objection.review.corrected", "objection.review", "objection.upheld"]


def test_only_records_in_force_of_ones_own_file(county: str, firm_with_record) -> None:
    firm, rec = firm_with_record
    with db.session_scope(county) as s:
        other = make_firm(s)
        with pytest.raises(InvalidInput, match="not in this subject's file"):
            file_objection(s, subject_id=other.id, record_ids=[rec], reason="x")
        with pytest.raises(InvalidInput, match="its reasons"):
            file_objection(s, subject_id=firm, record_ids=[rec], reason=" ")
    _file(county, firm, rec)
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="already under objection"):
        file_objection(s, subject_id=firm, record_ids=[rec], reason="again")


def test_one_filing_several_records_each_to_its_department(county: str, today) -> None:
    today("2026-09-18")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        a = add_record(s, firm, "market.penalty", published=D(2026, 5, 1))
        b = add_record(s, firm, "tax.arrears", published=D(2026, 5, 1))
        got = file_objection(s, subject_id=firm.id, record_ids=[a.id, b.id], reason="均已缴清",
                             channel="window", actor="window:clerk1")
        assert [(o.record_id, o.department_code, o.due_on) for o in got] == \
            [(a.id, "market", D(2026, 9, 24)), (b.id, b.department_code, D(2026, 9, 24))]
        assert len({o.filing_no for o in got}) == 1


def test_overdue_objections_alert_department_and_credit_office_once(county: str, firm_with_record, today) -> None:
    firm, rec = firm_with_record
    today("2026-09-30")
    o = _file(county, firm, rec)
    today("2026-10-13")
    with db.session_scope(county) as s:
        assert o.id not in flag_overdue(s)["objection"]
    today("2026-10-14")
    with db.session_scope(county) as s:
        assert o.id in flag_overdue(s)["objection"]
    with db.session_scope(county) as s:
        assert o.id not in flag_overdue(s)["objection"]
        # an alert of the alerts domain, with one notice per responsible desk in the outbox
        (alert,) = s.execute(select(Alert).where(Alert.rule_code == "workflow.objection-overdue",
                                                 Alert.subject_id == firm)).scalars()
        assert (alert.severity, alert.source, alert.status) == ("high", "workflow", "open")
        assert "2026-10-13" in alert.title
        notes = alert_queries.notifications_of(s, alert.id)
        assert sorted((n.channel, n.recipient) for n in notes) == [("inbox", "department:credit"),
                                                                    ("inbox", "department:market")]
    outbox.drain(county)  # the worker delivers into the one inbox
    with db.session_scope(county) as s:
        for dept in ("market", "credit"):
            assert count(s, InboxMessage, InboxMessage.recipient == dept, InboxMessage.topic == "objection.overdue",
                         InboxMessage.subject_id == firm) == 1
        assert audit.verify(s).ok


def test_notices_also_go_through_configured_channels(county: str, today, tmp_path: Path) -> None:
    """With an e-mail channel configured and the subject's address on file, each step's
    notice is queued in the alerts outbox and delivered to a real local SMTP server."""
    from tests.alerts.peers.running import SmtpPeer

    today("2026-09-30")
    with db.session_scope(county) as s:
        firm = make_firm(s, name="邮件通知测试企业")
        rec = add_record(s, firm, "market.penalty", published=D(2026, 5, 10))
        firm_id, rec_id = firm.id, rec.id
    peer = SmtpPeer(tmp_path / "maildir").start()
    try:
        channels = tmp_path / "channels.yaml"
        channels.write_text(f"channels:\n  - {{name: email, plugin: smtp, settings: {{host: 127.0.0.1, port: "
                            f"{peer.port}, sender: credit@county.test}}}}\n", encoding="utf-8")
        with db.session_scope(county) as s:
            alerts_service.load_channels(s, path=channels, actor="test")
            alerts_service.load_contacts(s, contacts=ContactsFile(contacts=[
                ContactIn(kind="subject", key=str(firm_id), name="企业联系人", email="boss@firm.test")]))
        o = _file(county, firm_id, rec_id)
        with db.session_scope(county) as s:
            queued = [(n.channel, n.recipient, n.payload["topic"]) for n in s.execute(
                select(Notification).where(Notification.subject_id == firm_id)).scalars()]
            assert queued == [("email", f"subject:{firm_id}", "objection.received")]
        outbox.drain(county)
        mails = peer.messages()
        assert len(mails) == 1 and mails[0]["To"] == "boss@firm.test"
        body = mails[0].get_body().get_content()
        assert f"异议 {o.id} 已受理" in body
        with db.session_scope(county) as s:  # the department by its name, never its code
            dept = s.get(Department, s.get(CreditRecord, rec_id).department_code)
            assert dept is not None and f"由{dept.name_zh}在" in body and f"{dept.code} " not in body, body
    finally:
        peer.stop()
        with db.session_scope(county) as s:  # the module's store goes back to no channels but the inbox
            s.execute(delete(ChannelConfig).where(ChannelConfig.name == "email"))
            alerts_service.load_contacts(s, contacts=ContactsFile(contacts=[]))
