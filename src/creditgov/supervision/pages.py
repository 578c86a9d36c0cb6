"""Pages of special campaigns (专项整治): `/campaigns` lists them and opens one;
`/campaigns/{id}` shows its scope, period and summary (targets, tasks, inspected,
findings, credit records), its targets with their tasks and results, and — for who
runs it — the forms that add targets, give them tasks and close it; the summary
downloads as a workbook in the page's language. Each route authorises and calls
`supervision.campaigns` with the acting department (`access.campaign_department`), as
the API does; every form carries the session's CSRF token."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import DB, Id, Who, check_csrf
from creditgov.core.errors import CreditGovError, status_of
from creditgov.lists.models import CreditList
from creditgov.security.scopes import Principal, authorize
from creditgov.subjects.models import Region
from creditgov.supervision import campaign_files, campaigns
from creditgov.supervision import service as supervision_service
from creditgov.supervision.access import campaign_department
from creditgov.web import i18n
from creditgov.web.i18n import refusal
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Text = Annotated[str, Form(max_length=300)]


def _words(value: str) -> list[str]:
    return [x.strip() for x in value.replace("，", ",").split(",") if x.strip()]


def _list_page(request: Request, session: Session, who: Principal, *, error: str | None = None,
               status: int = 200, values: dict[str, str] | None = None) -> Response:
    dept = campaign_department(authorize(who, "campaigns.read"))
    rows = [campaigns.campaign_dict(c) for c in campaigns.campaigns(session, department=dept)]
    policies = [p for p in supervision_service.policies(session) if dept is None or p.department == dept]
    regions = list(session.execute(select(Region).order_by(Region.path)).scalars())
    return render(request, "campaigns.html", {"campaigns": rows, "policies": policies, "regions": regions,
                                              "can_manage": who.can("campaigns.manage"), "error": error,
                                              "values": values or {}}, status=status)


@router.get("/campaigns")
def campaigns_page(request: Request, who: Who, session: DB) -> Response:
    return _list_page(request, session, who)


@router.post("/campaigns")
async def campaigns_create(request: Request, who: Who, session: DB, code: Annotated[str, Form(max_length=40)],
                           title: Text, policy: Annotated[str, Form(max_length=80)],
                           basis: Annotated[str, Form(max_length=2000)], starts_on: Annotated[dt.date, Form()],
                           ends_on: Annotated[dt.date, Form()], region: Annotated[str, Form(max_length=40)] = "",
                           kind: Text = "", industry: Text = "") -> Response:
    grant = authorize(who, "campaigns.manage")
    await check_csrf(request, who)
    try:
        c = campaigns.create(session, code=code.strip(), title=title, policy_name=policy, basis=basis,
                             starts_on=starts_on, ends_on=ends_on,
                             scope={"region": region.strip(), "kind": _words(kind), "industry": _words(industry)},
                             department=campaign_department(grant), actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        typed = {"code": code, "title": title, "policy": policy, "basis": basis, "starts_on": starts_on.isoformat(),
                 "ends_on": ends_on.isoformat(), "region": region, "kind": kind, "industry": industry}
        return _list_page(request, session, who, error=refusal(exc), status=status_of(exc), values=typed)
    return RedirectResponse(f"/campaigns/{c.id}", status_code=303)


def _detail(request: Request, session: Session, who: Principal, campaign_id: int, *, error: str | None = None,
            status: int = 200) -> Response:
    c = campaigns.get(session, campaign_id, department=campaign_department(authorize(who, "campaigns.read")))
    lists = list(session.execute(select(CreditList).order_by(CreditList.code)).scalars())
    ctx: dict[str, Any] = {"c": campaigns.view(session, c), "lists": lists, "error": error,
                           "can_manage": who.can("campaigns.manage") and c.status == "open"}
    return render(request, "campaign.html", ctx, status=status)


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: Id, who: Who, session: DB) -> Response:
    return _detail(request, session, who, campaign_id)


@router.get("/campaigns/{campaign_id}/summary.xlsx")
def campaign_xlsx(request: Request, campaign_id: Id, who: Who, session: DB) -> Response:
    c = campaigns.get(session, campaign_id, department=campaign_department(authorize(who, "campaigns.read")))
    body = campaign_files.workbook(campaigns.view(session, c), i18n.page_language(request.cookies))
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.xlsx"'})


async def _act(request: Request, who: Principal, session: Session, campaign_id: int, fn: Any) -> Response:
    grant = authorize(who, "campaigns.manage")
    await check_csrf(request, who)
    try:
        fn(campaign_department(grant))
    except CreditGovError as exc:
        session.rollback()
        return _detail(request, session, who, campaign_id, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.post("/campaigns/{campaign_id}/targets")
async def campaign_targets(request: Request, campaign_id: Id, who: Who, session: DB,
                           source: Annotated[str, Form(pattern="^(grade|list|query)$")],
                           model: Annotated[str, Form(max_length=80)] = "", grades: Text = "", lists: Text = "",
                           kinds: Text = "", industries: Text = "") -> Response:
    return await _act(request, who, session, campaign_id, lambda dept: campaigns.add_targets(
        session, campaign_id=campaign_id, source=source, model=model.strip() or None, grades=_words(grades),
        lists=_words(lists), kinds=_words(kinds), industries=_words(industries), department=dept, actor=who.actor))


@router.post("/campaigns/{campaign_id}/tasks")
async def campaign_tasks(request: Request, campaign_id: Id, who: Who, session: DB, assignees: Text = "",
                         due_on: Annotated[str, Form(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "") -> Response:
    return await _act(request, who, session, campaign_id, lambda dept: campaigns.assign_tasks(
        session, campaign_id=campaign_id, assignees=_words(assignees),
        due_on=dt.date.fromisoformat(due_on) if due_on else None, department=dept,
        actor=who.actor))


@router.post("/campaigns/{campaign_id}/close")
async def campaign_close(request: Request, campaign_id: Id, who: Who, session: DB,
                         cancel_open: Annotated[bool, Form()] = False) -> Response:
    return await _act(request, who, session, campaign_id, lambda dept: campaigns.close(
        session, campaign_id=campaign_id, cancel_open=cancel_open, department=dept, actor=who.actor))
