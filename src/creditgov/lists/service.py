"""Credit lists: definitions as data, the entry procedure, exit, criteria and imports.

Entry is a procedure, not a flag (国办发〔2020〕49号): proposed → notified (reasons,
basis and the right of representation, 陈述申辩, with a response window) → approved by
the identifying unit (认定单位) → published. Every step appends a `ListEntryEvent` and
an audit entry; nothing is deleted, so the history of a listing is kept forever.

The guards live here and nowhere else, so the CLI, the API and the later repair
procedure cannot go around them: no step takes a date argument (the clock decides),
publication refuses an entry whose response window has not passed or that the
identifying unit did not approve, and upper-platform entries change only by import.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import clock
from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.ingest.pipeline import CompiledSpec
from creditgov.ingest.readers import read_rows
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.lists.models import EXIT_KINDS, OPEN_STATUSES, CreditList, ListEntry, ListEntryEvent
from creditgov.lists.schemas import (
    EvaluationCriterion,
    ListDef,
    ListsFile,
    RecordCriterion,
    ResponseWindow,
    UpperListSpec,
)
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Subject

PENDING = ("proposed", "notified", "approved")

# ----------------------------------------------------------------------------- definitions


def shipped_lists_text() -> str:
    return resources.files("creditgov.lists").joinpath("data/lists.yaml").read_text("utf-8")


@lru_cache(maxsize=4)
def _parse(text: str, source: str) -> ListsFile:
    return parse_yaml_model(ListsFile, text, source)


def read_lists(path: Path | None = None) -> ListsFile:
    if path is None:
        return _parse(shipped_lists_text(), "lists.yaml (shipped)")
    return load_yaml_model(ListsFile, path)


def _check_refs(session: Session, doc: ListsFile, source: str) -> None:
    """Names that must exist in the store: units and departments, catalogue items."""
    deps = {c for (c,) in session.execute(select(Department.code))}
    items = {c for (c,) in session.execute(select(CatalogItem.code))}
    for n, d in enumerate(doc.lists):
        where = f"{source}: lists[{n}] ({d.code})"
        units = [d.identifying_unit] + [c.identifying_unit for c in d.criteria if c.identifying_unit]
        for u in units + list(d.responding_departments):
            if u not in deps:
                raise ConfigError(f"{where}: unknown department {u!r} (units and responding departments "
                                  "are department codes of the data catalogue)")
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
    audit.append(session, action="lists.load", actor=actor,
                 detail={"version": doc.version, "file": path.name if path else "shipped",
                         "lists": [d.code for d in doc.lists]})
    return {"version": doc.version, "lists": len(doc.lists)}


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


# ----------------------------------------------------------------------------- deadlines


def response_due(notified_on: dt.date, window: ResponseWindow) -> dt.date:
    """The last day on which the subject may make its representation.

    The only place a response window is counted: today in calendar days; when the
    working-day calendar arrives, `counting: working` is handled here and nowhere else."""
    if window.counting == "calendar":
        return notified_on + dt.timedelta(days=window.days)
    raise ConfigError(f"unsupported counting {window.counting!r}")  # pragma: no cover - Literal guards it


def window_passed(entry: ListEntry, today: dt.date) -> bool:
    """The window has passed once the last day to respond is behind us."""
    return entry.response_due is not None and today > entry.response_due


# ----------------------------------------------------------------------------- the procedure


def _entry(session: Session, entry_id: int) -> ListEntry:
    row = session.get(ListEntry, entry_id, with_for_update=True)
    if row is None:
        raise NotFound(f"list entry {entry_id} not found")
    return row


def _step(session: Session, entry: ListEntry, step: str, to_status: str, *, actor: str,
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


def _require_local(entry: ListEntry, what: str) -> None:
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
    _step(session, entry, "propose", "proposed", actor=actor, note=entry.basis,
          detail={"criterion": crit.id, "record": record_id, "evidence": evidence_key})
    return entry


def notice_text(entry: ListEntry, d: ListDef) -> str:
    """What the subject is told: the list, the reasons, the basis and its rights."""
    return (f"拟将您列入《{d.name_zh}》({d.name_en}). 理由: {entry.basis}. 依据: {d.legal_basis.strip()}. "
            f"认定单位: {entry.identifying_unit}. 您有权在 {entry.response_due} 前(含当日)提出陈述申辩; "
            f"you may make a representation until {entry.response_due} inclusive.")


def notify(session: Session, *, entry_id: int, actor: str | None = None) -> ListEntry:
    """Tell the subject the reasons and its right of representation; starts the window."""
    actor = actor or audit.default_actor()
    entry = _entry(session, entry_id)
    _require_local(entry, "notified")
    if entry.status != "proposed":
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a proposed entry can be notified")
    d = definition(session, entry.list_code)
    today = clock.today()
    entry.notified_on = today
    entry.response_due = response_due(today, d.response_window)
    _step(session, entry, "notify", "notified", actor=actor, note=notice_text(entry, d),
          detail={"response_due": entry.response_due.isoformat()})
    return entry


def represent(session: Session, *, entry_id: int, text: str, actor: str | None = None) -> ListEntry:
    """Record the subject's representation (陈述申辩); only inside the window."""
    actor = actor or audit.default_actor()
    entry = _entry(session, entry_id)
    _require_local(entry, "answered")
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
    _step(session, entry, "represent", "notified", actor=actor, note=text.strip())
    return entry


