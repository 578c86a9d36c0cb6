"""Objection and repair: the procedures' state, deadlines and messages.

The one place that changes workflow state. A record's status moves only through
`records.service.change_status` (called here and in `flows.py`), so no other road
marks, restores, deletes or repairs a record. Steps that reach other domains' state
beyond the record (lists, evaluation) are composed in `flows.py`.

Decisions are claimed with a conditional UPDATE (`... WHERE id = :id AND status IN
(...)`): of two officers deciding the same case at once, the second's UPDATE waits
for the first to commit, then matches no row, and gets `AlreadyDecided` — exactly
one outcome on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from creditgov.alerts import service as alerts_service
from creditgov.catalog.models import CatalogItem, Department
from creditgov.commitments import service as commitments_service
from creditgov.core import clock
from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.ingest.pipeline import short_hash
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.subjects.models import Subject
from creditgov.workflows import calendar
from creditgov.workflows.models import (
    OBJECTION_OPEN,
    OBJECTION_OUTCOMES,
    REPAIR_OPEN,
    ExchangePackage,
    InboxMessage,
    Material,
    Objection,
    RecordShare,
    RepairApplication,
    RepairCondition,
    WorkflowRules,
)
from creditgov.workflows.schemas import RulesFile, TierRules


class AlreadyDecided(InvalidInput):
    """Someone else moved the case first; this decision was not applied."""


# ----------------------------------------------------------------------------- rules


def shipped_rules_text() -> str:
    return resources.files("creditgov.workflows").joinpath("data/rules.yaml").read_text("utf-8")


@lru_cache(maxsize=8)
def _parse(text: str, source: str) -> RulesFile:
    return parse_yaml_model(RulesFile, text, source)


def read_rules(path: Path | None = None) -> RulesFile:
    if path is None:
        return _parse(shipped_rules_text(), "workflows/data/rules.yaml (shipped)")
    return load_yaml_model(RulesFile, path)


def rules(session: Session) -> RulesFile:
    """The rules in force: the newest loaded copy, else the shipped defaults."""
    row = session.execute(select(WorkflowRules).order_by(WorkflowRules.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return read_rules()
    return _parse(row.text, f"workflow rules {row.version} (loaded {row.loaded_at:%Y-%m-%d})")


def load_rules(session: Session, *, path: Path, actor: str | None = None) -> dict[str, Any]:
    """Validate a rules file against the schema and the catalogue, then put it in force."""
    actor = actor or audit.default_actor()
    doc = read_rules(path)
    deps = {c for (c,) in session.execute(select(Department.code))}
    for where, code in (("credit_office", doc.credit_office), ("objection.review_authority",
                        doc.objection.review_authority), ("repair.intake_unit", doc.repair.intake_unit)):
        if code not in deps:
            raise ConfigError(f"{path}: {where}: unknown department {code!r}")
    text = path.read_text("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    session.add(WorkflowRules(version=doc.version, text=text, content_hash=digest, loaded_at=clock.now(),
                              actor=actor))
    session.flush()
    audit.append(session, action="workflows.rules.load", actor=actor,
                 detail={"file": path.name, "version": doc.version, "sha256": digest})
    return {"version": doc.version, "sha256": digest}


# ----------------------------------------------------------------------------- shared helpers


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _record(session: Session, record_id: int, *, lock: bool = False) -> CreditRecord:
    rec = session.get(CreditRecord, record_id, with_for_update=lock)
    if rec is None:
        raise NotFound(f"credit record {record_id} not found")
    return rec


def _item(session: Session, code: str) -> CatalogItem:
    item = session.get(CatalogItem, code)
    if item is None:
        raise ConfigError(f"catalogue item {code!r} is missing: load the catalogue")
    return item


def _claim(session: Session, model: type[Objection] | type[RepairApplication], row_id: int,
           from_status: Iterable[str], values: dict[str, Any], what: str) -> None:
    """Move a case out of `from_status` only if nobody has moved it yet (see module doc)."""
    res: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(model).where(model.id == row_id, model.status.in_(tuple(from_status)))
        .values(**values, updated_at=clock.now()).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        now = session.execute(select(model.status).where(model.id == row_id)).scalar()
        raise AlreadyDecided(f"{what} {row_id} is {now} now: another decision came first; nothing was changed")
    session.expire_all()


def notify(session: Session, *, recipient_kind: str, recipient: str, subject_id: int | None, topic: str,
           body: str, ref_kind: str | None = None, ref_id: int | None = None) -> InboxMessage:
    """Tell a subject or a department of a step: in its inbox at once (the product's one
    inbox table, which the alerts domain's inbox channel also writes), and through the
    rules' other channels (SMS, e-mail) via the alerts outbox, in this transaction —
    queued once per step and recipient, sent by the worker after commit."""
    msg = InboxMessage(recipient_kind=recipient_kind, recipient=recipient, subject_id=subject_id, topic=topic,
                       body=body, ref_kind=ref_kind, ref_id=ref_id, created_at=clock.now())
    session.add(msg)
    session.flush()
    r = rules(session).notifications
    channels = [c for c in (r.subject_channels if recipient_kind == "subject" else r.department_channels)
                if c != "inbox"]
    if channels:
        who: dict[str, Any] = ({"who": "subject", "channels": channels} if recipient_kind == "subject" else
                               {"who": "department", "code": recipient, "channels": channels})
        alerts_service.notify(session, recipients=[who], title=body.split("。")[0][:300], body=body,
                              subject_id=subject_id, department=recipient if recipient_kind == "department" else None,
                              key=f"{ref_kind}:{ref_id}:{topic}:{recipient_kind}:{recipient}",
                              payload={"topic": topic, "ref": f"{ref_kind}:{ref_id}"})
    return msg


def _tell_subject(session: Session, subject_id: int, topic: str, body: str, ref_kind: str, ref_id: int) -> None:
    notify(session, recipient_kind="subject", recipient=str(subject_id), subject_id=subject_id, topic=topic,
           body=body, ref_kind=ref_kind, ref_id=ref_id)


def _tell_department(session: Session, department: str, subject_id: int, topic: str, body: str,
                     ref_kind: str, ref_id: int) -> None:
    notify(session, recipient_kind="department", recipient=department, subject_id=subject_id, topic=topic,
           body=body, ref_kind=ref_kind, ref_id=ref_id)


def inbox(session: Session, *, recipient_kind: str, recipient: str, limit: int = 100) -> list[InboxMessage]:
    q = (select(InboxMessage).where(InboxMessage.recipient_kind == recipient_kind,
                                    InboxMessage.recipient == recipient)
         .order_by(InboxMessage.id.desc()).limit(limit))
    return list(session.execute(q).scalars())


def message_dict(m: InboxMessage) -> dict[str, Any]:
    return {"id": m.id, "to": f"{m.recipient_kind}:{m.recipient}", "subject_id": m.subject_id, "topic": m.topic,
            "body": m.body, "ref": f"{m.ref_kind}:{m.ref_id}" if m.ref_kind else None,
            "at": m.created_at.isoformat(timespec="seconds"), "read": m.read_at is not None}


def files_dir_for(url: str) -> Path:
    """Where materials are kept: `$CREDITGOV_FILES_DIR`, else beside a SQLite file
    (`<db>.files/`), else `./creditgov-files/`."""
    env = os.environ.get("CREDITGOV_FILES_DIR")
    if env:
        return Path(env).resolve()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///") + ".files").resolve()
    return Path("creditgov-files").resolve()


def store_materials(session: Session, *, owner_kind: str, owner_id: int, files: Sequence[Path],
                    files_dir: Path | None, actor: str) -> list[Material]:
    """Copy each file under the files folder by its SHA-256 and record name and hash.
    A file left behind by a rolled-back transaction is harmless: it is addressed by
    content and a later upload of the same bytes reuses it."""
    if not files:
        return []
    if files_dir is None:
        raise InvalidInput("materials were given but no files folder is configured")
    out = []
    for f in files:
        f = Path(f)
        if not f.is_file():
            raise InvalidInput(f"material {f} is not a readable file")
        h = hashlib.sha256()
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        rel = f"{digest[:2]}/{digest}"
        dst = files_dir / rel
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(f".{uuid.uuid4().hex}.tmp")
            shutil.copyfile(f, tmp)
            os.replace(tmp, dst)
        m = Material(owner_kind=owner_kind, owner_id=owner_id, file_name=f.name[:255], sha256=digest,
                     size=f.stat().st_size, stored_as=rel, uploaded_at=clock.now(), actor=actor)
        session.add(m)
        out.append(m)
    session.flush()
    return out


def materials(session: Session, owner_kind: str, owner_id: int) -> list[dict[str, Any]]:
    q = select(Material).where(Material.owner_kind == owner_kind, Material.owner_id == owner_id).order_by(Material.id)
    return [{"file": m.file_name, "sha256": m.sha256, "size": m.size, "stored_as": m.stored_as}
            for m in session.execute(q).scalars()]


def add_materials(session: Session, *, owner_kind: str, owner_id: int, files: Sequence[Path],
                  files_dir: Path | None, actor: str | None = None) -> list[Material]:
    """Materials handed in after filing: more evidence for an objection (also before its
    review), documents for a repair application still being handled. Stored like the
    filing's own, audited, and the unit that holds the case is told."""
    actor = actor or audit.default_actor()
    if not files:
        raise InvalidInput("no material files were given")
    holder: str | None
    if owner_kind == "objection":
        o = _objection(session, owner_id)
        if o.status not in (*OBJECTION_OPEN, "decided"):
            raise InvalidInput(f"objection {owner_id} is {o.status}; no more evidence can be added")
        subject_id = o.subject_id
        holder = {"open": o.department_code, "reviewing": o.review_authority}.get(o.status)
    elif owner_kind == "repair":
        a = _application(session, owner_id)
        if a.status not in REPAIR_OPEN:
            raise InvalidInput(f"repair application {owner_id} is {a.status}; no more materials can be added")
        subject_id = a.subject_id
        holder = rules(session).repair.intake_unit if a.status == "submitted" else a.department_code
    else:
        raise InvalidInput("materials belong to an 'objection' or a 'repair'")
    rows = store_materials(session, owner_kind=owner_kind, owner_id=owner_id, files=files, files_dir=files_dir,
                           actor=actor)
    audit.append(session, action=f"{owner_kind}.materials", actor=actor, subject_id=subject_id,
                 detail={owner_kind: owner_id, "materials": [{"file": m.file_name, "sha256": m.sha256,
                                                              "size": m.size} for m in rows]})
    if holder:
        what = "异议" if owner_kind == "objection" else "信用修复申请"
        _tell_department(session, holder, subject_id, f"{owner_kind}.materials",
                         f"{what} {owner_id} 补充了材料: {', '.join(m.file_name for m in rows)}。", owner_kind, owner_id)
    return rows


def material_file(session: Session, *, owner_kind: str, owner_id: int, sha256: str, files_dir: Path,
                  subject_id: int | None, actor: str | None = None) -> tuple[Material, Path]:
    """One material of a case and the file holding its bytes. Materials are personal
    (ID cards, letters), so each read is audited."""
    actor = actor or audit.default_actor()
    m = session.execute(select(Material).where(Material.owner_kind == owner_kind, Material.owner_id == owner_id,
                                               Material.sha256 == sha256).order_by(Material.id).limit(1)).scalar()
    if m is None:
        raise NotFound(f"{owner_kind} {owner_id} has no material {sha256[:12]}…")
    path = files_dir / m.stored_as
    if not path.is_file():
        raise NotFound(f"the bytes of {m.file_name} are missing from the files folder")
    audit.append(session, action="material.read", actor=actor, subject_id=subject_id,
                 detail={owner_kind: owner_id, "file": m.file_name, "sha256": m.sha256})
    return m, path


def _subject(session: Session, subject_id: int) -> Subject:
    s = session.get(Subject, subject_id)
    if s is None:
        raise NotFound(f"subject {subject_id} not found")
    return s


def record_versions(session: Session, rec: CreditRecord) -> list[int]:
    """Ids of every version of a record (same natural key): a share, a list entry or an
    application may point at any of them."""
    return list(session.execute(select(CreditRecord.id).where(CreditRecord.natural_key == rec.natural_key)
                                .order_by(CreditRecord.version)).scalars())


# ----------------------------------------------------------------------------- exchange outbox


def record_share(session: Session, *, record_id: int, recipient: str, ref: str | None = None) -> RecordShare:
    """Log that a record went to a recipient (the exchange calls this as it pushes)."""
    _record(session, record_id)
    row = session.execute(select(RecordShare).where(RecordShare.record_id == record_id,
                                                    RecordShare.recipient == recipient)).scalar_one_or_none()
    if row is None:
        row = RecordShare(record_id=record_id, recipient=recipient, shared_at=clock.now(), ref=ref)
        session.add(row)
        session.flush()
    return row


def recipients_of(session: Session, rec: CreditRecord) -> list[str]:
    """Every place the record went: logged shares of any of its versions, plus the
    places its data class always reaches (the upper platform for public data)."""
    item = _item(session, rec.item_code)
    places = set(rules(session).exchange.recipients_by_data_class.get(item.data_class, []))  # type: ignore[call-overload]
    ids = record_versions(session, rec)
    places |= set(session.execute(select(RecordShare.recipient).where(RecordShare.record_id.in_(ids))).scalars())
    return sorted(places)


def queue_exchange(session: Session, *, rec: CreditRecord, kind: str, cause: str,
                   payload: dict[str, Any] | None = None) -> list[ExchangePackage]:
    """One package per place the record went; queuing the same change twice adds nothing."""
    out = []
    for recipient in recipients_of(session, rec):
        row = session.execute(select(ExchangePackage).where(
            ExchangePackage.record_id == rec.id, ExchangePackage.recipient == recipient,
            ExchangePackage.kind == kind, ExchangePackage.cause == cause)).scalar_one_or_none()
        if row is None:
            body = {"record_id": rec.id, "natural_key": rec.natural_key, "version": rec.version,
                    "item": rec.item_code, "status": rec.status, "document_no": rec.document_no,
                    "on": clock.today().isoformat(), **(payload or {})}
            row = ExchangePackage(record_id=rec.id, subject_id=rec.subject_id, natural_key=rec.natural_key,
                                  recipient=recipient, kind=kind, cause=cause, payload=body, status="queued",
                                  created_at=clock.now())
            session.add(row)
            session.flush()
        out.append(row)
    return out


def outbox(session: Session, *, status: str | None = "queued", limit: int = 200) -> list[ExchangePackage]:
    q = select(ExchangePackage).order_by(ExchangePackage.id).limit(limit)
    if status:
        q = q.where(ExchangePackage.status == status)
    return list(session.execute(q).scalars())


def package_dict(p: ExchangePackage) -> dict[str, Any]:
    return {"id": p.id, "record_id": p.record_id, "subject_id": p.subject_id, "recipient": p.recipient,
            "kind": p.kind, "cause": p.cause, "status": p.status, "payload": p.payload,
            "created_at": p.created_at.isoformat(timespec="seconds")}


# ----------------------------------------------------------------------------- objection


def _objection(session: Session, objection_id: int) -> Objection:
    o = session.get(Objection, objection_id)
    if o is None:
        raise NotFound(f"objection {objection_id} not found")
    return o


def file_objection(session: Session, *, subject_id: int, record_ids: Sequence[int], reason: str,
                   channel: str = "self", evidence: Sequence[Path] = (), files_dir: Path | None = None,
                   actor: str | None = None) -> list[Objection]:
    """Receive an objection: each named record is marked disputed at once (withheld
    from publication and evaluation while the case is open) and routed to the
    department that supplied it, due in the configured working days."""
    actor = actor or audit.default_actor()
    if channel not in ("self", "window"):
        raise InvalidInput("channel is 'self' (the subject) or 'window' (staff on its behalf)")
    if not reason.strip():
        raise InvalidInput("an objection needs its reasons")
    if not record_ids:
        raise InvalidInput("name at least one record")
    _subject(session, subject_id)
    r = rules(session)
    cal = calendar.load(session)
    today = clock.today()
    due = cal.add_working_days(today, r.objection.handling_working_days)
    filing_no = f"YY-{today:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    out = []
    for rid in dict.fromkeys(record_ids):
        rec = _record(session, rid, lock=True)
        if rec.subject_id != subject_id:
            raise InvalidInput(f"record {rid} is not in this subject's file")
        if not rec.is_current:
            raise InvalidInput(f"record {rid} is an old version; object to the current one")
        if rec.status == "disputed":
            raise InvalidInput(f"record {rid} is already under objection")
        if rec.status != "active":
            raise InvalidInput(f"record {rid} is {rec.status}; only a record in force can be contested")
        now = clock.now()
        o = Objection(filing_no=filing_no, subject_id=subject_id, record_id=rec.id,
                      department_code=rec.department_code, channel=channel, filed_by=actor, reason=reason.strip(),
                      received_on=today, due_on=due, status="open", created_at=now, updated_at=now)
        session.add(o)
        session.flush()
        records_service.change_status(session, record_id=rec.id, to_status="disputed", actor=actor,
                                      reason=f"objection {o.id} received ({filing_no})")
        store_materials(session, owner_kind="objection", owner_id=o.id, files=evidence, files_dir=files_dir,
                        actor=actor)
        audit.append(session, action="objection.file", actor=actor, subject_id=subject_id,
                     detail={"objection": o.id, "filing": filing_no, "record": rec.id, "channel": channel,
                             "department": rec.department_code, "due_on": due.isoformat(),
                             "evidence": [Path(f).name for f in evidence]})
        _tell_subject(session, subject_id, "objection.received",
                      f"异议 {o.id} 已受理: 记录 {rec.id} 已标注为异议, 暂停公示和评价使用; "
                      f"由 {rec.department_code} 在 {due.isoformat()} 前处理。", "objection", o.id)
        _tell_department(session, rec.department_code, subject_id, "objection.assigned",
                         f"异议 {o.id}: 记录 {rec.id} ({rec.item_code}) 被提出异议, 请在 {due.isoformat()} 前作出处理"
                         f"(更正/删除/维持)。理由: {reason.strip()}", "objection", o.id)
        out.append(o)
    return out


def extend_objection(session: Session, *, objection_id: int, reason: str, department: str,
                     actor: str | None = None) -> Objection:
    """The one extension: the deadline moves to the maximum total working days from
    receipt. Asked before the first deadline passes, with the reason."""
    actor = actor or audit.default_actor()
    o = _objection(session, objection_id)
    r = rules(session).objection
    if department != o.department_code:
        raise InvalidInput(f"objection {objection_id} is handled by {o.department_code!r}, not {department!r}")
    if o.status != "open":
        raise InvalidInput(f"objection {objection_id} is {o.status}; only an open objection can be extended")
    if r.extensions < 1 or o.extended_on is not None:
        raise InvalidInput(f"objection {objection_id} was already extended on {o.extended_on}; "
                           f"the rules allow {r.extensions} extension")
    if not reason.strip():
        raise InvalidInput("an extension needs its reason")
    today = clock.today()
    if today > o.due_on:
        raise InvalidInput(f"objection {objection_id} was due on {o.due_on}; an extension must come before that")
    due = calendar.load(session).add_working_days(o.received_on, r.max_total_working_days)
    _claim(session, Objection, o.id, ("open",), {"due_on": due, "extended_on": today,
                                                  "extension_reason": reason.strip()}, "objection")
    o = _objection(session, objection_id)
    audit.append(session, action="objection.extend", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "due_on": due.isoformat(), "reason": reason.strip()})
    _tell_subject(session, o.subject_id, "objection.extended",
                  f"异议 {o.id} 处理期限延长至 {due.isoformat()}。理由: {reason.strip()}", "objection", o.id)
    return o


