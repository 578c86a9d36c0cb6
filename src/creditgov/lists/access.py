"""Read logic the lists' pages and exports share: one page of entries in the reader's
data scope, filtered and sorted (the red list holds thousands of firms: a list page
shows them page by page, never all at once), the same entries as export rows
(`entry_rows`, the page's columns, residents' names masked), and one entry as its page
reads it in the reader's language (`entry_reading`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from creditgov.core import labels
from creditgov.core.errors import NotFound
from creditgov.lists import documents
from creditgov.lists.models import STATUSES, ListEntry
from creditgov.lists.queries import definition, entry_detail, entry_dict
from creditgov.security.crypto import mask_name
from creditgov.security.scopes import Grant
from creditgov.subjects.models import Subject

HEADER = {"zh": ["编号", "名单", "主体编号", "主体", "统一社会信用代码", "状态", "认定单位", "公示日", "到期日", "文号"],
          "en": ["Entry", "List", "Subject", "Name", "USCC", "Status", "Identifying unit", "Published on", "Expires on",
                 "Decision no."]}
BATCH = 2000

PER_PAGE = 50
# sort key -> the order it gives (newest entry first by default).
SORTS: dict[str, tuple[Any, ...]] = {
    "new": (ListEntry.id.desc(),),
    "published": (ListEntry.published_on.desc(), ListEntry.id.desc()),
    "expires": (ListEntry.expires_on.asc(), ListEntry.id.asc()),
    "name": (Subject.name.asc(), ListEntry.id.asc()),
}


@dataclass
class EntryPage:
    entries: list[dict[str, Any]]  # entry_dict plus the subject's `name`
    total: int
    page: int
    pages: int


def filters(scope: ColumnElement[bool], *, list_code: str | None = None, status: str | None = None,
            unit: str | None = None, q: str | None = None) -> list[ColumnElement[bool]]:
    """The lists page's filters as clauses, shared by the page and its exports so an
    export holds exactly the entries the page shows."""
    where = [scope]
    if list_code:
        where.append(ListEntry.list_code == list_code)
    if status and status in STATUSES:
        where.append(ListEntry.status == status)
    if unit:
        where.append(ListEntry.identifying_unit == unit)
    if q:
        where.append(Subject.name.contains(q, autoescape=True))
    return where


def page_entries(session: Session, *, scope: ColumnElement[bool], list_code: str | None = None,
                 status: str | None = None, unit: str | None = None, q: str | None = None, sort: str = "new",
                 page: int = 1, per_page: int = PER_PAGE) -> EntryPage:
    """One page of list entries about subjects in `scope`, with the subject's name."""
    where = filters(scope, list_code=list_code, status=status, unit=unit, q=q)
    base = select(ListEntry, Subject.name).join(Subject, Subject.id == ListEntry.subject_id).where(*where)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(base.order_by(*SORTS.get(sort, SORTS["new"]))
                           .offset((page - 1) * per_page).limit(per_page))
    return EntryPage([{**entry_dict(e), "name": name} for e, name in rows], total, page, pages)


def units(session: Session) -> list[str]:
    """The identifying units that have entries (for the filter)."""
    return [u for (u,) in session.execute(select(ListEntry.identifying_unit).distinct()
                                          .where(ListEntry.identifying_unit.is_not(None))
                                          .order_by(ListEntry.identifying_unit))]


def entry_rows(session: Session, grant: Grant, *, list_code: str | None = None, status: str | None = None,
               unit: str | None = None, q: str | None = None, sort: str = "new", lang: str = "zh"
               ) -> Iterator[list[Any]]:
    """Every entry the reader may see under the page's filters, in the page's order, as
    export rows with labels in `lang`, read in batches so a long list streams."""
    where = filters(grant.subject_clause(), list_code=list_code, status=status, unit=unit, q=q)
    base = (select(ListEntry, Subject.name, Subject.uscc, Subject.resident_id_index)
            .join(Subject, Subject.id == ListEntry.subject_id).where(*where)
            .order_by(*SORTS.get(sort, SORTS["new"])))  # every order ends on the entry id: batches never overlap
    offset = 0
    while True:
        batch = session.execute(base.offset(offset).limit(BATCH)).all()
        if not batch:
            return
        for e, name, uscc, personal in batch:
            yield _row(grant, e, name, uscc, personal, lang)
        offset += len(batch)


def _row(grant: Grant, e: ListEntry, name: str, uscc: str | None, personal: object, lang: str) -> list[Any]:
    shown = mask_name(name) if personal is not None and grant.masks_people else name
    return [e.id, labels.label("list", e.list_code, lang), e.subject_id, shown, uscc or "",
            labels.label("list_status", e.status, lang),
            labels.label("department", e.identifying_unit, lang) if e.identifying_unit
            else labels.label("list_origin", e.origin, lang),
            e.published_on.isoformat() if e.published_on else "",
            e.expires_on.isoformat() if e.expires_on else "", e.decision_no or ""]


def rows_of(session: Session, grant: Grant, entries: list[ListEntry], lang: str = "zh") -> list[list[Any]]:
    """Given entries (a command's selection) as the export's rows, in their order."""
    subjects = {sid: (name, uscc, personal) for sid, name, uscc, personal in session.execute(
        select(Subject.id, Subject.name, Subject.uscc, Subject.resident_id_index)
        .where(Subject.id.in_(sorted({e.subject_id for e in entries}))))}
    return [_row(grant, e, *subjects[e.subject_id], lang) for e in entries]


def entry_reading(session: Session, entry_id: int, lang: str) -> dict[str, Any]:
    """One entry with its history (`queries.entry_detail`) as a page in `lang` reads it:
    the stated basis in that language where it is a criterion's own (`basis_shown`), and
    each step's `reading` — the notice and the decision rendered in English beside the
    Chinese as sent (`documents.reading`), None where the note is shown as stored."""
    out = entry_detail(session, entry_id)
    e = session.get(ListEntry, entry_id)
    if e is None:  # entry_detail found it in this unit of work
        raise NotFound(f"list entry {entry_id} not found", code="lists.entry.not_found", params={"id": entry_id})
    try:
        d = definition(session, e.list_code)
    except NotFound:  # an upper platform's list without a stored definition: its words as sent
        return {**out, "basis_shown": e.basis, "history": [{**h, "reading": None} for h in out["history"]]}
    return {**out, "basis_shown": d.basis_in(e.basis, lang),
            "history": [{**h, "reading": documents.reading(session, e, d, h["step"], h["note"], lang)}
                        for h in out["history"]]}
