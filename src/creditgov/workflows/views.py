"""API routes for objection (异议), credit repair (信用修复), the exchange outbox and the
subject's own view. Thin: each route authorises through `security.scopes`, reaches the
case only inside the caller's data scope (404 outside it, like a missing case), names
the acting unit from the account, and calls `workflows.service` / `workflows.flows`,
which check the procedure (who decides, in which state, before which deadline) and
audit every change with the caller as the actor.

Who does what: the subject files objections, asks for the review and applies for
repair (the credit office's window may do it on its behalf, channel `window`); the
department that supplied the record decides the objection and the repair; the credit
office forwards repair applications (the intake) and decides reviews. Of the repair
conditions, the supplying department or the credit office confirms obligations
fulfilled and training; the subject signs its credit-repair commitment (the window
records one signed there). Materials are
uploaded as multipart files, at most `MAX_FILES` of `MAX_FILE_BYTES` each per request.

The helpers below (`scoped_*`, `*_out`, `acting_unit`, `saved_uploads`) are shared
with the web pages (`web/workflow_pages.py`), so a page and its endpoint agree."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, ctx, keyring, require
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Forbidden, Grant, Principal, Role, Scope
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows import calendar, flows, service
from creditgov.workflows.models import (
    OBJECTION_OPEN,
    OBJECTION_STATUSES,
    REPAIR_OPEN,
    REPAIR_STATUSES,
    Objection,
    RepairApplication,
)
from creditgov.workflows.schemas import (
    ApprovalOut,
    ApproveIn,
    ConditionIn,
    DecisionIn,
    EligibilityOut,
    ObjectionIn,
    ObjectionOut,
    OwnViewOut,
    PackageOut,
    ReasonIn,
    RepairConditionsOut,
    RepairIn,
    RepairOut,
    ScheduleOut,
    WithdrawIn,
)

router = APIRouter(tags=["workflows"])
ObjRead = Annotated[Grant, Depends(require("objections.read"))]
ObjFile = Annotated[Grant, Depends(require("objections.file"))]
ObjDecide = Annotated[Grant, Depends(require("objections.decide"))]
RepRead = Annotated[Grant, Depends(require("repairs.read"))]
RepApply = Annotated[Grant, Depends(require("repairs.apply"))]
RepDecide = Annotated[Grant, Depends(require("repairs.decide"))]
RepConditions = Annotated[Grant, Depends(require("repairs.conditions"))]
Ring = Annotated[KeyRing, Depends(keyring)]
Sha256 = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$", description="The material's SHA-256.")]
Limit = Annotated[int, Query(ge=1, le=500)]
SubjectFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
# "pending": every case still waiting for someone (a work queue); "all" (or none): every case.
ObjectionStatus = Annotated[str | None, Query(pattern="^(" + "|".join(("pending", "all", *OBJECTION_STATUSES))
                                                  + ")$")]
RepairStatus = Annotated[str | None, Query(pattern="^(" + "|".join(("pending", "all", *REPAIR_STATUSES)) + ")$")]

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
# The whole request: the files plus the multipart framing and the other fields.
MAX_UPLOAD_BYTES = MAX_FILES * MAX_FILE_BYTES + 256 * 1024
UPLOAD_FORM_LIMITS: Any = {"max_files": MAX_FILES, "max_fields": 40}


# ----------------------------------------------------------------------------- shared helpers


def files_dir(request: Request) -> Path:
    """Where the store keeps materials (see `service.files_dir_for`)."""
    return service.files_dir_for(ctx(request).url)


def acting_unit(session: Session, who: Principal) -> str:
    """The unit a decision is made in: a department officer's department, the credit
    office for its staff. The services check it against the case (who supplied the
    record, the intake, the review authority)."""
    if who.role is Role.DEPARTMENT and who.department_code:
        return who.department_code
    if who.role is Role.CREDIT_OFFICE:
        return who.department_code or service.rules(session).credit_office
    raise Forbidden(f"role {who.role.value} decides no objection or repair")


def condition_unit(session: Session, who: Principal) -> str | None:
    """Who records a repair condition: None for the subject itself, else the officer's
    acting unit (the service checks it against the record)."""
    return None if who.role is Role.SUBJECT else acting_unit(session, who)


def channel_of(who: Principal) -> str:
    """`self` when the subject files, `window` when staff file on its behalf."""
    return "self" if who.role is Role.SUBJECT else "window"


def _sees(session: Session, grant: Grant, subject_id: int, departments: Iterable[str | None]) -> bool:
    """A case is in scope when its subject is; a department sees only the cases it
    handles (records it supplied), not other departments' cases on the same subject."""
    if not grant.in_scope(session, subject_id):
        return False
    if grant.scope is Scope.DEPARTMENT:
        return grant.principal.department_code in set(departments)
    return True