CORRECTABLE = ("occurred_on", "decided_on", "value", "grade", "text", "document_no")


def parse_corrections(corrections: dict[str, str] | None) -> dict[str, Any]:
    """Check a correction before anything moves: which fields, and typed values."""
    if not corrections:
        raise InvalidInput("a correction names what changes, e.g. text=… or value=…")
    unknown = set(corrections) - set(CORRECTABLE)
    if unknown:
        raise InvalidInput(f"cannot correct {sorted(unknown)}; correctable: {list(CORRECTABLE)}")
    out: dict[str, Any] = {}
    for k, v in corrections.items():
        if k in ("occurred_on", "decided_on"):
            try:
                out[k] = dt.date.fromisoformat(v) if v else None
            except ValueError:
                raise InvalidInput(f"{k}: {v!r} is not a date (YYYY-MM-DD)") from None
        elif k == "value":
            try:
                out[k] = Decimal(v) if v else None
            except InvalidOperation:
                raise InvalidInput(f"value: {v!r} is not a number") from None
        else:
            out[k] = v or None
    if "occurred_on" in out and out["occurred_on"] is None:
        raise InvalidInput("occurred_on cannot be empty")
    return out


def _corrected_version(session: Session, rec: CreditRecord, corrections: dict[str, str], *, cause: str,
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


def _apply_outcome(session: Session, *, o: Objection, rec: CreditRecord, outcome: str, reason: str,
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
    new = _corrected_version(session, rec, corrections or {}, cause=f"objection:{o.id}", actor=actor)
    queue_exchange(session, rec=new, kind="record.corrected", cause=f"objection:{o.id}",
                   payload={"supersedes": rec.id, "corrections": corrections})
    return new


def decide_objection(session: Session, *, objection_id: int, outcome: str, reason: str, department: str,
                     corrections: dict[str, str] | None = None, actor: str | None = None) -> Objection:
    """The supplying department decides: corrected (a new version), deleted (revoked)
    or upheld (back in force). Always with the reason the subject is told."""
    actor = actor or audit.default_actor()
    if outcome not in OBJECTION_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {list(OBJECTION_OUTCOMES)}")
    if not reason.strip():
        raise InvalidInput("a decision needs its reason")
    o = _objection(session, objection_id)
    if department != o.department_code:
        raise InvalidInput(f"objection {objection_id} is decided by {o.department_code!r} (who supplied the "
                           f"record), not {department!r}")
    if outcome == "corrected":
        parse_corrections(corrections)
    today = clock.today()
    _claim(session, Objection, o.id, ("open",), {"status": "decided", "outcome": outcome,
                                                  "decision_reason": reason.strip(), "decided_on": today,
                                                  "decided_by": actor}, "objection")
    o = _objection(session, objection_id)
    rec = _record(session, o.record_id, lock=True)
    after = _apply_outcome(session, o=o, rec=rec, outcome=outcome, reason=reason.strip(), corrections=corrections,
                           actor=actor, stage="decided")
    if after.id != rec.id:
        o.result_record_id = after.id
    session.flush()
    r = rules(session).objection
    late = today > o.due_on
    audit.append(session, action="objection.decide", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "outcome": outcome, "reason": reason.strip(), "record": rec.id,
                         "result_record": o.result_record_id, "due_on": o.due_on.isoformat(), "late": late})
    review = (f" 如不服, 可在收到本决定后申请复核(限 {r.reviews} 次)。" if r.reviews else "")
    _tell_subject(session, o.subject_id, f"objection.{outcome}",
                  f"异议 {o.id} 处理结果: {outcome}。理由: {reason.strip()}。{review}", "objection", o.id)
    return o


def request_review(session: Session, *, objection_id: int, reason: str, actor: str | None = None) -> Objection:
    """The one review (复核) of a decision that went against the subject: the record in
    force is marked disputed again while the review authority looks at it."""
    actor = actor or audit.default_actor()
    o = _objection(session, objection_id)
    r = rules(session)
    if r.objection.reviews < 1:
        raise InvalidInput("the rules in force allow no review")
    if o.status != "decided":
        raise InvalidInput(f"objection {objection_id} is {o.status}; a review follows a decision, once")
    if o.outcome == "deleted":
        raise InvalidInput(f"objection {objection_id} was decided in the subject's favour (deleted)")
    if not reason.strip():
        raise InvalidInput("a review request needs its reasons")
    today = clock.today()
    due = calendar.load(session).add_working_days(today, r.objection.review_working_days)
    target_id = o.result_record_id or o.record_id
    _claim(session, Objection, o.id, ("decided",), {"status": "reviewing", "review_requested_on": today,
                                                     "review_reason": reason.strip(), "review_due_on": due,
                                                     "review_authority": r.objection.review_authority,
                                                     "overdue_alerted_on": None}, "objection")
    o = _objection(session, objection_id)
    rec = _record(session, target_id, lock=True)
    if rec.status == "active" and rec.is_current:
        records_service.change_status(session, record_id=rec.id, to_status="disputed", actor=actor,
                                      reason=f"objection {o.id}: review requested")
    audit.append(session, action="objection.review", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "record": rec.id, "due_on": due.isoformat(), "reason": reason.strip(),
                         "authority": r.objection.review_authority})
    _tell_subject(session, o.subject_id, "objection.review",
                  f"异议 {o.id} 复核申请已受理, {r.objection.review_authority} 在 {due.isoformat()} 前答复。",
                  "objection", o.id)
    _tell_department(session, r.objection.review_authority, o.subject_id, "objection.review",
                     f"异议 {o.id} 申请复核 (原处理: {o.outcome}, {o.department_code}), 请在 {due.isoformat()} 前答复。"
                     f"理由: {reason.strip()}", "objection", o.id)
    return o


