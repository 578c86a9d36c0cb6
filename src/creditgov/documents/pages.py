"""The documents page: `/documents` chooses a list, the kind and the day, and its
button downloads the batch's documents as one PDF (`/documents/lists.pdf`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from creditgov.api.deps import DB, Who
from creditgov.core import settings
from creditgov.documents import casework, service
from creditgov.lists.models import CreditList
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _verify_base(request: Request) -> str:
    return (settings.public_url() or str(request.base_url).rstrip("/")) + "/verify"


@router.get("/documents")
def documents_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "documents.print")
    lists = session.execute(select(CreditList).where(CreditList.origin == "local").order_by(CreditList.code)).scalars()
    return render(request, "documents.html", {"lists": list(lists)})


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
