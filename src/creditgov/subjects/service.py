"""Subjects, regions and the credit file (一户一档 / 一人一档一分)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import amounts, clock, labels
from creditgov.core.clock import iso
from creditgov.core.config import load_yaml_model
from creditgov.core.errors import ConfigError, NotFound
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_id, mask_name
from creditgov.security.models import AuditEntry
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Region, Subject, SubjectLink
from creditgov.subjects.schemas import RegionFile

# ----------------------------------------------------------------------------- regions


def load_regions(session: Session, *, path: Path, actor: str | None = None) -> dict[str, int]:
    """Upsert the region tree; parents must come before children, levels from the file."""
    doc = load_yaml_model(RegionFile, path)
    depth_of = {lvl: i for i, lvl in enumerate(doc.levels)}
    existing = {r.code: r for r in session.execute(select(Region)).scalars()}
    added = 0
    for n, r in enumerate(doc.regions):
        if r.level not in depth_of:
            raise ConfigError(f"{path}: regions[{n}] ({r.code}): level {r.level!r} is not one of {doc.levels}")
        parent = None
        if r.parent:
            parent = existing.get(r.parent)
            if parent is None:
                raise ConfigError(f"{path}: regions[{n}] ({r.code}): parent {r.parent!r} is not defined above it")
            if depth_of[r.level] != parent.depth + 1:
                raise ConfigError(f"{path}: regions[{n}] ({r.code}): a {r.level} cannot sit under a {parent.level}")
        elif depth_of[r.level] != 0:
            raise ConfigError(f"{path}: regions[{n}] ({r.code}): only a {doc.levels[0]} may have no parent")
        path_str = (parent.path if parent else "/") + r.code + "/"
        row = existing.get(r.code)
        if row is None:
            row = Region(code=r.code)
            session.add(row)
            added += 1
        row.name, row.level, row.depth = r.name, r.level, depth_of[r.level]
        row.parent_id, row.path = (parent.id if parent else None), path_str
        session.flush()
        existing[r.code] = row
    audit.append(session, action="regions.load", actor=actor,
                 detail={"file": path.name, "regions": len(doc.regions), "added": added, "levels": doc.levels})
    return {"regions": len(doc.regions), "added": added, "levels": len(doc.levels)}


def region_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Region.code, Region.id)).tuples().all())



def regions(session: Session, *, level: str | None = None) -> list[tuple[Region, int]]:
    """Regions with the number of subjects in each one's subtree."""
    out = []
    q = select(Region).order_by(Region.path)
    if level:
        q = q.where(Region.level == level)
    for r in session.execute(q).scalars():
        n = session.execute(
            select(func.count(Subject.id)).join(Region, Subject.region_id == Region.id)
            .where(Region.path.startswith(r.path))).scalar_one()
        out.append((r, n))
    return out


# ----------------------------------------------------------------------------- subjects


def insert_subject(session: Session, keyring: KeyRing, *, kind: str, name: str, uscc: str | None,
                   resident_id: str | None, status: str, source: str | None, batch_id: int | None,
                   now: dt.datetime, region_id: int | None = None, industry: str | None = None,
                   established_on: dt.date | None = None, address: str | None = None,
                   attributes: dict[str, Any] | None = None, row_hash: str | None = None) -> int:
    """Insert one subject; the ID number is stored only encrypted, indexed and masked."""
    values = {
        "kind": kind, "name": name, "uscc": uscc, "region_id": region_id, "industry": industry,
        "established_on": established_on, "address": address, "attributes": attributes or {},
        "status": status, "source": source, "batch_id": batch_id, "row_hash": row_hash,
        "created_at": now, "updated_at": now,
        "resident_id": keyring.encrypt(resident_id) if resident_id else None,
        "resident_id_index": keyring.blind_index(resident_id) if resident_id else None,
        "resident_id_masked": mask_id(resident_id) if resident_id else None,
    }
    result = session.execute(insert(Subject).values(**values).returning(Subject.id))
    return int(result.scalar_one())


def resolve(session: Session, keyring: KeyRing, key: str) -> Subject:
    """A subject by internal id, credit code, ID number or exact name."""
    key = key.strip()
    row: Subject | None = None
    up = key.upper()
    if key.isdigit() and len(key) < 12:
        row = session.get(Subject, int(key))
    elif looks_like_uscc(up) or looks_like_resident_id(up):
        # About one 18-digit ID number in 31 also passes the credit code's check
        # character, so a key that could be either is looked up as both.
        if looks_like_uscc(up):
            row = session.execute(select(Subject).where(Subject.uscc == up)).scalar_one_or_none()
        if row is None and looks_like_resident_id(up):
            idx = keyring.lookup_indexes(up)  # both keys' while the key is rotated
            row = session.execute(select(Subject).where(Subject.resident_id_index.in_(idx))).scalar_one_or_none()
    else:
        matches = list(session.execute(select(Subject).where(Subject.name == key).limit(3)).scalars())
        if len(matches) > 1:  # residents' names masked, as in every view (the refusal reaches logs too)
            shown = mask_name(key) if any(is_personal(m) for m in matches) else key
            raise NotFound(f"{len(matches)}+ subjects are named {shown!r}: use a credit code, ID number or id",
                           code="subjects.same_name", params={"name": shown})
        row = matches[0] if matches else None
    if row is None:
        raise NotFound(f"no subject matches {shown_key(key)!r}", code="subjects.no_match")
    return row