def decide_review(session: Session, *, objection_id: int, outcome: str, reason: str, unit: str,
                  corrections: dict[str, str] | None = None, actor: str | None = None) -> Objection:
    """The review authority's final word, with the same three outcomes."""
    actor = actor or audit.default_actor()
    if outcome not in OBJECTION_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {list(OBJECTION_OUTCOMES)}")
    if not reason.strip():
        raise InvalidInput("a review decision needs its reason")
    o = _objection(session, objection_id)
    if o.status == "reviewing" and unit != o.review_authority:
        raise InvalidInput(f"the review of objection {objection_id} is for {o.review_authority!r}, not {unit!r}")
    if outcome == "corrected":
        parse_corrections(corrections)
    target_id = o.result_record_id or o.record_id
    rec = _record(session, target_id, lock=True)
    if rec.status != "disputed" and outcome != "upheld":
        raise InvalidInput(f"record {rec.id} is {rec.status}; the review cannot {outcome} it")
    _claim(session, Objection, o.id, ("reviewing",), {"status": "reviewed", "review_outcome": outcome,
                                                       "review_decision_reason": reason.strip(),
                                                       "review_decided_on": clock.today(),
                                                       "review_decided_by": actor}, "objection")
    o = _objection(session, objection_id)
    rec = _record(session, target_id)
    if rec.status == "disputed":
        after = _apply_outcome(session, o=o, rec=rec, outcome=outcome, reason=reason.strip(),
                               corrections=corrections, actor=actor, stage="reviewed")
        if after.id != rec.id:
            o.result_record_id = after.id
    session.flush()
    audit.append(session, action="objection.review.decide", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "outcome": outcome, "reason": reason.strip(), "record": rec.id,
                         "result_record": o.result_record_id})
    _tell_subject(session, o.subject_id, f"objection.review.{outcome}",
                  f"异议 {o.id} 复核结果: {outcome}。理由: {reason.strip()}。复核为最终处理。", "objection", o.id)
    return o


