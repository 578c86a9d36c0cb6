"""API routes for objection (异议), credit repair (信用修复), the exchange outbox and the
subject's own view. Thin: each route authorises through `security.scopes`, reaches the
case only inside the caller's data scope (404 outside it, like a missing case), names
the acting unit from the account, and calls the workflow services (`objection`,
`repair`, `conditions`, `materials`, ...) and `workflows.flows`, which check the procedure (who decides, in which state, before which deadline) and
audit every change with the caller as the actor.

Who does what: the subject files objections, asks for the review and applies for
repair (the credit office's window may do it on its behalf, channel `window`); the
department that supplied the record decides the objection and the repair; the credit
office forwards repair applications (the intake) and decides reviews. Of the repair
conditions, the supplying department or the credit office confirms obligations
fulfilled and training; the subject signs its credit-repair commitment (the window
records one signed there). Materials are
uploaded as multipart files, at most `MAX_FILES` of `MAX_FILE_BYTES` each per request.

The read logic shared with the web pages (`scoped_*`, `*_out`, `acting_unit`,
`saved_uploads`) lives in `workflows.access`, so a page and its endpoint agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, ctx, keyring, require
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant, Principal
from creditgov.workflows import flows
from creditgov.workflows.access import (
    MAX_UPLOAD_BYTES,
    UPLOAD_FORM_LIMITS,
    acting_unit,
    channel_of,
    condition_unit,
    objection_in_scope,
    objections_out,
    own_view_of,
    record_in_scope,
    repair_in_scope,
    repairs_out,
    saved_uploads,
    scoped_objections,
    scoped_repairs,
)
from creditgov.workflows.common import get_application
from creditgov.workflows.conditions import record_repair_condition, repair_conditions
from creditgov.workflows.eligibility import eligibility, repair_schedule
from creditgov.workflows.exchange import outbox, package_dict
from creditgov.workflows.materials import add_materials, files_dir_for, material_file
from creditgov.workflows.models import OBJECTION_STATUSES, REPAIR_STATUSES
from creditgov.workflows.objection import (
    extend_objection,
    file_objection,
    request_review,
    withdraw_objection,
)
from creditgov.workflows.repair import apply_repair, forward_repair, reject_repair
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


# ----------------------------------------------------------------------------- helpers


def files_dir(request: Request) -> Path:
    """Where the store keeps materials (see `materials.files_dir_for`)."""
    return files_dir_for(ctx(request).url)


def _material_response(session: Session, request: Request, who: Principal, owner_kind: str, owner_id: int,
                       sha256: str, subject_id: int) -> FileResponse:
    m, path = material_file(session, owner_kind=owner_kind, owner_id=owner_id, sha256=sha256,
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
    got = file_objection(session, subject_id=subject_id, record_ids=body.record_ids, reason=body.reason,
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
        add_materials(session, owner_kind="objection", owner_id=o.id, files=paths,
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
    o = extend_objection(session, objection_id=objection_id, reason=body.reason,
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
                               corrections={str(k): v for k, v in body.corrections.items()} if body.corrections else None,
                               actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/review", response_model=ObjectionOut, operation_id="objections_review")
def objections_review(objection_id: Id, body: ReasonIn, grant: ObjFile, session: DB) -> dict[str, Any]:
    """Ask for the one review (复核) of a decision that went against the subject; the
    record in force is marked disputed again."""
    objection_in_scope(session, grant, objection_id)
    o = request_review(session, objection_id=objection_id, reason=body.reason, actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/review/decision", response_model=ObjectionOut,
             operation_id="objections_review_decide")
def objections_review_decide(objection_id: Id, body: DecisionIn, grant: ObjDecide, session: DB) -> dict[str, Any]:
    """The review authority's final decision (the credit office by default)."""
    objection_in_scope(session, grant, objection_id)
    o = flows.decide_review(session, objection_id=objection_id, outcome=body.outcome, reason=body.reason,
                            unit=acting_unit(session, grant.principal),
                            corrections={str(k): v for k, v in body.corrections.items()} if body.corrections else None,
                            actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


@router.post("/objections/{objection_id}/withdraw", response_model=ObjectionOut, operation_id="objections_withdraw")
def objections_withdraw(objection_id: Id, body: WithdrawIn, grant: ObjFile, session: DB) -> dict[str, Any]:
    """The subject withdraws an open objection; the record returns to force."""
    objection_in_scope(session, grant, objection_id)
    o = withdraw_objection(session, objection_id=objection_id, reason=body.reason,
                           actor=grant.principal.actor)
    return objections_out(session, grant, [o])[0]


# ----------------------------------------------------------------------------- repair


@router.get("/subjects/{subject_id}/repair-schedule", response_model=list[ScheduleOut],
            operation_id="repairs_schedule")
def repairs_schedule(subject_id: Id, grant: RepRead, session: DB) -> list[dict[str, Any]]:
    """Every current negative record with its tier, the date repair can be applied for
    (publication start + minimum months) and the date publication ends."""
    grant.require_subject(session, subject_id)
    return repair_schedule(session, subject_id)


@router.get("/records/{record_id}/repair-eligibility", response_model=EligibilityOut,
            operation_id="repairs_eligibility")
def repairs_eligibility(record_id: Id, grant: RepRead, session: DB) -> dict[str, Any]:
    """Every condition of repair for one record today, met or not and why, with the
    first day the minimum publication period allows it."""
    record_in_scope(session, grant, record_id)
    return eligibility(session, record_id=record_id).as_dict()


@router.get("/records/{record_id}/repair-conditions", response_model=RepairConditionsOut,
            operation_id="repairs_conditions_list")
def repairs_conditions_list(record_id: Id, grant: RepRead, session: DB) -> dict[str, Any]:
    """The conditions of repair one records for a record — obligations fulfilled,
    training, the credit-repair commitment — each with whether the tier requires it,
    whether it is met today, who records it and what is recorded; and the
    commitment's text as it would be signed today."""
    record_in_scope(session, grant, record_id)
    return repair_conditions(session, record_id=record_id)


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
    record_repair_condition(session, record_id=record_id, kind=body.kind,
                            unit=condition_unit(session, grant.principal), met_on=body.met_on,
                            note=body.note, signed_by=body.signed_by, agreed=body.agree,
                            actor=grant.principal.actor)
    return repair_conditions(session, record_id=record_id)


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
    a = apply_repair(session, subject_id=rec.subject_id, record_id=rec.id, applicant=body.applicant,
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
        add_materials(session, owner_kind="repair", owner_id=a.id, files=paths,
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
    a = forward_repair(session, application_id=application_id, unit=acting_unit(session, grant.principal),
                       actor=grant.principal.actor)
    return repairs_out(session, grant, [a])[0]


@router.post("/repairs/{application_id}/reject", response_model=RepairOut, operation_id="repairs_reject")
def repairs_reject(application_id: Id, body: ReasonIn, grant: RepDecide, session: DB) -> dict[str, Any]:
    """Reject, always with the reason: the intake while it holds the application, the
    identifying department after it was forwarded."""
    repair_in_scope(session, grant, application_id)
    a = reject_repair(session, application_id=application_id, unit=acting_unit(session, grant.principal),
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
    out["application"] = repairs_out(session, grant, [get_application(session, application_id)])[0]
    return out


# ----------------------------------------------------------------------------- own view and exchange


@router.get("/me/credit", response_model=OwnViewOut, operation_id="own_view")
def own_view(grant: Annotated[Grant, Depends(require("own.view"))], session: DB, ring: Ring) -> dict[str, Any]:
    """What a signed-in firm or resident sees of itself: its file, the records
    published now, every score with its explanation, list entries, objections and
    repairs with deadlines, each negative record's repair dates, its inbox, and who
    read its file and why."""
    return own_view_of(session, ring, grant)


@router.get("/exchange/outbox", response_model=list[PackageOut], operation_id="exchange_outbox")
def exchange_outbox(grant: Annotated[Grant, Depends(require("exchange.read"))], session: DB,
                    status: Annotated[str, Query(pattern="^(queued|packaged|sent|all)$")] = "queued",
                    limit: Limit = 200) -> list[dict[str, Any]]:
    """Changes queued for every place a record went (repaired, revoked, corrected,
    publication ended): `queued` until the exchange puts them in a package
    (`packaged`, see `/exchange/packages`); `sent` rows date from before the exchange.
    `status=all` for every one."""
    rows = outbox(session, status=None if status == "all" else status, limit=limit)
    return [package_dict(p) for p in rows]
