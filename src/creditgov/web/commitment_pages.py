"""Pages for credit commitments (信用承诺). Same rules as `web/pages.py`: each route
authorises, reaches commitments through the same scope helpers as the API
(`commitments.access`), calls the commitments service and renders a template; every
form that changes state carries the session's CSRF token; text lives in the templates.

- `/commitments`: the officers' work list (status and overdue filters, newest first);
  the verifying department records fulfilled or breached on each signed one; the
  credit office's window records a commitment a subject signed there.
- `/me/credit` (the own view, `web/workflow_pages.py`) lists the subject's commitments
  and offers each template to sign, its text shown; the form posts to
  `/me/credit/commitments`, there too (its errors are shown on the own view). The
  credit-repair commitment keeps its own form there (it is signed with a repair)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.commitments.access import (
    commitments_out,
    scoped_commitments,
    sign_commitment,
    template_rows,
    verify_commitment,
)
from creditgov.commitments.models import STATUSES
from creditgov.core.errors import InvalidInput, NotFound, status_of
from creditgov.security.scopes import Forbidden, Principal, Role, authorize
from creditgov.subjects import service as subject_service
from creditgov.web.i18n import refusal
from creditgov.web.render import render, scope_label
from creditgov.workflows.access import acting_unit

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Short = Annotated[str, Form(max_length=200)]
TemplateCode = Annotated[str, Form(max_length=80, pattern=r"^[a-z][a-z0-9-]*$")]
STATUS_FILTERS = (*STATUSES, "all")


def _unit(session: Session, who: Principal) -> str | None:
    """The unit the reader verifies in, when it may verify at all."""
    if not who.can("commitments.verify"):
        return None
    try:
        return acting_unit(session, who)
    except Forbidden:
        return None


def _page(request: Request, session: Session, who: Principal, *, status: str = "signed", overdue: bool = False,
          done: str | None = None, error: str | None = None, form: dict[str, str] | None = None,
          http_status: int = 200) -> Response:
    grant = authorize(who, "commitments.read")
    rows = commitments_out(session, grant, scoped_commitments(session, grant, status=status, overdue=overdue,
                                                              limit=300))
    window = who.can("commitments.sign") and who.role is not Role.SUBJECT
    return render(request, "commitments.html", {
        "rows": rows, "status": status, "overdue": overdue, "statuses": STATUS_FILTERS,
        "scope_label": scope_label(grant), "unit": _unit(session, who), "done": done, "error": error,
        "form": form or {}, "window": window,
        "templates": [t for t in template_rows(session) if t["signable"]] if window else [],
        "can_open_subject": who.can("subjects.read"),
        "next": str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")},
        status=http_status)


@router.get("/commitments")
def commitments_page(request: Request, who: Who, session: DB,
                     status: Annotated[str, Query(pattern="^(" + "|".join(STATUS_FILTERS) + ")$")] = "signed",
                     overdue: bool = False,
                     done: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None) -> Response:
    return _page(request, session, who, status=status, overdue=overdue, done=done)


@router.post("/commitments")
async def commitment_window_sign(request: Request, who: Who, session: DB, subject: Short, template: TemplateCode,
                                 signed_by: Short = "", agree: Short = "") -> Response:
    """The credit office's window records a commitment the subject signed there: the
    subject by credit code, ID number, id or exact name."""
    grant = authorize(who, "commitments.sign")
    await check_csrf(request, who)
    try:
        found = subject_service.resolve(session, ctx(request).keyring, subject)
        sid = grant.require_subject(session, found.id).id
        c = sign_commitment(session, who, subject_id=sid, template=template, agree=agree == "yes",
                            signed_by=signed_by)
    except (InvalidInput, NotFound) as exc:
        session.rollback()
        return _page(request, session, who, error=refusal(exc),
                     form={"subject": subject, "template": template, "signed_by": signed_by},
                     http_status=status_of(exc))
    return RedirectResponse(f"/commitments?done=signed#commitment-{c.id}", status_code=303)


@router.post("/commitments/{commitment_id}/verify")
async def commitment_verify(request: Request, commitment_id: Id, who: Who, session: DB,
                            outcome: Annotated[str, Form(pattern="^(fulfilled|breached)$")],
                            note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """The verifying department records fulfilment or breach (a breach: one negative record)."""
    grant = authorize(who, "commitments.verify")
    await check_csrf(request, who)
    try:
        verify_commitment(session, grant, commitment_id, outcome=outcome, note=note.strip() or None)
    except InvalidInput as exc:
        session.rollback()
        return _page(request, session, who, error=refusal(exc), http_status=status_of(exc))
    return RedirectResponse(f"/commitments?status=all&done={outcome}#commitment-{commitment_id}", status_code=303)


__all__ = ["router"]