def withdraw_objection(session: Session, *, objection_id: int, reason: str, actor: str | None = None) -> Objection:
    """The subject withdraws an open objection: the record returns to force."""
    actor = actor or audit.default_actor()
    o = _objection(session, objection_id)
    target_id = o.result_record_id or o.record_id
    _claim(session, Objection, o.id, OBJECTION_OPEN, {"status": "withdrawn"}, "objection")
    o = _objection(session, objection_id)
    rec = _record(session, target_id, lock=True)
    if rec.status == "disputed":
        records_service.change_status(session, record_id=rec.id, to_status="active", actor=actor,
                                      reason=f"objection {o.id} withdrawn: {reason.strip() or 'no reason given'}")
    audit.append(session, action="objection.withdraw", actor=actor, subject_id=o.subject_id,
                 detail={"objection": o.id, "reason": reason.strip()})
    return o


Case = TypeVar("Case", Objection, RepairApplication)


def _cases(session: Session, model: type[Case], *, subject_id: int | None, status: str | Sequence[str] | None,
           department: str | None, limit: int) -> list[Case]:
    """Objections or repair applications, newest first; `status` is one or several."""
    q = select(model).order_by(model.id.desc()).limit(limit)
    if subject_id is not None:
        q = q.where(model.subject_id == subject_id)
    if isinstance(status, str):
        q = q.where(model.status == status)
    elif status:
        q = q.where(model.status.in_(tuple(status)))
    if department:
        q = q.where(model.department_code == department)
    return list(session.execute(q).scalars())


def objections(session: Session, *, subject_id: int | None = None, status: str | Sequence[str] | None = None,
               department: str | None = None, limit: int = 200) -> list[Objection]:
    """Objections, newest first; `status` is one status or several (e.g. OBJECTION_OPEN)."""
    return _cases(session, Objection, subject_id=subject_id, status=status, department=department, limit=limit)


def objection_deadline(o: Objection) -> dt.date | None:
    """The date the open stage must be answered by (None when nothing is pending)."""
    if o.status == "open":
        return o.due_on
    if o.status == "reviewing":
        return o.review_due_on
    return None


