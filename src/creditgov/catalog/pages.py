"""Data request pages (数据申请), `/data-requests`: the credit office files a request
with a department and follows its decisions; a department officer sees the requests
made of its department and approves or rejects each item with a reason. The rules are
`catalog.requests`' (the API and the CLI pass the same checks)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf
from creditgov.catalog import access
from creditgov.catalog import requests as wf
from creditgov.catalog.models import CatalogItem, DataRequest, Department
from creditgov.core.errors import CreditGovError, status_of
from creditgov.security.scopes import Principal, authorize
from creditgov.web.i18n import refusal
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=wf.TEXT_MAX)]


def _list_context(session: Session, who: Principal, department: str | None, **extra: Any) -> dict[str, Any]:
    grant = authorize(who, "data_requests.read")
    mine = access.department_of(grant)
    can_file = who.can("data_requests.file")
    deps = list(session.execute(select(Department).order_by(Department.code)).scalars()) if can_file else []
    chosen = department if department and any(d.code == department for d in deps) else None
    items = []
    if chosen:
        taken = {r.item_code: r.status for r in session.execute(
            select(DataRequest).where(DataRequest.department_code == chosen)).scalars()}
        items = [{"code": i.code, "status": taken.get(i.code)} for i in session.execute(
            select(CatalogItem).where(CatalogItem.department_code == chosen).order_by(CatalogItem.code)).scalars()]
    return {"forms": [access.form_dict(session, v) for v in wf.forms(session, department=mine)],
            "can_file": can_file, "can_decide": who.can("data_requests.decide"), "departments": deps,
            "chosen": chosen, "items": items, "frequencies": wf.FREQUENCIES, **extra}


@router.get("/data-requests")
def data_requests_page(request: Request, who: Who, session: DB,
                       department: Annotated[str | None, Query(max_length=50)] = None) -> Response:
    return render(request, "data_requests.html", _list_context(session, who, department))


@router.post("/data-requests")
async def data_requests_file(request: Request, who: Who, session: DB,
                             department: Annotated[str, Form(min_length=1, max_length=50)],
                             legal_basis: Text, purpose: Text,
                             frequency: Annotated[str, Form(max_length=12)],
                             items: Annotated[list[str] | None, Form(max_length=200)] = None) -> Response:
    grant = authorize(who, "data_requests.file")
    await check_csrf(request, who)
    try:
        f = wf.file_request(session, department=department, items=items or [], legal_basis=legal_basis,
                            purpose=purpose, frequency=frequency, actor=grant.principal.actor)
    except CreditGovError as exc:
        session.rollback()
        ctx = _list_context(session, who, department, error=refusal(exc),
                            draft={"legal_basis": legal_basis, "purpose": purpose, "frequency": frequency,
                                   "items": items or []})
        return render(request, "data_requests.html", ctx, status=status_of(exc))
    return RedirectResponse(f"/data-requests/{f.id}?done=filed", status_code=303)


def _form_page(request: Request, session: DB, who: Principal, form_id: int, *, done: str | None = None,
               error: str | None = None, status: int = 200) -> Response:
    grant = authorize(who, "data_requests.read")
    v = wf.form(session, form_id, department=access.department_of(grant))
    form = access.form_dict(session, v, with_history=True)
    decider = who.can("data_requests.decide") and who.department_code == v.form.department_code
    return render(request, "data_request.html", {"f": form, "decider": decider, "done": done, "error": error},
                  status=status)


@router.get("/data-requests/{form_id}")
def data_request_page(request: Request, form_id: Id, who: Who, session: DB,
                      done: Annotated[str | None, Query(pattern="^(filed|approved|rejected)$")] = None) -> Response:
    return _form_page(request, session, who, form_id, done=done)


@router.post("/data-requests/items/{request_id}/decide")
async def data_request_decide(request: Request, request_id: Id, who: Who, session: DB,
                              decision: Annotated[str, Form(pattern="^(approved|rejected)$")],
                              reason: Text = "") -> Response:
    grant = authorize(who, "data_requests.decide")
    await check_csrf(request, who)
    unit = access.department_of(grant)
    r = wf.get_request(session, request_id, department=unit)
    form_id = r.form_id
    try:
        wf.decide(session, request_id, decision=decision, reason=reason, unit=unit, actor=grant.principal.actor)
    except CreditGovError as exc:
        session.rollback()
        if form_id is None:
            raise
        code = status_of(exc)
        return _form_page(request, session, who, form_id, error=refusal(exc), status=code)
    return RedirectResponse(f"/data-requests/{form_id}?done={decision}#item-{request_id}", status_code=303)