def objection_in_scope(session: Session, grant: Grant, objection_id: int) -> Objection:
    o = session.get(Objection, objection_id)
    if o is None or not _sees(session, grant, o.subject_id, (o.department_code,)):
        raise NotFound(f"objection {objection_id} not found in your data scope")
    return o


def repair_in_scope(session: Session, grant: Grant, application_id: int) -> RepairApplication:
    a = session.get(RepairApplication, application_id)
    if a is None or not _sees(session, grant, a.subject_id, (a.department_code,)):
        raise NotFound(f"repair application {application_id} not found in your data scope")
    return a


def record_in_scope(session: Session, grant: Grant, record_id: int, subject_id: int | None = None) -> CreditRecord:
    """A record of a subject in scope (and of `subject_id` when given): 404 otherwise,
    so nobody learns of records in another subject's file."""
    rec = session.get(CreditRecord, record_id)
    if rec is None or (subject_id is not None and rec.subject_id != subject_id) \
            or not grant.in_scope(session, rec.subject_id):
        where = f"subject {subject_id}'s file" if subject_id is not None else "your data scope"
        raise NotFound(f"credit record {record_id} not found in {where}")
    return rec


def _scoped(session: Session, grant: Grant, subject_id: int | None) -> tuple[int | None, str | None, bool]:
    """(subject filter, department filter, nothing-to-show) for a grant's listing."""
    p = grant.principal
    if grant.scope is Scope.SELF:
        if p.subject_id is None or subject_id not in (None, p.subject_id):
            return None, None, True
        return p.subject_id, None, False
    return subject_id, p.department_code if grant.scope is Scope.DEPARTMENT else None, False


def _in_clause(session: Session, grant: Grant, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.execute(select(Subject.id).where(Subject.id.in_(ids), grant.subject_clause())).scalars())


def scoped_objections(session: Session, grant: Grant, *, status: str | None = None, subject_id: int | None = None,
                      limit: int = 200) -> list[Objection]:
    sid, department, empty = _scoped(session, grant, subject_id)
    if empty:
        return []
    statuses = OBJECTION_OPEN if status == "pending" else None if status == "all" else status
    rows = service.objections(session, subject_id=sid, status=statuses, department=department, limit=limit)
    visible = _in_clause(session, grant, {o.subject_id for o in rows})
    return [o for o in rows if o.subject_id in visible]


def scoped_repairs(session: Session, grant: Grant, *, status: str | None = None, subject_id: int | None = None,
                   limit: int = 200) -> list[RepairApplication]:
    sid, department, empty = _scoped(session, grant, subject_id)
    if empty:
        return []
    statuses = REPAIR_OPEN if status == "pending" else None if status == "all" else status
    rows = service.repairs(session, subject_id=sid, status=statuses, department=department, limit=limit)
    visible = _in_clause(session, grant, {a.subject_id for a in rows})
    return [a for a in rows if a.subject_id in visible]


def _names(session: Session, ids: set[int], masked: bool) -> dict[int, str]:
    if not ids:
        return {}
    return {s.id: subject_service.display_name(s, masked=masked)
            for s in session.execute(select(Subject).where(Subject.id.in_(ids))).scalars()}


def record_refs(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    """What a case page shows of its record: item, date, document number, status."""
    if not ids:
        return {}
    q = (select(CreditRecord, CatalogItem).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.id.in_(ids)))
    return {r.id: {"id": r.id, "item": r.item_code, "item_name": i.name_zh, "item_name_en": i.name_en,
                   "occurred_on": r.occurred_on.isoformat(), "document_no": r.document_no,
                   "department": r.department_code, "status": r.status, "is_current": r.is_current}
            for r, i in session.execute(q)}


