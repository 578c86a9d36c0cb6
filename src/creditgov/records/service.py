"""Credit records: the one place a record's status changes, and summaries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records.models import STATUSES, CreditRecord, RecordStatusChange
from creditgov.security import service as audit

# Which status changes are legal; the procedures of later domains (objection, repair,
# expiry) call `change_status` and nothing else writes `CreditRecord.status`.
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"disputed", "repaired", "revoked", "expired", "archived"}),
    "disputed": frozenset({"active", "revoked"}),
    "repaired": frozenset({"archived"}),
    "revoked": frozenset(),
    "expired": frozenset({"repaired", "archived"}),
    "archived": frozenset(),
}


def change_status(session: Session, *, record_id: int, to_status: str, reason: str,
                  actor: str | None = None) -> CreditRecord:
    if to_status not in STATUSES:
        raise InvalidInput(f"unknown record status {to_status!r}")
    rec = session.get(CreditRecord, record_id, with_for_update=True)
    if rec is None:
        raise NotFound(f"credit record {record_id} not found")
    if to_status not in TRANSITIONS[rec.status]:
        raise InvalidInput(f"record {record_id} is {rec.status}; it cannot become {to_status}",
                           code="records.record.cannot_become",
                           params={"id": record_id, "status": rec.status, "to": to_status})
    if not reason.strip():
        raise InvalidInput("a status change needs a reason")
    actor = actor or audit.default_actor()
    session.add(RecordStatusChange(record_id=rec.id, from_status=rec.status, to_status=to_status,
                                   at=clock.now(), actor=actor, reason=reason))
    old = rec.status
    rec.status = to_status
    session.flush()
    audit.append(session, action="record.status", actor=actor, subject_id=rec.subject_id,
                 detail={"record": rec.id, "from": old, "to": to_status, "reason": reason})
    return rec


def add_copy(session: Session, *, subject_id: int, natural_key: str, version: int, item_code: str,
             department_code: str, occurred_on: dt.date, source: str, fields: dict[str, Any],
             actor: str | None = None) -> tuple[CreditRecord, bool]:
    """A record another platform holds, received by the exchange: kept under the
    sender's natural key and version (so the same record arriving twice is one row, and
    a later repair sent by either side finds it), marked by its `source`. A higher
    version supersedes the current one, as a correction does. Answers (record, added)."""
    versions = list(session.execute(select(CreditRecord).where(CreditRecord.natural_key == natural_key)).scalars())
    found = next((r for r in versions if r.version == version), None)
    if found is not None:
        return found, False
    current = next((r for r in versions if r.is_current), None)
    if current is not None and current.version > version:
        return current, False
    known = set(fields) - {"decided_on", "value", "grade", "text", "document_no", "status",
                           "published_from", "published_until"}
    if known:
        raise InvalidInput(f"unknown record fields {sorted(known)}")
    if fields.get("status", "active") not in STATUSES:
        raise InvalidInput(f"unknown record status {fields.get('status')!r}")
    digest = hashlib.md5(json.dumps([item_code, subject_id, occurred_on.isoformat(), fields], sort_keys=True,  # noqa: S324 - a content hash, not security
                                    default=str).encode("utf-8")).hexdigest()
    rec = CreditRecord(subject_id=subject_id, item_code=item_code, occurred_on=occurred_on,
                       department_code=department_code, natural_key=natural_key, version=version,
                       is_current=True, supersedes_id=current.id if current else None, content_hash=digest,
                       source=source, created_at=clock.now(), **fields)
    if current is not None:
        current.is_current = False
    session.add(rec)
    session.flush()
    audit.append(session, action="record.copy", actor=actor or audit.default_actor(), subject_id=subject_id,
                 detail={"record": rec.id, "natural_key": natural_key, "version": version, "source": source})
    return rec, True


def summary(session: Session) -> dict[str, Any]:
    total = session.execute(select(func.count(CreditRecord.id)).where(CreditRecord.is_current.is_(True))).scalar_one()
    by_polarity = dict(session.execute(
        select(CatalogItem.polarity, func.count(CreditRecord.id))
        .join(CatalogItem, CreditRecord.item_code == CatalogItem.code)
        .where(CreditRecord.is_current.is_(True)).group_by(CatalogItem.polarity)).tuples().all())
    by_department = dict(session.execute(
        select(CreditRecord.department_code, func.count(CreditRecord.id))
        .where(CreditRecord.is_current.is_(True)).group_by(CreditRecord.department_code)).tuples().all())
    return {"records": total, "by_polarity": by_polarity, "by_department": by_department}
