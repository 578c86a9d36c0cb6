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
  department or the office confirm obligations and training, the subject signs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.bureaus import access as bureau_access
from creditgov.commitments.access import own_commitments, sign_commitment
from creditgov.core import clock, labels
from creditgov.core.errors import CreditGovError, InvalidInput, NotFound, status_of
from creditgov.exchange import access as exchange_access
from creditgov.records.models import RecordStatusChange
from creditgov.scoring import narrative
from creditgov.scoring import service as scoring_service
from creditgov.security.scopes import Forbidden, Grant, Principal, Role, authorize
from creditgov.security.users import consent_dict, consents
from creditgov.subjects import service as subject_service
from creditgov.web import i18n
from creditgov.web.i18n import refusal
from creditgov.web.render import render, scope_label
from creditgov.workflows import flows
from creditgov.workflows.access import (
    MAX_FILE_BYTES,
    MAX_FILES,
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
from creditgov.workflows.conditions import (
    record_repair_condition,
    repair_conditions,
    sign_repair_commitment,
)
from creditgov.workflows.eligibility import eligibility as check_eligibility
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
from creditgov.workflows.repair import apply_repair, forward_repair, reject_repair
from creditgov.workflows.rules import rules as workflow_rules

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Uploads = Annotated[list[UploadFile] | None, File()]
Text = Annotated[str, Form(max_length=2000)]
UPLOAD_HINT = {"files": MAX_FILES, "mb": MAX_FILE_BYTES // (1024 * 1024)}
CORRECTABLE_FORM = ("text", "value", "document_no", "occurred_on", "decided_on", "grade")
ConditionKind = Annotated[str, Form(pattern="^(obligations-fulfilled|training|commitment)$")]
Short = Annotated[str, Form(max_length=200)]
TemplateCode = Annotated[str, Form(max_length=80, pattern=r"^[a-z][a-z0-9-]*$")]


def files_dir(request: Request) -> Path:
    """Where the store keeps materials (see `materials.files_dir_for`)."""
    return files_dir_for(ctx(request).url)


def _unit(session: Session, who: Principal, permission: str) -> str | None:
    """The unit the reader decides in, when it may decide at all."""
    if not who.can(permission):
        return None
    try:
        return acting_unit(session, who)
    except Forbidden:
        return None


def _status_history(session: Session, record_ids: list[int]) -> list[dict[str, Any]]:
    q = (select(RecordStatusChange).where(RecordStatusChange.record_id.in_(record_ids))
         .order_by(RecordStatusChange.id))
    return [{"record_id": c.record_id, "from": c.from_status, "to": c.to_status,
             "at": c.at.isoformat(timespec="seconds"), "actor": c.actor, "reason": c.reason}
            for c in session.execute(q).scalars()]


def _left_sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pending cases first, the nearest deadline first; then the rest, newest first."""
    pending = sorted((r for r in rows if r["deadline"]), key=lambda r: (r["deadline"], r["id"]))
    return pending + [r for r in rows if not r["deadline"]]


# ----------------------------------------------------------------------------- 我的信用 (own view)


def _met_on(value: str) -> dt.date | None:
    """A form's date field: blank is today (the service's default)."""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", code="workflows.date.malformed",
                           params={"value": value.strip()}) from None


def _conditions(session: Session, who: Principal, record_id: int, subject_id: int) -> dict[str, Any]:
    """A record's repair conditions and what the reader may record of them: an officer
    whose unit fits confirms obligations (until recorded) and training; the subject
    signs the commitment; the credit office records one signed at its window."""
    cs = repair_conditions(session, record_id=record_id)
    by = {c["condition"]: c for c in cs["conditions"]}
    unit: str | None = None
    may = who.can("repairs.conditions") and authorize(who, "repairs.conditions").in_scope(session, subject_id)
    if may:
        try:
            unit = condition_unit(session, who)
        except Forbidden:
            may = False
    officer = may and cs["open"] and unit is not None
    kinds = [k for k in ("obligations-fulfilled", "training")
             if officer and unit in by[k]["recorded_by"] and not (k == "obligations-fulfilled" and by[k]["met"])]
    sign = may and cs["open"] and cs["commitment"] is not None and not by["commitment"]["met"] \
        and (unit is None or unit in by["commitment"]["recorded_by"])
    return {**cs, "by": by, "kinds": kinds, "can_sign": sign, "window": sign and unit is not None,
            "today": clock.today().isoformat()}


def _eligibility(session: Session, record_id: int) -> dict[str, Any]:
    try:
        e = check_eligibility(session, record_id=record_id).as_dict()
    except InvalidInput as exc:
        return {"error": refusal(exc)}
    e["period_ok"] = all(c["met"] for c in e["checks"] if c["condition"] == "minimum-period")
    return e


def _own_context(request: Request, session: Session, who: Principal, grant: Grant) -> dict[str, Any]:
    v = own_view_of(session, ctx(request).keyring, grant)
    # The explanation in the same words as the file page and the PDF report.
    v = {**v, "scores": [{**sc, "explanation": narrative.narrate(
        session, sc["explanation"], scoring_service.get(session, sc["model"])[1], i18n.current.get())}
        for sc in v["scores"]]}
    published = set(v["published_record_ids"])
    schedule = {r["record_id"]: r for r in v["repair_schedule"]}
    open_objections = {o["record_id"]: o for o in v["objections"] if o["status"] in OBJECTION_OPEN}
    open_repairs = {a["record_id"]: a for a in v["repairs"] if a["status"] in REPAIR_OPEN}
    rows = []
    commitment = None  # the credit-repair commitment to sign, while a record waits for it
    for r in v["file"]["records"]:
        sch = schedule.get(r["id"])
        eligibility = conditions = None
        if sch and r["status"] in ("active", "expired") and r["id"] not in open_repairs:
            eligibility = _eligibility(session, r["id"])
            conditions = _conditions(session, who, r["id"], v["file"]["id"])
            if conditions["can_sign"] and commitment is None:
                commitment = conditions
        rows.append({**r, "published": r["id"] in published, "schedule": sch, "eligibility": eligibility,
                     "conditions": conditions,
                     "open_objection": open_objections.get(r["id"]), "open_repair": open_repairs.get(r["id"]),
                     "can_object": r["status"] == "active" and r["is_current"]})
    return {"v": v, "f": v["file"], "rows": rows, "counts": flows.open_cases(session, v["file"]["id"]),
            "can_file": who.can("objections.file"), "can_apply": who.can("repairs.apply"),
            "commitment": commitment, "upload": UPLOAD_HINT,
            "consents": [consent_dict(c) for c in consents(session, subject_id=v["file"]["id"])],
            "exchanged": exchange_access.for_subject(session, v["file"]["id"]),
            "bureau_runs": bureau_access.for_subject(session, v["file"]["id"]),
            **own_commitments(session, who, v["file"]["id"])}


@router.get("/me/credit")
def my_credit(request: Request, who: Who, session: DB,
              done: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None) -> Response:
    grant = authorize(who, "own.view")
    return render(request, "my_credit.html", {**_own_context(request, session, who, grant), "done": done})


def _my_credit_error(request: Request, session: Session, who: Principal, exc: CreditGovError,
                     values: dict[str, Any] | None = None) -> Response:
    """The own page again: the refusal at its status, an objection's reasons kept."""
    session.rollback()
    return render(request, "my_credit.html", {**_own_context(request, session, who, authorize(who, "own.view")),
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
        "rows": _left_sorted(objections_out(session, grant, rows)), "status": status,
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


def _objection_history(o: dict[str, Any], withdrawn_on: str | None) -> list[dict[str, Any]]:
    h = [{"step": "received", "on": o["received_on"], "by": o["filed_by"], "note": o["reason"],
          "due": o["due_on"] if not o["extended_on"] else None}]
    if o["extended_on"]:
        h.append({"step": "extended", "on": o["extended_on"], "by": o["department"], "note": o["extension_reason"],
                  "due": o["due_on"]})
    if o["decided_on"]:
        h.append({"step": "decided", "on": o["decided_on"], "by": o["decided_by"], "outcome": o["outcome"],
                  "note": o["decision_reason"]})
    r = o["review"]
    if r:
        h.append({"step": "review_requested", "on": r["requested_on"], "by": o["filed_by"], "note": r["reason"],
                  "due": r["due_on"]})
        if r["decided_on"]:
            h.append({"step": "reviewed", "on": r["decided_on"], "by": r["decided_by"], "outcome": r["outcome"],
                      "note": r["decision_reason"]})
    if o["status"] == "withdrawn":
        h.append({"step": "withdrawn", "on": withdrawn_on, "by": o["filed_by"]})
    return h


def _objection_page(request: Request, session: Session, who: Principal, objection_id: int, *, error: str | None = None,
                    done: str | None = None, status: int = 200, draft: dict[str, str] | None = None) -> Response:
    grant = authorize(who, "objections.read")
    row = objection_in_scope(session, grant, objection_id)
    o = objections_out(session, grant, [row])[0]
    unit = _unit(session, who, "objections.decide")
    rules = workflow_rules(session).objection
    file_ok = who.can("objections.file") and authorize(who, "objections.file").in_scope(session, row.subject_id)
    can_decide = unit is not None and o["status"] == "open" and unit == o["department"]
    today = clock.today().isoformat()
    ctx_ = {
        "o": o, "error": error, "done": done, "unit": unit,
        "history": _objection_history(o, row.updated_at.date().isoformat()),
        "status_history": _status_history(session, [x for x in (o["record_id"], o["result_record_id"]) if x]),
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


@router.get("/repairs")
def repairs_page(request: Request, who: Who, session: DB,
                 status: Annotated[str, Query(pattern="^(pending|all|" + "|".join(REPAIR_STATUSES) + ")$")]
                 = "pending") -> Response:
    grant = authorize(who, "repairs.read")
    rows = scoped_repairs(session, grant, status=status, limit=300)
    return render(request, "repairs.html", {
        "rows": _left_sorted(repairs_out(session, grant, rows)), "status": status,
        "statuses": ("pending", "all", *REPAIR_STATUSES), "scope_label": scope_label(grant)})


def _repair_history(a: dict[str, Any], intake: str) -> list[dict[str, Any]]:
    """The application's steps, units and channels by their names, a refusal's unmet
    conditions in the reader's language."""
    lang = i18n.current.get()
    h = [{"step": "applied", "on": a["applied_on"], "by": a["applicant"] or labels.label("channel", a["channel"], lang),
          "due": a["intake_due_on"]}]
    if a["status"] == "refused":
        h.append({"step": "refused", "on": a["decided_on"], "by": a["decided_by"],
                  "note": unmet(a["eligibility"], lang) or a["refusal_reason"]})
    if a["forwarded_on"]:
        h.append({"step": "forwarded", "on": a["forwarded_on"], "by": labels.label("department", intake, lang),
                  "due": a["decision_due_on"], "note": labels.label("department", a["department"], lang)})
    if a["status"] in ("approved", "rejected"):
        h.append({"step": a["status"], "on": a["decided_on"], "by": a["decided_by"], "note": a["decision_reason"]})
    return h


def _repair_page(request: Request, session: Session, who: Principal, application_id: int, *,
                 error: str | None = None, done: str | None = None, approval: dict[str, Any] | None = None,
                 status: int = 200) -> Response:
    grant = authorize(who, "repairs.read")
    row = repair_in_scope(session, grant, application_id)
    a = repairs_out(session, grant, [row])[0]
    unit = _unit(session, who, "repairs.decide")
    intake = workflow_rules(session).repair.intake_unit
    apply_ok = who.can("repairs.apply") and authorize(who, "repairs.apply").in_scope(session, row.subject_id)
    holder = {"submitted": intake, "forwarded": a["department"]}.get(a["status"])
    ctx_ = {
        "conditions": _conditions(session, who, row.record_id, row.subject_id),
        "a": a, "error": error, "done": done, "approval": approval, "unit": unit, "intake": intake,
        "unmet": unmet(a["eligibility"], i18n.current.get()),
        "history": _repair_history(a, intake), "status_history": _status_history(session, [a["record_id"]]),
        "can_forward": unit is not None and a["status"] == "submitted" and unit == intake,
        "can_reject": unit is not None and holder is not None and unit == holder,
        "can_approve": unit is not None and a["status"] == "forwarded" and unit == a["department"],
        "can_add": apply_ok and a["status"] in REPAIR_OPEN,
        "can_open_subject": who.can("subjects.read")
        and authorize(who, "subjects.read").in_scope(session, row.subject_id),
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
                                met_on=_met_on(met_on), note=note.strip() or None, signed_by=signer or None,
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
