"""One catalogue of labels for every code the product shows, in Chinese and English.

Core knows no domain, so the catalogue is a registry: each domain declares in its
`labels.py` where the names of its codes live — its policy files (kinds.yaml,
catalog.yaml, lists.yaml, the scoring packs …), its tables (the regions a deployment
loaded, the departments of its own catalogue), or, for the codes no file names (the
statuses of a record, a list entry, an objection …), a table beside the code — and
`bootstrap.wire()` registers them here. Every edge asks `label(kind, code, lang)`:
pages (the Jinja global `label` and filter `label`), commands (Rich tables), messages,
exports and the JSON of the API (`labelled`, which keeps the code and adds the label).

A code the catalogue does not know is returned as given: it is data (a name, a
number), never hidden. Table-backed names are read from the store bound with
`use_store(url)` (the web edge binds the application's store per request, a command
its own) and kept for `TABLE_TTL` seconds.
"""

from __future__ import annotations

import string
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from typing_extensions import TypedDict  # pydantic reads it in response models (Python < 3.12)

Names = Mapping[str, tuple[str, str]]          # code -> (Chinese, English)
FileSource = Callable[[], Names]               # names from policy files (read once per process)
TableSource = Callable[[Connection], Names]    # names from the store's tables

LANGS = ("zh", "en")
TABLE_TTL = 60.0

_files: dict[str, dict[int, FileSource]] = {}  # kind -> id(given source) -> source
_tables: dict[str, list[TableSource]] = {}
_file_cache: dict[str, dict[str, tuple[str, str]]] = {}
_table_cache: dict[tuple[str, str], tuple[float, dict[str, tuple[str, str]]]] = {}
_lock = threading.Lock()
_store: ContextVar[str | None] = ContextVar("creditgov_label_store", default=None)
# A label for a code with a suffix (a model reference `name@version`): kind -> formatter.
_refs: dict[str, Callable[[str, str, str], str]] = {}


def register(kind: str, source: FileSource | Names) -> None:
    """Names of `kind` from a policy file (a callable read once per process) or a
    fixed table given beside the code (a mapping)."""
    if isinstance(source, Mapping):
        fixed = dict(source)

        def fn() -> Names:
            return fixed
    else:
        fn = source
    with _lock:
        _files.setdefault(kind, {}).setdefault(id(source), fn)
        _file_cache.pop(kind, None)


def register_table(kind: str, source: TableSource) -> None:
    """Names of `kind` read from the bound store (they win over the files' names: a
    deployment's own catalogue is loaded into its tables)."""
    with _lock:
        lst = _tables.setdefault(kind, [])
        if source not in lst:
            lst.append(source)


def register_ref(kind: str, fmt: Callable[[str, str, str], str]) -> None:
    """`fmt(label_of_base, suffix, lang)` for codes written `base@suffix`."""
    _refs[kind] = fmt


@dataclass(frozen=True)
class Table:
    """Marks a source that reads the store's tables (`register_table`)."""

    read: TableSource


def register_all(entries: Mapping[str, Any]) -> None:
    """A domain's `LABELS`: kind -> a mapping, a file source, a `Table(source)`, or a
    tuple of those (the later win)."""
    for kind, given in entries.items():
        for src in given if isinstance(given, tuple) else (given,):
            if isinstance(src, Table):
                register_table(kind, src.read)
            else:
                register(kind, src)


def kinds() -> list[str]:
    return sorted(set(_files) | set(_tables))


def use_store(url: str | None) -> object:
    """Bind the store whose tables name codes for this request or command; returns
    the token `ContextVar.reset` takes."""
    return _store.set(url)


@contextmanager
def store(url: str | None) -> Iterator[None]:
    token = _store.set(url)
    try:
        yield
    finally:
        _store.reset(token)


def clear() -> None:
    """Forget cached names (after a policy file or the regions are reloaded)."""
    with _lock:
        _file_cache.clear()
        _table_cache.clear()


def _from_files(kind: str) -> dict[str, tuple[str, str]]:
    cached = _file_cache.get(kind)
    if cached is not None:
        return cached
    out: dict[str, tuple[str, str]] = {}
    for fn in _files.get(kind, {}).values():
        out.update(fn())
    _file_cache[kind] = out
    return out


