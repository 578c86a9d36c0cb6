"""Credit commitments (信用承诺): templates, signing, verification, and the record a
verification leaves in the credit file.

Verification happens once: the commitment row is locked, must still be `signed`, and
only its verifying department may decide. The outcome becomes a credit record through
`record_outcome`, the one path by which this domain writes records: source
"commitments", a natural key derived from the commitment, no ingestion batch, the
commitment itself as the raw row — so a breach produces exactly one negative record
(the unique natural key guarantees it even under a race), with provenance, in force
from the day it is established, read by the evaluation models and list criteria like
any other record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from creditgov.catalog import departments
from creditgov.catalog.models import CatalogItem
from creditgov.commitments.models import Commitment, CommitmentTemplate
from creditgov.commitments.schemas import TemplateDef, TemplatesFile
from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.ingest.values import short_hash
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

SOURCE = "commitments"
OUTCOMES = ("fulfilled", "breached")

# ----------------------------------------------------------------------------- templates


TEMPLATES = PolicyFile(TemplatesFile, "creditgov.commitments", "data/templates.yaml")


def read_templates(path: Path | None = None) -> TemplatesFile:
    return TEMPLATES.load(path)


def load_templates(session: Session, *, path: Path | None = None, actor: str | None = None) -> dict[str, Any]:
    """Upsert templates. Departments and catalogue items must exist, and the items
    must have the right polarity, or a breach could not become a negative record."""
    doc = read_templates(path)
    src = str(path) if path else "templates.yaml (shipped)"
    polarity = {c: p for c, p in session.execute(select(CatalogItem.code, CatalogItem.polarity))}
    for n, t in enumerate(doc.templates):
        where = f"{src}: templates[{n}] ({t.code})"
        departments.require(session, t.verifying_department, where=f"{where}: verifying_department")
        for item, want in ((t.fulfil_item, "positive"), (t.breach_item, "negative")):
            if polarity.get(item) != want:
                raise ConfigError(f"{where}: {item!r} must be a {want} catalogue item "
                                  f"(it is {polarity.get(item) or 'unknown'})")
    for t in doc.templates:
        session.merge(CommitmentTemplate(
            code=t.code, type=t.type, name_zh=t.name_zh, name_en=t.name_en, text=t.text.strip(),
            verifying_department=t.verifying_department, deadline_days=t.deadline_days,
            legal_basis=t.legal_basis, version=doc.version, definition=t.model_dump_json()))
    session.flush()
    audit.append(session, action="commitments.load", actor=actor,
                 detail={"version": doc.version, "templates": [t.code for t in doc.templates]})
    return {"version": doc.version, "templates": len(doc.templates)}


def template(session: Session, code: str) -> TemplateDef:
    row = session.get(CommitmentTemplate, code)
    if row is None:
        raise NotFound(f"commitment template {code!r} not found")
    return TemplateDef.model_validate_json(row.definition)


def templates(session: Session) -> list[TemplateDef]:
    q = select(CommitmentTemplate.definition).order_by(CommitmentTemplate.code)
    return [TemplateDef.model_validate_json(t) for (t,) in session.execute(q)]


def template_of_type(session: Session, type: str) -> TemplateDef:
    """The template a procedure asks for by type (e.g. repair's `credit-repair`): the
    first by code when several share it."""
    q = select(CommitmentTemplate.definition).where(CommitmentTemplate.type == type).order_by(CommitmentTemplate.code)
    row = session.execute(q.limit(1)).scalar()
    if row is None:
        raise NotFound(f"no commitment template of type {type!r}: load the commitment templates")
    return TemplateDef.model_validate_json(row)


def signing_text(t: TemplateDef, on: dt.date) -> tuple[str, dt.date | None]:
    """The text a signer signs on `on`, with its deadline filled in, and that deadline."""
    due = on + dt.timedelta(days=t.deadline_days) if t.deadline_days else None
    text = t.text.strip().replace("{deadline_days}", str(t.deadline_days or "")).replace(
        "{due_on}", due.isoformat() if due else "")
    return text, due


# ----------------------------------------------------------------------------- signing


# ----------------------------------------------------------------------------- the repair type seam

# Which commitment type is the credit-repair one is the workflow rules' to say (a layer
# above this one). The composition root registers the function that reads it
# (`bootstrap.wire`); a process that never wired it refuses to sign rather than
# letting a repair commitment through the generic door.
RepairTypeSource = Callable[[Session], str]
REPAIR_TYPE_SOURCES: list[RepairTypeSource] = []


def register_repair_type_source(fn: RepairTypeSource) -> None:
    if fn not in REPAIR_TYPE_SOURCES:
        REPAIR_TYPE_SOURCES.append(fn)


def repair_commitment_type(session: Session) -> str:
    """The type of the credit-repair commitment in the rules in force."""
    if not REPAIR_TYPE_SOURCES:
        raise ConfigError("the credit-repair commitment type is not wired: the process must call bootstrap.wire()")
    return REPAIR_TYPE_SOURCES[0](session)


def sign_commitment(session: Session, *, subject_id: int, template_code: str, agreed: bool,
                    signed_by: str | None = None, at_window: bool = False, scenario: str | None = None,
                    check_id: str | None = None, actor: str | None = None) -> Commitment:
    """This domain's door for signing, the one the API, the pages and the CLI all pass
    through: the subject itself, or the credit office's window (`at_window`) naming who
    signed (`signed_by`). Agreeing to the text is required; the credit-repair
    commitment (its type from the workflow rules, `repair_commitment_type`) is signed
    with a repair instead (`workflows.conditions`)."""
    t = template(session, template_code)
    if t.type == repair_commitment_type(session):
        raise InvalidInput(f"{t.code} is the credit-repair commitment: it is signed with a repair, for a record "
                           f"that waits for it (POST /records/{{id}}/repair-conditions, or 我的信用)",
                           code="commitments.repair_template")
    if not agreed:
        raise InvalidInput("read the commitment's text and agree to it before signing", code="commitments.not_agreed")
    signer = (signed_by or "").strip()
    if at_window and not signer:
        raise InvalidInput("a commitment signed at the window names who signed it (signed_by)",
                           code="commitments.no_signer")
    return sign(session, subject_id=subject_id, template_code=t.code, signed_by=signer or None, scenario=scenario,
                check_id=check_id, actor=actor)


def sign(session: Session, *, subject_id: int, template_code: str, signed_by: str | None = None,
         scenario: str | None = None, check_id: str | None = None, actor: str | None = None) -> Commitment:
    """The subject signs a commitment from a template; the deadline runs from today.
    The signature itself, with no door's rules: the doors check theirs first
    (`sign_commitment` here, `workflows.conditions.sign_repair_commitment` for the
    credit-repair commitment); seeds and tests sign directly."""
    actor = actor or audit.default_actor()
    t = template(session, template_code)
    if session.get(Subject, subject_id) is None:
        raise NotFound(f"subject {subject_id} not found")
    today = clock.today()
    text, due = signing_text(t, today)
    now = clock.now()
    c = Commitment(template_code=t.code, type=t.type, subject_id=subject_id, text=text, signed_by=signed_by,
                   signed_on=today, due_on=due, scenario=scenario, check_id=check_id, status="signed",
                   verifying_department=t.verifying_department, actor=actor, created_at=now, updated_at=now)
    session.add(c)
    session.flush()
    audit.append(session, action="commitment.sign", actor=actor, subject_id=subject_id,
                 detail={"commitment": c.id, "template": t.code, "type": t.type, "due_on": due,
                         "scenario": scenario, "check_id": check_id})
    return c


def get(session: Session, commitment_id: int, *, lock: bool = False) -> Commitment:
    c = session.get(Commitment, commitment_id, with_for_update=lock)
    if c is None:
        raise NotFound(f"commitment {commitment_id} not found")
    return c


def of_subject(session: Session, subject_id: int) -> list[Commitment]:
    q = select(Commitment).where(Commitment.subject_id == subject_id).order_by(Commitment.id)
    return list(session.execute(q).scalars())


def listing(session: Session, *, status: str | None = None, overdue: bool = False,
            department: str | None = None, subject_id: int | None = None,
            where: ColumnElement[bool] | None = None, limit: int = 200) -> list[Commitment]:
    """Commitments by status; `overdue`: signed and past the deadline, awaiting a verdict.
    `where`: a condition on `Commitment` limiting the rows (a caller's data scope)."""
    q = select(Commitment).order_by(Commitment.id.desc()).limit(limit)
    if where is not None:
        q = q.where(where)
    if subject_id is not None:
        q = q.where(Commitment.subject_id == subject_id)
    if status:
        q = q.where(Commitment.status == status)
    if overdue:
        q = q.where(Commitment.status == "signed", Commitment.due_on < clock.today())
    if department:
        q = q.where(Commitment.verifying_department == department)
    return list(session.execute(q).scalars())


def has_signed(session: Session, *, subject_id: int, type: str, on: dt.date | None = None) -> bool:
    """A signed commitment of `type` in force: the condition a measure (容缺受理) or a
    repair application asks for."""
    on = on or clock.today()
    q = select(Commitment.id).where(Commitment.subject_id == subject_id, Commitment.type == type,
                                    Commitment.status.in_(("signed", "fulfilled")), Commitment.signed_on <= on)
    return session.execute(q.limit(1)).scalar() is not None


# ----------------------------------------------------------------------------- verification


def record_outcome(session: Session, *, commitment: Commitment, outcome: str, note: str | None) -> CreditRecord:
    """Write the credit record an outcome leaves, exactly once per commitment and
    outcome: the natural key is derived from the commitment, so a second call finds
    the first record instead of adding another."""
    t = template(session, commitment.template_code)
    item_code = t.breach_item if outcome == "breached" else t.fulfil_item
    nk = short_hash(f"{SOURCE}|{commitment.id}|{outcome}")
    existing = session.execute(select(CreditRecord).where(CreditRecord.natural_key == nk)).scalar_one_or_none()
    if existing is not None:
        return existing
    item = session.get(CatalogItem, item_code)
    if item is None:
        raise ConfigError(f"catalogue item {item_code!r} is missing: load the catalogue")
    today = clock.today()
    until = clock.add_months(today, item.max_publication_months) if item.max_publication_months else None
    raw = json.dumps({"commitment": commitment.id, "template": commitment.template_code, "type": commitment.type,
                      "signed_on": commitment.signed_on.isoformat(),
                      "due_on": commitment.due_on.isoformat() if commitment.due_on else None,
                      "outcome": outcome, "verified_on": today.isoformat(), "note": note},
                     ensure_ascii=False, sort_keys=True)
    text = (note or "").strip() or f"{t.name_zh}: {'违背承诺' if outcome == 'breached' else '已履行承诺'}"
    rec = CreditRecord(
        subject_id=commitment.subject_id, item_code=item_code, occurred_on=today, decided_on=today,
        department_code=commitment.verifying_department, document_no=f"CMT-{commitment.id}", text=text,
        status="active", published_from=today, published_until=until, natural_key=nk, version=1,
        is_current=True, content_hash=short_hash(raw), source=SOURCE, batch_id=None, spec_version=None,
        line_no=None, raw_hash=short_hash(raw), raw=raw, created_at=clock.now())
    session.add(rec)
    session.flush()
    return rec


def verify(session: Session, *, commitment_id: int, outcome: str, department: str, note: str | None = None,
           actor: str | None = None) -> tuple[Commitment, CreditRecord]:
    """The verifying department records fulfilment or breach; the record follows."""
    actor = actor or audit.default_actor()
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {list(OUTCOMES)}")
    c = get(session, commitment_id, lock=True)
    if c.status != "signed":
        raise InvalidInput(f"commitment {commitment_id} was already verified ({c.status} on {c.verified_on})",
                           code="commitments.verified", params={"id": commitment_id, "status": c.status,
                                                                 "on": c.verified_on or "—"})
    if department != c.verifying_department:
        raise InvalidInput(f"commitment {commitment_id} is verified by {c.verifying_department!r}, "
                           f"not {department!r}", code="commitments.other_department",
                           params={"id": commitment_id, "department": c.verifying_department})
    if outcome == "breached" and not (note and note.strip()):
        raise InvalidInput("a breach needs a note saying what was not kept", code="commitments.breach_note")
    rec = record_outcome(session, commitment=c, outcome=outcome, note=note)
    c.status, c.verified_on, c.verified_by = outcome, clock.today(), actor
    c.verification_note, c.record_id, c.updated_at = (note or "").strip() or None, rec.id, clock.now()
    session.flush()
    audit.append(session, action=f"commitment.{outcome}", actor=actor, subject_id=c.subject_id,
                 detail={"commitment": c.id, "record": rec.id, "item": rec.item_code, "department": department,
                         "note": c.verification_note})
    return c, rec


def as_dict(c: Commitment) -> dict[str, Any]:
    return {"id": c.id, "template": c.template_code, "type": c.type, "subject_id": c.subject_id,
            "text": c.text, "signed_by": c.signed_by, "signed_on": c.signed_on.isoformat(),
            "due_on": c.due_on.isoformat() if c.due_on else None, "scenario": c.scenario,
            "check_id": c.check_id, "status": c.status, "verifying_department": c.verifying_department,
            "verified_on": c.verified_on.isoformat() if c.verified_on else None, "verified_by": c.verified_by,
            "note": c.verification_note, "record_id": c.record_id}
