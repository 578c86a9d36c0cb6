"""What an objection's decision does to the contested record: back in force (upheld),
revoked (deleted) or superseded by a corrected version (corrected) — each through
`records.service.change_status`, and queued for every place the record went."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.ingest.values import short_hash
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.workflows.exchange import queue_exchange
from creditgov.workflows.models import Objection

CORRECTABLE = ("occurred_on", "decided_on", "value", "grade", "text", "document_no")
MAX_VALUE = Decimal("1e16")  # a record's amount: 18 digits, 2 of them decimals (ingest/values.to_decimal)


def parse_corrections(corrections: dict[str, str] | None) -> dict[str, Any]:
    """Check a correction before anything moves: which fields, and typed values."""
    if not corrections:
        raise InvalidInput("a correction names what changes, e.g. text=… or value=…", code="workflows.correction.empty")
    unknown = set(corrections) - set(CORRECTABLE)
    if unknown:
        raise InvalidInput(f"cannot correct {sorted(unknown)}; correctable: {list(CORRECTABLE)}",
                           code="workflows.correction.unknown", params={"fields": ", ".join(sorted(unknown))})
    out: dict[str, Any] = {}
    for k, v in corrections.items():
        if k in ("occurred_on", "decided_on"):
            try:
                out[k] = dt.date.fromisoformat(v) if v else None
            except ValueError:
                raise InvalidInput(f"{k}: {v!r} is not a date (YYYY-MM-DD)", code="workflows.correction.not_date",
                                   params={"field": k, "value": v}) from None
        elif k == "value":
            try:
                out[k] = Decimal(v) if v else None
            except InvalidOperation:
                raise InvalidInput(f"value: {v!r} is not a number", code="workflows.correction.not_number",
                                   params={"value": v}) from None
            if out[k] is not None and (not out[k].is_finite() or abs(out[k]) >= MAX_VALUE):  # as ingestion's
                raise InvalidInput(f"value: {v!r} is out of range", code="workflows.correction.value_range",
                                   params={"value": v})
        else:
            out[k] = v or None
    if "occurred_on" in out and out["occurred_on"] is None:
        raise InvalidInput("occurred_on cannot be empty", code="workflows.correction.no_occurred_on")
    return out


def corrected_version(session: Session, rec: CreditRecord, corrections: dict[str, str], *, cause: str,
                      actor: str) -> CreditRecord:
    """A new version of the record carrying the corrections, current from now on; the
    old one stays, no longer current (the same shape as an ingestion correction)."""
    vals: dict[str, Any] = {k: getattr(rec, k) for k in CORRECTABLE}
    vals.update(parse_corrections(corrections))
    last = session.execute(select(CreditRecord.version).where(CreditRecord.natural_key == rec.natural_key)
                           .order_by(CreditRecord.version.desc()).limit(1)).scalar_one()
    content = short_hash("|".join(str(x) if x is not None else "" for x in (
        rec.subject_id, rec.item_code, vals["occurred_on"], vals["decided_on"], vals["value"], vals["grade"],
        vals["text"], vals["document_no"])))
    raw = json.dumps({"cause": cause, "corrections": corrections, "supersedes": rec.id}, ensure_ascii=False,
                     sort_keys=True)
    new = CreditRecord(
        subject_id=rec.subject_id, item_code=rec.item_code, occurred_on=vals["occurred_on"],
        decided_on=vals["decided_on"], value=vals["value"], grade=vals["grade"], text=vals["text"],
        department_code=rec.department_code, document_no=vals["document_no"], status="active",
        published_from=rec.published_from, published_until=rec.published_until, natural_key=rec.natural_key,
        version=last + 1, is_current=True, supersedes_id=rec.id, content_hash=content, source=cause.split(":")[0],
        batch_id=None, spec_version=None, line_no=None, raw_hash=short_hash(raw), raw=raw, created_at=clock.now())
    rec.is_current = False
    session.flush()
    session.add(new)
    session.flush()
    audit.append(session, action="record.correct", actor=actor, subject_id=rec.subject_id,
                 detail={"record": rec.id, "new_version": new.id, "version": new.version, "cause": cause,
                         "corrections": corrections})
    return new


def apply_outcome(session: Session, *, o: Objection, rec: CreditRecord, outcome: str, reason: str,
                  corrections: dict[str, str] | None, actor: str, stage: str) -> CreditRecord:
    """Close the dispute mark on the record the way the decision says; returns the
    record that is current afterwards (the new version after a correction)."""
    why = f"objection {o.id} {stage}: {outcome} — {reason}"
    if outcome == "upheld":
        records_service.change_status(session, record_id=rec.id, to_status="active", reason=why, actor=actor)
        return rec
    if outcome == "deleted":
        records_service.change_status(session, record_id=rec.id, to_status="revoked", reason=why, actor=actor)
        queue_exchange(session, rec=rec, kind="record.revoked", cause=f"objection:{o.id}",
                       payload={"reason": reason})
        return rec
    # corrected: the mark is lifted from the old version (it was not wrong to hold it
    # back while contested), then it is superseded by the corrected one.
    records_service.change_status(session, record_id=rec.id, to_status="active", reason=why, actor=actor)
    new = corrected_version(session, rec, corrections or {}, cause=f"objection:{o.id}", actor=actor)
    queue_exchange(session, rec=new, kind="record.corrected", cause=f"objection:{o.id}",
                   payload={"supersedes": rec.id, "corrections": corrections})
    return new
