"""Deterministic transformation steps. Each is a pure function str -> str, so a trace
can replay them on the stored raw row and show every step's input and output."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from creditgov.ingest.schemas import Step


class RowError(ValueError):
    """A row that cannot be accepted; the message is the quarantine reason."""


# Full-width ASCII block (！ to ～) and the ideographic space map to half-width.
_FW = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FW[0x3000] = 0x20
_ZERO_WIDTH = dict.fromkeys([0x200B, 0xFEFF], None)
_TRIM = " \t\r\n\u3000\u00a0"
# A run of zero-width joiners or non-joiners between two non-ASCII letters joins them (an
# emoji family, a Persian or Indic word) and is kept; beside ASCII, a space or an end it
# joins nothing and is dropped (a pasted code "9133\u200d0001…" is read as "91330001…").
_JOINERS = re.compile(r"[\u200c\u200d]+")


def _joins(value: str, at: int) -> bool:
    return 0 <= at < len(value) and value[at] > "\x7f" and value[at] not in _TRIM


def _keep_joining(m: re.Match[str]) -> str:
    value = m.string
    return m.group() if _joins(value, m.start() - 1) and _joins(value, m.end()) else ""


def trim(value: str) -> str:
    value = value.translate(_ZERO_WIDTH).strip(_TRIM)
    if "\u200d" in value or "\u200c" in value:
        value = _JOINERS.sub(_keep_joining, value).strip(_TRIM)
    return value


def halfwidth(value: str) -> str:
    return value.translate(_FW)


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
]


def parse_date(value: str) -> str:
    """2024年3月5日, 20240305, 2024/3/5, 2024-03-05, 2024.3.5 -> 2024-03-05."""
    v = halfwidth(value).strip()
    if not v:
        return ""
    for pat in _DATE_PATTERNS:
        m = pat.match(v)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return dt.date(y, mo, d).isoformat()
            except ValueError:
                raise RowError(f"impossible date {value!r}") from None
    raise RowError(f"unrecognised date {value!r}")


_NUM_JUNK = re.compile(r"[,，\s元万人小时天分]")


def parse_number(value: str, scale: float | None = None) -> str:
    v = _NUM_JUNK.sub("", halfwidth(value))
    if not v:
        return ""
    try:
        num = Decimal(v)
    except InvalidOperation:
        raise RowError(f"not a number: {value!r}") from None
    if scale is not None:
        num = num * Decimal(str(scale))
    return format(num.normalize(), "f")


def compile_step(step: Step) -> Callable[[str], str]:
    op = step.op
    if op == "trim":
        return trim
    if op == "halfwidth":
        return halfwidth
    if op == "upper":
        return str.upper
    if op == "lower":
        return str.lower
    if op == "date":
        return parse_date
    if op == "number":
        scale = step.scale
        return lambda v: parse_number(v, scale)
    if op == "strip":
        table = dict.fromkeys(map(ord, step.chars or ""), None)
        return lambda v: v.translate(table)
    if op == "default":
        dflt = step.value or ""
        return lambda v: v if v else dflt
    if op == "replace":
        old, new = step.old or "", step.new or ""
        return lambda v: v.replace(old, new)
    if op == "split_first":
        sep = step.sep or ""
        return lambda v: v.split(sep, 1)[0]
    if op == "map":
        codes = dict(step.map or {})
        fallback = step.default
        field = step.field

        def mapper(v: str) -> str:
            if v in codes:
                return codes[v]
            if v == "":
                return ""
            if fallback is not None:
                return fallback
            raise RowError(f"unknown code {v!r} in field {field!r} (not in the spec's code map)")

        return mapper
    raise RowError(f"unknown step {op!r}")  # unreachable: the schema limits ops
