"""The plumbing every page module shares: the Jinja2 environment, rendering a page in
the reader's language with the shared chrome (navigation shown by permission, the
signed-in principal, its CSRF token), every POST form's hidden key (`FormKeys`), the
error page, the data-scope label and the safe `next` target of a redirect.

Page modules (`web/*pages.py`) import this module and never one another, so a page
module can be added or removed without touching the rest. A new page's menu entry is a
`NavItem` in `NAV` with the permission that shows it; the catalogue extraction
(`i18n.extract_messages`) reads the navigation and scope labels from this file."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
import jinja2.ext
import markupsafe
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from creditgov import __version__, bootstrap
from creditgov.api.request_keys import FORM_FIELD, dont_keep
from creditgov.core import amounts, clock, labels
from creditgov.security.labels import actor_label
from creditgov.security.scopes import PUBLIC, ROLE_LABELS, Grant, Principal, Scope
from creditgov.web import i18n

# Every form a page draws that POSTs (htmx forms, sent again and again from one drawing,
# excepted) opens with a hidden key made when the page is drawn, one per form: the form
# sent again — a double click, a refresh after the POST, the back button — is answered
# with the first submission's answer (`api/request_keys.py`). Added to the templates'
# source when they are compiled, so every domain's forms carry it without a macro.
FORM_KEY_FIELD = FORM_FIELD
_POST_FORM = re.compile(r'<form\b(?=[^>]*\bmethod="post")(?![^>]*\bhx-)[^>]*>', re.IGNORECASE)
_KEY_INPUT = f'<input type="hidden" name="{FORM_KEY_FIELD}" value="{{{{ form_key() }}}}">'


class FormKeys(jinja2.ext.Extension):
    """Adds the hidden form key after the opening tag of every POST form."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _POST_FORM.sub(lambda m: m.group(0) + _KEY_INPUT, source)


def form_key() -> str:
    """Jinja global `form_key()`: a new key for one drawn form (128 random bits)."""
    return secrets.token_hex(16)


# The shared templates first, then each domain's own `templates/` folder (a domain's
# pages may ship their templates beside them; the composition root finds them).
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader([str(resources.files("creditgov.web").joinpath("templates")),
                                    *(str(p) for p in bootstrap.resources_of("templates"))]),
    autoescape=True, extensions=["jinja2.ext.i18n", FormKeys], trim_blocks=True, lstrip_blocks=True)
_env.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]  # added by jinja2.ext.i18n at runtime
templates = Jinja2Templates(env=_env)
templates.env.globals["pick"] = i18n.pick
templates.env.globals["version"] = __version__
templates.env.globals["form_key"] = form_key


def _(message: str, **values: Any) -> str:
    """Translate a Chinese message into the reader's language, then fill it in."""
    text = i18n.gettext_(message)
    return text % values if values else text


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # Chinese; translated when rendered
    permission: str


NAV: tuple[NavItem, ...] = (
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
# A domain's own menu entries, declared in the composition root, come after the shared ones.
NAV += tuple(NavItem(href, label, permission) for href, label, permission in bootstrap.nav())
SCOPE_LABELS = {Scope.ALL: "全域", Scope.REGION: "本网格及下级", Scope.DEPARTMENT: "本部门",
                Scope.CONSENTED: "已授权主体", Scope.SELF: "本主体", Scope.PUBLISHED: "仅公示信息"}


def _lang(request: Request) -> str:
    return i18n.page_language(request.cookies)


def cst(value: Any, *, label: bool = True, seconds: bool = False) -> str:
    """Jinja filter `|cst`: a stored time (datetime or ISO string) shown in China
    Standard Time in the page's language (`core.clock.show`)."""
    return clock.show(value, i18n.current.get(), label=label, seconds=seconds)


templates.env.filters["cst"] = cst


# Filter `|money`: an amount of yuan for reading, to the fen with thousands separators.
templates.env.filters["money"] = amounts.yuan


def num(value: Any) -> str:
    """Filter `|num`: a count for reading, with thousands separators (1,350); anything
    else (a text, a rate already written out) as it is, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


templates.env.filters["num"] = num


def listed(words: Any) -> str:
    """Names in a row as the page's language writes a list (、 in Chinese, a comma in
    English); Jinja global `listed(words)` (escaping each name once)."""
    return _separator("、", ", ").join(str(w) for w in words)


def clauses(parts: Any) -> str:
    """Clauses of one sentence in a row (；in Chinese, a semicolon in English); Jinja
    global `clauses(parts)`."""
    return _separator("；", "; ").join(str(p) for p in parts)


def _separator(zh: str, en: str) -> str:
    return zh if i18n.current.get() == "zh" else en


def _markup_join(zh: str, en: str) -> Any:
    """A template's join: text escaped once, what the template already escaped kept."""
    return lambda parts: markupsafe.Markup(_separator(zh, en)).join(parts)


templates.env.globals["listed"] = _markup_join("、", ", ")
templates.env.globals["clauses"] = _markup_join("；", "; ")


def label(kind: str, code: Any) -> str:
    """Jinja global `label(kind, code)` and filter `code|label(kind)`: the code's name
    in the page's language from the one label catalogue (`core.labels`)."""
    return labels.label(kind, code, i18n.current.get())


