"""The change queue (`exchange_outbox`) and the shares log (`exchange_shares`): the
only writers of both. The repair and objection procedures decide that a change is owed
and to which places (their rules, `workflows.exchange`) and hand it here; the
collector (`collect.py`) packages what is queued."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.exchange.models import QueuedChange, RecordShare
from creditgov.records.models import CreditRecord


def record_share(session: Session, *, record_id: int, recipient: str, ref: str | None = None) -> RecordShare:
    """Log that a record went to a recipient (once per place; the first push's ref stays)."""
    row = session.execute(select(RecordShare).where(RecordShare.record_id == record_id,
                                                    RecordShare.recipient == recipient)).scalar_one_or_none()
    if row is None:
        row = RecordShare(record_id=record_id, recipient=recipient, shared_at=clock.now(), ref=ref)
        session.add(row)
        session.flush()
    return row


def record_shares(session: Session, *, record_ids: list[int], recipient: str, ref: str | None = None) -> int:
    """`record_share` for many records at once (a package's): one read, one insert."""
    ids = sorted(set(record_ids))
    if not ids:
        return 0
    known: set[int] = set()
    for i in range(0, len(ids), 900):
        known |= set(session.execute(select(RecordShare.record_id).where(
            RecordShare.recipient == recipient, RecordShare.record_id.in_(ids[i:i + 900]))).scalars())
    now = clock.now()
    new = [RecordShare(record_id=r, recipient=recipient, shared_at=now, ref=ref) for r in ids if r not in known]
    session.add_all(new)
    session.flush()
    return len(new)


def enqueue(session: Session, *, rec: CreditRecord, recipients: list[str], kind: str, cause: str,
            payload: dict[str, Any] | None = None) -> list[QueuedChange]:
    """One queued change per recipient; queuing the same change twice adds nothing."""
    out = []
    for recipient in recipients:
        row = session.execute(select(QueuedChange).where(
            QueuedChange.record_id == rec.id, QueuedChange.recipient == recipient,
            QueuedChange.kind == kind, QueuedChange.cause == cause)).scalar_one_or_none()
        if row is None:
            body = {"record_id": rec.id, "natural_key": rec.natural_key, "version": rec.version,
                    "item": rec.item_code, "status": rec.status, "document_no": rec.document_no,
                    "on": clock.today().isoformat(), **(payload or {})}
            row = QueuedChange(record_id=rec.id, subject_id=rec.subject_id, natural_key=rec.natural_key,
                               recipient=recipient, kind=kind, cause=cause, payload=body, status="queued",
                               created_at=clock.now())
            session.add(row)
            session.flush()
        out.append(row)
    return out
