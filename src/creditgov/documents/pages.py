"""The documents page: `/documents` chooses a list, the kind and the day, and its
button downloads the batch's documents as one PDF (`/documents/lists.pdf`); the
decided objections and repairs print from `/documents/cases.pdf`, a random draw's
inspection notices from `/documents/inspections.pdf`, and a draw's notices are sent to
the firms (inbox and e-mail with the PDF: `sending.py`) by `POST /documents/inspections/send`.
A department officer sees only the inspection form, with its own department's draws
(`inspections` holds the rule)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from creditgov.api.deps import DB, Who, check_csrf
from creditgov.core import settings
from creditgov.core.errors import CreditGovError, status_of
from creditgov.documents import casework, inspections, sending, service
from creditgov.lists.models import CreditList
from creditgov.security.scopes import Forbidden, Grant, Scope, authorize
from creditgov.web.i18n import refusal
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _verify_base(request: Request) -> str:
    return (settings.public_url() or str(request.base_url).rstrip("/")) + "/verify"


def _acting_for(grant: Grant, *, to_act: bool = False) -> str | None:
    """The department a department-scoped grant prints for (None: the whole county); an
    account without one sees nothing, and cannot print or send (`to_act`)."""
    if grant.scope is not Scope.DEPARTMENT:
        return None
    if to_act and not grant.principal.department_code:
        raise Forbidden("this account has no department to act for", code="documents.account.no_department")
    return grant.principal.department_code or ""


def _page(request: Request, who: Who, session: DB, status: int = 200, **extra: object) -> Response:
    grant = authorize(who, "documents.inspections")
    can_lists = who.can("documents.print")
    lists = (list(session.execute(select(CreditList).where(CreditList.origin == "local")
                                  .order_by(CreditList.code)).scalars()) if can_lists else [])
    draws = inspections.printable_draws(session, department=_acting_for(grant))
    return render(request, "documents.html", {"lists": lists, "can_lists": can_lists, "draws": draws, **extra},
                  status=status)


@router.get("/documents")
def documents_page(request: Request, who: Who, session: DB) -> Response:
    return _page(request, who, session)


@router.post("/documents/inspections/send")
async def inspections_send(request: Request, who: Who, session: DB,
                           draw: Annotated[int, Form(ge=1, le=2**31 - 1)]) -> Response:
    """Send a draw's notices to the firms: the inbox, and e-mail with the PDF attached."""
    grant = authorize(who, "documents.inspections")
    await check_csrf(request, who)
    try:
        docs = sending.batch_docs(session, kind=inspections.KIND, draw_id=draw, department=_acting_for(grant, to_act=True))
        sent = sending.send(session, docs, kind=inspections.KIND, verify_base=_verify_base(request),
                            actor=who.actor).as_dict()
    except CreditGovError as exc:
        session.rollback()
        return _page(request, who, session, status=status_of(exc), error=refusal(exc))
    return _page(request, who, session, sent=sent)


@router.get("/documents/lists.pdf")
def documents_pdf(request: Request, who: Who, session: DB, list_code: Annotated[str, Query(alias="list", max_length=60)],
                  kind: Annotated[str, Query(pattern="^(notice|decision)$")] = "notice",
                  on: dt.date | None = None) -> Response:
    authorize(who, "documents.print")
    printed = service.print_batch(session, list_code=list_code, kind=kind, verify_base=_verify_base(request), on=on,
                                  actor=who.actor)
    name = f"{kind}-{list_code}-{on or 'all'}.pdf"
    return Response(printed.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/documents/cases.pdf")
def cases_pdf(request: Request, who: Who, session: DB, kind: Annotated[str, Query(pattern="^(objection|repair)$")],
              on: dt.date | None = None) -> Response:
    authorize(who, "documents.print")
    printed = casework.print_cases(session, kind=kind, verify_base=_verify_base(request), on=on, actor=who.actor)
    return Response(printed.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{on or "all"}.pdf"'})


@router.get("/documents/inspections.pdf")
def inspections_pdf(request: Request, who: Who, session: DB,
                    draw: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    task: Annotated[list[int] | None, Query(max_length=2000)] = None) -> Response:
    grant = authorize(who, "documents.inspections")
    printed = inspections.print_notices(session, verify_base=_verify_base(request), draw_id=draw,
                                        task_ids=task or None, department=_acting_for(grant, to_act=True), actor=who.actor)
    name = f"inspection-draw-{draw}.pdf" if draw is not None else "inspection-tasks.pdf"
    return Response(printed.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
