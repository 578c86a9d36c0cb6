"""Pages for objection (异议), credit repair (信用修复) and the subject's own view (我的信用).

Same rules as `web/pages.py`: each route authorises, reaches cases through the same
scope helpers as the API (`workflows.access`), calls the workflow services and renders
a template; every form that changes state carries the session's CSRF token; text lives
in the templates (wrapped in `_()`), so the catalogue extraction sees all of it.

- `/me/credit`: the signed-in firm or resident — its records with their status and
  publication, repair dates, eligibility and each repair condition's state, scores
  explained, lists, its cases, its inbox and who read its file; forms to object to a
  record, to sign the credit-repair commitment (its text shown) and to apply for repair;
  its credit commitments, with a form per template to sign one (`commitments.access`).
- `/objections`, `/repairs`: the work queues (a department sees the cases it decides,
  the credit office all), pending first by deadline in working days; on `/objections`
  the credit office files an objection at the window on a subject's behalf.
- `/objections/{id}`, `/repairs/{id}`: a case with its history and materials, and the
  forms the reader may use in the case's state (decide, extend, review, withdraw;
  forward, reject, approve; on a repair, record its conditions: the supplying
  department or the office confirm obligations and training, the subject signs).
- `/records/{id}/repair`: a record's repair as the department that supplied it or the
  credit office sees it (linked from the record rows of `/subjects/{id}`, found by
  subject and record number or 文号 on `/repairs`): its repair dates, eligibility and
  conditions, a form to register obligations fulfilled or a training (date and note,
  as `POST /records/{id}/repair-conditions`), the office's window recording a
  commitment signed there and applying for repair on the subject's behalf."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.commitments.access import sign_commitment
from creditgov.core import clock
from creditgov.core.errors import CreditGovError, InvalidInput, NotFound, status_of
from creditgov.security.scopes import Grant, Principal, Role, authorize
from creditgov.subjects import service as subject_service
from creditgov.web import i18n
from creditgov.web.i18n import refusal
from creditgov.web.render import render, scope_label
from creditgov.web.workflow_context import (
    UPLOAD_HINT,
    conditions_for,
    deciding_unit,
    left_sorted,
    met_on_field,
    objection_history,
    own_context,
    record_base,
    record_desk,
    repair_history,
    status_history,
)
from creditgov.workflows import flows
from creditgov.workflows.access import (
    MAX_UPLOAD_BYTES,
    UPLOAD_FORM_LIMITS,
    acting_unit,
    channel_of,
    condition_unit,
    desk_records,
    objection_in_scope,
    objections_out,
    record_in_scope,
    repair_in_scope,
    repair_record_in_scope,
    repairs_out,
    saved_uploads,
    scoped_objections,
    scoped_repairs,
)
from creditgov.workflows.common import get_item
from creditgov.workflows.conditions import record_repair_condition, sign_repair_commitment
from creditgov.workflows.eligibility import unmet
from creditgov.workflows.materials import add_materials, files_dir_for
from creditgov.workflows.models import (
    OBJECTION_OPEN,
    OBJECTION_STATUSES,
    REPAIR_OPEN,
    REPAIR_STATUSES,
)
from creditgov.workflows.objection import (
    extend_objection,
    file_objection,
    records_by_reference,
    request_review,
    withdraw_objection,
)
from creditgov.workflows.outcomes import grade_levels
from creditgov.workflows.repair import apply_repair, forward_repair, reject_repair
from creditgov.workflows.rules import rules as workflow_rules

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Uploads = Annotated[list[UploadFile] | None, File()]
Text = Annotated[str, Form(max_length=2000)]
CORRECTABLE_FORM = ("text", "value", "document_no", "occurred_on", "decided_on", "grade")
ConditionKind = Annotated[str, Form(pattern="^(obligations-fulfilled|training|commitment)$")]
Short = Annotated[str, Form(max_length=200)]
TemplateCode = Annotated[str, Form(max_length=80, pattern=r"^[a-z][a-z0-9-]*$")]


def files_dir(request: Request) -> Path:
    """Where the store keeps materials (see `materials.files_dir_for`)."""
    return files_dir_for(ctx(request).url)


# ----------------------------------------------------------------------------- 我的信用 (own view)


@router.get("/me/credit")
def my_credit(request: Request, who: Who, session: DB,
              done: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None) -> Response:
    grant = authorize(who, "own.view")
    return render(request, "my_credit.html", {**own_context(session, ctx(request).keyring, who, grant), "done": done})


def _my_credit_error(request: Request, session: Session, who: Principal, exc: CreditGovError,
                     values: dict[str, Any] | None = None) -> Response:
    """The own page again: the refusal at its status, an objection's reasons kept."""
    session.rollback()
    return render(request, "my_credit.html", {**own_context(session, ctx(request).keyring, who, authorize(who, "own.view")),
                                              "error": refusal(exc), "values": values or {}}, status=status_of(exc))


