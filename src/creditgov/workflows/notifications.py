"""Telling the subject and the departments of the procedures' steps: into the product's
one inbox (`alerts.inbox`) and, through the alerts outbox, by the rules' other
channels."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from creditgov.alerts import inbox as alerts_inbox
from creditgov.alerts import service as alerts_service
from creditgov.alerts.models import InboxMessage
from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import labels
from creditgov.workflows.rules import rules


def tell(session: Session, *, recipient_kind: str, recipient: str, subject_id: int | None, topic: str,
         body: str, ref_kind: str | None = None, ref_id: int | None = None) -> InboxMessage:
    """Tell a subject or a department of a step: in its inbox at once (`alerts.inbox`),
    and through the rules' other channels (SMS, e-mail) via the alerts outbox, in this
    transaction — queued once per step and recipient, sent by the worker after commit."""
    msg = alerts_inbox.deliver(session, recipient_kind=recipient_kind, recipient=recipient, subject_id=subject_id,
                               topic=topic, body=body, ref_kind=ref_kind, ref_id=ref_id)
    r = rules(session).notifications
    channels = [c for c in (r.subject_channels if recipient_kind == "subject" else r.department_channels)
                if c != "inbox"]
    if channels:
        who: dict[str, Any] = ({"who": "subject", "channels": channels} if recipient_kind == "subject" else
                               {"who": "department", "code": recipient, "channels": channels})
        alerts_service.notify(session, recipients=[who], title=body.split("。")[0][:300], body=body,
                              subject_id=subject_id, department=recipient if recipient_kind == "department" else None,
                              key=f"{ref_kind}:{ref_id}:{topic}:{recipient_kind}:{recipient}",
                              payload={"topic": topic, "ref": f"{ref_kind}:{ref_id}"})
    return msg


def unit_name(session: Session, code: str | None) -> str:
    """A department (or the credit office) as a message names it: its Chinese name."""
    d = session.get(Department, code) if code else None
    return d.name_zh if d is not None else str(code or "")


def item_name(session: Session, code: str) -> str:
    i = session.get(CatalogItem, code)
    return i.name_zh if i is not None else code


def word(kind: str, code: str | None) -> str:
    """A status, outcome or tier as a message names it (the messages are in Chinese)."""
    return labels.label(kind, code, "zh")


def tell_subject(session: Session, subject_id: int, topic: str, body: str, ref_kind: str, ref_id: int) -> None:
    tell(session, recipient_kind="subject", recipient=str(subject_id), subject_id=subject_id, topic=topic,
           body=body, ref_kind=ref_kind, ref_id=ref_id)


def tell_department(session: Session, department: str, subject_id: int, topic: str, body: str,
                    ref_kind: str, ref_id: int) -> None:
    tell(session, recipient_kind="department", recipient=department, subject_id=subject_id, topic=topic,
           body=body, ref_kind=ref_kind, ref_id=ref_id)
