"""The in-app inbox (站内信), one for the whole product, owned here: delivering a message
(`deliver`: the workflows' procedure steps; the inbox channel delivers alert
notifications), a principal's messages, several principals' at once (a user and its
desk), and marking a message read.

A message is kept as it was sent, in Chinese (`body`), with its English beside it
(`body_en`) when its producer wrote one — every producer does since revision 0034; the
English pages show that (`words.say_message`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from creditgov.alerts.models import InboxMessage
from creditgov.core import clock
from creditgov.core.errors import NotFound
from creditgov.security import service as audit


def deliver(session: Session, *, recipient_kind: str, recipient: str, subject_id: int | None, topic: str,
            body: str, body_en: str | None = None, ref_kind: str | None = None,
            ref_id: int | None = None) -> InboxMessage:
    """Put a message in a principal's inbox, in the caller's transaction: `body` in
    Chinese, `body_en` the same message in English (None: no English was written)."""
    msg = InboxMessage(recipient_kind=recipient_kind, recipient=recipient, subject_id=subject_id, topic=topic,
                       body=body, body_en=body_en, ref_kind=ref_kind, ref_id=ref_id, created_at=clock.now())
    session.add(msg)
    session.flush()
    return msg


def messages(session: Session, *, recipient_kind: str, recipient: str, limit: int = 100) -> list[InboxMessage]:
    """A recipient's messages, newest first (`recipient_kind` "subject" with the subject's
    id, "department" with its code, …)."""
    return inbox(session, f"{recipient_kind}:{recipient}", limit=limit)


def message_dict(m: InboxMessage) -> dict[str, Any]:
    """A message as the API and the commands give it: `body` as sent (Chinese), `body_en`
    the English kept with it (None for a message written without one)."""
    return {"id": m.id, "to": f"{m.recipient_kind}:{m.recipient}", "subject_id": m.subject_id, "topic": m.topic,
            "body": m.body, "body_en": m.body_en, "ref": f"{m.ref_kind}:{m.ref_id}" if m.ref_kind else None,
            "at": m.created_at.isoformat(timespec="seconds"), "read": m.read_at is not None}


def inbox(session: Session, principal: str, *, unread_only: bool = False, limit: int = 100) -> list[Any]:
    """A principal's inbox ("grid:330127-S01-G01", "department:market", "subject:12"):
    the product's one inbox table, shared with the workflows domain."""
    from creditgov.alerts.channels.inbox import split_principal

    kind, key = split_principal(principal)
    q = (select(InboxMessage).where(InboxMessage.recipient_kind == kind, InboxMessage.recipient == key)
         .order_by(InboxMessage.id.desc()).limit(limit))
    if unread_only:
        q = q.where(InboxMessage.read_at.is_(None))
    return list(session.execute(q).scalars())


def inbox_of(session: Session, principals: Sequence[str], *, unread_only: bool = False,
             limit: int = 100) -> list[Any]:
    """The messages of several principals at once (a user reads its own inbox and its
    desk's: "user:office", "department:credit"), newest first."""
    from creditgov.alerts.channels.inbox import split_principal

    pairs = [split_principal(p) for p in principals]
    if not pairs:
        return []
    q = (select(InboxMessage).where(or_(*[(InboxMessage.recipient_kind == k) & (InboxMessage.recipient == r)
                                          for k, r in pairs]))
         .order_by(InboxMessage.id.desc()).limit(limit))
    if unread_only:
        q = q.where(InboxMessage.read_at.is_(None))
    return list(session.execute(q).scalars())


def mark_read(session: Session, *, message_id: int, principal: str | Sequence[str],
              actor: str | None = None) -> Any:
    """Mark a message read; it must be in (one of) the principal's inbox(es). The first
    reading is audited; marking it again changes nothing."""
    from creditgov.alerts.channels.inbox import split_principal

    principals = [principal] if isinstance(principal, str) else list(principal)
    m = session.get(InboxMessage, message_id)
    if m is None or (m.recipient_kind, m.recipient) not in {split_principal(p) for p in principals}:
        raise NotFound(f"message {message_id} is not in {' / '.join(principals)}'s inbox", code="alerts.inbox.not_found",
                       params={"id": message_id})
    if m.read_at is None:
        m.read_at = clock.now()
        session.flush()
        audit.append(session, action="inbox.read", actor=actor or audit.default_actor(), subject_id=m.subject_id,
                     detail={"message": m.id, "to": f"{m.recipient_kind}:{m.recipient}"})
    return m