def approve(session: Session, *, entry_id: int, unit: str, decision_no: str | None = None,
            note: str | None = None, actor: str | None = None) -> ListEntry:
    """The identifying unit's decision to list. Only that unit may approve, only after
    notice, and only once the window has passed or the subject has answered."""
    actor = actor or audit.default_actor()
    entry = _entry(session, entry_id)
    _require_local(entry, "approved")
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
    if decision_no:
        entry.decision_no = decision_no
    if d.requires_decision_no and not entry.decision_no:
        raise InvalidInput(f"list {entry.list_code} needs the written decision's number (--decision-no)")
    entry.approved_on, entry.approved_unit, entry.approved_by = today, unit, actor
    _step(session, entry, "approve", "approved", actor=actor, unit=unit, note=note,
          detail={"decision_no": entry.decision_no})
    return entry


def reject(session: Session, *, entry_id: int, unit: str, reason: str, actor: str | None = None) -> ListEntry:
    """The identifying unit decides not to list (e.g. the representation was accepted)."""
    actor = actor or audit.default_actor()
    entry = _entry(session, entry_id)
    _require_local(entry, "rejected")
    if entry.status not in PENDING:
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a pending entry can be rejected")
    if unit != entry.identifying_unit:
        raise InvalidInput(f"only the identifying unit {entry.identifying_unit!r} may decide on entry {entry_id}")
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason")
    entry.exit_reason = reason.strip()
    _step(session, entry, "reject", "rejected", actor=actor, unit=unit, note=reason.strip())
    return entry


def publish(session: Session, *, entry_id: int, actor: str | None = None) -> ListEntry:
    """Put an approved entry in force. Refuses before the response window has passed
    and without the identifying unit's approval — checked on the history, not only on
    the status, so an entry whose status was edited by hand is still refused."""
    actor = actor or audit.default_actor()
    entry = _entry(session, entry_id)
    _require_local(entry, "published")
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
    entry.published_on = today
    entry.expires_on = clock.add_months(today, d.publication_months) if d.publication_months else None
    _step(session, entry, "publish", "published", actor=actor,
          detail={"expires_on": entry.expires_on.isoformat() if entry.expires_on else None})
    return entry