def shown_key(key: str) -> str:
    """A look-up key as a refusal may repeat it (API body, command line, log): anything
    shaped like an ID number masked like everywhere else — a mistyped one too (the usual
    reason nobody matches: 17 of its digits are still a person's) — anything else as
    typed."""
    key = key.strip()
    digits = re.sub(r"[\s-]", "", key).upper()
    return mask_id(digits) if re.fullmatch(r"\d{17}[\dX]|\d{15}", digits) else key


def is_personal(subject: Subject) -> bool:
    return subject.resident_id_index is not None


def display_name(subject: Subject, *, masked: bool) -> str:
    return mask_name(subject.name) if masked and is_personal(subject) else subject.name


@dataclass
class CreditFile:
    subject: Subject
    regions: list[Any]  # code, name, level of each cell from the county down
    links: list[dict[str, Any]]
    records: list[dict[str, Any]]
    readers: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        s = self.subject
        return {
            "id": s.id, "kind": s.kind, "name": s.name, "status": s.status,
            "uscc": s.uscc, "resident_id": s.resident_id_masked, "industry": s.industry,
            "established_on": s.established_on.isoformat() if s.established_on else None,
            "address": s.address, "attributes": s.attributes,
            "region": [{"code": r.code, "name": r.name, "level": r.level} for r in self.regions],
            "links": self.links, "records": self.records, "readers": self.readers,
        }


# The credit file's statements, built once: a file is read on every page view and API
# call, and building SQL expressions (and ORM entities) per call cost several times
# more than running them.
_rg, _cell = Region.__table__.alias("rg"), Region.__table__.alias("cell")
_Q_CHAIN = (select(_rg.c.code, _rg.c.name, _rg.c.level)
            .select_from(_cell.join(_rg, func.substr(_cell.c.path, 1, func.length(_rg.c.path)) == _rg.c.path))
            .where(_cell.c.id == bindparam("region")).order_by(_rg.c.depth))
_sl, _other = SubjectLink.__table__, Subject.__table__
_Q_PEOPLE = (select(_sl.c.role, _other.c.id, _other.c.name, _other.c.resident_id_masked)
             .join_from(_sl, _other, _sl.c.person_id == _other.c.id)
             .where(_sl.c.firm_id == bindparam("sid")).order_by(_sl.c.role, _other.c.id))
_Q_FIRMS = (select(_sl.c.role, _other.c.id, _other.c.name, _other.c.uscc)
            .join_from(_sl, _other, _sl.c.firm_id == _other.c.id)
            .where(_sl.c.person_id == bindparam("sid")).order_by(_sl.c.role, _other.c.id))
_cr, _ci, _ch = CreditRecord.__table__, CatalogItem.__table__, RecordStatusChange.__table__
_RECORD_COLS = (_cr.c.id, _cr.c.item_code, _ci.c.name_zh, _ci.c.name_en, _ci.c.polarity, _ci.c.severity,
                _ci.c.data_class, _ci.c.published, _ci.c.value_kind, _ci.c.unit, _cr.c.occurred_on, _cr.c.decided_on, _cr.c.value, _cr.c.grade, _cr.c.text,
                _cr.c.department_code, _cr.c.document_no, _cr.c.status, _cr.c.published_from,
                _cr.c.published_until, _cr.c.version, _cr.c.is_current, _cr.c.source, _cr.c.batch_id,
                _cr.c.spec_version, _cr.c.line_no, _cr.c.raw_hash)
_Q_RECORDS_ALL = (select(*_RECORD_COLS).join_from(_cr, _ci, _cr.c.item_code == _ci.c.code)
                  .where(_cr.c.subject_id == bindparam("sid"))
                  .order_by(_cr.c.occurred_on.desc(), _cr.c.id.desc()))
# An archived record (its retention ended) is out of the file; only the history view,
# for authorised staff, still shows it.
_Q_RECORDS = _Q_RECORDS_ALL.where(_cr.c.is_current.is_(True), _cr.c.status != "archived")
_Q_CHANGES = (select(_ch.c.record_id, _ch.c.from_status, _ch.c.to_status, _ch.c.at, _ch.c.actor, _ch.c.reason)
              .join_from(_ch, _cr, _ch.c.record_id == _cr.c.id)
              .where(_cr.c.subject_id == bindparam("sid")).order_by(_ch.c.id))
_ae = AuditEntry.__table__
_Q_READERS = (select(_ae.c.at, _ae.c.actor, _ae.c.purpose)
              .where(_ae.c.subject_id == bindparam("sid"), _ae.c.action == "subject.read")
              .order_by(_ae.c.id.desc()).limit(20))



