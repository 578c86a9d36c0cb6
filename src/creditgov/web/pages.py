"""Server-rendered pages (Jinja2 + htmx + ECharts): sign-in, language, the dashboard
and the big screen.

Each page is a route that (1) asks `security.scopes.authorize` for its permission,
(2) calls the same services and read models as the API, (3) renders a template. No
page holds domain logic, so a page and its API endpoint cannot disagree. To add a
page for a new domain: add a template, a route in a page module (`web/<topic>_pages.py`,
its `router` mounted by the application) that authorises and calls the domain's
service, and a `NavItem` in `web/render.py:NAV` with the permission that shows it.
Rendering, the navigation and the scope labels live in `web/render.py`, which every
page module imports; page modules never import one another.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts import colours
from creditgov.api.deps import DB, SESSION_COOKIE, Who, check_csrf, client_address, ctx
from creditgov.api.sessions import set_session_cookie
from creditgov.core import labels
from creditgov.core.errors import NotFound
from creditgov.reports import overview
from creditgov.scoring.models import ModelVersion
from creditgov.security import signin
from creditgov.security.attempts import TooManyAttempts
from creditgov.security.scopes import Grant, Principal, Role, Scope, Unauthenticated, authorize
from creditgov.web import i18n
from creditgov.web.render import _, listed, render, safe_next, scope_label, step_page

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
LOGIN_CSRF_COOKIE = "cg_login_csrf"


# ----------------------------------------------------------------------------- sign-in and language


@router.get("/login")
def login_page(request: Request, next: Annotated[str | None, Query(max_length=300)] = None,
               error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", {"next": safe_next(next), "login_csrf": token, "error": error},
                  status=status)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                    secure=ctx(request).secure_cookies)
    return resp


@router.post("/login")
def login_submit(request: Request, session: DB, username: Annotated[str, Form(max_length=80)],
                 password: Annotated[str, Form(max_length=200)], csrf_token: Annotated[str, Form(max_length=100)],
                 next: Annotated[str, Form(max_length=300)] = "/") -> Response:
    """Double-submit CSRF for the login form (no session exists yet). A right password
    opens a session that may still have a step left (the authenticator's code, a new
    password, setting up an app): the browser is sent to it, carrying `next`."""
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie_token or not secrets.compare_digest(cookie_token, csrf_token):
        return login_page(request, next, error=_("页面已过期，请重新登录。"))
    try:
        user, cookie, _csrf = signin.sign_in(session, ctx(request).keyring, username=username, password=password,
                                             client=client_address(request))
    except Unauthenticated:
        return login_page(request, next, error=_("用户名或密码错误。"), status=401)
    except TooManyAttempts as exc:
        return login_page(request, next, status=429,
                          error=_("登录失败次数过多，请 %(m)s 分钟后再试。", m=(exc.retry_after + 59) // 60))
    target = safe_next(next)
    if target == "/":
        target = _home(Role(user.role), user.subject_id)
    step = signin.resolve_session(session, cookie).pending
    if step:
        target = f"{step_page(step)}?next={quote(target)}"
    resp = RedirectResponse(target, status_code=303)
    set_session_cookie(request, resp, cookie)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


def _home(role: Role, subject_id: int | None) -> str:
    if role is Role.SUBJECT and subject_id:
        return "/me/credit"  # the own view (web/workflow_pages.py)
    if role is Role.BANK:
        return "/subjects"
    return "/"


@router.post("/logout")
async def logout(request: Request, who: Who, session: DB) -> Response:
    await check_csrf(request, who)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        signin.end_session(session, cookie)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{locale}")
def switch_language(request: Request, locale: str, next: Annotated[str | None, Query(max_length=300)] = None
                    ) -> Response:
    if locale not in i18n.LOCALES:
        raise NotFound(f"language {locale!r} is not offered")
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(i18n.LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", path="/")
    return resp


# ----------------------------------------------------------------------------- dashboard and big screen


def _regions_chart(o: dict[str, Any]) -> dict[str, Any]:
    return {"regions": [{"code": r["code"], "name": r["name"], "colours": r["colours"]}
                        for r in o["distribution"]["regions"]],
            "labels": {"green": _("绿码"), "yellow": _("黄码"), "red": _("红码")}}


def _overview(session: Session, grant: Grant, *, mask_people: bool) -> dict[str, Any]:
    """The dashboard's and the big screen's figures. Colours count subjects, each once,
    by the colour codes' rule (`alerts/data/colour_codes.yaml`: a subject several models
    score takes the first one's colour); grades and trends are per model."""
    scope = grant.subject_clause()
    headline = overview.headline(session, scope=scope)
    dist = overview.distribution(session, scope=scope, precedence=colours.settings().precedence)
    coloured = sum(dist["colours"].values())
    rule = {"models": listed(labels.label("model", m, i18n.current.get()) for m in dist["colour_rule"]),
            "subjects": coloured, "unscored": max(0, headline["subjects"] - coloured)}
    return {"headline": headline, "distribution": dist, "colour_rule": rule,
            "trend": overview.trend(session, scope=None if grant.scope is Scope.ALL else scope),
            "recent_records": overview.recent_records(session, scope=scope, limit=12, mask_people=mask_people)}


