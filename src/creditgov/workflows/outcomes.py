"""What an objection's decision does to the contested record: back in force (upheld),
revoked (deleted) or superseded by a corrected version (corrected) — each through
`records.service.change_status`, and queued for every place the record went."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.ingest.values import NEVER_NEGATIVE, short_hash
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.workflows.exchange import queue_exchange
from creditgov.workflows.models import Objection

CORRECTABLE = ("occurred_on", "decided_on", "value", "grade", "text", "document_no")
MAX_VALUE = Decimal("1e16")  # a record's amount: 18 digits, 2 of them decimals (ingest/values.to_decimal)


#: A grade as a rating level's code is written (`catalog.schemas.RatingLevel`): the
#: shape a grade takes where the catalogue names no levels (a tax credit grade: A, M, D).
GRADE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9+\-]{0,9}$")
GRADED = frozenset({"grade", "score"})  # value kinds whose records carry a grade
VALUED = frozenset({"number", "amount", "score", "days"})  # value kinds whose records carry a value


def grade_levels(item: CatalogItem | None) -> list[dict[str, str]]:
    """The levels a rating item's grade is one of, best first (`catalog.schemas.RatingScheme`);
    none for an ordinary item."""
    return [dict(lv) for lv in ((item.rating or {}).get("levels") or [])] if item is not None else []


def parse_corrections(corrections: dict[str, str] | None, item: CatalogItem | None = None) -> dict[str, Any]:
    """Check a correction before anything moves: which fields, and typed values — and,
    given the record's catalogue item, that a grade is one the item carries (a level
    of its rating scheme; a grade code for an item graded without named levels) and a
    value one its value kind holds (a number, never below zero for amounts and days)."""
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
        elif k == "grade":
            out[k] = (v or "").strip().upper() or None  # as ingestion writes a grade
        else:
            out[k] = v or None
    if "occurred_on" in out and out["occurred_on"] is None:
        raise InvalidInput("occurred_on cannot be empty", code="workflows.correction.no_occurred_on")
    if item is not None:
        _fits_item(out, corrections, item)
    return out


def _fits_item(out: dict[str, Any], given: dict[str, str], item: CatalogItem) -> None:
    """A corrected grade or value the record's item can carry (see `parse_corrections`)."""
    if "grade" in out:
        levels = [lv["code"] for lv in grade_levels(item)]
        grade, typed = out["grade"], given["grade"]
        if levels and grade not in levels:
            raise InvalidInput(f"grade: {typed!r} is not a level of {item.code} ({'/'.join(levels)})",
                               code="workflows.correction.grade_level",
                               params={"item": item.code, "value": typed, "levels": "/".join(levels)})
        if not levels and grade is not None:
            if item.value_kind not in GRADED:
                raise InvalidInput(f"grade: {item.code} carries no grade", code="workflows.correction.no_grade",
                                   params={"item": item.code})
            if not GRADE_CODE.match(grade):
                raise InvalidInput(f"grade: {typed!r} is not a grade code (letters and digits, like A or B+)",
                                   code="workflows.correction.grade_malformed", params={"value": typed})
    value = out.get("value")
    if value is not None:
        if item.value_kind not in VALUED:
            raise InvalidInput(f"value: {item.code} carries no value", code="workflows.correction.no_value",
                               params={"item": item.code})
        if item.value_kind in NEVER_NEGATIVE and value < 0:
            raise InvalidInput(f"value: {given['value']!r} is below zero; {item.code} is never negative",
                               code="workflows.correction.negative", params={"item": item.code,
                                                                             "value": given["value"]})


def corrected_version(session: Session, rec: CreditRecord, corrections: dict[str, str], *, cause: str,
                      actor: str) -> CreditRecord:
    """A new version of the record carrying the corrections, current from now on; the
    old one stays, no longer current (the same shape as an ingestion correction)."""
    vals: dict[str, Any] = {k: getattr(rec, k) for k in CORRECTABLE}
    vals.update(parse_corrections(corrections, session.get(CatalogItem, rec.item_code)))
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
