"""Languages of the web pages: Chinese by default, English by a switch.

Templates are written in Chinese, so Chinese needs no catalogue; the English
catalogue (web/locale/en/LC_MESSAGES/messages.po) is compiled with Babel when the
application starts. Shipping the .po alone keeps `make` free of a build step and the
compiled catalogue can never be older than its source.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from creditgov import bootstrap

LOCALES = ("zh", "en")
DEFAULT = "zh"
LANG_COOKIE = "cg_lang"
current: ContextVar[str] = ContextVar("creditgov_locale", default=DEFAULT)


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


def extract_messages() -> list[str]:
    """Every translatable message of the pages: `_()` in templates and page routes (every
    `*pages.py` and the shared `render.py`), the navigation labels and the scope labels
    (both in `render.py`). Used by the catalogue's completeness test and when updating
    the catalogue (see docs/web.md)."""
    import re

    from babel.messages.extract import extract_from_dir

    root = Path(str(resources.files("creditgov.web")))
    method_map = [("templates/**.html", "jinja2"), ("render.py", "python"), ("pages.py", "python"),
                  ("*_pages.py", "python")]
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
