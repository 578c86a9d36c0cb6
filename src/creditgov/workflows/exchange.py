"""Where each record went, and which changes must follow it there (repaired, revoked,
corrected, publication ended): the procedures' rules. The queue itself is the exchange
domain's (`exchange.queue`, the only writer of `exchange_outbox` and `exchange_shares`),
which packages, signs and sends what is queued."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.exchange import queue
from creditgov.exchange.models import QueuedChange, RecordShare
from creditgov.records.models import CreditRecord
from creditgov.workflows import calendar
from creditgov.workflows.common import get_item, get_record, record_versions
from creditgov.workflows.rules import rules


def record_share(session: Session, *, record_id: int, recipient: str, ref: str | None = None) -> RecordShare:
    """Log that a record went to a recipient (the exchange calls this as it pushes)."""
    get_record(session, record_id)
    return queue.record_share(session, record_id=record_id, recipient=recipient, ref=ref)


def recipients_of(session: Session, rec: CreditRecord) -> list[str]:
    """Every place the record went: logged shares of any of its versions, plus the
    places its data class always reaches (the upper platform for public data)."""
    item = get_item(session, rec.item_code)
    places = set(rules(session).exchange.recipients_by_data_class.get(item.data_class, []))  # type: ignore[call-overload]  # a str column; keys are its values
    ids = record_versions(session, rec)
    places |= set(session.execute(select(RecordShare.recipient).where(RecordShare.record_id.in_(ids))).scalars())
    return sorted(places)


# Changes that take a record off public display wherever it went.
WITHDRAWALS = frozenset({"record.revoked", "record.repaired", "record.publication-ended", "record.archived"})


def withdrawal_terms(session: Session, rec: CreditRecord) -> dict[str, Any]:
    """The deadline to withdraw the record where it is published, when a publication
    rule sets one (Order 45: 3 working days after a penalty is revoked), counted on the
    working-day calendar."""
    pub = get_item(session, rec.item_code).publication or {}
    days = pub.get("withdraw_within_working_days")
    if not days:
        return {}
    return {"withdraw_by": calendar.add_working_days(session, clock.today(), int(days)).isoformat(),
            "withdraw_rule": (pub.get("decided_by") or {}).get("deadlines")}


def queue_exchange(session: Session, *, rec: CreditRecord, kind: str, cause: str,
                   payload: dict[str, Any] | None = None) -> list[QueuedChange]:
    """One queued change per place the record went; queuing the same change twice adds
    nothing. A withdrawal carries the deadline its publication rule sets."""
    if kind in WITHDRAWALS:
        payload = {**withdrawal_terms(session, rec), **(payload or {})}
    return queue.enqueue(session, rec=rec, recipients=recipients_of(session, rec), kind=kind, cause=cause,
                         payload=payload)


def outbox(session: Session, *, status: str | None = "queued", limit: int = 200) -> list[QueuedChange]:
    q = select(QueuedChange).order_by(QueuedChange.id).limit(limit)
    if status:
        q = q.where(QueuedChange.status == status)
    return list(session.execute(q).scalars())


def package_dict(p: QueuedChange) -> dict[str, Any]:
    return {"id": p.id, "record_id": p.record_id, "subject_id": p.subject_id, "recipient": p.recipient,
            "kind": p.kind, "cause": p.cause, "status": p.status, "payload": p.payload,
            "created_at": p.created_at.isoformat(timespec="seconds")}
