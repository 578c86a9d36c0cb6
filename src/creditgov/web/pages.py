"""Server-rendered pages (Jinja2 + htmx + ECharts).

Each page is a route that (1) asks `security.scopes.authorize` for its permission,
(2) calls the same services and read models as the API, (3) renders a template. No
page holds domain logic, so a page and its API endpoint cannot disagree. To add a
page for a new domain: add a template, a route here that authorises and calls the
domain's service, and a `NavItem` in `NAV` with the permission that shows it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from creditgov import __version__
from creditgov.api.deps import DB, SESSION_COOKIE, Id, Who, check_csrf, ctx
from creditgov.catalog import service as catalog_service
from creditgov.commitments import service as commitments_service
from creditgov.core import clock
from creditgov.core.errors import CreditGovError, InvalidInput, NotFound
from creditgov.ingest import service as ingest_service
from creditgov.lists import service as lists_service
from creditgov.measures import service as measures_service
from creditgov.reports import overview
from creditgov.reports import service as report_service
from creditgov.scoring import service as scoring_service
from creditgov.security import service as audit
from creditgov.security import users as user_service
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import (
    PERMISSIONS,
    PUBLIC,
    ROLE_LABELS,
    Grant,
    Principal,
    Role,
    Scope,
    Unauthenticated,
    authorize,
    default_purpose,
)
from creditgov.security.views import set_session_cookie
from creditgov.subjects import search as subject_search
from creditgov.subjects.models import Subject
from creditgov.subjects.schemas import kinds as subject_kinds
from creditgov.subjects.views import read_file
from creditgov.web import i18n

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("creditgov.web").joinpath("templates"))),
    autoescape=True, extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
_env.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_env)
templates.env.globals["pick"] = i18n.pick
templates.env.globals["version"] = __version__
LOGIN_CSRF_COOKIE = "cg_login_csrf"


def _(message: str, **values: Any) -> str:
    """Translate a Chinese message into the reader's language, then fill it in."""
    text = i18n.gettext_(message)
    return text % values if values else text



@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # Chinese; translated when rendered
    permission: str


NAV = (
    NavItem("/", "工作台", "dashboard.view"),
    NavItem("/subjects", "主体查询", "subjects.search"),
    NavItem("/models", "评价模型", "models.read"),
    NavItem("/runs", "评价批次", "runs.read"),
    NavItem("/lists", "信用名单", "lists.read"),
    NavItem("/measures", "联合奖惩", "measures.read"),
    NavItem("/check", "信用核查", "check.run"),
    NavItem("/alerts", "风险预警", "alerts.read"),
    NavItem("/inbox", "站内消息", "inbox.read"),
    NavItem("/supervision", "分级监管", "supervision.read"),
    NavItem("/ingest", "数据归集", "ingest.read"),
    NavItem("/catalog", "信息目录", "catalog.read"),
    NavItem("/audit", "审计日志", "audit.read"),
    NavItem("/objections", "异议处理", "objections.read"),
    NavItem("/repairs", "信用修复", "repairs.read"),
    NavItem("/commitments", "信用承诺", "commitments.read"),
    NavItem("/analysis", "区域信用分析", "analysis.read"),
    NavItem("/me/credit", "我的信用", "own.view"),
    NavItem("/admin/users", "用户与权限", "users.manage"),
    NavItem("/bigscreen", "大屏", "bigscreen.view"),
    NavItem("/public", "信用公示查询", "public.query"),
    NavItem("/public/lists", "红黑名单", "public.query"),
    NavItem("/public/boards", "公示牌", "public.query"),
)
SCOPE_LABELS = {Scope.ALL: "全域", Scope.REGION: "本网格及下级", Scope.DEPARTMENT: "本部门",
                Scope.CONSENTED: "已授权主体", Scope.SELF: "本主体", Scope.PUBLISHED: "仅公示信息"}


def _lang(request: Request) -> str:
    lang = request.cookies.get(i18n.LANG_COOKIE, i18n.DEFAULT)
    return lang if lang in i18n.LOCALES else i18n.DEFAULT


