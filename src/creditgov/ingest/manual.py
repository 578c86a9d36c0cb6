"""Manual entry with four eyes (人工录入): an officer enters a credit record, or registers
a subject the departments' files do not have, with a reason and evidence files; a
second person approves it before it counts. Approved, the entry goes through the same
pipeline as a file — a one-row batch of a generated source spec (`manual_<department>`,
registered like any spec), checked by the same steps and checks (identifier check
digits, catalogue, an approved data request, dates, region) — so the record carries its
provenance and `creditgov ingest trace` replays it. The same checks run when it is
entered (`_check`: the preparers of that spec, the catalogue's value rules, the subject
registered or its registration waiting), so what ingestion would refuse is refused to
the one who enters it, in words, not only to the approver.

The entered fields are stored encrypted until then (they may hold an ID number), the
evidence by content in the files folder (0700 folders, 0600 files); the proposer can
never approve their own entry, and every step is on the audit chain."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from creditgov.catalog import departments
from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem, Department
from creditgov.core import clock
from creditgov.core import files as private_files
from creditgov.core.config import parse_yaml_model
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.ingest.models import Batch, ManualEntry
from creditgov.ingest.prepare_records import RecordPreparer, refuse_values
from creditgov.ingest.prepare_rows import RowPreparer
from creditgov.ingest.reasons import identifier_said, reason_code, said
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.service import register_spec
from creditgov.ingest.transforms import RowError
from creditgov.ingest.values import NEVER_NEGATIVE, either_identifier
from creditgov.ingest.writer import BatchWriter, Lookups
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_id
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

RECORD_FIELDS = ("identifier", "name", "item", "occurred_on", "decided_on", "value", "text", "document_no")
REGISTRATION_FIELDS = ("identifier", "kind", "name", "region", "industry", "established_on", "address")
TEXT_MAX = 2000
MAX_EVIDENCE = 10
MAX_EVIDENCE_BYTES = 20 << 20


def _spec(department: str, kind: str, id_kind: str, item: str | None) -> tuple[SourceSpec, str]:
    """The generated spec a manual entry goes through. Its version is the digest of its
    content (a spec version names one text: `service.register_spec`)."""
    if kind == "record":
        doc: dict[str, Any] = {
            "name": f"manual_{department}", "title": f"{department} 人工录入", "department": department,
            "kind": "records", "file": "manual-entry", "format": "jsonl", "columns": {f: f for f in RECORD_FIELDS},
            "steps": [{"field": "*", "op": "trim"}, {"field": "occurred_on", "op": "date"},
                      {"field": "decided_on", "op": "date"}, {"field": "value", "op": "number"}],
            "items": [item], "unknown_subject": "quarantine", "natural_key": ["document_no"]}
    else:
        cols = {f: f for f in REGISTRATION_FIELDS if f != "identifier"}
        cols[id_kind] = "identifier"
        doc = {"name": f"manual_{department}_registration", "title": f"{department} 人工登记",
               "department": department, "kind": "registration", "file": "manual-entry", "format": "jsonl",
               "columns": cols, "steps": [{"field": "*", "op": "trim"}, {"field": "established_on", "op": "date"}]}
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=True)
    doc = {"version": "m-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:12], **doc}
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return parse_yaml_model(SourceSpec, text, f"manual entry spec {doc['name']}"), text


def _clean(fields: Mapping[str, str | None], allowed: Sequence[str]) -> dict[str, str]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s) {sorted(unknown)}; allowed: {', '.join(allowed)}")
    out = {k: ("" if fields.get(k) is None else str(fields.get(k))).strip() for k in allowed}
    for k, v in out.items():
        if len(v) > TEXT_MAX:
            raise InvalidInput(f"{k} is longer than {TEXT_MAX} characters", code="ingest.manual.field_long",
                               params={"field": f"manual.{k}", "max": TEXT_MAX})
        if "\x00" in v:  # as ingestion refuses it (pipeline.NUL_REASON)
            raise InvalidInput(f"{k} holds a NUL character (U+0000), not a text the store can keep",
                               code="ingest.manual.field_nul", params={"field": f"manual.{k}"})
    return out


def _item_code(session: Session, department: str, given: str) -> str:
    """The catalogue item an entry names, by its code or by its exact name in either
    language (an officer knows 水电费逾期缴纳, not utility.arrears). A name two items
    share is the entering department's own, or refused as ambiguous."""
    if not given:
        raise InvalidInput("a record needs its catalogue item", code="ingest.manual.no_item")
    if session.get(CatalogItem, given) is not None:
        return given
    named = list(session.execute(select(CatalogItem.code, CatalogItem.department_code).where(
        or_(CatalogItem.name_zh == given, CatalogItem.name_en == given)).order_by(CatalogItem.code)))
    own = [code for code, dep in named if dep == department]
    if len(own) == 1:
        return str(own[0])
    if len(named) == 1:
        return str(named[0][0])
    if named:
        raise InvalidInput(f"{len(named)} catalogue items are named {given!r}: give the code",
                           code="ingest.manual.ambiguous_item", params={"item": given})
    raise InvalidInput(f"unknown catalogue item {given!r}", code="ingest.manual.unknown_item", params={"item": given})


