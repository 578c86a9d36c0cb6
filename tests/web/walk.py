"""Walk the pages of a county as one signed-in role, in one language, and read what a
person sees: the visible text of each page (scripts, styles and attribute values left
out) and the checks the plain-words tests make on it (tests/web/test_plain_words.py).

The walk starts from the role's menu and follows the links of every page it reaches
(same site, GET, pages only), visiting each page shape (a path with its numbers
replaced) at most twice, so every page a role can reach is seen without visiting every
subject."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa

from creditgov.core import labels
from creditgov.security.crypto import mask_name

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z][A-Za-z0-9_.@-]*[A-Za-z0-9]|[A-Za-z])")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*[A-Za-z0-9]")
SKIP_PATHS = ("/logout", "/lang/", "/api/", "/static/", "/login", "/account/", "/verify/")
# Words a Chinese page may show: the product's name, file formats, standards and units,
# and the names of the evaluation engines (a run's engine: DuckDB 列式引擎 …); the file
# names' suffixes and text encodings a department's file may have (the upload form).
ALLOWED_WORDS = {"CreditGov", "PDF", "API", "SHA-256", "SHA", "TOTP", "ID", "QR", "B", "KB", "MB", "JSON", "CSV",
                 "Excel", "CGV1", "DuckDB", "SQLite", "PostgreSQL", "Spark",
                 "XLSX", "Lines", "csv", "txt", "xlsx", "json", "jsonl", "UTF-8", "GBK", "GB18030"}
# Pages the walk leaves out (none: the public boards and the big screen are walked too).
NOT_WALKED: tuple[str, ...] = ()


class _Text(HTMLParser):
    """Visible text: data outside <script>, <style> and <template>, and outside the
    language switch (the other language's own name, by design)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.highlighted: list[str] = []  # the main menu's items marked as the current page
        self._nav = 0
        self._skip = 0
        self._switch = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "style", "template", "code", "pre"):
            self._skip += 1
        if tag == "nav" and "main" in (a.get("class") or "").split():
            self._nav += 1
        if tag == "a":
            if self._nav and "on" in (a.get("class") or "").split():
                self.highlighted.append(str(a.get("href")))
            if a.get("data-testid") == "lang-switch":
                self._switch += 1
            if a.get("href"):
                self.links.append(str(a["href"]))
        if tag in ("input", "textarea") and a.get("placeholder"):
            self.parts.append(str(a["placeholder"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "code", "pre") and self._skip:
            self._skip -= 1
        if tag == "a" and self._switch:
            self._switch -= 1
        if tag == "nav" and self._nav:
            self._nav -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._switch:
            self.parts.append(data)


def read(html: str) -> tuple[str, list[str]]:
    text, links, _on = parse(html)
    return text, links


def parse(html: str) -> tuple[str, list[str], list[str]]:
    """Visible text, link targets and the highlighted menu items of a page."""
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split()), p.links, p.highlighted


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


@dataclass
class Page:
    path: str
    status: int
    text: str
    highlighted: list[str] = field(default_factory=list)


@dataclass
class Walk:
    role: str
    lang: str
    pages: list[Page] = field(default_factory=list)
    visited: dict[str, int] = field(default_factory=dict)  # every path asked for -> its status


def walk(client: Any, role: str, lang: str, *, start: list[str], per_shape: int = 1, limit: int = 80) -> Walk:
    client.cookies.set("cg_lang", lang)
    out = Walk(role, lang)
    queue = list(start)
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    while queue and len(out.pages) < limit:
        path = queue.pop(0)
        if path in seen or any(path.startswith(s) for s in SKIP_PATHS + NOT_WALKED):
            continue
        seen.add(path)
        sh = shape(urlsplit(path).path)
        if shapes.get(sh, 0) >= per_shape:
            continue
        shapes[sh] = shapes.get(sh, 0) + 1
        r = client.get(path)
        out.visited[path] = r.status_code
        if r.status_code in (301, 302, 303, 307):
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        text, links, on = parse(r.text)
        out.pages.append(Page(path, r.status_code, text, on))
        for href in links:
            u = urlsplit(urljoin("https://testserver" + path, href))
            if u.netloc == "testserver" and u.path:
                target = u.path + (f"?{u.query}" if u.query else "")
                if target not in seen:
                    queue.append(target)
    return out


# ----------------------------------------------------------------------------- what counts as data


# Columns that hold people's and accounts' names (data, though one word each).
NAME_COLUMNS = ("actor", "username", "display_name", "organisation", "signed_by", "filed_by", "applicant", "uscc",
                "resident_id_masked", "document_no", "decision_no", "serial", "filing_no")


def data_values(url: str, keyring: Any = None) -> tuple[set[str], set[str]]:
    """Han runs and ASCII words of the store's free-text data (names, addresses,
    documents, texts, citations — columns with a space or a Han character in some
    value, and account names): they may show in either language. Code columns
    (statuses, kinds, item codes) are not data, nor label names (`name_zh` beside a
    `name_en`: a page in English shows `name_en`). Residents' names count masked too."""
    han: set[str] = set()
    words: set[str] = set()
    eng = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(eng)
    with eng.connect() as conn:
        for table in meta.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text, sa.JSON))
                    and not c.name.endswith("_zh") and c.name not in ("raw", "raw_row", "hash", "prev_hash")]
            for col in cols:
                # JSON read as its text (PostgreSQL has no equality for json, so no DISTINCT
                # on it), then parsed into its string leaves: a document's keys and the codes
                # it holds ({"model": "public-credit-enterprise"}) are not free text, its
                # sentences are.
                is_json = isinstance(col.type, sa.JSON)
                expr = sa.cast(col, sa.Text) if is_json else col
                raw = [json.loads(v) if is_json else v if isinstance(v, str) else str(v)
                       for (v,) in conn.execute(sa.select(expr).where(col.is_not(None)).distinct())]
                for doc in raw if is_json else ():  # Han anywhere in a document (keys too) is data
                    han.update(HAN.findall(str(doc)))
                values = [leaf for doc in raw for leaf in _leaves(doc)] if is_json else [_plain(v, keyring) for v in raw]
                free = col.name in NAME_COLUMNS or col.name.endswith("_by") or any(
                    " " in v or HAN.search(v) for v in values)
                for v in values:
                    han.update(HAN.findall(v))
                    han.update(HAN.findall(mask_name(v)))
                    if free and (not is_json or col.name in NAME_COLUMNS or " " in v or HAN.search(v)):
                        words.update(WORD.findall(v))
    eng.dispose()
    return han, words


