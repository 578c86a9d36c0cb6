"""Deadlines passed: every objection or repair application past its working-day
deadline raises one alert per stage (alerts domain) to the responsible department
and the credit office. The worker runs `flag_overdue` daily."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts import service as alerts_service
from creditgov.core import clock
from creditgov.security import service as audit
from creditgov.workflows.models import OBJECTION_OPEN, REPAIR_OPEN, Objection, RepairApplication
from creditgov.workflows.notifications import unit_name, word
from creditgov.workflows.objection import objection_deadline
from creditgov.workflows.repair import repair_deadline
from creditgov.workflows.rules import rules


def raise_overdue_alert(session: Session, *, kind: str, case_id: int, stage: str, subject_id: int,
                        department: str, deadline: dt.date, actor: str) -> int:
    """An overdue case raises an alert (alerts domain) to the responsible department and
    the credit office, delivered to their inboxes (and any other configured channel)
    by the outbox worker, its English beside the Chinese. One alert per case and stage: the evidence key makes a second
    call return the first alert. Returns the alert id."""
    r = rules(session)
    office = r.credit_office
    alerts_service.ensure_inbox_channel(session)
    what, what_en = ("异议", "Objection") if kind == "objection" else ("信用修复申请", "Repair application")
    due = deadline.isoformat()
    title = f"{what} {case_id} 超期未办结 (期限 {due})"
    body = (f"{what} {case_id}（{word(f'{kind}_status', stage)}）已超过办理期限 {due}，"
            f"责任单位：{unit_name(session, department)}。")
    english = {"title": f"{what_en} {case_id} is overdue (due {due})",
               "body": f"{what_en} {case_id} ({word(f'{kind}_status', stage, 'en')}) is past its deadline, {due}; "
                       f"responsible: {unit_name(session, department, 'en')}."}
    recipients = [{"who": "principal_id", "code": f"department:{who}"} for who in dict.fromkeys((department, office))]
    raised = alerts_service.raise_alert(
        session, rule_code=f"workflow.{kind}-overdue", title=title, body=body, subject_id=subject_id,
        severity=r.notifications.overdue_severity, recipients=recipients, dedup_key=f"{kind}:{case_id}:{stage}",
        evidence_key=f"{kind}:{case_id}:{stage}:overdue",
        evidence={kind: case_id, "stage": stage, "deadline": deadline.isoformat(), "department": department},
        source="workflow", department=department, payload={"topic": f"{kind}.overdue"}, actor=actor,
        english=english)
    audit.append(session, action=f"{kind}.overdue", actor=actor, subject_id=subject_id,
                 detail={kind: case_id, "stage": stage, "department": department, "deadline": deadline.isoformat(),
                         "alert": raised.alert.id})
    return raised.alert.id


def flag_overdue(session: Session, *, actor: str | None = None) -> dict[str, list[int]]:
    """Alert once per stage for every case past its working-day deadline (the worker
    runs this daily). `overdue_alerted_on` is reset when a case moves to its next
    stage, so a late review or a late department decision alerts again."""
    actor = actor or audit.default_actor()
    today = clock.today()
    out: dict[str, list[int]] = {"objection": [], "repair": []}
    for o in session.execute(select(Objection).where(Objection.status.in_(OBJECTION_OPEN),
                                                     Objection.overdue_alerted_on.is_(None))
                             .order_by(Objection.id)).scalars():
        deadline = objection_deadline(o)
        if deadline is None or today <= deadline:
            continue
        who = o.department_code if o.status == "open" else (o.review_authority or o.department_code)
        raise_overdue_alert(session, kind="objection", case_id=o.id, stage=o.status, subject_id=o.subject_id,
                            department=who, deadline=deadline, actor=actor)
        o.overdue_alerted_on = today
        out["objection"].append(o.id)
    r = rules(session)
    for a in session.execute(select(RepairApplication).where(RepairApplication.status.in_(REPAIR_OPEN),
                                                             RepairApplication.overdue_alerted_on.is_(None))
                             .order_by(RepairApplication.id)).scalars():
        deadline = repair_deadline(a)
        if deadline is None or today <= deadline:
            continue
        who = r.repair.intake_unit if a.status == "submitted" else a.department_code
        raise_overdue_alert(session, kind="repair", case_id=a.id, stage=a.status, subject_id=a.subject_id,
                            department=who, deadline=deadline, actor=actor)
        a.overdue_alerted_on = today
        out["repair"].append(a.id)
    session.flush()
    return out
