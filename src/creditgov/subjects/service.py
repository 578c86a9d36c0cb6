"""Subjects, regions and the credit file (一户一档 / 一人一档一分)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, aliased

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.config import load_yaml_model
from creditgov.core.errors import ConfigError, NotFound
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_id, mask_name
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
    return dict(session.execute(select(Region.code, Region.id)).all())


def region_chain(session: Session, region_id: int | None) -> list[Region]:
    """The cell and its ancestors, from the county down."""
    if region_id is None:
        return []
    cell = session.get(Region, region_id)
    if cell is None:
        return []
    codes = [c for c in cell.path.strip("/").split("/") if c]
    rows = {r.code: r for r in session.execute(select(Region).where(Region.code.in_(codes))).scalars()}
    return [rows[c] for c in codes if c in rows]


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
    if key.isdigit() and len(key) < 12:
        row = session.get(Subject, int(key))
    elif looks_like_uscc(key.upper()):
        row = session.execute(select(Subject).where(Subject.uscc == key.upper())).scalar_one_or_none()
    elif looks_like_resident_id(key.upper()):
        idx = keyring.blind_index(key.upper())
        row = session.execute(select(Subject).where(Subject.resident_id_index == idx)).scalar_one_or_none()
    else:
        matches = list(session.execute(select(Subject).where(Subject.name == key).limit(3)).scalars())
        if len(matches) > 1:
            raise NotFound(f"{len(matches)}+ subjects are named {key!r}: use a credit code, ID number or id")
        row = matches[0] if matches else None
    if row is None:
        raise NotFound(f"no subject matches {key!r}")
    return row


def is_personal(subject: Subject) -> bool:
    return subject.resident_id_index is not None


def display_name(subject: Subject, *, masked: bool) -> str:
    return mask_name(subject.name) if masked and is_personal(subject) else subject.name


@dataclass
class CreditFile:
    subject: Subject
    regions: list[Region]
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


def credit_file(session: Session, keyring: KeyRing, key: str, *, actor: str | None = None,
                purpose: str = "query", history: bool = False) -> CreditFile:
    """The whole credit file of a subject. Reading a person's file is audited."""
    subject = resolve(session, keyring, key)
    chain = region_chain(session, subject.region_id)
    person, firm = aliased(Subject), aliased(Subject)
    links: list[dict[str, Any]] = []
    for link, p in session.execute(
            select(SubjectLink, person).join(person, SubjectLink.person_id == person.id)
            .where(SubjectLink.firm_id == subject.id).order_by(SubjectLink.role, person.id)):
        links.append({"role": link.role, "subject_id": p.id, "name": mask_name(p.name),
                      "resident_id": p.resident_id_masked, "direction": "person"})
    for link, f in session.execute(
            select(SubjectLink, firm).join(firm, SubjectLink.firm_id == firm.id)
            .where(SubjectLink.person_id == subject.id).order_by(SubjectLink.role, firm.id)):
        links.append({"role": link.role, "subject_id": f.id, "name": f.name, "uscc": f.uscc,
                      "direction": "firm"})
    q = (select(CreditRecord, CatalogItem).join(CatalogItem, CreditRecord.item_code == CatalogItem.code)
         .where(CreditRecord.subject_id == subject.id)
         .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc()))
    if not history:
        q = q.where(CreditRecord.is_current.is_(True))
    records = []
    today = clock.today()
    rec_rows = list(session.execute(q).all())
    changes: dict[int, list[dict[str, Any]]] = {}
    ids = [r.id for r, _ in rec_rows]
    for i in range(0, len(ids), 900):
        for ch in session.execute(select(RecordStatusChange).where(
                RecordStatusChange.record_id.in_(ids[i:i + 900])).order_by(RecordStatusChange.id)).scalars():
            changes.setdefault(ch.record_id, []).append(
                {"from": ch.from_status, "to": ch.to_status, "at": ch.at.isoformat(timespec="seconds"),
                 "actor": ch.actor, "reason": ch.reason})
    for rec, item in rec_rows:
        in_period = rec.published_until is None or rec.published_until >= today
        records.append({
            "id": rec.id, "item": rec.item_code, "item_name": item.name_zh, "item_name_en": item.name_en,
            "polarity": item.polarity, "severity": item.severity, "data_class": item.data_class,
            "occurred_on": rec.occurred_on.isoformat(),
            "decided_on": rec.decided_on.isoformat() if rec.decided_on else None,
            "value": str(rec.value) if rec.value is not None else None, "grade": rec.grade, "text": rec.text,
            "department": rec.department_code, "document_no": rec.document_no, "status": rec.status,
            "in_publication_period": in_period,
            "published_from": rec.published_from.isoformat() if rec.published_from else None,
            "published_until": rec.published_until.isoformat() if rec.published_until else None,
            "version": rec.version, "is_current": rec.is_current,
            "provenance": {"source": rec.source, "batch": rec.batch_id, "spec_version": rec.spec_version,
                           "line": rec.line_no, "raw_hash": rec.raw_hash},
            "status_history": changes.get(rec.id, []),
        })
    readers = []
    if is_personal(subject):
        audit.append(session, action="subject.read", actor=actor, subject_id=subject.id, purpose=purpose)
    for e in audit.entries_for_subject(session, subject.id, limit=20):
        if e.action == "subject.read":
            readers.append({"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "purpose": e.purpose})
    return CreditFile(subject, chain, links, records, readers)


def counts(session: Session) -> dict[str, Any]:
    by_kind = dict(session.execute(select(Subject.kind, func.count()).group_by(Subject.kind)).all())
    by_status = dict(session.execute(select(Subject.status, func.count()).group_by(Subject.status)).all())
    return {"subjects": sum(by_kind.values()), "by_kind": by_kind, "by_status": by_status}