def exit_entry(session: Session, *, entry_id: int, kind: str, reason: str,
               actor: str | None = None) -> ListEntry:
    """Take a published entry off its list. The kind must be one of the list's exit
    conditions; the entry and its history stay."""
    actor = actor or audit.default_actor()
    entry = _entry(session, entry_id)
    if kind not in EXIT_KINDS:
        raise InvalidInput(f"unknown exit kind {kind!r}; one of {list(EXIT_KINDS)}")
    if entry.origin == "upper" and kind != "upper":
        _require_local(entry, "taken off")
    if entry.status != "published":
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a published entry can exit")
    d = definition(session, entry.list_code)
    allowed = {e.kind for e in d.exit_conditions}
    if kind not in allowed and not (kind == "upper" and entry.origin == "upper"):
        raise InvalidInput(f"list {entry.list_code} has no exit by {kind}; its exit conditions are {sorted(allowed)}")
    if not reason.strip():
        raise InvalidInput("an exit needs a reason")
    today = clock.today()
    if kind == "expiry":
        if entry.expires_on is None or entry.expires_on > today:
            raise InvalidInput(f"entry {entry_id} does not expire until {entry.expires_on}")
        entry.exited_on = entry.expires_on
    else:
        entry.exited_on = today
    entry.exit_kind, entry.exit_reason = kind, reason.strip()
    _step(session, entry, "exit", "exited", actor=actor, note=reason.strip(), on=entry.exited_on,
          detail={"kind": kind})
    return entry


def expire(session: Session, *, actor: str | None = None) -> list[int]:
    """Exit every published entry whose publication period has ended."""
    today = clock.today()
    ids = list(session.execute(select(ListEntry.id).where(
        ListEntry.status == "published", ListEntry.expires_on.is_not(None),
        ListEntry.expires_on <= today).order_by(ListEntry.id)).scalars())
    for i in ids:
        exit_entry(session, entry_id=i, kind="expiry", reason="publication period ended", actor=actor)
    return ids


def exit_for_record(session: Session, *, record_id: int, reason: str, kind: str = "repair",
                    actor: str | None = None) -> dict[str, list[int]]:
    """Entries that rest on one record leave when that record is repaired (or revoked,
    with kind 'manual'): published entries exit, pending ones are withdrawn. The repair
    procedure calls this; it is the only way a repair reaches the lists."""
    actor = actor or audit.default_actor()
    rows = list(session.execute(select(ListEntry).where(
        ListEntry.record_id == record_id, ListEntry.origin == "local",
        ListEntry.status.in_(OPEN_STATUSES)).order_by(ListEntry.id)).scalars())
    out: dict[str, list[int]] = {"exited": [], "withdrawn": []}
    for e in rows:
        if e.status == "published":
            exit_entry(session, entry_id=e.id, kind=kind, reason=reason, actor=actor)
            out["exited"].append(e.id)
        else:
            e.exit_reason = reason
            _step(session, e, "withdraw", "withdrawn", actor=actor, note=reason, detail={"record": record_id})
            out["withdrawn"].append(e.id)
    return out


# ----------------------------------------------------------------------------- reading


def in_force(on: dt.date | BindParameter[dt.date]) -> ColumnElement[bool]:
    """SQL condition: an entry in force on a date — published by then and not yet
    expired or exited. Exited entries count for dates before their exit, so an
    evaluation as of a past date sees the lists as they were on that date."""
    return and_(ListEntry.status.in_(("published", "exited")), ListEntry.published_on.is_not(None),
                ListEntry.published_on <= on,
                or_(ListEntry.expires_on.is_(None), ListEntry.expires_on > on),
                or_(ListEntry.exited_on.is_(None), ListEntry.exited_on > on))


def active_entries(session: Session, subject_id: int, on: dt.date | None = None) -> list[ListEntry]:
    on = on or clock.today()
    q = select(ListEntry).where(ListEntry.subject_id == subject_id, in_force(on)).order_by(ListEntry.list_code)
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


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def entry_dict(e: ListEntry) -> dict[str, Any]:
    return {
        "id": e.id, "list": e.list_code, "subject_id": e.subject_id, "status": e.status, "origin": e.origin,
        "source": e.source, "criterion": e.criterion, "basis": e.basis, "decision_no": e.decision_no,
        "record_id": e.record_id, "identifying_unit": e.identifying_unit,
        "proposed_on": _iso(e.proposed_on), "notified_on": _iso(e.notified_on),
        "response_due": _iso(e.response_due), "representation": e.representation,
        "approved_on": _iso(e.approved_on), "approved_unit": e.approved_unit,
        "published_on": _iso(e.published_on), "expires_on": _iso(e.expires_on),
        "exited_on": _iso(e.exited_on), "exit_kind": e.exit_kind, "exit_reason": e.exit_reason,
    }