def _store_evidence(files: Sequence[Path], files_dir: Path | None) -> list[dict[str, Any]]:
    if len(files) > MAX_EVIDENCE:
        raise InvalidInput(f"at most {MAX_EVIDENCE} evidence files", code="ingest.manual.evidence_count",
                           params={"max": MAX_EVIDENCE})
    out = []
    for f in files:
        f = Path(f)
        if not f.is_file():
            raise InvalidInput(f"evidence {f.name} is not a readable file")
        if f.stat().st_size > MAX_EVIDENCE_BYTES:
            raise InvalidInput(f"evidence {f.name} is larger than {MAX_EVIDENCE_BYTES >> 20} MB",
                               code="ingest.manual.evidence_large",
                               params={"file": f.name, "mb": MAX_EVIDENCE_BYTES >> 20})
        if files_dir is None:
            raise InvalidInput("evidence was given but no files folder is configured",
                               code="ingest.manual.no_files_folder")
        data = f.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        rel = f"manual/{digest[:2]}/{digest}"
        dst = files_dir / rel
        if not dst.exists():
            private_files.private_dir(files_dir)
            private_files.private_dir(dst.parent.parent)
            private_files.private_dir(dst.parent)
            tmp = dst.with_suffix(f".{uuid.uuid4().hex}.tmp")
            private_files.copy_private(f, tmp)
            os.replace(tmp, dst)
        out.append({"file": f.name[:255], "sha256": digest, "size": len(data), "stored_as": rel})
    return out


def _refuse(why: str) -> NoReturn:
    """Refuse an entry for a row ingestion would refuse, the reason in words."""
    zh, en = said(why)
    raise InvalidInput(f"the entry does not pass ingestion's checks: {why}", code="ingest.manual.invalid",
                       params={"reason": reason_code(why), "detail_zh": zh, "detail_en": en})


def _registration_waits(session: Session, keyring: KeyRing, code: str) -> bool:
    """Whether a registration entered by hand for this identifier waits for approval."""
    waiting = select(ManualEntry.payload).where(ManualEntry.status == "proposed", ManualEntry.kind == "registration")
    return any(json.loads(keyring.decrypt(p)).get("identifier") == code for p in session.execute(waiting).scalars())


def _check(session: Session, keyring: KeyRing, kind: str, department: str, id_kind: str, code: str,
           vals: dict[str, str]) -> None:
    """What approval would refuse, refused now: the entry through the preparers of the
    spec it will go through (steps, the item in the catalogue and requested from this
    department and approved, dates read and not in the future, the value read, the
    region, the subject's kind), the catalogue's value rules (an amount never below
    zero), and a record's subject registered — or its registration by hand waiting."""
    spec, _text = _spec(department, kind, id_kind, vals.get("item"))
    if kind == "registration":
        out = RowPreparer(spec, keyring=keyring, today=clock.today(),
                          regions=subject_service.region_ids(session)).prepare(vals)[2]
        if isinstance(out, str):
            _refuse(out)
        return
    item = session.get(CatalogItem, vals["item"])
    assert item is not None  # _item_code found it
    prep = RecordPreparer(spec, keyring=keyring, today=clock.today().isoformat(),
                          catalog={item.code: item.max_publication_months},
                          requests=catalog_service.request_status(session))
    p = prep.prepare(None, [1], [vals])
    refuse_values(p, {item.code} if item.value_kind in NEVER_NEGATIVE else set(), spec.columns.get("value"))
    if p.rejected:
        _refuse(p.rejected[0])
    col = Subject.uscc if id_kind == "uscc" else Subject.resident_id_index
    key = code if id_kind == "uscc" else keyring.blind_index(code)
    if session.execute(select(Subject.id).where(col == key)).first() is None \
            and not _registration_waits(session, keyring, code):
        raise InvalidInput("the subject is not registered, and no registration of it waits for approval",
                           code="ingest.manual.unregistered")


