"""The in-app inbox (站内信): one inbox for the whole product.

The alerts domain keeps the inbox table (`inbox_messages`, a principal's messages by
`recipient_kind` and `recipient`; `alerts/inbox.py`), into which the objection and
repair steps are written too; this channel delivers alert notifications into it, so a subject or a department reads one
inbox. A principal "department:market" becomes kind `department`, recipient `market`.

Idempotent: the row points back at its notification (`ref_kind` "notification"), and
a delivery first looks for that row. Two deliveries of one notification cannot run
at once (the outbox lease), so a look-up is enough: a retry after a crash finds the
row the first attempt committed.

A notification sent with its English (`payload["en"]`: an alert raised with it, a
procedure step, a document served) leaves it beside the Chinese (`body_en`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from creditgov.alerts.channels import Channel, Message, PermanentFailure
from creditgov.alerts.models import InboxMessage
from creditgov.core import clock, db

REF_KIND = "notification"


def split_principal(principal: str) -> tuple[str, str]:
    kind, _, key = principal.partition(":")
    return kind[:12], (key or kind)[:60]


def english(payload: dict[str, Any] | None) -> str | None:
    """The notification's English (`payload["en"]`: its title and body, as the producer
    wrote them beside the Chinese) as the inbox keeps it, or None."""
    en = (payload or {}).get("en")
    if not isinstance(en, dict) or not en.get("title"):
        return None
    return f"{en['title']}\n{en.get('body') or ''}".rstrip("\n")


class InboxChannel(Channel):
    address_field = None

    def send(self, message: Message) -> str | None:
        if message.notification_id is None:
            raise PermanentFailure("an inbox delivery needs its notification id")
        kind, key = split_principal(message.recipient)
        with db.session_scope(self.db_url) as s:
            existing = s.execute(select(InboxMessage.id).where(
                InboxMessage.ref_kind == REF_KIND, InboxMessage.ref_id == message.notification_id)).scalar()
            if existing is not None:
                return f"inbox:{existing}"
            topic = str(message.payload.get("topic") or f"alert.{message.payload.get('rule', 'notice')}")[:40]
            row = InboxMessage(recipient_kind=kind, recipient=key, subject_id=message.subject_id, topic=topic,
                               body=f"{message.title}\n{message.body}", body_en=english(message.payload),
                               ref_kind=REF_KIND,
                               ref_id=message.notification_id, created_at=clock.now())
            s.add(row)
            s.flush()
            return f"inbox:{row.id}"
