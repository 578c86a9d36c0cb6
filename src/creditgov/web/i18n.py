"""Languages of the web pages: Chinese by default, English by a switch.

Templates are written in Chinese, so Chinese needs no catalogue; the English
catalogue (web/locale/en/LC_MESSAGES/messages.po) is compiled with Babel when the
application starts. Shipping the .po alone keeps `make` free of a build step and the
compiled catalogue can never be older than its source.
"""

from __future__ import annotations

import gettext
import io
import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from creditgov import bootstrap
from creditgov.core import labels

LOCALES = ("zh", "en")
DEFAULT = "zh"
LANG_COOKIE = "cg_lang"
current: ContextVar[str] = ContextVar("creditgov_locale", default=DEFAULT)
log = logging.getLogger("creditgov.web")


def po_path(locale: str) -> str:
    return str(resources.files("creditgov.web").joinpath(f"locale/{locale}/LC_MESSAGES/messages.po"))


def domain_po_paths(locale: str) -> list[Path]:
    """A domain's own catalogue (`<domain>/locale/<locale>/LC_MESSAGES/messages.po`),
    for the pages and templates it ships in its own folder."""
    return [p for folder in bootstrap.resources_of("locale")
            if (p := folder / locale / "LC_MESSAGES" / "messages.po").is_file()]