def objection_dict(session: Session, o: Objection, today: dt.date | None = None,
                   cal: calendar.WorkCalendar | None = None) -> dict[str, Any]:
    """An objection for output; pass `cal` when listing many (one read of the overrides)."""
    today = today or clock.today()
    deadline = objection_deadline(o)
    cal = cal or calendar.load(session)
    left = None
    if deadline is not None:
        left = cal.working_days_between(today, deadline) if deadline >= today else -cal.working_days_between(
            deadline, today)
    return {
        "id": o.id, "filing_no": o.filing_no, "subject_id": o.subject_id, "record_id": o.record_id,
        "department": o.department_code, "channel": o.channel, "filed_by": o.filed_by, "reason": o.reason,
        "received_on": _iso(o.received_on), "due_on": _iso(o.due_on), "extended_on": _iso(o.extended_on),
        "extension_reason": o.extension_reason, "status": o.status, "outcome": o.outcome,
        "decision_reason": o.decision_reason, "decided_on": _iso(o.decided_on), "decided_by": o.decided_by,
        "result_record_id": o.result_record_id,
        "review": None if o.review_requested_on is None else {
            "requested_on": _iso(o.review_requested_on), "reason": o.review_reason, "due_on": _iso(o.review_due_on),
            "authority": o.review_authority, "outcome": o.review_outcome, "decision_reason": o.review_decision_reason,
            "decided_on": _iso(o.review_decided_on), "decided_by": o.review_decided_by},
        "deadline": _iso(deadline), "working_days_left": left,
        "overdue": deadline is not None and today > deadline,
        "evidence": materials(session, "objection", o.id),
    }


# ----------------------------------------------------------------------------- repair: schedule


@dataclass
class Schedule:
    """A negative record's repair dates, all from the catalogue's periods."""

    record_id: int
    item: str
    tier: str | None
    min_months: int
    max_months: int | None
    publication_start: dt.date
    repairable_from: dt.date
    publication_ends: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "item": self.item, "tier": self.tier, "min_months": self.min_months,
                "max_months": self.max_months, "publication_start": self.publication_start.isoformat(),
                "repairable_from": self.repairable_from.isoformat(),
                "publication_ends": _iso(self.publication_ends)}


def schedule_of(rec: CreditRecord, item: CatalogItem) -> Schedule:
    """Periods count from the publication date (published_from; else the decision or
    occurrence date, as ingestion does)."""
    start = rec.published_from or rec.decided_on or rec.occurred_on
    lo = item.min_publication_months or 0
    hi = item.max_publication_months
    return Schedule(rec.id, rec.item_code, item.severity, lo, hi, start, clock.add_months(start, lo),
                    clock.add_months(start, hi) if hi is not None else None)


def repair_schedule(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """Every current negative record of a subject with its tier, the date repair can
    be applied for and the date its publication ends."""
    q = (select(CreditRecord, CatalogItem).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True),
                CatalogItem.polarity == "negative")
         .order_by(CreditRecord.occurred_on, CreditRecord.id))
    today = clock.today()
    out = []
    for rec, item in session.execute(q):
        sch = schedule_of(rec, item)
        out.append({**sch.as_dict(), "item_name": item.name_zh, "status": rec.status,
                    "occurred_on": rec.occurred_on.isoformat(), "department": rec.department_code,
                    "repairable_now": rec.status in ("active", "expired") and today >= sch.repairable_from})
    return out


# ----------------------------------------------------------------------------- repair: conditions and eligibility


def record_condition(session: Session, *, kind: str, subject_id: int, record_id: int | None = None,
                     department: str | None = None, note: str | None = None, met_on: dt.date | None = None,
                     actor: str | None = None) -> RepairCondition:
    """Record a repair condition as met: a record's obligations fulfilled (by the
    department that supplied it, or the credit office on seeing the proof) or a
    training attended. `department` is the unit that records it (default: the
    supplier for obligations)."""
    actor = actor or audit.default_actor()
    if met_on is not None and met_on > clock.today():
        raise InvalidInput(f"a condition is recorded once met: {met_on.isoformat()} is after today")
    if kind == "obligations-fulfilled":
        if record_id is None:
            raise InvalidInput("obligations are fulfilled for a record: name it")
        rec = _record(session, record_id)
        if rec.subject_id != subject_id:
            raise InvalidInput(f"record {record_id} is not in this subject's file")
        office = rules(session).credit_office
        if department is not None and department not in (rec.department_code, office):
            raise InvalidInput(f"record {record_id} was supplied by {rec.department_code!r}; that department "
                               f"or the credit office ({office!r}) records its obligations as fulfilled, "
                               f"not {department!r}")
        department = department or rec.department_code
    elif kind == "training":
        _subject(session, subject_id)
        if not (note and note.strip()):
            raise InvalidInput("a training needs its name (note)")
    else:
        raise InvalidInput("kind is 'obligations-fulfilled' or 'training'")
    row = RepairCondition(kind=kind, subject_id=subject_id, record_id=record_id, met_on=met_on or clock.today(),
                          department_code=department, note=(note or "").strip() or None, actor=actor,
                          created_at=clock.now())
    session.add(row)
    session.flush()
    audit.append(session, action=f"repair.condition.{kind}", actor=actor, subject_id=subject_id,
                 detail={"condition": row.id, "record": record_id, "department": department,
                         "met_on": row.met_on.isoformat(), "note": row.note})
    return row


def obligations_fulfilled(session: Session, rec: CreditRecord, on: dt.date) -> dt.date | None:
    """When the obligations of a record (any version) were recorded as fulfilled."""
    ids = record_versions(session, rec)
    return session.execute(select(RepairCondition.met_on).where(
        RepairCondition.kind == "obligations-fulfilled", RepairCondition.record_id.in_(ids),
        RepairCondition.met_on <= on).order_by(RepairCondition.met_on).limit(1)).scalar()


def _training(session: Session, rec: CreditRecord, on: dt.date) -> dt.date | None:
    return session.execute(select(RepairCondition.met_on).where(
        RepairCondition.kind == "training", RepairCondition.subject_id == rec.subject_id,
        RepairCondition.met_on >= rec.occurred_on, RepairCondition.met_on <= on)
        .order_by(RepairCondition.met_on).limit(1)).scalar()


@dataclass
class Eligibility:
    record_id: int
    tier: str | None
    eligible: bool
    eligible_from: dt.date
    publication_ends: dt.date | None
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return [c["detail"] for c in self.checks if not c["met"]]

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "tier": self.tier, "eligible": self.eligible,
                "eligible_from": self.eligible_from.isoformat(), "publication_ends": _iso(self.publication_ends),
                "checks": self.checks}


def tier_rules(r: RulesFile, tier: str | None) -> TierRules:
    return r.repair.tiers[tier or "general"]  # type: ignore[index]


def eligibility(session: Session, *, record_id: int, on: dt.date | None = None) -> Eligibility:
    """Check every condition of repair for one record, automatically: the minimum
    period (from the catalogue), obligations recorded as fulfilled, a credit
    commitment signed, and training where the tier's rules require it."""
    on = on or clock.today()
    rec = _record(session, record_id)
    item = _item(session, rec.item_code)
    if item.polarity != "negative":
        raise InvalidInput(f"record {record_id} is not a negative record; there is nothing to repair")
    if not rec.is_current:
        raise InvalidInput(f"record {record_id} is an old version; apply for the current one")
    if rec.status in ("repaired", "revoked"):
        raise InvalidInput(f"record {record_id} is already {rec.status}")
    if rec.status == "disputed":
        raise InvalidInput(f"record {record_id} is under objection; repair waits for the decision")
    sch = schedule_of(rec, item)
    r = rules(session)
    tr = tier_rules(r, item.severity)
    checks: list[dict[str, Any]] = []
    period_ok = on >= sch.repairable_from
    checks.append({"condition": "minimum-period", "met": period_ok,
                   "detail": (f"the minimum publication of {sch.min_months} months ({item.severity}) "
                              f"{'ended' if period_ok else 'ends'} on {sch.repairable_from.isoformat()}"
                              + ("" if period_ok else f": repair can be applied for from {sch.repairable_from}"))})
    if tr.obligations_required:
        when = obligations_fulfilled(session, rec, on)
        checks.append({"condition": "obligations-fulfilled", "met": when is not None,
                       "detail": (f"obligations recorded as fulfilled on {when}" if when else
                                  f"no record that the obligations are fulfilled ({rec.department_code} records it)")})
    if tr.commitment_required:
        signed = commitments_service.has_signed(session, subject_id=rec.subject_id,
                                                type=r.repair.commitment_type, on=on)
        checks.append({"condition": "commitment", "met": signed,
                       "detail": (f"a {r.repair.commitment_type} commitment is signed" if signed else
                                  f"no signed {r.repair.commitment_type} commitment (信用修复承诺书)")})
    if tr.training_required:
        when = _training(session, rec, on)
        checks.append({"condition": "training", "met": when is not None,
                       "detail": f"training attended on {when}" if when else "no training attended since the record"})
    ok = all(c["met"] for c in checks)
    return Eligibility(rec.id, item.severity, ok, sch.repairable_from, sch.publication_ends, checks)


