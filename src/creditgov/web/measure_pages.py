"""Pages for credit lists (信用名单), joint rewards and punishments (联合奖惩) and the
credit check (信用核查), from the search form or a credit file's own form. A check is
recorded by `measures.service.check`, as from the API; the rules of every page module
are in `web/pages.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.core.errors import NotFound
from creditgov.lists import access as list_access
from creditgov.lists import queries as lists_service
from creditgov.lists.models import STATUSES
from creditgov.measures import service as measures_service
from creditgov.security.scopes import Principal, Role, authorize
from creditgov.subjects import search as subject_search
from creditgov.web import i18n
from creditgov.web.render import _, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# ----------------------------------------------------------------------------- lists and measures


@router.get("/lists")
def lists_page(request: Request, who: Who, session: DB,
               list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None,
               status: Annotated[str | None, Query(max_length=20)] = None,
               unit: Annotated[str | None, Query(max_length=50)] = None,
               q: Annotated[str | None, Query(max_length=100)] = None,
               sort: Annotated[str, Query(pattern="^(" + "|".join(list_access.SORTS) + ")$")] = "new",
               page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    """The lists and their entries in the reader's scope: filtered, sorted, one page at a time."""
    grant = authorize(who, "lists.read")
    counts = lists_service.counts_by_list(session)
    defs = [{**lists_service.dump_definition(d), "counts": counts.get(d.code, {})}
            for d in lists_service.definitions(session)]
    p = list_access.page_entries(session, scope=grant.subject_clause(), list_code=list_code or None,
                                 status=status or None, unit=unit or None, q=q or None, sort=sort, page=page)
    names = {e["subject_id"]: e["name"] for e in p.entries}
    args = {k: v for k, v in {"list": list_code, "status": status, "unit": unit, "q": q, "sort": sort}.items() if v}
    return render(request, "lists.html", {"lists": defs, "entries": p.entries, "names": names, "list_code": list_code,
                                          "status": status, "unit": unit, "q": q, "sort": sort, "p": p, "args": args,
                                          "statuses": STATUSES, "units": list_access.units(session),
                                          "sorts": list(list_access.SORTS)})


@router.get("/lists/entries/{entry_id}")
def list_entry_page(request: Request, entry_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "lists.read")
    e = list_access.entry_reading(session, entry_id, i18n.page_language(request.cookies))
    s = grant.require_subject(session, e["subject_id"])
    return render(request, "list_entry.html", {"e": e, "name": s.name})


@router.get("/measures")
def measures_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "measures.read")
    stats = measures_service.stats(session) if who.role in (Role.ADMIN, Role.CREDIT_OFFICE) else None
    return render(request, "measures.html", {"measures": measures_service.measures(session),
                                             "scenarios": measures_service.scenarios(session), "stats": stats})


# ----------------------------------------------------------------------------- the credit check


def _run_check(request: Request, who: Principal, session: Session, subject_id: int, scenario: str,
               purpose: str | None) -> Response:
    grant = authorize(who, "check.run")
    grant.require_subject(session, subject_id)
    department = who.department_code if who.role is Role.DEPARTMENT else (
        who.organisation if who.role is Role.BANK else None)
    r = measures_service.check(session, scenario=scenario, subject_id=subject_id, department=department,
                               purpose=purpose or None, actor=who.actor, mask_people=grant.masks_people)
    return render(request, "_check_result.html", {"r": r.as_dict()})


@router.post("/subjects/{subject_id}/check")
async def subject_check(request: Request, subject_id: Id, who: Who, session: DB,
                        scenario: Annotated[str, Form(max_length=80)],
                        purpose: Annotated[str, Form(max_length=200)] = "") -> Response:
    await check_csrf(request, who)
    return _run_check(request, who, session, subject_id, scenario, purpose)


@router.get("/check")
def check_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "check.run")
    return render(request, "check.html", {"scenarios": measures_service.scenarios(session)})


@router.post("/check")
async def check_submit(request: Request, who: Who, session: DB, key: Annotated[str, Form(max_length=100)],
                       scenario: Annotated[str, Form(max_length=80)],
                       purpose: Annotated[str, Form(max_length=200)] = "") -> Response:
    await check_csrf(request, who)
    grant = authorize(who, "check.run")
    found = subject_search.search(session, ctx(request).keyring, scope=grant.subject_clause(), q=key, limit=2)
    if found.total != 1:
        raise NotFound(_("没有唯一匹配的主体：请使用统一社会信用代码。"))
    return _run_check(request, who, session, found.items[0]["id"], scenario, purpose)


__all__ = ["router"]