def render(request: Request, name: str, context: dict[str, Any], *, who: Principal | None = None,
           status: int = 200) -> HTMLResponse:
    """Render a page in the reader's language with the shared chrome."""
    lang = _lang(request)
    i18n.current.set(lang)
    who = who or getattr(request.state, "principal", None) or PUBLIC
    path = request.url.path
    nav = [{"href": n.href, "label": _(n.label), "on": path == n.href or (n.href != "/" and path.startswith(n.href + "/"))}
           for n in NAV if who.can(n.permission)]
    base = {"who": who, "lang": lang, "csrf": who.csrf_token, "nav": nav, "path": str(request.url.path),
            "role_label": i18n.pick(*ROLE_LABELS[who.role])}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def error_page(request: Request, status: int, detail: str) -> Response:
    if status == 401:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    from http import HTTPStatus

    return render(request, "error.html", {"status": status, "title": HTTPStatus(status).phrase, "detail": detail},
                  status=status)


def scope_label(grant: Grant) -> str:
    p = grant.principal
    extra = {Scope.REGION: p.region_code, Scope.DEPARTMENT: p.department_code,
             Scope.CONSENTED: p.organisation}.get(grant.scope)
    return _(SCOPE_LABELS[grant.scope]) + (f" · {extra}" if extra else "")


def _safe_next(nxt: str | None) -> str:
    return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") else "/"


# ----------------------------------------------------------------------------- sign-in and language


@router.get("/login")
def login_page(request: Request, next: Annotated[str | None, Query(max_length=300)] = None,
               error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", {"next": _safe_next(next), "login_csrf": token, "error": error})
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                    secure=ctx(request).secure_cookies)
    return resp


@router.post("/login")
def login_submit(request: Request, session: DB, username: Annotated[str, Form(max_length=80)],
                 password: Annotated[str, Form(max_length=200)], csrf_token: Annotated[str, Form(max_length=100)],
                 next: Annotated[str, Form(max_length=300)] = "/") -> Response:
    """Double-submit CSRF for the login form (no session exists yet)."""
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie_token or not secrets.compare_digest(cookie_token, csrf_token):
        return login_page(request, next, error=_("页面已过期，请重新登录。"))
    try:
        user = user_service.authenticate(session, username=username, password=password)
    except Unauthenticated:
        return login_page(request, next, error=_("用户名或密码错误。"))
    cookie, _csrf = user_service.start_session(session, user)
    target = _safe_next(next)
    if target == "/":
        target = _home(Role(user.role), user.subject_id)
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
        user_service.end_session(session, cookie)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{locale}")