def entry_detail(session: Session, entry_id: int) -> dict[str, Any]:
    e = session.get(ListEntry, entry_id)
    if e is None:
        raise NotFound(f"list entry {entry_id} not found")
    events = session.execute(select(ListEntryEvent).where(ListEntryEvent.entry_id == entry_id)
                             .order_by(ListEntryEvent.id)).scalars()
    return {**entry_dict(e), "history": [
        {"step": ev.step, "from": ev.from_status, "to": ev.to_status, "on": ev.effective_on.isoformat(),
         "at": ev.at.isoformat(timespec="seconds"), "actor": ev.actor, "unit": ev.unit, "note": ev.note}
        for ev in events]}


# ----------------------------------------------------------------------------- criteria → proposals


@dataclass
class Candidate:
    subject_id: int
    evidence_key: str
    record_id: int | None = None


def _kinds_filter(q: Any, subject_col: Any, kinds: list[str]) -> Any:
    if kinds:
        q = q.join(Subject, Subject.id == subject_col).where(Subject.kind.in_(kinds))
    return q


def _record_candidates(session: Session, crit: RecordCriterion, as_of: dt.date) -> list[Candidate]:
    q = (select(CreditRecord.subject_id, CreditRecord.id)
         .where(CreditRecord.item_code.in_(crit.items), CreditRecord.is_current.is_(True),
                CreditRecord.status == "active", CreditRecord.occurred_on <= as_of,
                or_(CreditRecord.published_from.is_(None), CreditRecord.published_from <= as_of),
                or_(CreditRecord.published_until.is_(None), CreditRecord.published_until >= as_of))
         .order_by(CreditRecord.subject_id, CreditRecord.occurred_on, CreditRecord.id))
    q = _kinds_filter(q, CreditRecord.subject_id, crit.subject_kinds)
    return [Candidate(sid, f"record:{rid}", rid) for sid, rid in session.execute(q)]


def latest_published_runs(session: Session, model: str, as_of: dt.date, n: int) -> list[int]:
    q = (select(EvaluationRun.id).where(EvaluationRun.model_name == model, EvaluationRun.published.is_(True),
                                        EvaluationRun.status == "done", EvaluationRun.as_of <= as_of)
         .order_by(EvaluationRun.as_of.desc(), EvaluationRun.id.desc()).limit(n))
    return list(session.execute(q).scalars())


def _evaluation_candidates(session: Session, crit: EvaluationCriterion, as_of: dt.date) -> list[Candidate]:
    runs = latest_published_runs(session, crit.model, as_of, crit.consecutive_runs)
    if len(runs) < crit.consecutive_runs:
        return []
    q = (select(Score.subject_id).where(Score.run_id.in_(runs), Score.grade.in_(crit.grades))
         .group_by(Score.subject_id).having(func.count() == len(runs)))
    if crit.no_negative_years:
        cutoff = clock.add_months(as_of, -12 * crit.no_negative_years)
        negatives = (select(CreditRecord.subject_id)
                     .join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
                     .where(CatalogItem.polarity == "negative", CatalogItem.data_class != "secret",
                            CreditRecord.is_current.is_(True), CreditRecord.status != "revoked",
                            CreditRecord.occurred_on > cutoff, CreditRecord.occurred_on <= as_of))
        q = q.where(Score.subject_id.not_in(negatives))
    q = _kinds_filter(q, Score.subject_id, crit.subject_kinds)
    key = f"{crit.id}:run:{runs[0]}"
    return [Candidate(sid, key) for (sid,) in session.execute(q.order_by(Score.subject_id))]


@dataclass
class CriteriaResult:
    as_of: dt.date
    proposed: Counter[str] = field(default_factory=Counter)  # "list/criterion" -> n
    skipped: Counter[str] = field(default_factory=Counter)
    entry_ids: list[int] = field(default_factory=list)
    notified: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "proposed": sum(self.proposed.values()),
                "notified": self.notified, "by_criterion": dict(self.proposed),
                "skipped": dict(self.skipped), "entries": self.entry_ids}