@lru_cache(maxsize=4)
def translations(locale: str) -> gettext.NullTranslations:
    if locale == DEFAULT:
        return gettext.NullTranslations()
    with open(po_path(locale), "rb") as fh:
        catalog = read_po(fh, locale=locale)
    for path in domain_po_paths(locale):
        with open(path, "rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id and message.id not in catalog:
                    catalog[message.id] = message
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def gettext_(message: str) -> str:
    return translations(current.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(current.get()).ngettext(singular, plural, n)


def pick(zh: str | None, en: str | None) -> str:
    """A field stored in both languages (catalogue names, measures): the current one."""
    if current.get() == "en" and en:
        return en
    return zh or en or ""


def _accept_language(header: str) -> str | None:
    """The first of our languages an Accept-Language header names, by its q order."""
    ranked = []
    for n, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LOCALES and q > 0:
            ranked.append((-q, n, base))
    return min(ranked)[2] if ranked else None


def page_language(cookies: dict[str, str]) -> str:
    """The pages' language: the reader's choice (the language switch's cookie), else
    Chinese. A browser's own Accept-Language does not switch the pages: the county's
    staff read Chinese whatever their browser was installed with."""
    lang = cookies.get(LANG_COOKIE, DEFAULT)
    return lang if lang in LOCALES else DEFAULT


def api_language(cookies: dict[str, str], accept_language: str | None) -> str:
    """The language of an API answer's human text (a problem's title and message): the
    session's choice, else Accept-Language, else English (the API's own language)."""
    lang = cookies.get(LANG_COOKIE)
    if lang in LOCALES:
        return lang
    return _accept_language(accept_language or "") or "en"


class LanguageMiddleware:
    """Chooses the reader's language before anything of a request runs, so every
    string a page function builds (scope and role labels, chart labels, legends) is in
    that language, not only what the template translates. Pure ASGI: the context
    variable set here is the one the route (and its thread) sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            current.set(page_language(HTTPConnection(scope).cookies))
        await self.app(scope, receive, send)


# Error answers in the reader's language: a title and a plain sentence per status, and
# the domain's most common messages ("<thing> <id> not found [in your data scope]") in
# Chinese. Other details are kept as the domain wrote them (English), shown apart.
ERROR_TITLES = {
    400: ("请求有误", "Bad request"), 401: ("请先登录", "Sign-in required"), 403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"), 409: ("与当前状态冲突", "Conflict"), 422: ("输入有误", "Invalid input"),
    429: ("请求过于频繁", "Too many requests"), 500: ("系统内部错误", "Internal error"),
}
ERROR_HINTS = {
    400: ("请求无法处理，请检查后重试。", "The request cannot be handled; check it and try again."),
    401: ("请先登录后再访问。", "Please sign in first."),
    403: ("您的角色没有此项权限，或对象不在您的数据范围内。",
          "Your role does not have this permission, or the item is outside your data scope."),
    404: ("您要找的内容不存在，或不在您的数据范围内。", "What you asked for does not exist, or is outside your data scope."),
    409: ("该操作与对象当前的状态冲突，请刷新后重试。",
          "The action conflicts with the item's current state; reload and try again."),
    422: ("提交的内容不符合要求，请检查后重试。", "What was sent is not valid; check it and try again."),
    429: ("请求过于频繁，请稍后再试。", "Too many requests; please wait and try again."),
    500: ("系统出现内部错误，管理员可在服务器日志中查到原因。",
          "Internal error: the administrator can find it in the server log."),
}
_THINGS = {"subject": "主体", "credit record": "信用记录", "list entry": "名单条目", "evaluation run": "评价批次",
           "run": "评价批次", "objection": "异议", "repair application": "信用修复申请", "consent": "查询授权",
           "region": "区域", "user": "用户", "token": "令牌", "notification": "通知", "redemption": "兑换",
           "offer": "商品", "shop": "积分超市", "warning rule": "预警规则", "alert": "预警", "task": "检查任务",
           "commitment": "信用承诺", "draw": "抽查"}
_NOT_FOUND = re.compile(r"^(?P<thing>[a-z][a-z ]*?) (?P<id>\S+) not found(?P<scope> in your data scope)?$")


def error_text(status: int, detail: str, lang: str, *, code: str | None = None,
               params: Mapping[str, Any] | None = None) -> tuple[str, str, str | None]:
    """(title, message, original): the title and a plain sentence in `lang` — a coded
    refusal in the catalogue's words (`core.labels.say`); when the domain's own detail
    could not be put in that language, it is returned apart (the page shows it folded
    as details) — in English it is the message itself."""
    zh = lang == "zh"
    title_zh, title_en = ERROR_TITLES.get(status, ("错误", "Error"))
    title = title_zh if zh else title_en
    said = labels.say(code, params or {}, lang)
    if said is not None:
        return title, said, None
    if not zh:
        return title, detail or ERROR_HINTS.get(status, ("", ""))[1], None
    m = _NOT_FOUND.match(detail or "")
    if m and m["thing"] in _THINGS:
        where = "，或不在您的数据范围内" if m["scope"] else ""
        return title, f"未找到{_THINGS[m['thing']]} {m['id']}{where}。", None
    hint = ERROR_HINTS.get(status, ("请求无法处理。", ""))[0]
    return title, hint, (detail if detail and detail != hint else None)


def refusal(exc: BaseException, lang: str | None = None) -> str:
    """A refusal shown on a page (a form's error line), in the page's language: a coded
    error in the catalogue's words; another in the sentence of its status, with the
    domain's own (English) message after it (in English, the message itself). A fault
    of the deployment (`ServerFault`: it may name hosts and paths) only says so."""
    from creditgov.core.errors import ServerFault, status_of

    lang = lang or current.get()
    if isinstance(exc, ServerFault):  # the page does not say it: the log does
        log.error("server fault shown on a page", exc_info=exc)
        return ERROR_HINTS[500][0 if lang == "zh" else 1]
    if status_of(exc) >= 500:  # a configuration the page names: the log keeps it with its traceback
        log.error("configuration error shown on a page", exc_info=exc)
    code, params = getattr(exc, "code", None), getattr(exc, "params", None)
    said = labels.say(code, params or {}, lang)
    if said is not None:
        return said
    if lang != "zh":
        return str(exc)
    _title, message, original = error_text(status_of(exc), str(exc), lang)
    return f"{message}（{original}）" if original else message


def extract_messages() -> list[str]:
    """Every translatable message of the pages: `_()` in templates and page routes (every
    `*pages.py`, the shared `render.py` and `forms.py`), the navigation labels and the scope labels
    (both in `render.py`). Used by the catalogue's completeness test and when updating
    the catalogue (see docs/web.md)."""
    from babel.messages.extract import extract_from_dir

    root = Path(str(resources.files("creditgov.web")))
    method_map = [("templates/**.html", "jinja2"), ("render.py", "python"), ("forms.py", "python"),
                  ("pages.py", "python"), ("*_pages.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    seen: list[str] = []
    # The shared pages, then each domain's own pages and templates (beside its `templates/`).
    for folder in (root, *(t.parent for t in bootstrap.resources_of("templates"))):
        for _fn, _line, msg, _comments, _ctx in extract_from_dir(str(folder), method_map, options_map=options):
            m = msg if isinstance(msg, str) else msg[0]
            if m not in seen:
                seen.append(m)
    src = (root / "render.py").read_text("utf-8")
    labels = re.findall(r'NavItem\("[^"]*", "([^"]+)"', src) + re.findall(r'Scope\.\w+: "([^"]+)"', src)
    for m in labels + [label for _href, label, _perm in bootstrap.nav()]:
        if m not in seen:
            seen.append(m)
    return seen
