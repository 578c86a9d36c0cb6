"""Credit repair (信用修复): automatic eligibility from the catalogue's periods and the
recorded conditions, intake within 10 working days, the identifying department within
3, rejection always with a reason, and what approval sets off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, select
from tests.workflows.helpers import (
    add_record,
    count,
    make_firm,
    put_on_serious_list,
    status_changes,
)

from creditgov.alerts import outbox
from creditgov.alerts import queries as alerts_service
from creditgov.alerts.inbox import messages as inbox
from creditgov.alerts.models import Alert, InboxMessage
from creditgov.commitments import service as commitments_service
from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput
from creditgov.exchange.models import QueuedChange as ExchangePackage
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import ModelVersion
from creditgov.workflows import flows
from creditgov.workflows.eligibility import eligibility, record_condition, unmet
from creditgov.workflows.exchange import queue_exchange, recipients_of, record_share
from creditgov.workflows.materials import materials
from creditgov.workflows.models import (
    RepairApplication,
    WorkflowRules,
)
from creditgov.workflows.objection import file_objection
from creditgov.workflows.overdue import flag_overdue
from creditgov.workflows.repair import apply_repair, forward_repair, reject_repair
from creditgov.workflows.rules import load_rules, shipped_rules_text

D = dt.date


def _apply(url: str, firm: int, rec: int, **kw) -> RepairApplication:
    with db.session_scope(url) as s:
        return apply_repair(s, subject_id=firm, record_id=rec, applicant="法定代表人", **kw)


def _meet_conditions(url: str, firm: int, rec: int) -> None:
    with db.session_scope(url) as s:
        dept = s.get(CreditRecord, rec).department_code  # type: ignore[union-attr]
        record_condition(s, kind="obligations-fulfilled", subject_id=firm, record_id=rec, department=dept,
                         note="罚款已缴清")
        commitments_service.sign(s, subject_id=firm, template_code="credit-repair", signed_by="法定代表人")


def test_too_early_is_refused_with_the_date_it_becomes_possible(county: str, today) -> None:
    today("2026-06-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty_serious", published=D(2026, 1, 20))
        firm_id, rec_id = firm.id, rec.id
    _meet_conditions(county, firm_id, rec_id)
    a = _apply(county, firm_id, rec_id)
    assert (a.status, a.tier, a.eligible_from, a.publication_ends) == ("refused", "serious", D(2027, 1, 20),
                                                                       D(2029, 1, 20))
    assert a.refusal_reason is not None and "from 2027-01-20" in a.refusal_reason
    with db.session_scope(county) as s:
        msgs = inbox(s, recipient_kind="subject", recipient=str(firm_id))
        assert msgs[0].topic == "repair.refused" and "2027-01-20" in msgs[0].body
        # the subject is told in its own words: no English, no department code
        assert "最短公示期" in msgs[0].body and "from 2027" not in msgs[0].body and " market" not in msgs[0].body
        # pages and the printed decision say the unmet conditions in the reader's language,
        # the dates written out as each language writes a date
        stored = s.get(RepairApplication, a.id).eligibility  # type: ignore[union-attr]
        assert unmet(stored, "zh") == "严重失信记录最短公示期 12 个月，将于2027年1月20日届满，届时可申请修复"
        assert unmet(stored, "en") == ("the minimum publication of 12 months (serious) ends on 20 January 2027: "
                                       "repair can be applied for from 20 January 2027")
        assert s.get(CreditRecord, rec_id).status == "active"  # type: ignore[union-attr]


def test_every_unmet_condition_is_named(county: str, today) -> None:
    today("2026-05-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        el = eligibility(s, record_id=rec.id)
        assert el.eligible is False and el.eligible_from == D(2026, 4, 20)
        assert {c["condition"]: c["met"] for c in el.checks} == \
            {"minimum-period": True, "obligations-fulfilled": False, "commitment": False}
        with pytest.raises(InvalidInput, match="supplied by 'market'"):
            record_condition(s, kind="obligations-fulfilled", subject_id=firm.id, record_id=rec.id,
                             department="tax")


def test_the_whole_procedure_and_what_approval_sets_off(county: str, today, tmp_path: Path) -> None:
    today("2026-03-02")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty_serious", published=D(2025, 3, 1))
        firm_id, rec_id = firm.id, rec.id
    entry = put_on_serious_list(county, today, firm_id, rec_id, "2026-03-02")
    today("2026-09-18")
    _meet_conditions(county, firm_id, rec_id)
    letter = tmp_path / "信用修复承诺书.pdf"
    letter.write_bytes(b"commitment letter")
    a = _apply(county, firm_id, rec_id, materials_files=[letter], files_dir=tmp_path / "files")
    # intake: 10 working days from 2026-09-18 (Sun 09-20 works; 09-25 and 10-01..07 off; Sat 10-10 works)
    assert (a.status, a.intake_due_on) == ("submitted", D(2026, 10, 9))
    with db.session_scope(county) as s:
        assert materials(s, "repair", a.id)[0]["file"] == "信用修复承诺书.pdf"
        with pytest.raises(InvalidInput, match="not been forwarded"):
            flows.approve_repair(s, application_id=a.id, department="market")
        with pytest.raises(InvalidInput, match="forwarded by the intake"):
            forward_repair(s, application_id=a.id, unit="market")
    today("2026-09-30")
    with db.session_scope(county) as s:
        f = forward_repair(s, application_id=a.id, unit="credit")
        assert (f.status, f.department_code, f.decision_due_on) == ("forwarded", "market", D(2026, 10, 10))
    today("2026-10-08")
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="谁认定"):
            flows.approve_repair(s, application_id=a.id, department="credit")
        out = flows.approve_repair(s, application_id=a.id, department="market", actor="officer:market")
    assert out["application"]["status"] == "approved"
    with db.session_scope(county) as s:
        r = s.get(CreditRecord, rec_id)
        assert r is not None and r.status == "repaired"
        assert status_changes(s, rec_id)[-1] == ("active", "repaired")
        assert rec_id not in [x.id for x in flows.published_records(s, firm_id)]
        e = s.get(ListEntry, entry)
        assert e is not None and (e.status, e.exit_kind, e.exited_on) == ("exited", "repair", D(2026, 10, 8))
        pk = list(s.execute(select(ExchangePackage).where(ExchangePackage.record_id == rec_id)).scalars())
        assert [(p.recipient, p.kind, p.cause) for p in pk] == [("upper-platform", "record.repaired", f"repair:{a.id}")]
        assert s.get(RepairApplication, a.id).decided_by == "officer:market"  # type: ignore[union-attr]
        topics = [m.topic for m in inbox(s, recipient_kind="subject", recipient=str(firm_id))]
        assert topics[:3] == ["repair.approved", "repair.forwarded", "repair.received"]
        # re-evaluated for every published model whose scope holds a firm; each names its model
        assert {x["model"].split("@")[0] for x in out["reevaluations"]} >= {"public-credit-enterprise"}
        with pytest.raises(InvalidInput, match="another decision came first"):
            reject_repair(s, application_id=a.id, unit="market", reason="too late")


def test_a_share_logged_by_the_exchange_adds_a_recipient(county: str, today) -> None:
    today("2026-05-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        record_share(s, record_id=rec.id, recipient="city-platform", ref="push-1")
        record_share(s, record_id=rec.id, recipient="city-platform", ref="push-2")  # once per place
        assert recipients_of(s, rec) == ["city-platform", "upper-platform"]
        first = queue_exchange(s, rec=rec, kind="record.repaired", cause="repair:x")
        again = queue_exchange(s, rec=rec, kind="record.repaired", cause="repair:x")
        assert len(first) == 2 and [p.id for p in again] == [p.id for p in first]
        # a restricted item's record goes nowhere by default
        rest = add_record(s, firm, "utility.arrears", published=D(2026, 1, 20))
        assert recipients_of(s, rest) == []


def test_minor_is_repairable_at_once_when_obligations_are_met(county: str, today) -> None:
    today("2026-07-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty_minor", published=D(2026, 7, 1))
        firm_id, rec_id = firm.id, rec.id
    a = _apply(county, firm_id, rec_id)
    assert a.status == "refused" and "obligations" in (a.refusal_reason or "")
    _meet_conditions(county, firm_id, rec_id)
    a = _apply(county, firm_id, rec_id)
    assert (a.status, a.eligible_from) == ("submitted", D(2026, 7, 1))
    with db.session_scope(county) as s, pytest.raises(InvalidInput, match="already has an open"):
        apply_repair(s, subject_id=firm_id, record_id=rec_id)


def test_rejection_always_with_its_reason_at_either_stage(county: str, today) -> None:
    today("2026-05-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        r1 = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        r2 = add_record(s, firm, "market.quality_fail", published=D(2026, 1, 20))
        firm_id, ids = firm.id, (r1.id, r2.id)
    for rid in ids:
        _meet_conditions(county, firm_id, rid)
    a1, a2 = (_apply(county, firm_id, rid) for rid in ids)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="reason"):
            reject_repair(s, application_id=a1.id, unit="credit", reason="  ")
        with pytest.raises(InvalidInput, match="'credit' answers it now"):
            reject_repair(s, application_id=a1.id, unit="market", reason="x")
        got = reject_repair(s, application_id=a1.id, unit="credit", reason="材料不全: 缺缴款凭证")
        assert (got.status, got.decision_reason) == ("rejected", "材料不全: 缺缴款凭证")
        forward_repair(s, application_id=a2.id, unit="credit")
        got = reject_repair(s, application_id=a2.id, unit="market", reason="失信行为未纠正")
        assert got.status == "rejected"
        assert s.get(CreditRecord, ids[1]).status == "active"  # type: ignore[union-attr]


def test_a_disputed_record_waits_for_the_objection(county: str, today) -> None:
    today("2026-05-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="有误")
        with pytest.raises(InvalidInput, match="under objection"):
            apply_repair(s, subject_id=firm.id, record_id=rec.id)


def test_publication_ends_by_itself_once_corrected(county: str, today) -> None:
    today("2026-02-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2025, 1, 10))  # ends 2026-01-10
        fresh = add_record(s, firm, "market.penalty", published=D(2025, 6, 10))  # ends 2026-06-10
        firm_id, rec_id, fresh_id = firm.id, rec.id, fresh.id
    with db.session_scope(county) as s:
        assert rec_id not in flows.end_publication(s)  # not corrected yet
        record_condition(s, kind="obligations-fulfilled", subject_id=firm_id, record_id=rec_id)
        record_condition(s, kind="obligations-fulfilled", subject_id=firm_id, record_id=fresh_id)
    with db.session_scope(county) as s:
        ended = flows.end_publication(s)
        assert rec_id in ended and fresh_id not in ended
    with db.session_scope(county) as s:
        assert rec_id not in flows.end_publication(s)  # once
        assert s.get(CreditRecord, rec_id).status == "expired"  # type: ignore[union-attr]
        assert [p.kind for p in s.execute(select(ExchangePackage).where(
            ExchangePackage.record_id == rec_id)).scalars()] == ["record.publication-ended"]
    # an expired record can still be repaired (the file then says so)
    _meet_conditions(county, firm_id, rec_id)
    assert _apply(county, firm_id, rec_id).status == "submitted"


def test_overdue_repairs_alert_each_stage_once(county: str, today) -> None:
    today("2026-05-01")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        firm_id, rec_id = firm.id, rec.id
    _meet_conditions(county, firm_id, rec_id)
    a = _apply(county, firm_id, rec_id)  # intake due 2026-05-18 (Labour Day off, Sat 05-09 works)
    assert a.intake_due_on == D(2026, 5, 18)
    today("2026-05-19")
    with db.session_scope(county) as s:
        assert a.id in flag_overdue(s)["repair"]
        assert a.id not in flag_overdue(s)["repair"]
        forward_repair(s, application_id=a.id, unit="credit")
    today("2026-05-25")
    with db.session_scope(county) as s:
        assert a.id in flag_overdue(s)["repair"]
        alerts = list(s.execute(select(Alert).where(Alert.rule_code == "workflow.repair-overdue",
                                                    Alert.subject_id == firm_id).order_by(Alert.id)).scalars())
        assert len(alerts) == 2  # one per stage: the intake's, then the department's
        recipients = [sorted(n.recipient for n in alerts_service.notifications_of(s, x.id)) for x in alerts]
        assert recipients == [["department:credit"], ["department:credit", "department:market"]]
    outbox.drain(county)
    with db.session_scope(county) as s:
        assert count(s, InboxMessage, InboxMessage.topic == "repair.overdue", InboxMessage.subject_id == firm_id,
                     InboxMessage.recipient == "market") == 1
        assert count(s, InboxMessage, InboxMessage.topic == "repair.overdue", InboxMessage.subject_id == firm_id,
                     InboxMessage.recipient == "credit") == 2


def test_training_when_the_rules_require_it(county: str, today, tmp_path: Path) -> None:
    doc = yaml.safe_load(shipped_rules_text())
    doc["version"] = "training"
    doc["repair"]["tiers"]["general"]["training_required"] = True
    f = tmp_path / "rules.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    today("2026-05-01")
    try:
        with db.session_scope(county) as s:
            load_rules(s, path=f, actor="admin")
            firm = make_firm(s)
            rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
            firm_id, rec_id = firm.id, rec.id
        _meet_conditions(county, firm_id, rec_id)
        with db.session_scope(county) as s:
            el = eligibility(s, record_id=rec_id)
            assert not el.eligible and el.failures == ["no training attended since the record"]
            record_condition(s, kind="training", subject_id=firm_id, note="信用修复专题培训 2026-04")
            assert eligibility(s, record_id=rec_id).eligible
    finally:
        with db.session_scope(county) as s:  # the shared store goes back to the shipped rules
            for row in s.execute(select(WorkflowRules)).scalars():
                s.delete(row)


def test_a_broken_model_does_not_undo_an_approval(county: str, today) -> None:
    """Re-evaluation runs in a savepoint: a published model that no longer validates is
    reported with the approval, and the repair itself stands."""
    today("2026-05-06")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        firm_id, rec_id = firm.id, rec.id
    _meet_conditions(county, firm_id, rec_id)
    a = _apply(county, firm_id, rec_id)
    with db.session_scope(county) as s:
        forward_repair(s, application_id=a.id, unit="credit")
        s.add(ModelVersion(name="zz-broken", version="1", status="published", content_hash="0" * 64,
                           text="name: zz-broken\nversion: '1'\n", created_at=clock.now(), published_at=clock.now()))
    try:
        with db.session_scope(county) as s:
            out = flows.approve_repair(s, application_id=a.id, department="market")
        assert out["reevaluations"] == [] and "zz-broken" in out["reevaluation_error"]
        with db.session_scope(county) as s:
            assert s.get(CreditRecord, rec_id).status == "repaired"  # type: ignore[union-attr]
            assert s.get(RepairApplication, a.id).status == "approved"  # type: ignore[union-attr]
    finally:
        with db.session_scope(county) as s:
            s.execute(delete(ModelVersion).where(ModelVersion.name == "zz-broken"))
