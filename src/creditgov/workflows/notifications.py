"""Telling the subject and the departments of the procedures' steps: into the product's
one inbox (`alerts.inbox`) and, through the alerts outbox, by the rules' other
channels.

Every step is said in both languages when it is written (`Wording`): the producer
builds the Chinese and the English from the same values — a department or an item by
its name in each language (`unit_name`, `item_name`), an outcome, a status or a tier by
its label in each (`word`) — and the inbox message keeps the English beside the Chinese
(`body_en`), as the outbox notification does (`payload["en"]`). The English pages show
that, so a wording changed here changes both at once; nothing reads the English back out
of the Chinese. The Chinese is the record of what was sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from creditgov.alerts import inbox as alerts_inbox
from creditgov.alerts import service as alerts_service
from creditgov.alerts.models import InboxMessage
from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import labels
from creditgov.workflows.rules import rules


@dataclass(frozen=True)
class Wording:
    """A message in Chinese (as sent) and in English, written together from the same values."""

    zh: str
    en: str


def _titles(body: Wording) -> tuple[str, str]:
    """A notification's title in each language: the message's first sentence."""
    return body.zh.split("。")[0][:300], body.en.split(". ")[0].rstrip(".")[:300]


def tell(session: Session, *, recipient_kind: str, recipient: str, subject_id: int | None, topic: str,
         body: Wording, ref_kind: str | None = None, ref_id: int | None = None) -> InboxMessage:
    """Tell a subject or a department of a step: in its inbox at once (`alerts.inbox`),
    and through the rules' other channels (SMS, e-mail) via the alerts outbox, in this
    transaction — queued once per step and recipient, sent by the worker after commit.
    The English goes with the Chinese to both."""
    msg = alerts_inbox.deliver(session, recipient_kind=recipient_kind, recipient=recipient, subject_id=subject_id,
                               topic=topic, body=body.zh, body_en=body.en, ref_kind=ref_kind, ref_id=ref_id)
    r = rules(session).notifications
    channels = [c for c in (r.subject_channels if recipient_kind == "subject" else r.department_channels)
                if c != "inbox"]
    if channels:
        who: dict[str, Any] = ({"who": "subject", "channels": channels} if recipient_kind == "subject" else
                               {"who": "department", "code": recipient, "channels": channels})
        title, title_en = _titles(body)
        alerts_service.notify(session, recipients=[who], title=title, body=body.zh,
                              subject_id=subject_id, department=recipient if recipient_kind == "department" else None,
                              key=f"{ref_kind}:{ref_id}:{topic}:{recipient_kind}:{recipient}",
                              payload={"topic": topic, "ref": f"{ref_kind}:{ref_id}",
                                       "en": {"title": title_en, "body": body.en}})
    return msg


def unit_name(session: Session, code: str | None, lang: str = "zh") -> str:
    """A department (or the credit office) as a message names it: its name in `lang`."""
    d = session.get(Department, code) if code else None
    if d is None:
        return str(code or "")
    return (d.name_en or d.name_zh) if lang == "en" else d.name_zh


def item_name(session: Session, code: str, lang: str = "zh") -> str:
    """A catalogue item as a message names it: its name in `lang`."""
    i = session.get(CatalogItem, code)
    if i is None:
        return code
    return (i.name_en or i.name_zh) if lang == "en" else i.name_zh


def word(kind: str, code: str | None, lang: str = "zh") -> str:
    """A status, outcome or tier as a message names it: its label in `lang`, in English
    in lower case (it stands inside a sentence)."""
    said = labels.label(kind, code, lang)
    return said.lower() if lang == "en" else said


def tell_subject(session: Session, subject_id: int, topic: str, body: Wording, ref_kind: str, ref_id: int) -> None:
    tell(session, recipient_kind="subject", recipient=str(subject_id), subject_id=subject_id, topic=topic,
         body=body, ref_kind=ref_kind, ref_id=ref_id)


def tell_department(session: Session, department: str, subject_id: int, topic: str, body: Wording,
                    ref_kind: str, ref_id: int) -> None:
    tell(session, recipient_kind="department", recipient=department, subject_id=subject_id, topic=topic,
         body=body, ref_kind=ref_kind, ref_id=ref_id)