def run_criteria(session: Session, *, list_code: str | None = None, as_of: dt.date | None = None,
                 notify_now: bool = False, actor: str | None = None) -> CriteriaResult:
    """Turn the lists' evaluation and record criteria into proposals (never straight
    into publication). Idempotent: a subject with an open entry on the list, or whose
    evidence (the record, or the latest run) already led to an entry, is skipped."""
    actor = actor or audit.default_actor()
    as_of = as_of or clock.today()
    res = CriteriaResult(as_of)
    defs = [definition(session, list_code)] if list_code else definitions(session)
    for d in defs:
        if d.origin != "local":
            continue
        open_subjects = set(session.execute(select(ListEntry.subject_id).where(
            ListEntry.list_code == d.code, ListEntry.origin == "local",
            ListEntry.status.in_(OPEN_STATUSES))).scalars())
        used = set(session.execute(select(ListEntry.subject_id, ListEntry.evidence_key).where(
            ListEntry.list_code == d.code, ListEntry.evidence_key.is_not(None))).tuples())
        for crit in d.criteria:
            if isinstance(crit, RecordCriterion):
                cands = _record_candidates(session, crit, as_of)
            elif isinstance(crit, EvaluationCriterion):
                cands = _evaluation_candidates(session, crit, as_of)
            else:
                continue
            tag = f"{d.code}/{crit.id}"
            for c in cands:
                if c.subject_id in open_subjects:
                    res.skipped[f"{tag}: already open"] += 1
                    continue
                if (c.subject_id, c.evidence_key) in used:
                    res.skipped[f"{tag}: evidence already used"] += 1
                    continue
                e = propose(session, list_code=d.code, subject_id=c.subject_id, criterion=crit.id,
                            record_id=c.record_id, evidence_key=c.evidence_key, actor=actor)
                open_subjects.add(c.subject_id)
                used.add((c.subject_id, c.evidence_key))
                res.proposed[tag] += 1
                res.entry_ids.append(e.id)
                if notify_now:
                    notify(session, entry_id=e.id, actor=actor)
                    res.notified += 1
    return res


# ----------------------------------------------------------------------------- bulk steps


def bulk_step(session: Session, *, step: str, list_code: str | None = None, unit: str | None = None,
              actor: str | None = None) -> dict[str, Any]:
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
    for i in list(session.execute(q.order_by(ListEntry.id)).scalars()):
        try:
            with session.begin_nested():
                if step == "notify":
                    notify(session, entry_id=i, actor=actor)
                elif step == "approve":
                    approve(session, entry_id=i, unit=cast(str, unit), actor=actor,
                            decision_no=_default_decision_no(session, i))
                else:
                    publish(session, entry_id=i, actor=actor)
            done.append(i)
        except InvalidInput as exc:
            refused[_reason_kind(str(exc))] += 1
    return {"step": step, "done": len(done), "entries": done, "refused": dict(refused)}


def _default_decision_no(session: Session, entry_id: int) -> str | None:
    """A bulk approval writes one decision per entry, numbered from the entry."""
    e = session.get(ListEntry, entry_id)
    if e is None or e.decision_no:
        return None
    return f"{e.identifying_unit}-{e.list_code}-{clock.today().year}-{e.id:06d}"


def _reason_kind(msg: str) -> str:
    for key in ("response window", "may answer until", "identifying unit", "notified"):
        if key in msg:
            return key
    return msg[:80]


# ----------------------------------------------------------------------------- upper platform


@dataclass
class ImportResult:
    read: int = 0
    added: int = 0
    exited: int = 0
    duplicates: int = 0
    filtered: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "added": self.added, "exited": self.exited, "duplicates": self.duplicates,
                "filtered": self.filtered, "rejected": self.rejected, "reasons": dict(self.reasons)}