# ----------------------------------------------------------------------------- repair: conditions for the API and pages

CONDITION_KINDS = ("obligations-fulfilled", "training", "commitment")


def _repairable(session: Session, record_id: int) -> tuple[CreditRecord, CatalogItem]:
    """A record whose repair conditions can still be recorded: the current version of a
    negative record, not repaired or revoked (a disputed or expired one can)."""
    rec = _record(session, record_id)
    item = _item(session, rec.item_code)
    if item.polarity != "negative":
        raise InvalidInput(f"record {record_id} is not a negative record; there is nothing to repair")
    if not rec.is_current:
        raise InvalidInput(f"record {record_id} is an old version; record conditions on the current one")
    if rec.status in ("repaired", "revoked"):
        raise InvalidInput(f"record {record_id} is already {rec.status}")
    return rec, item


def condition_units(session: Session, rec: CreditRecord) -> dict[str, list[str]]:
    """Who records each condition of a record: the supplying department or the credit
    office confirm obligations and training; the subject signs its commitment itself
    (`subject`), or the credit office's window records a commitment signed there."""
    office = rules(session).credit_office
    officers = list(dict.fromkeys((rec.department_code, office)))
    return {"obligations-fulfilled": officers, "training": officers, "commitment": ["subject", office]}


def repair_conditions(session: Session, *, record_id: int, on: dt.date | None = None) -> dict[str, Any]:
    """Every condition of repair one can record for a record, with what is recorded:
    obligations fulfilled (any version of the record), training attended (the
    subject's, counting from the record's date), the credit-repair commitments the
    subject signed; each with whether the tier requires it, whether it is met today
    (as `eligibility` counts it) and who records it; and the commitment's text as it
    would be signed today."""
    on = on or clock.today()
    rec = _record(session, record_id)
    item = _item(session, rec.item_code)
    if item.polarity != "negative":
        raise InvalidInput(f"record {record_id} is not a negative record; there is nothing to repair")
    r = rules(session)
    tr = tier_rules(r, item.severity)
    units = condition_units(session, rec)
    versions = record_versions(session, rec)
    obligations = [{"id": c.id, "kind": c.kind, "met_on": c.met_on.isoformat(), "unit": c.department_code,
                    "note": c.note, "counts": c.met_on <= on}
                   for c in session.execute(select(RepairCondition).where(
                       RepairCondition.kind == "obligations-fulfilled", RepairCondition.record_id.in_(versions))
                       .order_by(RepairCondition.met_on, RepairCondition.id)).scalars()]
    trainings = [{"id": c.id, "kind": c.kind, "met_on": c.met_on.isoformat(), "unit": c.department_code,
                  "note": c.note, "counts": rec.occurred_on <= c.met_on <= on}
                 for c in session.execute(select(RepairCondition).where(
                     RepairCondition.kind == "training", RepairCondition.subject_id == rec.subject_id)
                     .order_by(RepairCondition.met_on, RepairCondition.id)).scalars()]
    signed = [{"id": c.id, "kind": "commitment", "met_on": c.signed_on.isoformat(), "unit": None, "note": None,
               "signed_by": c.signed_by, "status": c.status, "text": c.text,
               "counts": c.status in ("signed", "fulfilled") and c.signed_on <= on}
              for c in commitments_service.of_subject(session, rec.subject_id) if c.type == r.repair.commitment_type]
    ob_on = obligations_fulfilled(session, rec, on)
    tr_on = _training(session, rec, on)
    cm = [c for c in signed if c["counts"]]
    conditions = [
        {"condition": "obligations-fulfilled", "required": tr.obligations_required, "met": ob_on is not None,
         "met_on": _iso(ob_on), "recorded_by": units["obligations-fulfilled"], "entries": obligations},
        {"condition": "training", "required": tr.training_required, "met": tr_on is not None,
         "met_on": _iso(tr_on), "recorded_by": units["training"], "entries": trainings},
        {"condition": "commitment", "required": tr.commitment_required,
         "met": commitments_service.has_signed(session, subject_id=rec.subject_id, type=r.repair.commitment_type,
                                               on=on),
         "met_on": cm[0]["met_on"] if cm else None, "recorded_by": units["commitment"], "entries": signed},
    ]
    try:
        t = commitments_service.template_of_type(session, r.repair.commitment_type)
        text, due = commitments_service.signing_text(t, on)
        commitment = {"template": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "text": text,
                      "due_on": _iso(due), "legal_basis": t.legal_basis}
    except NotFound:
        commitment = None
    return {"record_id": rec.id, "subject_id": rec.subject_id, "tier": item.severity,
            "department": rec.department_code, "credit_office": r.credit_office,
            "open": rec.is_current and rec.status not in ("repaired", "revoked"),
            "conditions": conditions, "commitment": commitment}


def sign_repair_commitment(session: Session, *, subject_id: int, unit: str | None, agreed: bool,
                           signed_by: str | None = None, actor: str | None = None) -> Any:
    """The credit-repair commitment (信用修复承诺书), signed today from the template of
    the rules' `commitment_type`: by the subject itself (`unit` None) or recorded by the
    credit office's window (then `signed_by`, who signed, is required). One in force
    is enough; a second is refused."""
    actor = actor or audit.default_actor()
    r = rules(session)
    if unit is not None and unit != r.credit_office:
        raise InvalidInput(f"a credit-repair commitment is the subject's own: it signs it itself, or at the credit "
                           f"office's window ({r.credit_office!r}); {unit!r} does not sign it")
    if not agreed:
        raise InvalidInput("read the commitment's text and agree to it before signing")
    if unit is not None and not (signed_by and signed_by.strip()):
        raise InvalidInput("a commitment signed at the window names who signed it (signed_by)")
    _subject(session, subject_id)
    in_force = [c for c in commitments_service.of_subject(session, subject_id)
                if c.type == r.repair.commitment_type and c.status in ("signed", "fulfilled")]
    if in_force:
        c = in_force[0]
        raise InvalidInput(f"a {r.repair.commitment_type} commitment is already signed "
                           f"(commitment {c.id}, {c.signed_on.isoformat()})")
    t = commitments_service.template_of_type(session, r.repair.commitment_type)
    c = commitments_service.sign(session, subject_id=subject_id, template_code=t.code,
                                 signed_by=(signed_by or "").strip() or None, scenario="credit-repair", actor=actor)
    if unit is not None:
        _tell_subject(session, subject_id, "repair.commitment",
                      f"信用修复承诺书已在 {unit} 窗口签署 (承诺 {c.id}, 签署人 {c.signed_by}), "
                      f"承诺期至 {_iso(c.due_on) or '—'}。", "commitment", c.id)
    return c


