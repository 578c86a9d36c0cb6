"""Reading the lists: their definitions as stored, and their entries — which are in
force on a date, a subject's current listings, the entries with their history.

Nothing here changes state (the procedure is in `service.py`, exits in `exits.py`), so
the API, the pages, the CLI and other domains (the credit check, the reports, patrol
lists) read the lists through the same functions and the same `listed_on` condition.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from creditgov.core import clock
from creditgov.core.clock import iso
from creditgov.core.errors import NotFound
from creditgov.lists.models import CreditList, ListEntry, ListEntryEvent
from creditgov.lists.schemas import ListDef

# ----------------------------------------------------------------------------- definitions


@lru_cache(maxsize=256)
def _def_of(text: str) -> ListDef:
    return ListDef.model_validate_json(text)


def definition(session: Session, code: str) -> ListDef:
    row = session.get(CreditList, code)
    if row is None:
        raise NotFound(f"list {code!r} is not defined (load definitions with `creditgov lists load`)")
    if not row.definition:
        raise NotFound(f"list {code!r} has no stored definition")
    return _def_of(row.definition)


def definitions(session: Session) -> list[ListDef]:
    rows = session.execute(select(CreditList).order_by(CreditList.code)).scalars()
    return [_def_of(r.definition) for r in rows if r.definition]


def counts_by_list(session: Session) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    q = select(ListEntry.list_code, ListEntry.status, func.count()).group_by(ListEntry.list_code, ListEntry.status)
    for code, status, n in session.execute(q):
        out.setdefault(code, {})[status] = n
    return out


def dump_definition(d: ListDef) -> dict[str, Any]:
    return json.loads(d.model_dump_json())


# ----------------------------------------------------------------------------- reading


def listed_on(on: dt.date | BindParameter[dt.date]) -> ColumnElement[bool]:
    """SQL condition: the subject was *listed on* that date — the entry published by
    then and not yet expired or exited. Exited entries count for dates before their
    exit, so a check or a patrol as of a past date sees the lists as they were on that
    date (the history). An evaluation counts differently, on purpose: only entries that
    still stand (`scoring.explain.standing_entry`), so a repaired subject's re-run no
    longer carries the list. `tests/scoring/test_list_rules.py` pins both."""
    return and_(ListEntry.status.in_(("published", "exited")), ListEntry.published_on.is_not(None),
                ListEntry.published_on <= on,
                or_(ListEntry.expires_on.is_(None), ListEntry.expires_on > on),
                or_(ListEntry.exited_on.is_(None), ListEntry.exited_on > on))


def active_entries(session: Session, subject_id: int, on: dt.date | None = None) -> list[ListEntry]:
    on = on or clock.today()
    q = select(ListEntry).where(ListEntry.subject_id == subject_id, listed_on(on)).order_by(ListEntry.list_code)
    return list(session.execute(q).scalars())


def entries(session: Session, *, list_code: str | None = None, status: str | None = None,
            subject_id: int | None = None, origin: str | None = None, limit: int = 200) -> list[ListEntry]:
    q = select(ListEntry).order_by(ListEntry.id.desc()).limit(limit)
    if list_code:
        q = q.where(ListEntry.list_code == list_code)
    if status:
        q = q.where(ListEntry.status == status)
    if subject_id is not None:
        q = q.where(ListEntry.subject_id == subject_id)
    if origin:
        q = q.where(ListEntry.origin == origin)
    return list(session.execute(q).scalars())



def entry_dict(e: ListEntry) -> dict[str, Any]:
    return {
        "id": e.id, "list": e.list_code, "subject_id": e.subject_id, "status": e.status, "origin": e.origin,
        "source": e.source, "criterion": e.criterion, "basis": e.basis, "decision_no": e.decision_no,
        "record_id": e.record_id, "identifying_unit": e.identifying_unit,
        "proposed_on": iso(e.proposed_on), "notified_on": iso(e.notified_on),
        "response_due": iso(e.response_due), "representation": e.representation,
        "approved_on": iso(e.approved_on), "approved_unit": e.approved_unit,
        "publication_months": e.publication_months,
        "published_on": iso(e.published_on), "expires_on": iso(e.expires_on),
        "exited_on": iso(e.exited_on), "exit_kind": e.exit_kind, "exit_reason": e.exit_reason,
    }


def entry_detail(session: Session, entry_id: int) -> dict[str, Any]:
    e = session.get(ListEntry, entry_id)
    if e is None:
        raise NotFound(f"list entry {entry_id} not found", code="lists.entry.not_found", params={"id": entry_id})
    events = session.execute(select(ListEntryEvent).where(ListEntryEvent.entry_id == entry_id)
                             .order_by(ListEntryEvent.id)).scalars()
    return {**entry_dict(e), "history": [
        {"step": ev.step, "from": ev.from_status, "to": ev.to_status, "on": ev.effective_on.isoformat(),
         "at": ev.at.isoformat(timespec="seconds"), "actor": ev.actor, "unit": ev.unit, "note": ev.note}
        for ev in events]}


_Q_IN_FORCE = (select(ListEntry.subject_id, ListEntry.list_code)
               .where(ListEntry.subject_id.in_(bindparam("ids", expanding=True)),
                      listed_on(bindparam("day", type_=Date)))
               .order_by(ListEntry.subject_id, ListEntry.list_code))


def lists_in_force(conn: Connection, subject_ids: Iterable[int], on: dt.date | None = None) -> dict[int, list[str]]:
    """The lists each of these subjects is on that day (`listed_on`), codes sorted; a
    subject on none is left out. One statement, for the nodes of a relationship view
    or a check's related parties."""
    ids = sorted(set(subject_ids))
    out: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        for sid, code in conn.execute(_Q_IN_FORCE, {"ids": ids[i:i + 500], "day": on or clock.today()}):
            if code not in out.setdefault(sid, []):
                out[sid].append(code)
    return out