def objections_out(session: Session, grant: Grant, rows: Sequence[Objection]) -> list[dict[str, Any]]:
    """Objections as the API and the pages show them: deadlines in working days, the
    subject's name (masked where the grant masks people) and the record."""
    cal = calendar.load(session)
    today = clock.today()
    names = _names(session, {o.subject_id for o in rows}, grant.masks_people)
    recs = record_refs(session, {o.record_id for o in rows})
    return [{**service.objection_dict(session, o, today, cal=cal), "subject_name": names.get(o.subject_id),
             "record": recs.get(o.record_id)} for o in rows]


def repairs_out(session: Session, grant: Grant, rows: Sequence[RepairApplication]) -> list[dict[str, Any]]:
    cal = calendar.load(session)
    today = clock.today()
    names = _names(session, {a.subject_id for a in rows}, grant.masks_people)
    recs = record_refs(session, {a.record_id for a in rows})
    out = []
    for a in rows:
        d = service.repair_dict(session, a, today)
        due = service.repair_deadline(a)
        left = None
        if due is not None:
            left = cal.working_days_between(today, due) if due >= today else -cal.working_days_between(due, today)
        out.append({**d, "working_days_left": left, "subject_name": names.get(a.subject_id),
                    "record": recs.get(a.record_id)})
    return out