def record_repair_condition(session: Session, *, record_id: int, kind: str, unit: str | None,
                            met_on: dt.date | None = None, note: str | None = None, signed_by: str | None = None,
                            agreed: bool = False, actor: str | None = None) -> Any:
    """Record one condition of a record's repair, by whoever may: `unit` is the acting
    unit of an officer (a department code or the credit office), None when the subject
    itself acts. Obligations fulfilled and training: the supplying department or the
    credit office, dated (never ahead) with a note — obligations once per record;
    the commitment: see `sign_repair_commitment`. The subject is told of what an
    officer recorded."""
    actor = actor or audit.default_actor()
    if kind not in CONDITION_KINDS:
        raise InvalidInput(f"kind is one of {list(CONDITION_KINDS)}")
    rec, _item_ = _repairable(session, record_id)
    if kind == "commitment":
        if met_on is not None and met_on != clock.today():
            raise InvalidInput("a commitment is signed today; it takes no other date")
        return sign_repair_commitment(session, subject_id=rec.subject_id, unit=unit, agreed=agreed,
                                      signed_by=signed_by, actor=actor)
    allowed = condition_units(session, rec)[kind]
    what = "obligations fulfilled" if kind == "obligations-fulfilled" else "a training attended"
    if unit is None:
        raise InvalidInput(f"{what} is confirmed by the department that supplied record {rec.id} "
                           f"({rec.department_code!r}) or the credit office, not by the subject")
    if unit not in allowed:
        raise InvalidInput(f"record {rec.id} was supplied by {rec.department_code!r}: {what} is confirmed by "
                           f"{' or '.join(repr(u) for u in allowed)}, not {unit!r}")
    if kind == "obligations-fulfilled":
        when = obligations_fulfilled(session, rec, dt.date.max)
        if when is not None:
            raise InvalidInput(f"the obligations of record {rec.id} are already recorded as fulfilled on {when}")
    row = record_condition(session, kind=kind, subject_id=rec.subject_id,
                           record_id=rec.id if kind == "obligations-fulfilled" else None, department=unit,
                           note=note, met_on=met_on, actor=actor)
    label = "履行义务" if kind == "obligations-fulfilled" else "信用修复培训"
    _tell_subject(session, rec.subject_id, f"repair.condition.{kind}",
                  f"记录 {rec.id} 的信用修复条件“{label}”已由 {unit} 登记 ({row.met_on.isoformat()})"
                  + (f": {row.note}" if row.note else "") + "。", "repair-condition", row.id)
    return row