def _plain(value: str, keyring: Any) -> str:
    """A value encrypted at rest (a complainant's name, a contact) as the pages that may
    show it decrypt it; any other value as it is."""
    if keyring is None or not any(value.startswith(k + ":") for k in keyring.key_ids()):
        return value
    try:
        return str(keyring.decrypt(value))
    except Exception:  # not a ciphertext after all: a value that happens to begin like one
        return value


def _leaves(doc: Any) -> list[str]:
    """The string values of a JSON document (numbers as text), not its keys."""
    if isinstance(doc, dict):
        return [x for v in doc.values() for x in _leaves(v)]
    if isinstance(doc, list):
        return [x for v in doc for x in _leaves(v)]
    return [] if doc is None or isinstance(doc, bool) else [str(doc)]


def catalogue_codes(url: str) -> set[str]:
    """Every code of the label catalogue, with the regions the store names."""
    out = {c for names in labels.known_codes().values() for c in names}
    out |= set(labels.names("region", url=url))
    return out


def problems(w: Walk, *, codes: set[str], han: set[str], words: set[str]) -> list[str]:
    """Raw codes in visible text; Han characters in English outside data values; English
    UI words in Chinese."""
    out = []
    for p in w.pages:
        if p.status >= 500:
            out.append(f"{w.role}/{w.lang} {p.path}: status {p.status}")
        for tok in set(TOKEN.findall(p.text)):
            if tok in codes and tok not in words and (w.lang == "zh" or re.search(r"[._@0-9]", tok)):
                out.append(f"{w.role}/{w.lang} {p.path}: raw code {tok!r}")
        if w.lang == "en":
            stray = {run for run in HAN.findall(p.text) if run not in han}
            if stray:
                out.append(f"{w.role}/en {p.path}: Chinese outside data {sorted(stray)[:8]}")
        else:
            stray = {wd for wd in WORD.findall(p.text) if wd not in words and wd not in ALLOWED_WORDS
                     and wd not in codes and not re.fullmatch(r"[A-D]{1,3}[+-]?|[A-Z]", wd)}
            if stray:
                out.append(f"{w.role}/zh {p.path}: English outside data {sorted(stray)[:8]}")
    return out
