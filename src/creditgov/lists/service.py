"""Credit lists: loading the definitions, and the entry procedure with its guards.

Entry is a procedure, not a flag (国办发〔2020〕49号): proposed → notified (reasons,
basis and the right of representation, 陈述申辩, with a response window) → approved by
the identifying unit (认定单位) → published. Every step appends a `ListEntryEvent` and
an audit entry; nothing is deleted, so the history of a listing is kept forever.

The guards live here and nowhere else, so the CLI, the API and the later repair
procedure cannot go around them: no step takes a date argument (the clock decides),
publication refuses an entry whose response window has not passed or that the
identifying unit did not approve, and upper-platform entries change only by import.

The rest of the domain builds on this module's step machinery (`lock_entry`,
`record_step`, `require_local`): exits and expiry in `exits.py`, criteria turned into
proposals in `criteria.py`, the upper platform's imports in `upper.py`; reading the
definitions and entries (and `listed_on`) is `queries.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog import departments
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError, Conflict, InvalidInput, NotFound
from creditgov.lists import documents, recheck
from creditgov.lists.models import OPEN_STATUSES, CreditList, ListEntry, ListEntryEvent
from creditgov.lists.numbers import next_number
from creditgov.lists.queries import definition
from creditgov.lists.schemas import ListDef, ListsFile, RecordCriterion, ResponseWindow
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

PENDING = ("proposed", "notified", "approved")

# ----------------------------------------------------------------------------- definitions (loading)


LISTS = PolicyFile(ListsFile, "creditgov.lists", "data/lists.yaml")


def shipped_lists_text() -> str:
    return LISTS.text()


def read_lists(path: Path | None = None) -> ListsFile:
    return LISTS.load(path)


def _check_refs(session: Session, doc: ListsFile, source: str) -> None:
    """Names that must exist in the store: units and departments, catalogue items."""
    items = {c for (c,) in session.execute(select(CatalogItem.code))}
    for n, d in enumerate(doc.lists):
        where = f"{source}: lists[{n}] ({d.code})"
        units = [d.identifying_unit] + [c.identifying_unit for c in d.criteria if c.identifying_unit]
        for u in units + list(d.responding_departments):
            departments.require(session, u, where=f"{where}: identifying unit or responding department")
        for c in d.criteria:
            if isinstance(c, RecordCriterion):
                for it in c.items:
                    if it not in items:
                        raise ConfigError(f"{where}: criterion {c.id}: unknown catalogue item {it!r}")
        kinds = {e.kind for e in d.exit_conditions}
        if d.publication_months and "expiry" not in kinds:
            raise ConfigError(f"{where}: a list with a publication period needs an `expiry` exit condition")


def load_lists(session: Session, *, path: Path | None = None, actor: str | None = None) -> dict[str, Any]:
    """Upsert list definitions from a file (the shipped defaults when no path)."""
    doc = read_lists(path)
    source = str(path) if path else "lists.yaml (shipped)"
    _check_refs(session, doc, source)
    for d in doc.lists:
        session.merge(CreditList(
            code=d.code, name_zh=d.name_zh, name_en=d.name_en, kind=d.kind,
            identifying_unit=d.identifying_unit, legal_basis=d.legal_basis,
            publication_months=d.publication_months, origin=d.origin, definition=d.model_dump_json()))
    session.flush()
    # A file without an English text still loads (its English pages show the Chinese);
    # what it leaves in Chinese only is said, to the administrator and in the audit chain.
    untranslated = doc.untranslated()
    audit.append(session, action="lists.load", actor=actor,
                 detail={"version": doc.version, "file": path.name if path else "shipped",
                         "lists": [d.code for d in doc.lists], "untranslated": len(untranslated)})
    return {"version": doc.version, "lists": len(doc.lists), "untranslated": untranslated}


# ----------------------------------------------------------------------------- deadlines


# The working-day calendar belongs to the workflows domain, a higher layer: the
# composition root registers its `add_working_days` here (`bootstrap.wire`), so a list's
# window counts on the very calendar the objection procedure uses.
WorkingDays = Callable[[Session, dt.date, int], dt.date]
_WORKING_DAYS: list[WorkingDays] = []


def register_working_days(fn: WorkingDays) -> None:
    if fn not in _WORKING_DAYS:
        _WORKING_DAYS.append(fn)


def response_due(session: Session, notified_on: dt.date, window: ResponseWindow) -> dt.date:
    """The last day on which the subject may make its representation: the N-th
    working day after the notice (the notice day never counts), or N calendar days
    after it when the rule says calendar days. The only place a window is counted."""
    if window.counting == "calendar":
        return notified_on + dt.timedelta(days=window.days)
    if not _WORKING_DAYS:
        raise ConfigError("a working-day response window needs the working-day calendar, which is not wired "
                          "(call creditgov.bootstrap.wire())")
    return _WORKING_DAYS[0](session, notified_on, window.days)


def window_passed(entry: ListEntry, today: dt.date) -> bool:
    """The window has passed once the last day to respond is behind us."""
    return entry.response_due is not None and today > entry.response_due


# ----------------------------------------------------------------------------- the procedure


def lock_entry(session: Session, entry_id: int) -> ListEntry:
    """The entry, locked for the step about to change it."""
    row = session.get(ListEntry, entry_id, with_for_update=True)
    if row is None:
        raise NotFound(f"list entry {entry_id} not found")
    return row


def record_step(session: Session, entry: ListEntry, step: str, to_status: str, *, actor: str,
                unit: str | None = None, note: str | None = None, on: dt.date | None = None,
                detail: dict[str, Any] | None = None) -> None:
    """Move an entry one step: the event row and the audit entry are written together."""
    frm = None if step in ("propose", "import") else entry.status
    now = clock.now()
    entry.status = to_status
    entry.updated_at = now
    session.flush()
    session.add(ListEntryEvent(entry_id=entry.id, step=step, from_status=frm, to_status=to_status,
                               effective_on=on or clock.today(), at=now, actor=actor, unit=unit, note=note))
    session.flush()
    audit.append(session, action=f"lists.{step}", actor=actor, subject_id=entry.subject_id,
                 detail={"entry": entry.id, "list": entry.list_code, "from": frm, "to": to_status,
                         **({"unit": unit} if unit else {}), **(detail or {})})


def require_local(entry: ListEntry, what: str) -> None:
    """Refuse a local step on an upper-platform entry."""
    if entry.origin != "local":
        raise InvalidInput(f"entry {entry.id} comes from the upper platform ({entry.source}); "
                           f"it cannot be {what} locally — only a new import changes it")


def _open_entry(session: Session, list_code: str, subject_id: int) -> ListEntry | None:
    q = select(ListEntry).where(ListEntry.list_code == list_code, ListEntry.subject_id == subject_id,
                                ListEntry.origin == "local", ListEntry.status.in_(OPEN_STATUSES)).limit(1)
    return session.execute(q).scalar_one_or_none()


def propose(session: Session, *, list_code: str, subject_id: int, criterion: str = "manual",
            basis: str | None = None, decision_no: str | None = None, record_id: int | None = None,
            evidence_key: str | None = None, actor: str | None = None) -> ListEntry:
    """Open the procedure for one subject. A manual identification needs the decision
    document's number and its basis; a record-based one the record it rests on."""
    actor = actor or audit.default_actor()
    d = definition(session, list_code)
    if d.origin != "local":
        raise InvalidInput(f"list {list_code!r} is an upper-platform list: its entries come only from imports")
    crit = d.criterion(criterion)
    if crit is None:
        raise InvalidInput(f"list {list_code!r} has no criterion {criterion!r}; it has "
                           f"{[c.id for c in d.criteria]}")
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"subject {subject_id} not found")
    if crit.subject_kinds and subject.kind not in crit.subject_kinds:
        raise InvalidInput(f"criterion {crit.id} of list {list_code} applies to {crit.subject_kinds}, "
                           f"not to a {subject.kind}")
    if crit.kind == "manual":
        if not (decision_no and decision_no.strip()) or not (basis and basis.strip()):
            raise InvalidInput("a manual identification needs the decision document number (--decision-no) "
                               "and its basis (--basis)")
    if crit.kind == "record":
        if record_id is None:
            raise InvalidInput(f"criterion {crit.id} rests on a record: give the record id")
        rec = session.get(CreditRecord, record_id)
        if rec is None or rec.subject_id != subject_id:
            raise InvalidInput(f"record {record_id} is not a record of subject {subject_id}")
        if rec.item_code not in crit.items or rec.status != "active" or not rec.is_current:
            raise InvalidInput(f"record {record_id} ({rec.item_code}, {rec.status}) does not meet "
                               f"criterion {crit.id} (items {crit.items}, active and current)")
        evidence_key = evidence_key or f"record:{record_id}"
    existing = _open_entry(session, list_code, subject_id)
    if existing is not None:
        raise InvalidInput(f"subject {subject_id} already has entry {existing.id} on list {list_code} "
                           f"({existing.status})")
    today = clock.today()
    entry = ListEntry(
        list_code=list_code, subject_id=subject_id, status="proposed", origin="local",
        basis=(basis or crit.basis).strip(), decision_no=decision_no, record_id=record_id,
        proposed_on=today, created_at=clock.now(), identifying_unit=crit.identifying_unit or d.identifying_unit,
        criterion=crit.id, evidence_key=evidence_key, source="local")
    session.add(entry)
    session.flush()
    record_step(session, entry, "propose", "proposed", actor=actor, note=entry.basis,
                detail={"criterion": crit.id, "record": record_id, "evidence": evidence_key})
    return entry