def switch_language(request: Request, locale: str, next: Annotated[str | None, Query(max_length=300)] = None
                    ) -> Response:
    if locale not in i18n.LOCALES:
        raise NotFound(f"language {locale!r} is not offered")
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(i18n.LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", path="/")
    return resp


# ----------------------------------------------------------------------------- dashboard and big screen


def _regions_chart(o: dict[str, Any]) -> dict[str, Any]:
    return {"regions": o["distribution"]["regions"],
            "labels": {"green": _("绿码"), "yellow": _("黄码"), "red": _("红码")}}


def _overview(session: Any, grant: Grant, *, mask_people: bool) -> dict[str, Any]:
    scope = grant.subject_clause()
    return {"headline": overview.headline(session, scope=scope),
            "distribution": overview.distribution(session, scope=scope),
            "trend": overview.trend(session),
            "recent_records": overview.recent_records(session, scope=scope, limit=12, mask_people=mask_people)}


@router.get("/")
def dashboard(request: Request, who: Who, session: DB) -> Response:
    if not who.signed_in:
        return RedirectResponse("/login", status_code=303)
    if not who.can("dashboard.view"):
        return RedirectResponse(_home(who.role, who.subject_id), status_code=303)
    grant = authorize(who, "dashboard.view")
    o = _overview(session, grant, mask_people=False)
    return render(request, "dashboard.html", {"o": o, "regions_chart": _regions_chart(o),
                                              "scope_label": scope_label(grant), "alerts": _alerts(session, grant)})


def _alerts(session: Any, grant: Grant) -> list[dict[str, Any]]:
    """Unresolved alerts about subjects in scope (system alerts: whole-county scopes only)."""
    from creditgov.alerts import service as alerts_service

    rows = alerts_service.listing(session, status="unresolved", limit=50)
    ids = {a.subject_id for a in rows if a.subject_id is not None}
    visible = set(session.execute(select(Subject.id).where(Subject.id.in_(ids), grant.subject_clause())).scalars()) \
        if ids else set()
    return [alerts_service.alert_dict(a) for a in rows
            if (a.subject_id in visible) or (a.subject_id is None and grant.scope is Scope.ALL)][:10]


@router.get("/bigscreen")
def bigscreen(request: Request, who: Who, session: DB) -> Response:
    grant = authorize(who, "bigscreen.view")
    o = _overview(session, grant, mask_people=True)
    return render(request, "bigscreen.html", {"o": o, "regions_chart": _regions_chart(o),
                                              "colour_labels": _regions_chart(o)["labels"]})


# ----------------------------------------------------------------------------- subjects and the credit file


def _search(request: Request, who: Principal, session: Any, q: str | None, kind: str | None,
            region: str | None) -> tuple[Grant, subject_search.SearchResult]:
    grant = authorize(who, "subjects.search")
    result = subject_search.search(session, ctx(request).keyring, scope=grant.subject_clause(), q=q,
                                   kind=kind or None, region_code=region or None, limit=50,
                                   mask_people=grant.masks_people)
    return grant, result


@router.get("/subjects")
def subjects_page(request: Request, who: Who, session: DB, q: Annotated[str | None, Query(max_length=100)] = None,
                  kind: Annotated[str | None, Query(max_length=30)] = None,
                  region: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    grant, result = _search(request, who, session, q, kind, region)
    regions = overview.region_tree(session) if who.can("regions.read") else []
    return render(request, "subjects.html", {"q": q, "kind": kind, "region": region, "result": result,
                                             "kinds": sorted(subject_kinds()), "regions": regions,
                                             "scope_label": scope_label(grant)})


@router.get("/subjects/results")
def subjects_results(request: Request, who: Who, session: DB,
                     q: Annotated[str | None, Query(max_length=100)] = None,
                     kind: Annotated[str | None, Query(max_length=30)] = None,
                     region: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """The htmx partial behind live search."""
    _grant, result = _search(request, who, session, q, kind, region)
    return render(request, "_subject_rows.html", {"result": result})


def _waterfall(e: dict[str, Any], model_tree: dict[str, Any]) -> dict[str, Any]:
    """Steps from the base to the score, one per first-level dimension. A weighted
    model's dimension scores are 0–100 each, so their contribution is scaled by the
    dimension's share of the weights; an additive model's are points already."""
    tops = {n["code"]: n for n in model_tree.get("indicators", [])}
    agg = model_tree.get("aggregation", {})
    weighted = agg.get("mode") == "weighted"
    total_w = sum(float(n.get("weight") or 0) for n in tops.values()) or 1.0
    scale = float(agg.get("scale") or 100) / 100
    steps = []
    for code, v in e["dimensions"].items():
        node = tops.get(code, {})
        value = float(v) * float(node.get("weight") or 0) / total_w * scale if weighted else float(v)
        steps.append({"name": node.get("name", code), "value": round(value, 2)})
    total = float(e["score"])
    return {"base": round(total - sum(s["value"] for s in steps), 2), "steps": steps, "total": total,
            "labels": {"base": _("基础分与加减分"), "total": _("总分")}}


def _measures_for(session: Any, subject: Subject) -> list[dict[str, Any]]:
    """Measures that apply to the subject in every scenario, today. A read: unlike a
    credit check, nothing is recorded."""
    today = clock.today()
    conn = session.connection()
    cat = measures_service.catalogue(conn)
    entries = lists_service.active_entries(session, subject.id, today)
    commitments = [(c.type, c.status, c.due_on, c.verified_on) for c in commitments_service.of_subject(session, subject.id)]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sc in cat.scenarios.values():
        st = measures_service.Standing(subject_id=subject.id, today=today, model=sc.models.get(subject.kind),
                                       lists={e.list_code for e in entries}, commitments=commitments)
        applies, _offer = measures_service.applicable(conn, st, cat.by_scenario.get(sc.code, []))
        for m in applies:
            if m["code"] not in seen:
                seen.add(m["code"])
                out.append({**m, "scenario": i18n.pick(sc.name_zh, sc.name_en)})
    return out


@router.get("/subjects/{subject_id}")
def subject_page(request: Request, subject_id: Id, who: Who, session: DB,
                 model: Annotated[str | None, Query(max_length=120)] = None,
                 purpose: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    grant = authorize(who, "subjects.read")
    f = read_file(session, ctx(request).keyring, grant, subject_id, purpose)
    subject = session.get(Subject, subject_id)
    assert subject is not None
    scores = overview.subject_scores(session, subject_id)
    explanation = waterfall = explain_error = None
    ref = model or (scores[0]["ref"] if scores else None)
    if ref:
        try:
            e = scoring_service.explain_subject(session, ctx(request).keyring, str(subject_id), ref=ref,
                                                actor=who.actor, purpose=purpose or default_purpose(who))
            explanation = e.as_dict()
            _row, m = scoring_service.get(session, ref)
            waterfall = _waterfall(explanation, m.model_dump(mode="json"))
        except (InvalidInput, NotFound) as exc:
            explain_error = str(exc)
    scenarios = measures_service.scenarios(session) if who.can("check.run") else []
    return render(request, "subject.html", {
        "f": f, "scores": scores, "explanation": explanation, "waterfall": waterfall, "explain_error": explain_error,
        "lists": overview.list_entries_of(session, subject_id) if grant.scope is not Scope.PUBLISHED else [],
        "measures": _measures_for(session, subject) if who.can("measures.read") else [],
        "readers": f["readers"] if grant.shows_readers else None,
        "can_check": who.can("check.run") and authorize(who, "check.run").in_scope(session, subject_id),
        "can_report": who.can("report.download") and authorize(who, "report.download").in_scope(session, subject_id),
        "scenarios": scenarios})


def _run_check(request: Request, who: Principal, session: Any, subject_id: int, scenario: str,
               purpose: str | None) -> Response:
    grant = authorize(who, "check.run")
    grant.require_subject(session, subject_id)
    department = who.department_code if who.role is Role.DEPARTMENT else (
        who.organisation if who.role is Role.BANK else None)
    r = measures_service.check(session, scenario=scenario, subject_id=subject_id, department=department,
                               purpose=purpose or None, actor=who.actor)
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


# ----------------------------------------------------------------------------- models, runs, lists, measures


@router.get("/models")
def models_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "models.read")
    return render(request, "models.html", {"versions": scoring_service.versions(session)})


def _flat(tree: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(n: dict[str, Any]) -> None:
        kids = n.get("children") or []
        out[n["code"]] = json.dumps({k: v for k, v in n.items() if k != "children"}, sort_keys=True)
        for c in kids:
            walk(c)

    for n in tree.get("indicators", []):
        walk(n)
    return out


@router.get("/models/compare")
def models_compare(request: Request, who: Who, session: DB, a: Annotated[str, Query(max_length=120)],
                   b: Annotated[str, Query(max_length=120)]) -> Response:
    """Two versions side by side, indicators whose definition differs marked."""
    authorize(who, "models.read")
    ta = scoring_service.get(session, a)[1].model_dump(mode="json", exclude_none=True)
    tb = scoring_service.get(session, b)[1].model_dump(mode="json", exclude_none=True)
    fa, fb = _flat(ta), _flat(tb)
    changed = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
    return render(request, "compare.html", {"a": a, "b": b, "ta": ta, "tb": tb, "changed": changed})


@router.get("/models/{ref}")
def model_page(request: Request, ref: str, who: Who, session: DB) -> Response:
    authorize(who, "models.read")
    row, m = scoring_service.get(session, ref)
    return render(request, "model.html", {"ref": f"{row.name}@{row.version}", "status": row.status,
                                          "t": m.model_dump(mode="json", exclude_none=True)})


@router.get("/runs")
def runs_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "runs.read")
    return render(request, "runs.html", {"runs": scoring_service.runs(session, limit=100)})


@router.get("/lists")
def lists_page(request: Request, who: Who, session: DB,
               list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None) -> Response:
    grant = authorize(who, "lists.read")
    counts = lists_service.counts_by_list(session)
    defs = [{**lists_service.dump_definition(d), "counts": counts.get(d.code, {})}
            for d in lists_service.definitions(session)]
    rows = lists_service.entries(session, list_code=list_code, limit=300)
    ids = {e.subject_id for e in rows}
    names: dict[int, str] = {i: n for i, n in session.execute(
        select(Subject.id, Subject.name).where(Subject.id.in_(ids), grant.subject_clause()))} if ids else {}
    entries = [lists_service.entry_dict(e) for e in rows if e.subject_id in names]
    return render(request, "lists.html", {"lists": defs, "entries": entries, "names": names, "list_code": list_code})


@router.get("/lists/entries/{entry_id}")
def list_entry_page(request: Request, entry_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "lists.read")
    e = lists_service.entry_detail(session, entry_id)
    s = grant.require_subject(session, e["subject_id"])
    return render(request, "list_entry.html", {"e": e, "name": s.name})


@router.get("/measures")
def measures_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "measures.read")
    stats = measures_service.stats(session) if who.role in (Role.ADMIN, Role.CREDIT_OFFICE) else None
    return render(request, "measures.html", {"measures": measures_service.measures(session),
                                             "scenarios": measures_service.scenarios(session), "stats": stats})


# ----------------------------------------------------------------------------- ingestion, catalogue, audit


@router.get("/ingest")
def ingest_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "ingest.read")
    return render(request, "ingest.html", {"batches": ingest_service.batches(session, limit=200),
                                           "open_quarantine": ingest_service.count_open_quarantine(session)})


@router.get("/ingest/quarantine")
def quarantine_page(request: Request, who: Who, session: DB, source: Annotated[str | None, Query(max_length=80)] = None,
                    status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open") -> Response:
    authorize(who, "quarantine.read")
    rows = ingest_service.quarantine(session, source=source or None, status=status, limit=500)
    return render(request, "quarantine.html", {"rows": rows, "source": source, "status": status})


@router.get("/catalog")
def catalog_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "catalog.read")
    return render(request, "catalog.html", {"items": catalog_service.items(session),
                                            "requests": catalog_service.requests(session)})


@router.get("/audit")
def audit_page(request: Request, who: Who, session: DB,
               subject_id: Annotated[str | None, Query(max_length=12)] = None,
               action: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    authorize(who, "audit.read")
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)
    sid = int(subject_id) if subject_id and subject_id.isdigit() else None
    if sid is not None:
        q = q.where(AuditEntry.subject_id == sid)
    if action:
        q = q.where(AuditEntry.action == action)
    return render(request, "audit.html", {"entries": list(session.execute(q).scalars()), "chain": audit.verify(session),
                                          "subject_id": sid, "action": action})


# ----------------------------------------------------------------------------- administration


def _admin_context(session: Any, **extra: Any) -> dict[str, Any]:
    toks: dict[int, list[Any]] = {}
    for t in user_service.tokens(session):
        toks.setdefault(t.user_id, []).append(t)
    role_labels = {r.value: i18n.pick(*ROLE_LABELS[r]) for r in Role}
    matrix = {perm: {r.value: s for r, s in roles.items()} for perm, roles in PERMISSIONS.items()}
    return {"users": user_service.users(session), "tokens": toks, "role_labels": role_labels,
            "regions": overview.region_tree(session), "matrix": matrix,
            "scope_labels": {s: _(label) for s, label in SCOPE_LABELS.items()}, **extra}


@router.get("/admin/users")
def admin_users(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "users.manage")
    return render(request, "admin_users.html", _admin_context(session))


@router.post("/admin/users")
async def admin_users_create(request: Request, who: Who, session: DB, username: Annotated[str, Form(max_length=80)],
                             role: Annotated[str, Form(max_length=30)],
                             display_name: Annotated[str, Form(max_length=200)] = "",
                             password: Annotated[str, Form(max_length=200)] = "",
                             region_code: Annotated[str, Form(max_length=40)] = "",
                             department_code: Annotated[str, Form(max_length=50)] = "",
                             organisation: Annotated[str, Form(max_length=80)] = "",
                             subject_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    try:
        u = user_service.create_user(
            session, username=username.strip(), password=password or None, role=role, display_name=display_name,
            region_code=region_code or None, department_code=department_code or None,
            organisation=organisation or None, subject_id=int(subject_id) if subject_id.isdigit() else None,
            actor=grant.principal.actor)
    except CreditGovError as exc:
        session.rollback()
        return render(request, "admin_users.html", _admin_context(session, error=str(exc)), status=422)
    return render(request, "admin_users.html", _admin_context(session, flash=_("已创建用户 %(u)s。", u=u.username)))


@router.post("/admin/users/{user_id}/tokens")
async def admin_token_issue(request: Request, user_id: Id, who: Who, session: DB,
                            name: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    grant = authorize(who, "users.manage")
    await check_csrf(request, who)
    plain, _tok = user_service.issue_token(session, user_id=user_id, name=name, actor=grant.principal.actor)
    msg = _("新令牌（只显示一次，请妥善保存）：%(t)s", t=plain)
    return render(request, "admin_users.html", _admin_context(session, flash=msg))


# ----------------------------------------------------------------------------- public side


def _public_grant(request: Request) -> Grant:
    """Every public page counts against the client's rate limit and sees what the
    public sees, whoever is signed in (the signed-in principal only shapes the chrome)."""
    request.app.state.public_limiter.hit(request.client.host if request.client else "unknown")
    return authorize(PUBLIC, "public.query")


@router.get("/public")
def public_page(request: Request, who: Who, session: DB, q: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    grant = _public_grant(request)
    result = None
    if q and len(q.strip()) >= 2:
        result = subject_search.search(session, ctx(request).keyring, scope=grant.subject_clause(), q=q, limit=30,
                                       mask_people=True)
    return render(request, "public_query.html", {"q": q, "result": result})


@router.get("/public/results")
def public_results(request: Request, who: Who, session: DB, q: Annotated[str, Query(min_length=2, max_length=100)]) -> Response:
    grant = _public_grant(request)
    result = subject_search.search(session, ctx(request).keyring, scope=grant.subject_clause(), q=q, limit=30,
                                   mask_people=True)
    return render(request, "_public_rows.html", {"result": result})


@router.get("/public/firms/{subject_id}")
def public_firm_page(request: Request, subject_id: Id, who: Who, session: DB) -> Response:
    grant = _public_grant(request)
    f = read_file(session, ctx(request).keyring, grant, subject_id, "public query")
    return render(request, "public_firm.html", {"f": f})


@router.get("/public/lists")
def public_lists_page(request: Request, who: Who, session: DB,
                      list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None) -> Response:
    _public_grant(request)
    codes = [d.code for d in lists_service.definitions(session)]
    return render(request, "public_lists.html", {"entries": overview.published_entries(session, list_code=list_code),
                                                 "codes": codes})


@router.get("/public/boards")
def public_boards_page(request: Request, who: Who, session: DB,
                       region: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    _public_grant(request)
    regions = overview.region_tree(session)
    if region is None:
        region = next((r["code"] for r in regions if r["depth"] == 1), None)
    return render(request, "public_boards.html", {"b": overview.board(session, region_code=region), "regions": regions})


@router.get("/verify/{serial}")
def verify_page(request: Request, serial: str, who: Who, session: DB) -> Response:
    _public_grant(request)
    try:
        v = report_service.verify(session, serial)
    except NotFound:
        return render(request, "verify.html", {"v": None}, status=404)
    return render(request, "verify.html", {"v": v})


__all__ = ["error_page", "render", "router"]