def _from_tables(kind: str, url: str | None) -> dict[str, tuple[str, str]]:
    sources = _tables.get(kind)
    if not sources or not url:
        return {}
    hit = _table_cache.get((kind, url))
    now = time.monotonic()
    if hit is not None and now - hit[0] < TABLE_TTL:
        return hit[1]
    from creditgov.core.db import APPEND_ONLY, engine_for

    out: dict[str, tuple[str, str]] = {}
    try:
        # A read without a write lock (SQLite's ordinary units begin IMMEDIATE): the
        # request that asks may hold the lock in its own session.
        with engine_for(url).connect().execution_options(**{APPEND_ONLY: True}) as conn:
            for fn in sources:
                out.update(fn(conn))
            conn.rollback()
    except Exception:  # noqa: BLE001 - a store without the table yet (before `init`) names nothing
        out = {}
    _table_cache[(kind, url)] = (now, out)
    return out


def names(kind: str, *, url: str | None = None) -> dict[str, tuple[str, str]]:
    """Every known code of `kind` with its (Chinese, English) names."""
    out = dict(_from_files(kind))
    out.update(_from_tables(kind, url if url is not None else _store.get()))
    return out


def _pick(pair: tuple[str, str], lang: str) -> str:
    zh, en = pair
    return (en or zh) if lang == "en" else (zh or en)


def label(kind: str, code: object, lang: str = "zh", *, url: str | None = None) -> str:
    """The label of `code` in `lang` ("zh" or "en"); the code itself when unknown,
    "" for None."""
    if code is None or code == "":
        return ""
    text = str(code)
    found = names(kind, url=url).get(text)
    if found is not None:
        return _pick(found, lang)
    base, at, suffix = text.partition("@")
    if at and kind in _refs:
        pair = names(kind, url=url).get(base)
        if pair is not None:
            return _refs[kind](_pick(pair, lang), suffix, lang)
    return text


#: The kind whose names are sentences: a refusal's code (`CreditGovError.code`) with its
#: Chinese and English wording, `{name}` filled from the error's params and
#: `{name:kind}` with the label of that param's code (`{status:redemption_status}`).
REFUSAL = "refusal"


class _Fill(string.Formatter):
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        return label(format_spec, value, self.lang) if format_spec else str(value)


def say(code: str | None, params: Mapping[str, Any], lang: str = "zh") -> str | None:
    """A refusal in `lang` from its code and params; None when the catalogue does not
    know the code (or its wording names a param the error does not carry)."""
    if not code:
        return None
    pair = names(REFUSAL).get(code)
    if pair is None:
        return None
    try:
        return _Fill(lang).format(_pick(pair, lang), **params)
    except (KeyError, IndexError, ValueError):
        return None


def placeholders(text: str) -> set[str]:
    """The params a refusal's wording names (tests check them against the raise)."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def labelled(kind: str, code: object, lang: str = "zh") -> dict[str, str]:
    """For JSON: the code kept, both labels added (a client picks its language)."""
    if code is None:
        return {"code": "", "label_zh": "", "label_en": ""}
    return {"code": str(code), "label_zh": label(kind, code, "zh"), "label_en": label(kind, code, "en")}


class Label(TypedDict):
    """A code's names, as `annotate` adds them to JSON."""

    zh: str
    en: str


# The `labels` object of an API answer: field -> its code's names; for a field that holds
# a list of codes, field -> {code: names}.
Labels = dict[str, Label | dict[str, Label]]


def _both(kind: str, code: object) -> Label:
    return {"zh": label(kind, code, "zh"), "en": label(kind, code, "en")}


def annotate(row: dict[str, Any], **fields: str) -> dict[str, Any]:
    """For JSON a client shows: the row with its codes kept and `labels` added, one
    {"zh", "en"} per field named (`annotate(row, kind="subject_kind")`); a field holding
    a list of codes gets {code: {"zh", "en"}}. Fields without a value are left out."""
    out: Labels = {}
    for f, kind in fields.items():
        value = row.get(f)
        if isinstance(value, list | tuple):
            out[f] = {str(c): _both(kind, c) for c in value if c is not None and c != ""}
        elif value is not None:
            out[f] = _both(kind, value)
    row["labels"] = out
    return row


def is_known(kind: str, code: object) -> bool:
    return code is not None and str(code) in names(kind)


def known_codes() -> dict[str, set[str]]:
    """Every code of every kind from the files (tests look for them in visible text)."""
    return {k: set(_from_files(k)) for k in _files}