def notice_text(session: Session, entry: ListEntry, d: ListDef) -> str:
    """What the subject is told: the subject and its legal representative, the facts,
    the basis, the identifying unit, its rights and the deadline (`documents.py`)."""
    return documents.notice_text(documents.notice(session, entry, d))


def decided_period(d: ListDef, chosen: int | None) -> int | None:
    """The period a decision sets: chosen within the list's range (49号: 1–3 years),
    else the list's default; a list without a range has its fixed period."""
    rng = d.publication_range
    if rng is None:
        if chosen is not None and chosen != d.publication_months:
            raise InvalidInput(f"list {d.code} has a fixed publication period ({d.publication_months} months); "
                               "it is not chosen per case")
        return d.publication_months
    if chosen is None:
        return rng.default_months
    if not rng.min_months <= chosen <= rng.max_months:
        raise InvalidInput(f"the publication period of list {d.code} is chosen between {rng.min_months} and "
                           f"{rng.max_months} months ({rng.citation}); {chosen} is outside it")
    return chosen


def notify(session: Session, *, entry_id: int, actor: str | None = None) -> ListEntry:
    """Tell the subject the reasons and its right of representation; starts the window."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    require_local(entry, "notified")
    if entry.status != "proposed":
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a proposed entry can be notified")
    d = definition(session, entry.list_code)
    today = clock.today()
    entry.notified_on = today
    entry.response_due = response_due(session, today, d.response_window)
    record_step(session, entry, "notify", "notified", actor=actor, note=notice_text(session, entry, d),
                detail={"response_due": entry.response_due.isoformat(), "counting": d.response_window.counting})
    return entry


def represent(session: Session, *, entry_id: int, text: str, actor: str | None = None) -> ListEntry:
    """Record the subject's representation (陈述申辩); only inside the window."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    require_local(entry, "answered")
    if entry.status != "notified":
        raise InvalidInput(f"entry {entry_id} is {entry.status}; a representation is made after notice "
                           "and before approval")
    today = clock.today()
    if entry.response_due is not None and today > entry.response_due:
        raise InvalidInput(f"the response window of entry {entry_id} closed on {entry.response_due}")
    if not text.strip():
        raise InvalidInput("a representation needs its text")
    stamp = f"[{today.isoformat()}] {text.strip()}"
    entry.representation = f"{entry.representation}\n{stamp}" if entry.representation else stamp
    entry.represented_on = today
    record_step(session, entry, "represent", "notified", actor=actor, note=text.strip())
    return entry