def credit_file(session: Session, keyring: KeyRing, key: str, *, actor: str | None = None,
                purpose: str = "query", history: bool = False, mask_people: bool = True,
                audited: bool = False) -> CreditFile:
    """The whole credit file of a subject. Reading a person's file is audited, and any
    file when `audited` (a reader outside government, such as a bank under consent)."""
    subject = resolve(session, keyring, key)
    conn = session.connection()
    sid = {"sid": subject.id}
    chain = list(conn.execute(_Q_CHAIN, {"region": subject.region_id})) if subject.region_id is not None else []
    links: list[dict[str, Any]] = [
        {"role": role, "subject_id": pid, "name": mask_name(name) if mask_people else name, "resident_id": masked,
         "direction": "person"}
        for role, pid, name, masked in conn.execute(_Q_PEOPLE, sid)]
    links += [{"role": role, "subject_id": fid, "name": name, "uscc": uscc, "direction": "firm"}
              for role, fid, name, uscc in conn.execute(_Q_FIRMS, sid)]
    changes: dict[int, list[dict[str, Any]]] = {}
    for rid, from_status, to_status, at, who, reason in conn.execute(_Q_CHANGES, sid):
        changes.setdefault(rid, []).append({"from": from_status, "to": to_status,
                                            "at": at.isoformat(timespec="seconds"), "actor": who, "reason": reason})
    today = clock.today()
    records = []
    for r in conn.execute(_Q_RECORDS_ALL if history else _Q_RECORDS, sid):
        in_period = ((r.published_from is None or r.published_from <= today)
                     and (r.published_until is None or r.published_until >= today))
        records.append({
            "id": r.id, "item": r.item_code, "item_name": r.name_zh, "item_name_en": r.name_en,
            "polarity": r.polarity, "severity": r.severity, "data_class": r.data_class,
            "occurred_on": r.occurred_on.isoformat(), "decided_on": iso(r.decided_on),
            "value": str(r.value) if r.value is not None else None,
            "value_display": value_words(r.value, r.value_kind, r.unit), "grade": r.grade, "text": r.text,
            "department": r.department_code, "document_no": r.document_no, "status": r.status,
            "in_publication_period": in_period,
            # whether records of this kind are published at all (warnings and 通报批评 are not)
            "published_item": bool(r.published),
            "published_from": iso(r.published_from), "published_until": iso(r.published_until),
            "version": r.version, "is_current": r.is_current,
            "provenance": {"source": r.source, "batch": r.batch_id, "spec_version": r.spec_version,
                           "line": r.line_no, "raw_hash": r.raw_hash},
            "status_history": changes.get(r.id, []),
        })
    if audited or is_personal(subject):
        audit.append(session, action="subject.read", actor=actor, subject_id=subject.id, purpose=purpose)
    readers = [{"at": at.isoformat(timespec="seconds"), "actor": who, "purpose": why}
               for at, who, why in conn.execute(_Q_READERS, sid)]
    return CreditFile(subject, chain, links, records, readers)


def _plain(d: Decimal) -> str:
    """A number without the zeros the store pads it with: 96, 0, 87.5, 1,350."""
    if d == d.to_integral_value():
        return f"{d:,.0f}"
    return f"{d.normalize():,f}"


def value_words(value: Any, kind: str | None, unit: str | None) -> dict[str, str] | None:
    """A record's value as a person reads it, in both languages ({"zh", "en"}; None
    without a value), by its catalogue item's value kind and unit (catalog.yaml): an
    amount in yuan to the fen with thousands separators (`core.amounts.yuan`:
    168,720.42 元 / yuan); a count, a number of days or a score as the number it is,
    without the two decimals the store pads every value with (96 人 / 96 people,
    0 天 / 0 days, 655 分 / 655 points; a score given to the half point keeps it, 87.5).
    The unit is named in each language (label kind `unit`, the catalogue's; in English
    the singular for exactly one). The one formatter of a record's value: the credit
    file's page and API, the own view, the report and the command line read it from the
    file's `value_display`."""
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return {"zh": str(value), "en": str(value)}
    if not d.is_finite():
        return {"zh": str(value), "en": str(value)}
    if d.is_zero():
        d = abs(d)  # -0.00 reads as 0
    number = amounts.yuan(d) if kind == "amount" else _plain(d)
    if not unit:
        return {"zh": number, "en": number}
    one = d == 1 and labels.is_known("unit_one", unit)
    return {"zh": f"{number} {labels.label('unit', unit, 'zh')}",
            "en": f"{number} {labels.label('unit_one' if one else 'unit', unit, 'en')}"}


def counts(session: Session) -> dict[str, Any]:
    by_kind = dict(session.execute(select(Subject.kind, func.count()).group_by(Subject.kind)).tuples().all())
    by_status = dict(session.execute(select(Subject.status, func.count()).group_by(Subject.status)).tuples().all())
    return {"subjects": sum(by_kind.values()), "by_kind": by_kind, "by_status": by_status}
