"""Manual entry pages (人工录入), `/entries`: an officer enters a record (or registers a
subject) with a reason and evidence files; a second person — the credit office —
approves or rejects it; approved, it has gone through ingestion (`ingest/manual.py`,
whose rules the API and the CLI share)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.catalog.models import Department
from creditgov.core.errors import CreditGovError, NotFound, status_of
from creditgov.ingest import manual
from creditgov.security.scopes import Principal, Scope, authorize
from creditgov.web.i18n import refusal
from creditgov.web.render import render
from creditgov.workflows.access import MAX_UPLOAD_BYTES, UPLOAD_FORM_LIMITS, saved_uploads
from creditgov.workflows.materials import files_dir_for

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=manual.TEXT_MAX)]
Uploads = Annotated[list[UploadFile] | None, File()]


def _unit(who: Principal, permission: str) -> str | None:
    grant = authorize(who, permission)
    if grant.scope is Scope.DEPARTMENT:
        if not who.department_code:
            raise NotFound("no department on this account", code="ingest.account.no_department")
        return who.department_code
    return None


def _context(request: Request, session: Session, who: Principal, **extra: Any) -> dict[str, Any]:
    unit = _unit(who, "manual.read")
    ring = ctx(request).keyring
    rows = [manual.entry_dict(ring, e) for e in manual.entries(session) if unit is None or e.department_code == unit]
    can_propose = who.can("manual.propose")
    deps = [d.code for d in session.execute(select(Department).order_by(Department.code)).scalars()
            if unit is None or d.code == unit] if can_propose else []
    return {"entries": rows, "can_propose": can_propose, "can_approve": who.can("manual.approve"),
            "departments": deps, "me": who.actor, "fields": manual.RECORD_FIELDS, **extra}


@router.get("/entries")
def entries_page(request: Request, who: Who, session: DB,
                 done: Annotated[str | None, Query(pattern="^(proposed|approved|rejected)$")] = None) -> Response:
    return render(request, "manual_entries.html", _context(request, session, who, done=done))


@router.post("/entries", max_body_size=MAX_UPLOAD_BYTES, form_limits=UPLOAD_FORM_LIMITS)
async def entries_propose(request: Request, who: Who, session: DB,
                          department: Annotated[str, Form(min_length=1, max_length=50)], reason: Text,
                          identifier: Text = "", name: Text = "", item: Text = "", occurred_on: Text = "",
                          decided_on: Text = "", value: Text = "", text: Text = "", document_no: Text = "",
                          evidence: Uploads = None) -> Response:
    unit = _unit(who, "manual.propose")
    await check_csrf(request, who)
    fields = {"identifier": identifier, "name": name, "item": item, "occurred_on": occurred_on,
              "decided_on": decided_on, "value": value, "text": text, "document_no": document_no}
    try:
        if unit is not None and department != unit:
            raise NotFound(f"department {department!r} is not yours", code="ingest.manual.other_department",
                           params={"department": department})
        with saved_uploads(evidence or []) as paths:
            manual.propose(session, ctx(request).keyring, kind="record", department=department, fields=fields,
                           reason=reason, evidence=paths, files_dir=files_dir_for(ctx(request).url),
                           actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        draft = {**fields, "reason": reason, "department": department}  # the form again as typed
        return render(request, "manual_entries.html", _context(request, session, who, error=refusal(exc), draft=draft),
                      status=status_of(exc))
    return RedirectResponse("/entries?done=proposed", status_code=303)


@router.post("/entries/{entry_id}/decide")
async def entries_decide(request: Request, entry_id: Id, who: Who, session: DB,
                         decision: Annotated[str, Form(pattern="^(approve|reject)$")], note: Text = "") -> Response:
    authorize(who, "manual.approve")
    await check_csrf(request, who)
    try:
        e = manual.decide(session, ctx(request).keyring, entry_id, approve=decision == "approve", note=note,
                          actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        code = status_of(exc)
        return render(request, "manual_entries.html", _context(request, session, who, error=refusal(exc)), status=code)
    return RedirectResponse(f"/entries?done={e.status}#entry-{e.id}", status_code=303)