def _clean_name(name: str | None) -> str:
    """A file name safe to keep: no folders, no control characters, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")
    if not base:
        return "material"
    if len(base) > 120:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[:110] + dot + suffix[:9]) if dot and len(suffix) < 10 else base[:120]
    return base


@contextmanager
def saved_uploads(uploads: Sequence[UploadFile]) -> Iterator[list[Path]]:
    """The uploaded files written to a temporary folder under their own (cleaned) names,
    for `service.store_materials`, which copies them into the store by content. Empty
    file inputs (a form sent without a file) are skipped; an oversized file is refused."""
    chosen = [u for u in uploads if u.filename]
    if len(chosen) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files per upload")
    with tempfile.TemporaryDirectory(prefix="creditgov-upload-") as tmp:
        out = []
        for i, up in enumerate(chosen):
            name = _clean_name(up.filename)
            dst = Path(tmp) / str(i) / name
            dst.parent.mkdir()
            size = 0
            with dst.open("wb") as fh:
                up.file.seek(0)
                for chunk in iter(lambda up=up: up.file.read(1 << 20), b""):
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        raise InvalidInput(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
                    fh.write(chunk)
            if size == 0:
                raise InvalidInput(f"{name} is empty")
            out.append(dst)
        yield out


def _material_response(session: Session, request: Request, who: Principal, owner_kind: str, owner_id: int,
                       sha256: str, subject_id: int) -> FileResponse:
    m, path = service.material_file(session, owner_kind=owner_kind, owner_id=owner_id, sha256=sha256,
                                    files_dir=files_dir(request), subject_id=subject_id, actor=who.actor)
    return FileResponse(path, media_type="application/octet-stream", filename=m.file_name,
                        headers={"Cache-Control": "private, no-store"})


MATERIAL_RESPONSE: Any = {200: {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                    "format": "binary"}}},
                                "description": "The file as it was uploaded."}}


# ----------------------------------------------------------------------------- objection


@router.get("/objections", response_model=list[ObjectionOut], operation_id="objections_list")
def objections_list(grant: ObjRead, session: DB, status: ObjectionStatus = None, subject_id: SubjectFilter = None,
                    limit: Limit = 200) -> list[dict[str, Any]]:
    """Objections in your scope, newest first, each with its deadline and the working
    days left (negative when overdue). A department sees the cases it decides; a
    subject its own. `status=pending`: open or under review."""
    return objections_out(session, grant, scoped_objections(session, grant, status=status, subject_id=subject_id,
                                                            limit=limit))


@router.post("/subjects/{subject_id}/objections", response_model=list[ObjectionOut], status_code=201,
             operation_id="objections_file")
def objections_file(subject_id: Id, body: ObjectionIn, grant: ObjFile, request: Request,
                    session: DB) -> list[dict[str, Any]]:
    """Object to records of the subject's file: each is marked disputed at once
    (withheld from publication and evaluation) and routed to the department that
    supplied it, due in the rules' working days. A record of another subject's file
    is not found (404)."""
    grant.require_subject(session, subject_id)
    for rid in body.record_ids:
        record_in_scope(session, grant, rid, subject_id)
    got = service.file_objection(session, subject_id=subject_id, record_ids=body.record_ids, reason=body.reason,
                                 channel=channel_of(grant.principal), files_dir=files_dir(request),
                                 actor=grant.principal.actor)
    return objections_out(session, grant, got)


@router.get("/objections/{objection_id}", response_model=ObjectionOut, operation_id="objections_get")
def objections_get(objection_id: Id, grant: ObjRead, session: DB) -> dict[str, Any]:
    """One objection in full: deadline, decision, review, evidence."""
    return objections_out(session, grant, [objection_in_scope(session, grant, objection_id)])[0]


@router.post("/objections/{objection_id}/materials", response_model=ObjectionOut, status_code=201,
             operation_id="objections_materials", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
def objections_materials(objection_id: Id, grant: ObjFile, request: Request, session: DB,
                         files: Annotated[list[UploadFile], File(description="Evidence files (multipart).")]
                         ) -> dict[str, Any]:
    """Add evidence to an objection (open, or decided before asking for the review):
    at most 5 files of 10 MB each; stored by SHA-256, the handling unit is told."""
    o = objection_in_scope(session, grant, objection_id)
    with saved_uploads(files) as paths:
        service.add_materials(session, owner_kind="objection", owner_id=o.id, files=paths,
                              files_dir=files_dir(request), actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.get("/objections/{objection_id}/materials/{sha256}", response_class=FileResponse,
            operation_id="objections_material", responses=MATERIAL_RESPONSE)
def objections_material(objection_id: Id, sha256: Sha256, grant: ObjRead, request: Request,
                        session: DB) -> FileResponse:
    """Download one evidence file of an objection (the read is audited)."""
    o = objection_in_scope(session, grant, objection_id)
    return _material_response(session, request, grant.principal, "objection", o.id, sha256, o.subject_id)


@router.post("/objections/{objection_id}/extend", response_model=ObjectionOut, operation_id="objections_extend")
def objections_extend(objection_id: Id, body: ReasonIn, grant: ObjDecide, session: DB) -> dict[str, Any]:
    """The handling department's one extension, before the first deadline passes: the
    deadline becomes the maximum total working days from receipt."""
    objection_in_scope(session, grant, objection_id)
    o = service.extend_objection(session, objection_id=objection_id, reason=body.reason,
                                 department=acting_unit(session, grant.principal), actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/decision", response_model=ObjectionOut, operation_id="objections_decide")
def objections_decide(objection_id: Id, body: DecisionIn, grant: ObjDecide, session: DB) -> dict[str, Any]:
    """The supplying department decides: upheld (the record returns to force),
    corrected (a new version with `corrections`) or deleted (revoked; list entries
    resting on it exit). Exactly one decision wins when two officers decide at once."""
    objection_in_scope(session, grant, objection_id)
    o = flows.decide_objection(session, objection_id=objection_id, outcome=body.outcome, reason=body.reason,
                               department=acting_unit(session, grant.principal),
                               corrections=dict(body.corrections) if body.corrections else None,
                               actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/review", response_model=ObjectionOut, operation_id="objections_review")
def objections_review(objection_id: Id, body: ReasonIn, grant: ObjFile, session: DB) -> dict[str, Any]:
    """Ask for the one review (复核) of a decision that went against the subject; the
    record in force is marked disputed again."""
    objection_in_scope(session, grant, objection_id)
    o = service.request_review(session, objection_id=objection_id, reason=body.reason, actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/review/decision", response_model=ObjectionOut,
             operation_id="objections_review_decide")
def objections_review_decide(objection_id: Id, body: DecisionIn, grant: ObjDecide, session: DB) -> dict[str, Any]:
    """The review authority's final decision (the credit office by default)."""
    objection_in_scope(session, grant, objection_id)
    o = flows.decide_review(session, objection_id=objection_id, outcome=body.outcome, reason=body.reason,
                            unit=acting_unit(session, grant.principal),
                            corrections=dict(body.corrections) if body.corrections else None,
                            actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/withdraw", response_model=ObjectionOut, operation_id="objections_withdraw")
def objections_withdraw(objection_id: Id, body: WithdrawIn, grant: ObjFile, session: DB) -> dict[str, Any]:
    """The subject withdraws an open objection; the record returns to force."""
    objection_in_scope(session, grant, objection_id)
    o = service.withdraw_objection(session, objection_id=objection_id, reason=body.reason,
                                   actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


# ----------------------------------------------------------------------------- repair


@router.get("/subjects/{subject_id}/repair-schedule", response_model=list[ScheduleOut],
            operation_id="repairs_schedule")
def repairs_schedule(subject_id: Id, grant: RepRead, session: DB) -> list[dict[str, Any]]:
    """Every current negative record with its tier, the date repair can be applied for
    (publication start + minimum months) and the date publication ends."""
    grant.require_subject(session, subject_id)
    return service.repair_schedule(session, subject_id)


@router.get("/records/{record_id}/repair-eligibility", response_model=EligibilityOut,
            operation_id="repairs_eligibility")
def repairs_eligibility(record_id: Id, grant: RepRead, session: DB) -> dict[str, Any]:
    """Every condition of repair for one record today, met or not and why, with the
    first day the minimum publication period allows it."""
    record_in_scope(session, grant, record_id)
    return service.eligibility(session, record_id=record_id).as_dict()


@router.get("/records/{record_id}/repair-conditions", response_model=RepairConditionsOut,
            operation_id="repairs_conditions_list")
def repairs_conditions_list(record_id: Id, grant: RepRead, session: DB) -> dict[str, Any]:
    """The conditions of repair one records for a record — obligations fulfilled,
    training, the credit-repair commitment — each with whether the tier requires it,
    whether it is met today, who records it and what is recorded; and the
    commitment's text as it would be signed today."""
    record_in_scope(session, grant, record_id)
    return service.repair_conditions(session, record_id=record_id)


@router.post("/records/{record_id}/repair-conditions", response_model=RepairConditionsOut, status_code=201,
             operation_id="repairs_condition_record")
def repairs_condition_record(record_id: Id, body: ConditionIn, grant: RepConditions,
                             session: DB) -> dict[str, Any]:
    """Record one condition as met. The department that supplied the record or the
    credit office confirms obligations fulfilled (once per record) and training, dated
    (never ahead) with a note; the subject signs its credit-repair commitment
    (`agree: true`), or the office's window records one signed there (`signed_by`).
    Anyone else, or a unit the record does not fit: 422. Answers the record's
    conditions as they now stand."""
    record_in_scope(session, grant, record_id)
    service.record_repair_condition(session, record_id=record_id, kind=body.kind,
                                    unit=condition_unit(session, grant.principal), met_on=body.met_on,
                                    note=body.note, signed_by=body.signed_by, agreed=body.agree,
                                    actor=grant.principal.actor)
    return service.repair_conditions(session, record_id=record_id)


@router.get("/repairs", response_model=list[RepairOut], operation_id="repairs_list")
def repairs_list(grant: RepRead, session: DB, status: RepairStatus = None, subject_id: SubjectFilter = None,
                 limit: Limit = 200) -> list[dict[str, Any]]:
    """Repair applications in your scope, newest first, with the pending stage's
    deadline. `status=pending`: waiting for the intake or the department."""
    return repairs_out(session, grant, scoped_repairs(session, grant, status=status, subject_id=subject_id,
                                                      limit=limit))


@router.post("/records/{record_id}/repairs", response_model=RepairOut, status_code=201,
             operation_id="repairs_apply")
def repairs_apply(record_id: Id, body: RepairIn, grant: RepApply, request: Request, session: DB) -> dict[str, Any]:
    """Apply for repair of a negative record. Eligibility is checked at once: an
    application that fails is stored as `refused`, naming every unmet condition and
    the date the minimum period allows repair; one that passes waits for the intake."""
    rec = record_in_scope(session, grant, record_id)
    a = service.apply_repair(session, subject_id=rec.subject_id, record_id=rec.id, applicant=body.applicant,
                             channel=channel_of(grant.principal), files_dir=files_dir(request),
                             actor=grant.principal.actor)
    return repairs_out(session, grant, [a])[0]


@router.get("/repairs/{application_id}", response_model=RepairOut, operation_id="repairs_get")
def repairs_get(application_id: Id, grant: RepRead, session: DB) -> dict[str, Any]:
    """One repair application in full: eligibility at application, stages, materials."""
    return repairs_out(session, grant, [repair_in_scope(session, grant, application_id)])[0]


@router.post("/repairs/{application_id}/materials", response_model=RepairOut, status_code=201,
             operation_id="repairs_materials", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
def repairs_materials(application_id: Id, grant: RepApply, request: Request, session: DB,
                      files: Annotated[list[UploadFile], File(description="Materials (multipart).")]
                      ) -> dict[str, Any]:
    """Add materials to an application being handled: at most 5 files of 10 MB each."""
    a = repair_in_scope(session, grant, application_id)
    with saved_uploads(files) as paths:
        service.add_materials(session, owner_kind="repair", owner_id=a.id, files=paths,
                              files_dir=files_dir(request), actor=grant.principal.actor)
    return repairs_out(session, grant, [a])[0]


@router.get("/repairs/{application_id}/materials/{sha256}", response_class=FileResponse,
            operation_id="repairs_material", responses=MATERIAL_RESPONSE)
def repairs_material(application_id: Id, sha256: Sha256, grant: RepRead, request: Request,
                     session: DB) -> FileResponse:
    """Download one material of a repair application (the read is audited)."""
    a = repair_in_scope(session, grant, application_id)
    return _material_response(session, request, grant.principal, "repair", a.id, sha256, a.subject_id)


@router.post("/repairs/{application_id}/forward", response_model=RepairOut, operation_id="repairs_forward")
def repairs_forward(application_id: Id, grant: RepDecide, session: DB) -> dict[str, Any]:
    """The intake (the credit office) forwards the application to the identifying
    department, whose decision is due in the rules' working days."""
    repair_in_scope(session, grant, application_id)
    a = service.forward_repair(session, application_id=application_id, unit=acting_unit(session, grant.principal),
                               actor=grant.principal.actor)
    return repairs_out(session, grant, [a])[0]


@router.post("/repairs/{application_id}/reject", response_model=RepairOut, operation_id="repairs_reject")
def repairs_reject(application_id: Id, body: ReasonIn, grant: RepDecide, session: DB) -> dict[str, Any]:
    """Reject, always with the reason: the intake while it holds the application, the
    identifying department after it was forwarded."""
    repair_in_scope(session, grant, application_id)
    a = service.reject_repair(session, application_id=application_id, unit=acting_unit(session, grant.principal),
                              reason=body.reason, actor=grant.principal.actor)
    return repairs_out(session, grant, [a])[0]


@router.post("/repairs/{application_id}/approve", response_model=ApprovalOut, operation_id="repairs_approve")
def repairs_approve(application_id: Id, body: ApproveIn, grant: RepDecide, session: DB) -> dict[str, Any]:
    """The identifying department approves (谁认定、谁修复), in one transaction: the
    record becomes repaired, list entries resting on it exit, the subject is
    re-evaluated, the change is queued for every place the record went."""
    repair_in_scope(session, grant, application_id)
    out = flows.approve_repair(session, application_id=application_id,
                               department=acting_unit(session, grant.principal), reason=body.reason,
                               actor=grant.principal.actor)
    out["application"] = repairs_out(session, grant, [service._application(session, application_id)])[0]
    return out


# ----------------------------------------------------------------------------- own view and exchange


def own_view_of(session: Session, ring: KeyRing, grant: Grant) -> dict[str, Any]:
    """The signed-in subject's own view (the read is audited, purpose 'own view')."""
    p = grant.principal
    if p.subject_id is None:
        raise NotFound("this account is not linked to a subject")
    grant.require_subject(session, p.subject_id)
    return flows.own_view(session, ring, str(p.subject_id), actor=p.actor)


@router.get("/me/credit", response_model=OwnViewOut, operation_id="own_view")
def own_view(grant: Annotated[Grant, Depends(require("own.view"))], session: DB, ring: Ring) -> dict[str, Any]:
    """What a signed-in firm or resident sees of itself: its file, the records
    published now, every score with its explanation, list entries, objections and
    repairs with deadlines, each negative record's repair dates, its inbox, and who
    read its file and why."""
    return own_view_of(session, ring, grant)


@router.get("/exchange/outbox", response_model=list[PackageOut], operation_id="exchange_outbox")
def exchange_outbox(grant: Annotated[Grant, Depends(require("exchange.read"))], session: DB,
                    status: Annotated[str, Query(pattern="^(queued|sent|all)$")] = "queued",
                    limit: Limit = 200) -> list[dict[str, Any]]:
    """Changes queued for every place a record went (repaired, revoked, corrected,
    publication ended), for the upper-platform exchange to drain. `status=all` for
    sent ones too."""
    rows = service.outbox(session, status=None if status == "all" else status, limit=limit)
    return [service.package_dict(p) for p in rows]