@router.post("/me/credit/objections", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def my_objection_file(request: Request, who: Who, session: DB,
                            record_id: Annotated[list[int], Form(max_length=20)], reason: Text,
                            evidence: Uploads = None) -> Response:
    """The subject objects to records of its own file (another subject's: 404)."""
    grant = authorize(who, "objections.file")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    for rid in record_id:
        record_in_scope(session, grant, rid, subject.id)
    try:
        with saved_uploads(evidence or []) as paths:
            got = file_objection(session, subject_id=subject.id, record_ids=record_id, reason=reason,
                                 channel=channel_of(who), evidence=paths, files_dir=files_dir(request),
                                 actor=who.actor)
    except InvalidInput as exc:
        return _my_credit_error(request, session, who, exc, {"record_id": record_id[0], "reason": reason})
    return RedirectResponse(f"/objections/{got[0].id}?done=filed", status_code=303)


@router.post("/me/credit/commitment")
async def my_commitment_sign(request: Request, who: Who, session: DB, agree: Short = "",
                             signed_by: Short = "") -> Response:
    """The subject signs its credit-repair commitment, having read the text shown."""
    grant = authorize(who, "repairs.conditions")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    try:
        sign_repair_commitment(session, subject_id=subject.id, unit=condition_unit(session, who),
                               agreed=agree == "yes", signed_by=signed_by.strip() or who.display_name,
                               actor=who.actor)
    except InvalidInput as exc:
        return _my_credit_error(request, session, who, exc)
    return RedirectResponse("/me/credit?done=signed#commitment", status_code=303)


@router.post("/me/credit/commitments")
async def my_commitment(request: Request, who: Who, session: DB, template: TemplateCode, agree: Short = "",
                        signed_by: Short = "") -> Response:
    """The subject signs a commitment from a template on its own view, the text shown."""
    grant = authorize(who, "commitments.sign")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    try:
        sign_commitment(session, who, subject_id=subject.id, template=template, agree=agree == "yes",
                        signed_by=signed_by)
    except (InvalidInput, NotFound) as exc:
        return _my_credit_error(request, session, who, exc)
    return RedirectResponse("/me/credit?done=committed#commitments", status_code=303)


@router.post("/me/credit/repairs", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def my_repair_apply(request: Request, who: Who, session: DB, record_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
                          applicant: Annotated[str, Form(max_length=200)] = "",
                          materials: Uploads = None) -> Response:
    """The subject applies for repair of a record of its own file."""
    grant = authorize(who, "repairs.apply")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    rec = record_in_scope(session, grant, record_id, subject.id)
    try:
        with saved_uploads(materials or []) as paths:
            a = apply_repair(session, subject_id=subject.id, record_id=rec.id,
                             applicant=applicant.strip() or None, channel=channel_of(who),
                             materials_files=paths, files_dir=files_dir(request), actor=who.actor)
    except InvalidInput as exc:
        return _my_credit_error(request, session, who, exc)
    return RedirectResponse(f"/repairs/{a.id}?done=applied", status_code=303)


# ----------------------------------------------------------------------------- objections


def _objections_page(request: Request, session: Session, who: Principal, status: str, *, error: str | None = None,
                     form: dict[str, str] | None = None, http_status: int = 200) -> Response:
    grant = authorize(who, "objections.read")
    rows = scoped_objections(session, grant, status=status, limit=300)
    return render(request, "objections.html", {
        "rows": left_sorted(objections_out(session, grant, rows)), "status": status,
        "statuses": ("pending", "all", *OBJECTION_STATUSES), "scope_label": scope_label(grant),
        # the office's window files on a subject's behalf; a subject objects on its own page
        "can_file_window": who.can("objections.file") and who.role is not Role.SUBJECT,
        "error": error, "form": form or {}, "upload": UPLOAD_HINT}, status=http_status)


@router.get("/objections")
def objections_page(request: Request, who: Who, session: DB,
                    status: Annotated[str, Query(pattern="^(pending|all|" + "|".join(OBJECTION_STATUSES) + ")$")]
                    = "pending") -> Response:
    return _objections_page(request, session, who, status)


@router.post("/objections", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def objection_window_file(request: Request, who: Who, session: DB, subject: Short, record: Short,
                                reason: Text, evidence: Uploads = None) -> Response:
    """The credit office files an objection at the window on a subject's behalf
    (channel `window`): the subject by credit code, ID number, id or exact name; the
    record by its number or the document number (文号) on the decision brought in."""
    grant = authorize(who, "objections.file")
    await check_csrf(request, who)
    try:
        found = subject_service.resolve(session, ctx(request).keyring, subject)
        sid = grant.require_subject(session, found.id).id
        ids = records_by_reference(session, subject_id=sid, ref=record)
        for rid in ids:
            record_in_scope(session, grant, rid, sid)
        with saved_uploads(evidence or []) as paths:
            got = file_objection(session, subject_id=sid, record_ids=ids, reason=reason,
                                 channel=channel_of(who), evidence=paths, files_dir=files_dir(request),
                                 actor=who.actor)
    except (InvalidInput, NotFound) as exc:
        session.rollback()
        return _objections_page(request, session, who, "pending", error=refusal(exc),
                                form={"subject": subject, "record": record, "reason": reason},
                                http_status=status_of(exc))
    return RedirectResponse(f"/objections/{got[0].id}?done=filed", status_code=303)


def _objection_page(request: Request, session: Session, who: Principal, objection_id: int, *, error: str | None = None,
                    done: str | None = None, status: int = 200, draft: dict[str, str] | None = None) -> Response:
    grant = authorize(who, "objections.read")
    row = objection_in_scope(session, grant, objection_id)
    o = objections_out(session, grant, [row])[0]
    unit = deciding_unit(session, who, "objections.decide")
    rules = workflow_rules(session).objection
    file_ok = who.can("objections.file") and authorize(who, "objections.file").in_scope(session, row.subject_id)
    can_decide = unit is not None and o["status"] == "open" and unit == o["department"]
    today = clock.today().isoformat()
    ctx_ = {
        "o": o, "error": error, "done": done, "unit": unit,
        "history": objection_history(o, clock.to_cst(row.updated_at).date().isoformat()),
        "status_history": status_history(session, [x for x in (o["record_id"], o["result_record_id"]) if x]),
        # where the records are seen (a corrected version is linked there); a rating's levels
        "record_base": record_base(session, who, row.subject_id),
        "grade_levels": grade_levels(get_item(session, o["record"]["item"])) if o["record"] else [],
        "can_decide": can_decide,
        "can_extend": can_decide and not o["extended_on"] and rules.extensions > 0 and today <= o["due_on"],
        "can_review_decide": unit is not None and o["status"] == "reviewing"
        and unit == (o["review"] or {}).get("authority"),
        "can_review": file_ok and o["status"] == "decided" and o["outcome"] != "deleted" and rules.reviews > 0,
        "can_withdraw": file_ok and o["status"] in OBJECTION_OPEN,
        "can_add": file_ok and o["status"] in (*OBJECTION_OPEN, "decided"),
        "can_open_subject": who.can("subjects.read")
        and authorize(who, "subjects.read").in_scope(session, row.subject_id),
        "correctable": CORRECTABLE_FORM, "upload": UPLOAD_HINT, "draft": draft or {},
    }
    return render(request, "objection.html", ctx_, status=status)


@router.get("/objections/{objection_id}")
def objection_page(request: Request, objection_id: Id, who: Who, session: DB,
                   done: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None) -> Response:
    return _objection_page(request, session, who, objection_id, done=done)


async def _objection_action(request: Request, who: Principal, session: Session, objection_id: int, permission: str,
                            done: str, act: Any, draft: dict[str, str] | None = None) -> Response:
    grant = authorize(who, permission)
    await check_csrf(request, who)
    objection_in_scope(session, grant, objection_id)
    try:
        act(grant)
    except InvalidInput as exc:
        session.rollback()
        return _objection_page(request, session, who, objection_id, error=refusal(exc), status=status_of(exc),
                               draft=draft)
    return RedirectResponse(f"/objections/{objection_id}?done={done}", status_code=303)


class DecisionForm(BaseModel):
    """A decision or review decision as sent; a refused one comes back as typed (`draft`)."""

    outcome: str = Field(pattern="^(upheld|corrected|deleted)$")
    reason: str = Field(max_length=2000)
    text: str = Field(default="", max_length=2000)
    value: str = Field(default="", max_length=40)
    document_no: str = Field(default="", max_length=200)
    occurred_on: str = Field(default="", max_length=10)
    decided_on: str = Field(default="", max_length=10)
    grade: str = Field(default="", max_length=20)

    def corrections(self) -> dict[str, str] | None:
        got = {k: v.strip() for k in CORRECTABLE_FORM if (v := getattr(self, k)) and v.strip()}
        return (got or None) if self.outcome == "corrected" else None


@router.post("/objections/{objection_id}/decide")
async def objection_decide(request: Request, objection_id: Id, who: Who, session: DB,
                           form: Annotated[DecisionForm, Form()]) -> Response:
    return await _objection_action(request, who, session, objection_id, "objections.decide", "decided", lambda g: (
        flows.decide_objection(session, objection_id=objection_id, outcome=form.outcome, reason=form.reason,
                               department=acting_unit(session, who), corrections=form.corrections(),
                               actor=who.actor)), draft=form.model_dump())


@router.post("/objections/{objection_id}/extend")
async def objection_extend(request: Request, objection_id: Id, who: Who, session: DB, reason: Text) -> Response:
    return await _objection_action(request, who, session, objection_id, "objections.decide", "extended", lambda g: (
        extend_objection(session, objection_id=objection_id, reason=reason,
                         department=acting_unit(session, who), actor=who.actor)))


@router.post("/objections/{objection_id}/review")
async def objection_review(request: Request, objection_id: Id, who: Who, session: DB, reason: Text) -> Response:
    return await _objection_action(request, who, session, objection_id, "objections.file", "review", lambda g: (
        request_review(session, objection_id=objection_id, reason=reason, actor=who.actor)))


@router.post("/objections/{objection_id}/review-decide")
async def objection_review_decide(request: Request, objection_id: Id, who: Who, session: DB,
                                  form: Annotated[DecisionForm, Form()]) -> Response:
    return await _objection_action(request, who, session, objection_id, "objections.decide", "reviewed", lambda g: (
        flows.decide_review(session, objection_id=objection_id, outcome=form.outcome, reason=form.reason,
                            unit=acting_unit(session, who), corrections=form.corrections(), actor=who.actor)),
        draft=form.model_dump())


@router.post("/objections/{objection_id}/withdraw")
async def objection_withdraw(request: Request, objection_id: Id, who: Who, session: DB, reason: Text = "") -> Response:
    return await _objection_action(request, who, session, objection_id, "objections.file", "withdrawn", lambda g: (
        withdraw_objection(session, objection_id=objection_id, reason=reason, actor=who.actor)))


@router.post("/objections/{objection_id}/materials", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def objection_materials(request: Request, objection_id: Id, who: Who, session: DB,
                              files: Uploads = None) -> Response:
    def add(g: Grant) -> None:
        with saved_uploads(files or []) as paths:
            add_materials(session, owner_kind="objection", owner_id=objection_id, files=paths,
                          files_dir=files_dir(request), actor=who.actor)

    return await _objection_action(request, who, session, objection_id, "objections.file", "materials", add)


# ----------------------------------------------------------------------------- repairs


def _repairs_page(request: Request, session: Session, who: Principal, status: str, *, error: str | None = None,
                  form: dict[str, str] | None = None, http_status: int = 200) -> Response:
    grant = authorize(who, "repairs.read")
    rows = scoped_repairs(session, grant, status=status, limit=300)
    return render(request, "repairs.html", {
        "rows": left_sorted(repairs_out(session, grant, rows)), "status": status,
        "statuses": ("pending", "all", *REPAIR_STATUSES), "scope_label": scope_label(grant),
        # officers open a record's repair (conditions, the window's application) from here too
        "can_find": who.role is not Role.SUBJECT and (who.can("repairs.conditions") or who.can("repairs.apply")),
        "error": error, "form": form or {}}, status=http_status)


@router.get("/repairs")
def repairs_page(request: Request, who: Who, session: DB,
                 status: Annotated[str, Query(pattern="^(pending|all|" + "|".join(REPAIR_STATUSES) + ")$")]
                 = "pending") -> Response:
    return _repairs_page(request, session, who, status)


@router.post("/repairs/record")
async def repairs_find_record(request: Request, who: Who, session: DB, subject: Short, record: Short) -> Response:
    """An officer opens a record's repair page by the subject (credit code, ID number, id
    or exact name) and the record (its number or the document number 文号) a subject
    brings to the window — posted, so an ID number stays out of addresses and logs."""
    grant = authorize(who, "repairs.read")
    await check_csrf(request, who)
    try:
        found = subject_service.resolve(session, ctx(request).keyring, subject)
        sid = grant.require_subject(session, found.id).id
        ids = desk_records(session, who, records_by_reference(session, subject_id=sid, ref=record))
        if not ids:
            raise NotFound(f"no current negative record {record!r} of yours in this subject's file",
                           code="workflows.record.no_such", params={"ref": record.strip()})
        repair_record_in_scope(session, grant, ids[0])
    except (InvalidInput, NotFound) as exc:
        return _repairs_page(request, session, who, "pending", error=refusal(exc),
                             form={"subject": subject, "record": record}, http_status=status_of(exc))
    return RedirectResponse(f"/records/{ids[0]}/repair", status_code=303)


def _record_page(request: Request, session: Session, who: Principal, record_id: int, *, error: str | None = None,
                 done: str | None = None, status: int = 200, form: dict[str, str] | None = None) -> Response:
    grant = authorize(who, "repairs.read")
    rec = repair_record_in_scope(session, grant, record_id)
    subject = subject_service.display_name(grant.require_subject(session, rec.subject_id),
                                           masked=grant.masks_people)
    return render(request, "repair_record.html", {
        **record_desk(session, who, rec), "subject_name": subject, "error": error, "done": done,
        "record_base": record_base(session, who, rec.subject_id), "upload": UPLOAD_HINT, "form": form or {}},
        status=status)


@router.get("/records/{record_id}/repair")
def record_repair_page(request: Request, record_id: Id, who: Who, session: DB,
                       done: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None) -> Response:
    """A record's repair as the department that supplied it or the credit office sees
    it: its conditions with the forms to register them, and the window's application.
    The subject itself has these on its own view."""
    if who.role is Role.SUBJECT:
        repair_record_in_scope(session, authorize(who, "repairs.read"), record_id)
        return RedirectResponse(f"/me/credit#rec-{record_id}", status_code=303)
    return _record_page(request, session, who, record_id, done=done)


async def _record_action(request: Request, who: Principal, session: Session, record_id: int, permission: str,
                         act: Any, form: dict[str, str]) -> Response:
    grant = authorize(who, permission)
    await check_csrf(request, who)
    repair_record_in_scope(session, grant, record_id)
    try:
        where = act(grant)
    except InvalidInput as exc:
        session.rollback()
        return _record_page(request, session, who, record_id, error=refusal(exc), status=status_of(exc), form=form)
    return RedirectResponse(where, status_code=303)


@router.post("/records/{record_id}/repair/conditions")
async def record_repair_conditions(request: Request, record_id: Id, who: Who, session: DB, kind: ConditionKind,
                                   met_on: Annotated[str, Form(max_length=10)] = "", note: Text = "",
                                   signed_by: Short = "", agree: Short = "") -> Response:
    """Register a condition of the record's repair, as `POST /records/{id}/repair-conditions`
    does: the supplying department or the office confirms obligations fulfilled (once)
    or a training, dated (never ahead) with a note; the office's window records a
    commitment signed there, naming the signer."""
    def act(g: Grant) -> str:
        record_repair_condition(session, record_id=record_id, kind=kind, unit=condition_unit(session, who),
                                met_on=met_on_field(met_on), note=note.strip() or None,
                                signed_by=signed_by.strip() or None, agreed=agree == "yes", actor=who.actor)
        return f"/records/{record_id}/repair?done=condition"

    return await _record_action(request, who, session, record_id, "repairs.conditions", act,
                                {"kind": kind, "met_on": met_on, "note": note, "signed_by": signed_by})


@router.post("/records/{record_id}/repair/apply", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def record_repair_apply(request: Request, record_id: Id, who: Who, session: DB, applicant: Short = "",
                              materials: Uploads = None) -> Response:
    """The office's window applies for repair on the subject's behalf (channel `window`),
    as `POST /records/{id}/repairs` does: eligibility is checked at once."""
    def act(g: Grant) -> str:
        rec = repair_record_in_scope(session, g, record_id)
        with saved_uploads(materials or []) as paths:
            a = apply_repair(session, subject_id=rec.subject_id, record_id=rec.id,
                             applicant=applicant.strip() or None, channel=channel_of(who),
                             materials_files=paths, files_dir=files_dir(request), actor=who.actor)
        return f"/repairs/{a.id}?done=applied"

    return await _record_action(request, who, session, record_id, "repairs.apply", act, {"applicant": applicant})


def _repair_page(request: Request, session: Session, who: Principal, application_id: int, *,
                 error: str | None = None, done: str | None = None, approval: dict[str, Any] | None = None,
                 status: int = 200) -> Response:
    grant = authorize(who, "repairs.read")
    row = repair_in_scope(session, grant, application_id)
    a = repairs_out(session, grant, [row])[0]
    unit = deciding_unit(session, who, "repairs.decide")
    intake = workflow_rules(session).repair.intake_unit
    apply_ok = who.can("repairs.apply") and authorize(who, "repairs.apply").in_scope(session, row.subject_id)
    holder = {"submitted": intake, "forwarded": a["department"]}.get(a["status"])
    ctx_ = {
        "conditions": conditions_for(session, who, row.record_id, row.subject_id),
        "a": a, "error": error, "done": done, "approval": approval, "unit": unit, "intake": intake,
        "unmet": unmet(a["eligibility"], i18n.current.get()),
        "history": repair_history(a, intake), "status_history": status_history(session, [a["record_id"]]),
        "can_forward": unit is not None and a["status"] == "submitted" and unit == intake,
        "can_reject": unit is not None and holder is not None and unit == holder,
        "can_approve": unit is not None and a["status"] == "forwarded" and unit == a["department"],
        "can_add": apply_ok and a["status"] in REPAIR_OPEN,
        "can_open_subject": who.can("subjects.read")
        and authorize(who, "subjects.read").in_scope(session, row.subject_id),
        "desk": bool(desk_records(session, who, [row.record_id])),  # the record's own repair page
        "record_base": record_base(session, who, row.subject_id),
        "upload": UPLOAD_HINT,
    }
    return render(request, "repair.html", ctx_, status=status)


@router.get("/repairs/{application_id}")
def repair_page(request: Request, application_id: Id, who: Who, session: DB,
                done: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None) -> Response:
    return _repair_page(request, session, who, application_id, done=done)


async def _repair_action(request: Request, who: Principal, session: Session, application_id: int, permission: str,
                         done: str, act: Any) -> Response:
    grant = authorize(who, permission)
    await check_csrf(request, who)
    repair_in_scope(session, grant, application_id)
    try:
        result = act(grant)
    except InvalidInput as exc:
        session.rollback()
        return _repair_page(request, session, who, application_id, error=refusal(exc), status=status_of(exc))
    if done == "approved":
        # The approval's effects (lists exited, grades recomputed) are shown at once.
        return _repair_page(request, session, who, application_id, done=done, approval=result)
    return RedirectResponse(f"/repairs/{application_id}?done={done}", status_code=303)


@router.post("/repairs/{application_id}/forward")
async def repair_forward(request: Request, application_id: Id, who: Who, session: DB) -> Response:
    return await _repair_action(request, who, session, application_id, "repairs.decide", "forwarded", lambda g: (
        forward_repair(session, application_id=application_id, unit=acting_unit(session, who),
                       actor=who.actor)))


@router.post("/repairs/{application_id}/reject")
async def repair_reject(request: Request, application_id: Id, who: Who, session: DB, reason: Text) -> Response:
    return await _repair_action(request, who, session, application_id, "repairs.decide", "rejected", lambda g: (
        reject_repair(session, application_id=application_id, unit=acting_unit(session, who),
                      reason=reason, actor=who.actor)))


@router.post("/repairs/{application_id}/approve")
async def repair_approve(request: Request, application_id: Id, who: Who, session: DB, reason: Text = "") -> Response:
    return await _repair_action(request, who, session, application_id, "repairs.decide", "approved", lambda g: (
        flows.approve_repair(session, application_id=application_id, department=acting_unit(session, who),
                             reason=reason or None, actor=who.actor)))


@router.post("/repairs/{application_id}/conditions")
async def repair_condition(request: Request, application_id: Id, who: Who, session: DB, kind: ConditionKind,
                           met_on: Annotated[str, Form(max_length=10)] = "", note: Text = "",
                           signed_by: Short = "", agree: Short = "") -> Response:
    """Record a condition of the application's record: an officer confirms obligations
    or training (date and note); the subject signs the commitment (or the office's
    window records one signed there)."""
    def act(g: Grant) -> None:
        a = repair_in_scope(session, g, application_id)
        signer = signed_by.strip() or (who.display_name if who.role is Role.SUBJECT else "")
        record_repair_condition(session, record_id=a.record_id, kind=kind, unit=condition_unit(session, who),
                                met_on=met_on_field(met_on), note=note.strip() or None, signed_by=signer or None,
                                agreed=agree == "yes", actor=who.actor)

    return await _repair_action(request, who, session, application_id, "repairs.conditions", "condition", act)


@router.post("/repairs/{application_id}/materials", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def repair_materials(request: Request, application_id: Id, who: Who, session: DB,
                           files: Uploads = None) -> Response:
    def add(g: Grant) -> None:
        with saved_uploads(files or []) as paths:
            add_materials(session, owner_kind="repair", owner_id=application_id, files=paths,
                          files_dir=files_dir(request), actor=who.actor)

    return await _repair_action(request, who, session, application_id, "repairs.apply", "materials", add)