def _grade_orders(session: Session, models: set[str]) -> dict[str, list[str]]:
    """Each model's grades in the order its file lists them (best first), over its
    versions: a chart and its table read A before B, 优 before 良."""
    out: dict[str, list[str]] = {}
    for name, text in session.execute(select(ModelVersion.name, ModelVersion.text)
                                      .where(ModelVersion.name.in_(sorted(models))).order_by(ModelVersion.id)):
        have = out.setdefault(name, [])
        for g in (yaml.safe_load(text) or {}).get("grades") or []:
            if str(g.get("label")) not in have:
                have.append(str(g.get("label")))
    return out


def _per_model(o: dict[str, Any], orders: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """One chart pair per model (its grade donut and its trend): two models' grades
    are two scales and never share an axis. Grades are named in the page's language
    (优/良/差 by their bands in English) in the model's order (`orders`), each model
    with its evaluations counted."""
    trends = overview.by_model(o["trend"])
    donuts = o["distribution"].get("grades_by_model", {})
    lang = i18n.current.get()
    orders = orders or {}

    def ranked(m: str, grades: dict[str, int]) -> list[str]:
        order = orders.get(m, [])
        return sorted(grades, key=lambda g: (order.index(g) if g in order else len(order), g))

    def named(m: str, grades: dict[str, int]) -> dict[str, int]:  # 优/良/差 by their bands in English
        return {labels.label("grade", g, lang): grades[g] for g in ranked(m, grades)}

    out = []
    for m in sorted(set(trends) | set(donuts)):
        runs = trends.get(m, [])
        seen = {g for r in runs for g in r.get("grades") or {}} | set(donuts.get(m, {}))
        out.append({"model": m, "name": labels.label("model", m, lang), "grades": named(m, donuts.get(m, {})),
                    "order": [labels.label("grade", g, lang) for g in ranked(m, dict.fromkeys(seen, 0))],
                    "subjects": sum(donuts.get(m, {}).values()),
                    "runs": [{**r, "grades": named(m, r.get("grades") or {})} for r in runs]})
    return out


@router.get("/")
def dashboard(request: Request, who: Who, session: DB) -> Response:
    if not who.signed_in:
        return RedirectResponse("/login", status_code=303)
    if who.pending:
        return RedirectResponse(step_page(who.pending), status_code=303)
    if not who.can("dashboard.view"):
        return RedirectResponse(_home(who.role, who.subject_id), status_code=303)
    grant = authorize(who, "dashboard.view")
    o = _overview(session, grant, mask_people=grant.masks_people)
    models = _per_model(o, _grade_orders(session, {r["model"] for r in o["trend"]}
                                         | set(o["distribution"]["grades_by_model"])))
    return render(request, "dashboard.html", {"o": o, "regions_chart": _regions_chart(o), "models": models,
                                              "scope_label": scope_label(grant), "alerts": _alerts(session, who),
                                              # the colour counters link to the subject list of that colour
                                              # (`subjects.access.find`, counted alike)
                                              "can_search": who.can("subjects.search")})


def _alerts(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The newest unresolved alerts the viewer reaches on the alerts page (the same
    reach: `alerts.access.alert_scope` — a department its desk's, not every subject's)."""
    from creditgov.alerts import queries as alert_queries
    from creditgov.alerts.access import alert_rows, alert_scope

    if not who.can("alerts.read"):
        return []
    grant = authorize(who, "alerts.read")
    rows = alert_queries.listing(session, status="unresolved", limit=10, **alert_scope(grant))
    return alert_rows(session, grant, rows)  # with the subject's name, masked as the viewer's grant says


@router.get("/bigscreen")
def bigscreen(request: Request, who: Who, session: DB,
              model: Annotated[str | None, Query(max_length=80)] = None) -> Response:
    """The big screen: the counters, colours by region, and one model's grades and
    trend at a time (`?model=`, a tab per model; by default the model that scored the
    most subjects) — two models' grades are never added up or joined in one line."""
    grant = authorize(who, "bigscreen.view")
    o = _overview(session, grant, mask_people=True)
    models = _per_model(o, _grade_orders(session, {r["model"] for r in o["trend"]}
                                         | set(o["distribution"]["grades_by_model"])))
    shown = next((m for m in models if m["model"] == model), None) or (
        max(models, key=lambda m: (m["subjects"], -models.index(m))) if models else None)
    return render(request, "bigscreen.html", {"o": o, "regions_chart": _regions_chart(o),
                                              "colour_labels": _regions_chart(o)["labels"],
                                              "models": models, "shown": shown})


__all__ = ["router"]