def _resolve_ids(session: Session, keyring: KeyRing, vals: dict[str, str]) -> int:
    uscc = vals.get("uscc", "").strip().upper()
    rid = vals.get("resident_id", "").strip().upper()
    if uscc:
        if not looks_like_uscc(uscc):
            raise RowError(f"invalid unified social credit code {uscc!r}")
        sid = session.execute(select(Subject.id).where(Subject.uscc == uscc)).scalar()
    elif rid:
        if not looks_like_resident_id(rid):
            raise RowError("invalid resident ID number")
        sid = session.execute(select(Subject.id).where(
            Subject.resident_id_index == keyring.blind_index(rid))).scalar()
    else:
        raise RowError("no credit code or ID number")
    if sid is None:
        raise RowError("subject not registered in the county")
    return int(sid)


def _date(vals: dict[str, str], name: str, *, required: bool) -> dt.date | None:
    v = vals.get(name, "").strip()
    if not v:
        if required:
            raise RowError(f"missing {name}")
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise RowError(f"{name} {v!r} is not a date (add a `date` step)") from None


def import_upper(session: Session, keyring: KeyRing, *, spec_path: Path, file: Path,
                 actor: str | None = None) -> ImportResult:
    """Lists flowing down from the upper platform, kept apart from local ones: origin
    'upper' with their source, published as the platform published them (its own
    identifying unit ran the procedure), and taken off only when the platform says so
    (`exited_on` in a later file). Re-importing the same file adds nothing."""
    actor = actor or audit.default_actor()
    spec = load_yaml_model(UpperListSpec, spec_path)
    compiled = CompiledSpec(cast(SourceSpec, spec))
    res = ImportResult()
    known = {r.code for r in session.execute(select(CreditList)).scalars()}
    for _line, raw in read_rows(cast(SourceSpec, spec), file):
        res.read += 1
        try:
            vals = compiled.apply(raw)
            if not compiled.keep(vals):
                res.filtered += 1
                continue
            code = vals["list_code"].strip()
            code = spec.list_map.get(code, code)
            if code not in known:
                raise RowError(f"unknown list {code!r} (map it with list_map)")
            sid = _resolve_ids(session, keyring, vals)
            published = cast(dt.date, _date(vals, "published_on", required=True))
            expires = _date(vals, "expires_on", required=False)
            exited = _date(vals, "exited_on", required=False)
            decision = vals.get("decision_no", "").strip() or None
            key = f"upper:{spec.source}:{decision or published.isoformat()}"
            entry = session.execute(select(ListEntry).where(
                ListEntry.list_code == code, ListEntry.subject_id == sid, ListEntry.origin == "upper",
                ListEntry.evidence_key == key)).scalar_one_or_none()
            if entry is None:
                entry = ListEntry(
                    list_code=code, subject_id=sid, status="published", origin="upper", source=spec.source,
                    basis=vals.get("basis") or None, decision_no=decision,
                    identifying_unit=vals.get("identifying_unit") or None, criterion="upper",
                    evidence_key=key, proposed_on=None, published_on=published, expires_on=expires,
                    created_at=clock.now())
                session.add(entry)
                session.flush()
                _step(session, entry, "import", "published", actor=actor, on=published,
                      note=f"from {spec.source} ({file.name})", detail={"source": spec.source})
                res.added += 1
            elif not (exited and entry.status == "published"):
                res.duplicates += 1
            if exited and entry.status == "published":
                entry.exited_on, entry.exit_kind = exited, "upper"
                entry.exit_reason = vals.get("exit_reason") or f"removed by {spec.source}"
                _step(session, entry, "exit", "exited", actor=actor, on=exited, note=entry.exit_reason,
                      detail={"kind": "upper", "source": spec.source})
                res.exited += 1
        except RowError as exc:
            res.rejected += 1
            res.reasons[str(exc)] += 1
    audit.append(session, action="lists.import_upper", actor=actor,
                 detail={"source": spec.source, "spec": spec.name, "file": file.name, **res.as_dict()})
    return res


def dump_definition(d: ListDef) -> dict[str, Any]:
    return json.loads(d.model_dump_json())