def propose(session: Session, keyring: KeyRing, *, kind: str, department: str, fields: Mapping[str, str | None],
            reason: str, evidence: Sequence[Path] = (), files_dir: Path | None = None,
            actor: str | None = None) -> ManualEntry:
    """Enter a record (`kind="record"`) or a subject registration (`"registration"`). It
    is checked now as ingestion will check it when approved (`_check`); what would be
    refused then is refused now, in words. The same entry again while the first waits
    is the first (`propose_once`)."""
    return propose_once(session, keyring, kind=kind, department=department, fields=fields, reason=reason,
                        evidence=evidence, files_dir=files_dir, actor=actor)[0]


def _waiting_twin(session: Session, keyring: KeyRing, e: ManualEntry, vals: dict[str, str]) -> ManualEntry | None:
    """A proposal still waiting that says exactly what `e` says: same person, kind,
    department, reason, fields and evidence. The fields are encrypted with a fresh nonce
    each, so they are compared decrypted; one person has few entries waiting."""
    same = select(ManualEntry).where(
        ManualEntry.status == "proposed", ManualEntry.proposed_by == e.proposed_by, ManualEntry.kind == e.kind,
        ManualEntry.department_code == e.department_code, ManualEntry.reason == e.reason).order_by(ManualEntry.id)
    for other in session.execute(same).scalars():
        if other.evidence == e.evidence and json.loads(keyring.decrypt(other.payload)) == vals:
            return other
    return None


def propose_once(session: Session, keyring: KeyRing, *, kind: str, department: str,
                 fields: Mapping[str, str | None], reason: str, evidence: Sequence[Path] = (),
                 files_dir: Path | None = None, actor: str | None = None) -> tuple[ManualEntry, bool]:
    """`propose`, and whether the entry is new: an entry sent twice (a retried request, a
    form sent again) while the first still waits for its second person is that first
    entry, so the approver never meets the same proposal twice."""
    actor = actor or audit.default_actor()
    if kind not in ("record", "registration"):
        raise InvalidInput("kind must be record or registration")
    departments.require(session, department)
    why = (reason or "").strip()
    if not why:
        raise InvalidInput("a manual entry needs a reason", code="ingest.manual.no_reason")
    if "\x00" in why:
        raise InvalidInput("the reason holds a NUL character (U+0000), not a text the store can keep",
                           code="ingest.manual.field_nul", params={"field": "manual.reason"})
    vals = _clean(fields, RECORD_FIELDS if kind == "record" else REGISTRATION_FIELDS)
    try:
        id_kind, code = either_identifier(vals["identifier"])
    except RowError as exc:
        if not vals["identifier"]:
            raise InvalidInput(str(exc), code="ingest.manual.no_identifier") from None
        if str(exc).startswith("identifier is valid both"):
            raise InvalidInput(str(exc), code="ingest.manual.ambiguous_identifier") from None
        # the detail masks an ID number (values.either_identifier); said in words
        zh, en = identifier_said(str(exc))
        raise InvalidInput(str(exc), code="ingest.manual.bad_identifier",
                           params={"detail_zh": zh, "detail_en": en}) from None
    vals["identifier"] = code
    if kind == "record":
        vals["item"] = _item_code(session, department, vals["item"])
        if not vals["occurred_on"]:
            raise InvalidInput("a record needs occurred_on", code="ingest.manual.no_occurred_on")
    elif not vals["name"]:
        raise InvalidInput("a registration needs a name")
    _check(session, keyring, kind, department, id_kind, code, vals)
    e = ManualEntry(kind=kind, department_code=department, reason=why[:TEXT_MAX],
                    payload=keyring.encrypt(json.dumps(vals, ensure_ascii=False)),
                    evidence=_store_evidence(evidence, files_dir), status="proposed", proposed_by=actor,
                    proposed_at=clock.now())
    # Two copies of one request arriving together: the department's row orders them
    # (PostgreSQL; SQLite has one writer), so the second finds the first.
    session.execute(select(Department.code).where(Department.code == department).with_for_update())
    twin = _waiting_twin(session, keyring, e, vals)
    if twin is not None:
        return twin, False
    session.add(e)
    session.flush()
    audit.append(session, action="ingest.manual.propose", actor=actor,
                 detail={"entry": e.id, "kind": kind, "department": department, "identifier_kind": id_kind,
                         "evidence": [x["sha256"] for x in e.evidence]})
    return e, True


def fields_of(keyring: KeyRing, e: ManualEntry) -> dict[str, str]:
    out: dict[str, str] = json.loads(keyring.decrypt(e.payload))
    return out