templates.env.globals["label"] = label


def alert_heading(a: dict[str, Any]) -> str:
    """Jinja global `alert_heading(a)`: an alert's heading in the page's language. The
    stored title is the message as it was sent (in Chinese); other languages name the
    warning rule from the label catalogue and the subject, and show the message below."""
    lang = i18n.current.get()
    if lang == "zh":
        return str(a["title"])
    name = a.get("subject_name")
    rule = labels.label("warning_rule", a["rule"], lang)
    return f"{rule}: {name}" if name else rule


templates.env.globals["alert_heading"] = alert_heading
templates.env.globals["label_names"] = labels.names

def N_(message: str) -> str:
    """Marks a message for the catalogue's extraction; translated where it is shown."""
    return message


_RECIPIENTS = {"grid": (N_("网格"), "region"), "department": (N_("部门"), "department"), "subject": (N_("主体"), ""),
               "user": (N_("用户"), ""), "bank": (N_("银行"), "organisation"), "principal": (N_("用户"), "")}


def recipient(address: str | None) -> str:
    """Filter `|recipient`: an inbox or notification address ("grid:<region>",
    "department:<code>", "subject:<id>" …) in words."""
    kind, _sep, key = (address or "").partition(":")
    if kind not in _RECIPIENTS:
        return address or ""
    word, label_kind = _RECIPIENTS[kind]
    return f"{_(word)} {label(label_kind, key) if label_kind else key}"


templates.env.filters["recipient"] = recipient


def actor(value: str | None) -> str:
    """Filter `|actor`: who did something (`user:office`, `cli:root` …) in words in the
    page's language, the same on every page (`security.labels.actor_label`)."""
    return actor_label(value, i18n.current.get())


templates.env.filters["actor"] = actor


def status_reason(reason: str | None) -> str:
    """Filter `|status_reason`: a record's status change reason in the page's language
    where its shape is known (an objection's: `workflows.objection.say_reason`)."""
    from creditgov.workflows.objection import say_reason

    return say_reason(reason, i18n.current.get())


templates.env.filters["status_reason"] = status_reason
templates.env.filters["label"] = lambda code, kind: label(kind, code)


def render(request: Request, name: str, context: dict[str, Any], *, who: Principal | None = None,
           status: int = 200) -> HTMLResponse:
    """Render a page in the reader's language with the shared chrome."""
    lang = _lang(request)
    i18n.current.set(lang)
    labels.use_store(getattr(getattr(request.app.state, "ctx", None), "url", None))
    who = who or getattr(request.state, "principal", None) or PUBLIC
    path = request.url.path
    shown = [n for n in NAV if who.can(n.permission)]
    # Exactly one item is highlighted: the longest menu path the page lies under.
    under = [n.href for n in shown if path == n.href or (n.href != "/" and path.startswith(n.href + "/"))]
    on = max(under, key=len) if under else None
    nav = [{"href": n.href, "label": _(n.label), "on": n.href == on} for n in shown]
    base = {"who": who, "lang": lang, "csrf": who.csrf_token, "nav": nav, "path": str(request.url.path),
            "role_label": i18n.pick(*ROLE_LABELS[who.role])}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


# The page of each sign-in step a session may have left (security/signin.py:next_step).
STEP_PAGES = {"code": "/login/code", "password": "/account/password", "enrol": "/account/second-factor"}


def step_page(step: str) -> str:
    return STEP_PAGES[step]


def error_page(request: Request, status: int, detail: str, *, code: str | None = None,
               params: dict[str, Any] | None = None) -> Response:
    # A refusal, even when it is a redirect to the sign-in: a form's key is given up, so
    # the form sent again once signed in is done.
    dont_keep(request)
    if status == 401:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    pending = getattr(getattr(request.state, "principal", None), "pending", None)
    if status == 403 and pending:
        return RedirectResponse(f"{step_page(pending)}?next={quote(request.url.path)}", status_code=303)
    title, message, original = i18n.error_text(status, detail, _lang(request), code=code, params=params)
    return render(request, "error.html", {"status": status, "title": title, "detail": message,
                                          "original": original}, status=status)


def scope_label(grant: Grant) -> str:
    p = grant.principal
    lang = i18n.current.get()
    extra = {Scope.REGION: labels.label("region", p.region_code, lang),
             Scope.DEPARTMENT: labels.label("department", p.department_code, lang),
             # a bank's account: its bank by name, not the organisation's code
             Scope.CONSENTED: labels.label("organisation", p.organisation, lang) if p.organisation else None,
             }.get(grant.scope)
    return _(SCOPE_LABELS[grant.scope]) + (f" · {extra}" if extra else "")


def safe_next(nxt: str | None) -> str:
    """A redirect target from a form or query: a local path only, never another site."""
    return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") else "/"


__all__ = ["FORM_KEY_FIELD", "NAV", "SCOPE_LABELS", "STEP_PAGES", "NavItem", "clauses", "cst", "error_page", "form_key",
           "listed", "num", "render", "safe_next", "scope_label", "step_page", "templates"]
