"""Finding subjects inside a data scope.

The caller passes the scope as a WHERE clause (from `security.scopes.Grant`), so this
module never decides who may see what; it only knows how to match a query string:
a credit code or ID number exactly (the ID number through its blind index, never in
clear), an internal id, otherwise a part of the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from creditgov.security.crypto import KeyRing, mask_name
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Region, Subject


@dataclass
class SearchResult:
    total: int
    items: list[dict[str, Any]]


def _match(keyring: KeyRing, q: str) -> ColumnElement[bool]:
    q = q.strip()
    up = q.upper()
    if looks_like_uscc(up) and looks_like_resident_id(up):  # an ID number can pass the USCC check too
        return or_(Subject.uscc == up, Subject.resident_id_index.in_(keyring.lookup_indexes(up)))
    if looks_like_uscc(up):
        return Subject.uscc == up
    if looks_like_resident_id(up):
        return Subject.resident_id_index.in_(keyring.lookup_indexes(up))  # both keys' during a rotation
    if q.isdigit() and len(q) < 12:
        return Subject.id == int(q)
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Subject.name.like(f"%{escaped}%", escape="\\")


def search(session: Session, keyring: KeyRing, *, scope: ColumnElement[bool], q: str | None = None,
           kind: str | None = None, region_code: str | None = None, limit: int = 20, offset: int = 0,
           mask_people: bool = False, where: Sequence[ColumnElement[bool]] = ()) -> SearchResult:
    """Subjects in `scope` matching the filters, by name, with the total count. `where`
    adds conditions the caller builds from other domains (the colour a subject's
    evaluations give it: `subjects.access.find`)."""
    cond = [scope, *where]
    if q and q.strip():
        cond.append(_match(keyring, q))
    if kind:
        cond.append(Subject.kind == kind)
    if region_code:
        path = session.execute(select(Region.path).where(Region.code == region_code)).scalar()
        if path is None:
            return SearchResult(0, [])
        cond.append(Subject.region_id.in_(select(Region.id).where(Region.path.startswith(path))))
    matching = and_(*cond)
    total = session.execute(select(func.count(Subject.id)).where(matching)).scalar_one()
    rows = session.execute(
        select(Subject, Region.code, Region.name).outerjoin(Region, Subject.region_id == Region.id)
        .where(matching).order_by(Subject.name, Subject.id).limit(limit).offset(offset)).all()
    items = []
    for s, rcode, rname in rows:
        personal = s.resident_id_index is not None
        items.append({"id": s.id, "kind": s.kind, "name": mask_name(s.name) if personal and mask_people else s.name,
                      "uscc": s.uscc, "resident_id": s.resident_id_masked, "status": s.status,
                      "industry": s.industry, "region_code": rcode, "region_name": rname})
    return SearchResult(total, items)