def decide(session: Session, keyring: KeyRing, entry_id: int, *, approve: bool, note: str = "",
           actor: str | None = None) -> ManualEntry:
    """A second person's decision. Approval runs the entry through the pipeline; if the
    pipeline refuses it (an unapproved item, an unknown subject, a bad date), nothing is
    written and the reason is the error — the entry stays proposed, to be rejected."""
    actor = actor or audit.default_actor()
    e = session.execute(select(ManualEntry).where(ManualEntry.id == entry_id).with_for_update()).scalar_one_or_none()
    if e is None:
        raise NotFound(f"manual entry {entry_id} not found", code="ingest.manual.not_found",
                       params={"id": entry_id})
    if e.status != "proposed":
        raise Conflict(f"manual entry {entry_id} was already {e.status}", code="ingest.manual.decided",
                       params={"id": entry_id, "status": e.status})
    if actor == e.proposed_by:
        raise Conflict("a manual entry is approved or rejected by a second person, not the one who entered it",
                       code="ingest.manual.own_entry", params={"id": entry_id})
    if not approve and not note.strip():
        raise InvalidInput("rejecting a manual entry needs a reason", code="ingest.manual.no_rejection_reason")
    e.status, e.decided_by, e.decided_at, e.note = ("approved" if approve else "rejected"), actor, clock.now(), \
        note.strip()[:TEXT_MAX] or None
    if approve:
        _run(session, keyring, e, actor)
    audit.append(session, action="ingest.manual." + e.status, actor=actor, subject_id=e.subject_id,
                 detail={"entry": e.id, "kind": e.kind, "batch": e.batch_id, "record": e.record_id})
    return e


def _run(session: Session, keyring: KeyRing, e: ManualEntry, actor: str) -> None:
    vals = fields_of(keyring, e)
    id_kind, code = either_identifier(vals["identifier"])
    spec, text = _spec(e.department_code, e.kind, id_kind, vals.get("item"))
    sv = register_spec(session, spec, text)
    batch = Batch(source=spec.name, spec_version_id=sv.id, file_name=f"manual:{e.id}", file_hash=None,
                  kind="manual", started_at=clock.now(), actor=actor)
    session.add(batch)
    session.flush()
    lk = Lookups.load(session, keyring)
    w = BatchWriter(session, lk, spec, batch, open_quarantine=set())
    w.process(1, vals, tag="entry", quarantine=False)
    w.finish()
    verdict, why = w.outcomes.get("entry", ("rejected", "no outcome"))
    key = code if id_kind == "uscc" else keyring.blind_index(code)
    if verdict == "duplicate" and key in lk.merged_keys:  # a registration of a subject merged into another
        survivor = (lk.by_uscc if id_kind == "uscc" else lk.by_index).get(key)
        raise InvalidInput(f"the entry could not go through ingestion: {why}", code="ingest.manual.merged",
                           params={"subject": survivor})
    if verdict == "duplicate":
        raise InvalidInput(f"the entry could not go through ingestion: {why or verdict}",
                           code="ingest.manual.duplicate")
    if verdict not in ("accepted", "corrected"):
        zh, en = said(why or "")
        raise InvalidInput(f"the entry could not go through ingestion: {why or verdict}", code="ingest.manual.refused",
                           params={"reason": reason_code(why or ""), "why": why or verdict, "detail_zh": zh,
                                   "detail_en": en})
    e.batch_id = batch.id
    col = Subject.uscc if id_kind == "uscc" else Subject.resident_id_index
    e.subject_id = session.execute(select(Subject.id).where(col == key)).scalar_one()
    if e.kind == "record":
        # The record's own subject: a merged duplicate's identifier files it under the survivor.
        e.record_id, e.subject_id = session.execute(select(CreditRecord.id, CreditRecord.subject_id).where(
            CreditRecord.batch_id == batch.id)).one()


def entry_dict(keyring: KeyRing, e: ManualEntry) -> dict[str, Any]:
    """An entry as shown: the ID number masked."""
    vals = fields_of(keyring, e)
    ident = vals.get("identifier", "")
    vals["identifier"] = ident if not ident[:17].isdigit() else mask_id(ident)
    return {"id": e.id, "kind": e.kind, "department": e.department_code, "fields": vals, "reason": e.reason,
            "evidence": e.evidence, "status": e.status, "proposed_by": e.proposed_by,
            "proposed_at": clock.to_cst(e.proposed_at).isoformat(), "decided_by": e.decided_by,
            "decided_at": clock.to_cst(e.decided_at).isoformat() if e.decided_at else None, "note": e.note,
            "batch_id": e.batch_id, "record_id": e.record_id, "subject_id": e.subject_id}


def entries(session: Session, *, status: str | None = None, department: str | None = None,
            limit: int = 200) -> list[ManualEntry]:
    """The newest entries (of one department, when given: a department officer's view
    reads, and so decrypts, its own department's entries only)."""
    q = select(ManualEntry).order_by(ManualEntry.id.desc()).limit(limit)
    if status:
        q = q.where(ManualEntry.status == status)
    if department is not None:
        q = q.where(ManualEntry.department_code == department)
    return list(session.execute(q).scalars())