def records_by_reference(session: Session, *, subject_id: int, ref: str) -> list[int]:
    """The current records of a subject a clerk names at the window: by record number,
    or by the document number (文号) on the decision the subject brings."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("name the record: its number or its document number (文号)")
    q = select(CreditRecord.id).where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True))
    if ref.lstrip("#").isdigit() and len(ref) < 11:
        ids = list(session.execute(q.where(CreditRecord.id == int(ref.lstrip("#")))).scalars())
    else:
        # A decision may carry several records: the ones in force (objections contest
        # those); else all, for `file_objection` to say why none can be contested.
        rows = session.execute(select(CreditRecord.id, CreditRecord.status).where(
            CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True),
            CreditRecord.document_no == ref).order_by(CreditRecord.id)).all()
        ids = [i for i, st in rows if st == "active"] or [i for i, _st in rows]
    if not ids:
        raise NotFound(f"no current record {ref!r} in this subject's file")
    return ids


# ----------------------------------------------------------------------------- repair: the procedure


def _application(session: Session, application_id: int) -> RepairApplication:
    a = session.get(RepairApplication, application_id)
    if a is None:
        raise NotFound(f"repair application {application_id} not found")
    return a


def apply_repair(session: Session, *, subject_id: int, record_id: int, applicant: str | None = None,
                 channel: str = "self", materials_files: Sequence[Path] = (), files_dir: Path | None = None,
                 actor: str | None = None) -> RepairApplication:
    """Receive an application. Eligibility is checked at once: an application that
    fails is stored as `refused` with every unmet condition and the date the minimum
    period allows repair; one that passes waits for the intake (10 working days)."""
    actor = actor or audit.default_actor()
    if channel not in ("self", "window"):
        raise InvalidInput("channel is 'self' (the subject) or 'window' (staff on its behalf)")
    rec = _record(session, record_id, lock=True)  # serialises applications for one record
    if rec.subject_id != subject_id:
        raise InvalidInput(f"record {record_id} is not in this subject's file")
    pending = session.execute(select(RepairApplication.id).where(
        RepairApplication.record_id.in_(record_versions(session, rec)),
        RepairApplication.status.in_(REPAIR_OPEN)).limit(1)).scalar()
    if pending is not None:
        raise InvalidInput(f"record {record_id} already has an open repair application ({pending})")
    el = eligibility(session, record_id=record_id)
    r = rules(session)
    today = clock.today()
    now = clock.now()
    a = RepairApplication(subject_id=subject_id, record_id=rec.id, tier=el.tier, channel=channel, applicant=applicant,
                          actor=actor, applied_on=today, eligibility=el.as_dict(), eligible_from=el.eligible_from,
                          publication_ends=el.publication_ends, department_code=rec.department_code,
                          created_at=now, updated_at=now, status="submitted")
    if el.eligible:
        a.intake_due_on = calendar.load(session).add_working_days(today, r.repair.intake_working_days)
    else:
        a.status = "refused"
        a.refusal_reason = "; ".join(el.failures)
        a.decided_on, a.decided_by = today, "automatic eligibility check"
    session.add(a)
    session.flush()
    store_materials(session, owner_kind="repair", owner_id=a.id, files=materials_files, files_dir=files_dir,
                    actor=actor)
    audit.append(session, action="repair.apply", actor=actor, subject_id=subject_id,
                 detail={"application": a.id, "record": rec.id, "tier": el.tier, "status": a.status,
                         "refusal": a.refusal_reason, "intake_due_on": _iso(a.intake_due_on),
                         "materials": [Path(f).name for f in materials_files]})
    if a.status == "refused":
        _tell_subject(session, subject_id, "repair.refused",
                      f"信用修复申请 {a.id} 不符合条件: {a.refusal_reason}", "repair", a.id)
    else:
        _tell_subject(session, subject_id, "repair.received",
                      f"信用修复申请 {a.id} 已受理, {r.repair.intake_unit} 在 {a.intake_due_on} 前转送或答复。",
                      "repair", a.id)
        _tell_department(session, r.repair.intake_unit, subject_id, "repair.intake",
                         f"信用修复申请 {a.id} (记录 {rec.id}, {el.tier}) 待转送 {rec.department_code}, "
                         f"期限 {a.intake_due_on}。", "repair", a.id)
    return a


def forward_repair(session: Session, *, application_id: int, unit: str, actor: str | None = None) -> RepairApplication:
    """The intake forwards the application to the identifying department (谁认定、谁修复),
    whose decision is due in the configured working days from receipt."""
    actor = actor or audit.default_actor()
    r = rules(session)
    if unit != r.repair.intake_unit:
        raise InvalidInput(f"applications are forwarded by the intake ({r.repair.intake_unit!r}), not {unit!r}")
    a = _application(session, application_id)
    today = clock.today()
    due = calendar.load(session).add_working_days(today, r.repair.decision_working_days)
    _claim(session, RepairApplication, a.id, ("submitted",),
           {"status": "forwarded", "forwarded_on": today, "forwarded_by": actor, "decision_due_on": due,
            "overdue_alerted_on": None}, "repair application")
    a = _application(session, application_id)
    audit.append(session, action="repair.forward", actor=actor, subject_id=a.subject_id,
                 detail={"application": a.id, "department": a.department_code, "decision_due_on": due.isoformat()})
    _tell_department(session, a.department_code, a.subject_id, "repair.decide",
                     f"信用修复申请 {a.id} (记录 {a.record_id}) 已转送, 请在 {due.isoformat()} 前作出决定。", "repair", a.id)
    _tell_subject(session, a.subject_id, "repair.forwarded",
                  f"信用修复申请 {a.id} 已转送认定单位 {a.department_code}, {due.isoformat()} 前作出决定。", "repair", a.id)
    return a


def reject_repair(session: Session, *, application_id: int, unit: str, reason: str,
                  actor: str | None = None) -> RepairApplication:
    """A rejection, always with its reason: by the intake while the application waits
    for it (its answer, 答复), or by the identifying department after forwarding."""
    actor = actor or audit.default_actor()
    if not reason.strip():
        raise InvalidInput("a rejection always states its reason")
    a = _application(session, application_id)
    r = rules(session)
    stage = {"submitted": r.repair.intake_unit, "forwarded": a.department_code}.get(a.status)
    if stage is not None and unit != stage:
        raise InvalidInput(f"application {application_id} is {a.status}; {stage!r} answers it now, not {unit!r}")
    _claim(session, RepairApplication, a.id, REPAIR_OPEN,
           {"status": "rejected", "decided_on": clock.today(), "decided_by": actor,
            "decision_reason": reason.strip()}, "repair application")
    a = _application(session, application_id)
    audit.append(session, action="repair.reject", actor=actor, subject_id=a.subject_id,
                 detail={"application": a.id, "unit": unit, "reason": reason.strip()})
    _tell_subject(session, a.subject_id, "repair.rejected",
                  f"信用修复申请 {a.id} 不予修复。理由: {reason.strip()}", "repair", a.id)
    return a


def claim_approval(session: Session, *, application_id: int, department: str, reason: str | None,
                   actor: str) -> RepairApplication:
    """The identifying department approves: the application's own state only. The
    record, lists, evaluation and exchange follow in `flows.approve_repair`."""
    a = _application(session, application_id)
    if department != a.department_code:
        raise InvalidInput(f"application {application_id} is decided by {a.department_code!r} "
                           f"(谁认定、谁修复), not {department!r}")
    if a.status == "submitted":
        raise InvalidInput(f"application {application_id} has not been forwarded by the intake yet")
    _claim(session, RepairApplication, a.id, ("forwarded",),
           {"status": "approved", "decided_on": clock.today(), "decided_by": actor,
            "decision_reason": (reason or "").strip() or "conditions met"}, "repair application")
    return _application(session, application_id)


def repairs(session: Session, *, subject_id: int | None = None, status: str | Sequence[str] | None = None,
            department: str | None = None, limit: int = 200) -> list[RepairApplication]:
    """Repair applications, newest first; `status` is one status or several (e.g. REPAIR_OPEN)."""
    return _cases(session, RepairApplication, subject_id=subject_id, status=status, department=department,
                  limit=limit)


def repair_deadline(a: RepairApplication) -> dt.date | None:
    if a.status == "submitted":
        return a.intake_due_on
    if a.status == "forwarded":
        return a.decision_due_on
    return None


def repair_dict(session: Session, a: RepairApplication, today: dt.date | None = None) -> dict[str, Any]:
    today = today or clock.today()
    deadline = repair_deadline(a)
    return {
        "id": a.id, "subject_id": a.subject_id, "record_id": a.record_id, "tier": a.tier, "channel": a.channel,
        "applicant": a.applicant, "applied_on": _iso(a.applied_on), "status": a.status,
        "eligible_from": _iso(a.eligible_from), "publication_ends": _iso(a.publication_ends),
        "eligibility": a.eligibility, "refusal_reason": a.refusal_reason, "intake_due_on": _iso(a.intake_due_on),
        "forwarded_on": _iso(a.forwarded_on), "department": a.department_code,
        "decision_due_on": _iso(a.decision_due_on), "decided_on": _iso(a.decided_on), "decided_by": a.decided_by,
        "decision_reason": a.decision_reason, "deadline": _iso(deadline),
        "overdue": deadline is not None and today > deadline, "materials": materials(session, "repair", a.id),
    }


# ----------------------------------------------------------------------------- overdue


def raise_overdue_alert(session: Session, *, kind: str, case_id: int, stage: str, subject_id: int,
                        department: str, deadline: dt.date, actor: str) -> int:
    """An overdue case raises an alert (alerts domain) to the responsible department and
    the credit office, delivered to their inboxes (and any other configured channel)
    by the outbox worker. One alert per case and stage: the evidence key makes a second
    call return the first alert. Returns the alert id."""
    r = rules(session)
    office = r.credit_office
    alerts_service.ensure_inbox_channel(session)
    title = f"{'异议' if kind == 'objection' else '信用修复申请'} {case_id} 超期未办结 (期限 {deadline.isoformat()})"
    body = f"{kind} {case_id} ({stage}) 已超过办理期限 {deadline.isoformat()}, 责任单位 {department}。"
    recipients = [{"who": "principal_id", "code": f"department:{who}"} for who in dict.fromkeys((department, office))]
    raised = alerts_service.raise_alert(
        session, rule_code=f"workflow.{kind}-overdue", title=title, body=body, subject_id=subject_id,
        severity=r.notifications.overdue_severity, recipients=recipients, dedup_key=f"{kind}:{case_id}:{stage}",
        evidence_key=f"{kind}:{case_id}:{stage}:overdue",
        evidence={kind: case_id, "stage": stage, "deadline": deadline.isoformat(), "department": department},
        source="workflow", department=department, payload={"topic": f"{kind}.overdue"}, actor=actor)
    audit.append(session, action=f"{kind}.overdue", actor=actor, subject_id=subject_id,
                 detail={kind: case_id, "stage": stage, "department": department, "deadline": deadline.isoformat(),
                         "alert": raised.alert.id})
    return raised.alert.id


def flag_overdue(session: Session, *, actor: str | None = None) -> dict[str, list[int]]:
    """Alert once per stage for every case past its working-day deadline (the worker
    runs this daily). `overdue_alerted_on` is reset when a case moves to its next
    stage, so a late review or a late department decision alerts again."""
    actor = actor or audit.default_actor()
    today = clock.today()
    out: dict[str, list[int]] = {"objection": [], "repair": []}
    for o in session.execute(select(Objection).where(Objection.status.in_(OBJECTION_OPEN),
                                                     Objection.overdue_alerted_on.is_(None))
                             .order_by(Objection.id)).scalars():
        deadline = objection_deadline(o)
        if deadline is None or today <= deadline:
            continue
        who = o.department_code if o.status == "open" else (o.review_authority or o.department_code)
        raise_overdue_alert(session, kind="objection", case_id=o.id, stage=o.status, subject_id=o.subject_id,
                            department=who, deadline=deadline, actor=actor)
        o.overdue_alerted_on = today
        out["objection"].append(o.id)
    r = rules(session)
    for a in session.execute(select(RepairApplication).where(RepairApplication.status.in_(REPAIR_OPEN),
                                                             RepairApplication.overdue_alerted_on.is_(None))
                             .order_by(RepairApplication.id)).scalars():
        deadline = repair_deadline(a)
        if deadline is None or today <= deadline:
            continue
        who = r.repair.intake_unit if a.status == "submitted" else a.department_code
        raise_overdue_alert(session, kind="repair", case_id=a.id, stage=a.status, subject_id=a.subject_id,
                            department=who, deadline=deadline, actor=actor)
        a.overdue_alerted_on = today
        out["repair"].append(a.id)
    session.flush()
    return out