def approve(session: Session, *, entry_id: int, unit: str, decision_no: str | None = None,
            note: str | None = None, publication_months: int | None = None,
            actor: str | None = None) -> ListEntry:
    """The identifying unit's written decision to list. Only that unit may approve, only
    after notice, only once the window has passed or the subject has answered, and only
    while the criterion it was proposed under still holds for the subject today
    (`recheck`: refused, 409, naming what changed). The decision sets the publication
    period within the list's range and is stored as text with the step."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    require_local(entry, "approved")
    if entry.status != "notified":
        raise InvalidInput(f"entry {entry_id} is {entry.status}; the subject must be notified before approval")
    if unit != entry.identifying_unit:
        raise InvalidInput(f"only the identifying unit {entry.identifying_unit!r} may approve entry {entry_id}, "
                           f"not {unit!r}")
    today = clock.today()
    if not window_passed(entry, today) and entry.represented_on is None:
        raise InvalidInput(f"the subject may answer until {entry.response_due}: approve after that day, "
                           "or once its representation is on file")
    d = definition(session, entry.list_code)
    # What the proposal rests on may have stopped holding since it was made.
    recheck.refuse_if_lapsed(session, entry, "approve", d)
    if decision_no:
        entry.decision_no = decision_no
    if d.requires_decision_no and not entry.decision_no:
        raise InvalidInput(f"list {entry.list_code} needs the written decision's number (--decision-no)")
    months = decided_period(d, publication_months)
    entry.approved_on, entry.approved_unit, entry.approved_by = today, unit, actor
    entry.publication_months = months
    text = documents.decision_text(documents.decision(session, entry, d, months))
    record_step(session, entry, "approve", "approved", actor=actor, unit=unit,
                note=f"{text}\n{note.strip()}" if note and note.strip() else text,
                detail={"decision_no": entry.decision_no, "publication_months": months})
    return entry


def reject(session: Session, *, entry_id: int, unit: str, reason: str, actor: str | None = None) -> ListEntry:
    """The identifying unit decides not to list (e.g. the representation was accepted)."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    require_local(entry, "rejected")
    if entry.status not in PENDING:
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a pending entry can be rejected")
    if unit != entry.identifying_unit:
        raise InvalidInput(f"only the identifying unit {entry.identifying_unit!r} may decide on entry {entry_id}")
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason")
    entry.exit_reason = reason.strip()
    record_step(session, entry, "reject", "rejected", actor=actor, unit=unit, note=reason.strip())
    return entry


