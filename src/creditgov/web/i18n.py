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

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh", "en")
DEFAULT = "zh"
LANG_COOKIE = "cg_lang"
current: ContextVar[str] = ContextVar("creditgov_locale", default=DEFAULT)


def po_path(locale: str) -> str:
    return str(resources.files("creditgov.web").joinpath(f"locale/{locale}/LC_MESSAGES/messages.po"))


@lru_cache(maxsize=4)
def translations(locale: str) -> gettext.NullTranslations:
    if locale == DEFAULT:
        return gettext.NullTranslations()
    with open(po_path(locale), "rb") as fh:
        catalog = read_po(fh, locale=locale)
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
    """Every translatable message of the pages: `_()` in templates and page routes, the
    navigation labels and the scope labels. Used by the catalogue's completeness test
    and when updating the catalogue (see docs/web.md)."""
    import re
    from pathlib import Path

    from babel.messages.extract import extract_from_dir

    root = Path(str(resources.files("creditgov.web")))
    method_map = [("templates/**.html", "jinja2"), ("pages.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    seen: list[str] = []
    for _fn, _line, msg, _comments, _ctx in extract_from_dir(str(root), method_map, options_map=options):
        m = msg if isinstance(msg, str) else msg[0]
        if m not in seen:
            seen.append(m)
    src = (root / "pages.py").read_text("utf-8")
    for m in re.findall(r'NavItem\("[^"]*", "([^"]+)"', src) + re.findall(r'Scope\.\w+: "([^"]+)"', src):
        if m not in seen:
            seen.append(m)
    return seen
