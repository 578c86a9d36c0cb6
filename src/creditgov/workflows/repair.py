"""Credit repair (信用修复): the application (checked for eligibility at once), the
intake's forwarding, rejection, the identifying department's approval of the
application itself (its effects on the record, lists and evaluation follow in
`flows.approve_repair`), and the applications as listed and shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.clock import iso
from creditgov.core.errors import InvalidInput
from creditgov.security import service as audit
from creditgov.workflows import calendar
from creditgov.workflows.common import (
    cases,
    claim,
    get_application,
    get_record,
    record_versions,
)
from creditgov.workflows.eligibility import eligibility
from creditgov.workflows.materials import materials, store_materials
from creditgov.workflows.models import REPAIR_OPEN, RepairApplication
from creditgov.workflows.notifications import (
    Wording,
    tell_department,
    tell_subject,
    unit_name,
    word,
)
from creditgov.workflows.rules import rules


def apply_repair(session: Session, *, subject_id: int, record_id: int, applicant: str | None = None,
                 channel: str = "self", materials_files: Sequence[Path] = (), files_dir: Path | None = None,
                 actor: str | None = None) -> RepairApplication:
    """Receive an application. Eligibility is checked at once: an application that
    fails is stored as `refused` with every unmet condition and the date the minimum
    period allows repair; one that passes waits for the intake (10 working days)."""
    actor = actor or audit.default_actor()
    if channel not in ("self", "window"):
        raise InvalidInput("channel is 'self' (the subject) or 'window' (staff on its behalf)")
    rec = get_record(session, record_id, lock=True)  # serialises applications for one record
    if rec.subject_id != subject_id:
        raise InvalidInput(f"record {record_id} is not in this subject's file", code="workflows.record.other_file",
                           params={"record": record_id})
    pending = session.execute(select(RepairApplication.id).where(
        RepairApplication.record_id.in_(record_versions(session, rec)),
        RepairApplication.status.in_(REPAIR_OPEN)).limit(1)).scalar()
    if pending is not None:
        raise InvalidInput(f"record {record_id} already has an open repair application ({pending})",
                           code="workflows.repair.pending", params={"record": record_id, "application": pending})
    el = eligibility(session, record_id=record_id)
    r = rules(session)
    today = clock.today()
    now = clock.now()
    a = RepairApplication(subject_id=subject_id, record_id=rec.id, tier=el.tier, channel=channel, applicant=applicant,
                          actor=actor, applied_on=today, eligibility=el.as_dict(), eligible_from=el.eligible_from,
                          publication_ends=el.publication_ends, department_code=rec.department_code,
                          created_at=now, updated_at=now, status="submitted")
    if el.eligible:
        a.intake_due_on = calendar.load(session).add_working_days(today, r.repair.intake_working_days)
    else:
        a.status = "refused"
        a.refusal_reason = "; ".join(el.failures)
        a.decided_on, a.decided_by = today, "automatic eligibility check"
    session.add(a)
    session.flush()
    store_materials(session, owner_kind="repair", owner_id=a.id, files=materials_files, files_dir=files_dir,
                    actor=actor)
    audit.append(session, action="repair.apply", actor=actor, subject_id=subject_id,
                 detail={"application": a.id, "record": rec.id, "tier": el.tier, "status": a.status,
                         "refusal": a.refusal_reason, "intake_due_on": iso(a.intake_due_on),
                         "materials": [Path(f).name for f in materials_files]})
    intake = r.repair.intake_unit
    if a.status == "refused":
        tell_subject(session, subject_id, "repair.refused", Wording(
            f"信用修复申请 {a.id} 不符合条件：{'；'.join(el.failures_zh)}。",
            f"Repair application {a.id} does not meet the conditions: {'; '.join(el.failures_en)}."), "repair", a.id)
    else:
        tell_subject(session, subject_id, "repair.received", Wording(
            f"信用修复申请 {a.id} 已受理, {unit_name(session, intake)}在 {a.intake_due_on} 前转送或答复。",
            f"Repair application {a.id} received; {unit_name(session, intake, 'en')} forwards or answers it by "
            f"{a.intake_due_on}."), "repair", a.id)
        tell_department(session, intake, subject_id, "repair.intake", Wording(
            f"信用修复申请 {a.id} (记录 {rec.id}, {word('severity', el.tier)}) 待转送"
            f"{unit_name(session, rec.department_code)}, 期限 {a.intake_due_on}。",
            f"Repair application {a.id} (record {rec.id}, {word('severity', el.tier, 'en')}) to forward to "
            f"{unit_name(session, rec.department_code, 'en')}, by {a.intake_due_on}."), "repair", a.id)
    return a


def forward_repair(session: Session, *, application_id: int, unit: str, actor: str | None = None) -> RepairApplication:
    """The intake forwards the application to the identifying department (谁认定、谁修复),
    whose decision is due in the configured working days from receipt."""
    actor = actor or audit.default_actor()
    r = rules(session)
    if unit != r.repair.intake_unit:
        raise InvalidInput(f"applications are forwarded by the intake ({r.repair.intake_unit!r}), not {unit!r}",
                           code="workflows.repair.intake_only", params={"department": r.repair.intake_unit})
    a = get_application(session, application_id)
    today = clock.today()
    due = calendar.load(session).add_working_days(today, r.repair.decision_working_days)
    claim(session, RepairApplication, a.id, ("submitted",),
          {"status": "forwarded", "forwarded_on": today, "forwarded_by": actor, "decision_due_on": due,
            "overdue_alerted_on": None}, "repair application")
    a = get_application(session, application_id)
    audit.append(session, action="repair.forward", actor=actor, subject_id=a.subject_id,
                 detail={"application": a.id, "department": a.department_code, "decision_due_on": due.isoformat()})
    tell_department(session, a.department_code, a.subject_id, "repair.decide", Wording(
        f"信用修复申请 {a.id} (记录 {a.record_id}) 已转送, 请在 {due.isoformat()} 前作出决定。",
        f"Repair application {a.id} (record {a.record_id}) is forwarded to you: decide by {due.isoformat()}."),
        "repair", a.id)
    tell_subject(session, a.subject_id, "repair.forwarded", Wording(
        f"信用修复申请 {a.id} 已转送认定单位{unit_name(session, a.department_code)}, {due.isoformat()} 前作出决定。",
        f"Repair application {a.id} is forwarded to the identifying unit, {unit_name(session, a.department_code, 'en')}, "
        f"which decides by {due.isoformat()}."), "repair", a.id)
    return a


def reject_repair(session: Session, *, application_id: int, unit: str, reason: str,
                  actor: str | None = None) -> RepairApplication:
    """A rejection, always with its reason: by the intake while the application waits
    for it (its answer, 答复), or by the identifying department after forwarding."""
    actor = actor or audit.default_actor()
    if not reason.strip():
        raise InvalidInput("a rejection always states its reason", code="workflows.reason.missing")
    a = get_application(session, application_id)
    r = rules(session)
    stage = {"submitted": r.repair.intake_unit, "forwarded": a.department_code}.get(a.status)
    if stage is not None and unit != stage:
        raise InvalidInput(f"application {application_id} is {a.status}; {stage!r} answers it now, not {unit!r}",
                           code="workflows.repair.other_unit",
                           params={"id": application_id, "status": a.status, "department": stage})
    claim(session, RepairApplication, a.id, REPAIR_OPEN,
          {"status": "rejected", "decided_on": clock.today(), "decided_by": actor,
            "decision_reason": reason.strip()}, "repair application")
    a = get_application(session, application_id)
    audit.append(session, action="repair.reject", actor=actor, subject_id=a.subject_id,
                 detail={"application": a.id, "unit": unit, "reason": reason.strip()})
    tell_subject(session, a.subject_id, "repair.rejected", Wording(
        f"信用修复申请 {a.id} 不予修复。理由: {reason.strip()}",
        f"Repair application {a.id} is rejected. Reason: {reason.strip()}"), "repair", a.id)
    return a


def claim_approval(session: Session, *, application_id: int, department: str, reason: str | None,
                   actor: str) -> RepairApplication:
    """The identifying department approves: the application's own state only. The
    record, lists, evaluation and exchange follow in `flows.approve_repair`."""
    a = get_application(session, application_id)
    if department != a.department_code:
        raise InvalidInput(f"application {application_id} is decided by {a.department_code!r} "
                           f"(谁认定、谁修复), not {department!r}", code="workflows.repair.other_department",
                           params={"id": application_id, "department": a.department_code})
    if a.status == "submitted":
        raise InvalidInput(f"application {application_id} has not been forwarded by the intake yet",
                           code="workflows.repair.not_forwarded", params={"id": application_id})
    claim(session, RepairApplication, a.id, ("forwarded",),
          {"status": "approved", "decided_on": clock.today(), "decided_by": actor,
            "decision_reason": (reason or "").strip() or "conditions met"}, "repair application")
    return get_application(session, application_id)


def repairs(session: Session, *, subject_id: int | None = None, status: str | Sequence[str] | None = None,
            department: str | None = None, limit: int = 200) -> list[RepairApplication]:
    """Repair applications, newest first; `status` is one status or several (e.g. REPAIR_OPEN)."""
    return cases(session, RepairApplication, subject_id=subject_id, status=status, department=department,
                 limit=limit)


def repair_deadline(a: RepairApplication) -> dt.date | None:
    if a.status == "submitted":
        return a.intake_due_on
    if a.status == "forwarded":
        return a.decision_due_on
    return None


def repair_dict(session: Session, a: RepairApplication, today: dt.date | None = None) -> dict[str, Any]:
    today = today or clock.today()
    deadline = repair_deadline(a)
    return {
        "id": a.id, "subject_id": a.subject_id, "record_id": a.record_id, "tier": a.tier, "channel": a.channel,
        "applicant": a.applicant, "applied_on": iso(a.applied_on), "status": a.status,
        "eligible_from": iso(a.eligible_from), "publication_ends": iso(a.publication_ends),
        "eligibility": a.eligibility, "refusal_reason": a.refusal_reason, "intake_due_on": iso(a.intake_due_on),
        "forwarded_on": iso(a.forwarded_on), "department": a.department_code,
        "decision_due_on": iso(a.decision_due_on), "decided_on": iso(a.decided_on), "decided_by": a.decided_by,
        "decision_reason": a.decision_reason, "deadline": iso(deadline),
        "overdue": deadline is not None and today > deadline, "materials": materials(session, "repair", a.id),
    }