def publish(session: Session, *, entry_id: int, actor: str | None = None) -> ListEntry:
    """Put an approved entry in force. Refuses before the response window has passed
    and without the identifying unit's approval — checked on the history, not only on
    the status, so an entry whose status was edited by hand is still refused — and when
    the criterion it was proposed under no longer holds today (`recheck`)."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    require_local(entry, "published")
    today = clock.today()
    if entry.status != "approved":
        raise InvalidInput(f"entry {entry_id} is {entry.status}: it cannot be published without the "
                           f"identifying unit's approval")
    approval = session.execute(select(ListEntryEvent.id).where(
        ListEntryEvent.entry_id == entry.id, ListEntryEvent.step == "approve",
        ListEntryEvent.unit == entry.identifying_unit).limit(1)).scalar()
    if approval is None or entry.approved_unit != entry.identifying_unit:
        raise InvalidInput(f"entry {entry_id} has no approval by its identifying unit "
                           f"{entry.identifying_unit!r}: it cannot be published")
    notice = session.execute(select(ListEntryEvent.id).where(
        ListEntryEvent.entry_id == entry.id, ListEntryEvent.step == "notify").limit(1)).scalar()
    if notice is None or entry.notified_on is None:
        raise InvalidInput(f"entry {entry_id} was never notified to the subject: it cannot be published")
    if not window_passed(entry, today):
        raise InvalidInput(f"entry {entry_id}: the response window runs until {entry.response_due}; "
                           f"it can be published from {entry.response_due + dt.timedelta(days=1)}"
                           if entry.response_due else f"entry {entry_id} has no response window")
    d = definition(session, entry.list_code)
    recheck.refuse_if_lapsed(session, entry, "publish", d)
    entry.published_on = today
    months = entry.publication_months or d.publication_months  # set by the decision; older entries: the list's
    entry.expires_on = clock.add_months(today, months) if months else None
    record_step(session, entry, "publish", "published", actor=actor,
                detail={"expires_on": entry.expires_on.isoformat() if entry.expires_on else None})
    return entry


# ----------------------------------------------------------------------------- bulk steps


def bulk_step(session: Session, *, step: str, list_code: str | None = None, unit: str | None = None,
              publication_months: int | None = None, actor: str | None = None) -> dict[str, Any]:
    """Apply one step to every entry it can apply to (notify all proposed, approve all
    notified of a unit, publish all approved); refusals are reported, not raised, so
    one entry still inside its window does not stop the others."""
    wanted = {"notify": "proposed", "approve": "notified", "publish": "approved"}
    if step not in wanted:
        raise InvalidInput(f"bulk step must be one of {sorted(wanted)}")
    if step == "approve" and not unit:
        raise InvalidInput("approving needs the identifying unit (--unit)")
    q = select(ListEntry.id).where(ListEntry.status == wanted[step], ListEntry.origin == "local")
    if list_code:
        q = q.where(ListEntry.list_code == list_code)
    if step == "approve":
        q = q.where(ListEntry.identifying_unit == unit)
    done: list[int] = []
    refused: Counter[str] = Counter()
    counters: dict[str, int] = {}
    for i in list(session.execute(q.order_by(ListEntry.id)).scalars()):
        try:
            with session.begin_nested():
                if step == "notify":
                    notify(session, entry_id=i, actor=actor)
                elif step == "approve":
                    approve(session, entry_id=i, unit=cast(str, unit), actor=actor,
                            decision_no=_default_decision_no(session, i, counters), publication_months=publication_months)
                else:
                    publish(session, entry_id=i, actor=actor)
            done.append(i)
        except (InvalidInput, Conflict) as exc:
            refused[_reason_kind(exc)] += 1
    return {"step": step, "done": len(done), "entries": done, "refused": dict(refused)}


def _default_decision_no(session: Session, entry_id: int, counters: dict[str, int] | None = None) -> str | None:
    """A bulk approval writes one decision per entry, numbered as its identifying unit
    numbers its documents (lists/data/decision_numbers.yaml: 县法失惩〔2026〕12号)."""
    e = session.get(ListEntry, entry_id)
    if e is None or e.decision_no:
        return None
    return next_number(session, unit=e.identifying_unit or "credit", year=clock.today().year, counters=counters)


def _reason_kind(exc: InvalidInput | Conflict) -> str:
    if exc.code == "lists.entry.criterion_lapsed":
        return "criterion no longer holds"
    msg = str(exc)
    for key in ("response window", "may answer until", "identifying unit", "notified"):
        if key in msg:
            return key
    return msg[:80]
