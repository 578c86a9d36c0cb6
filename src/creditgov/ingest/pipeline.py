"""The row pipeline: one raw row through one spec to a subject, a link or a record.

Kept apart from the batch bookkeeping in `service.py` so the same code runs for a file,
for a quarantine retry and for a trace replay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from creditgov.core.errors import InvalidInput
from creditgov.ingest.readers import RawRow
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError, compile_step
from creditgov.subjects.identifiers import clean_resident_id, clean_uscc


def short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


_PACKED = "\x1e"
_SEP = "\x1f"


def raw_text(raw: RawRow) -> str:
    """A raw row as JSON (quarantine keeps this readable form)."""
    return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))


def pack_raw(raw: RawRow, tabular: bool) -> str:
    """The compact stored form of a raw row: for CSV/XLSX just the values in header
    order (the header is kept once, on the batch); JSON for anything else."""
    if tabular and "__error__" not in raw:
        joined = _SEP.join(raw.values())
        if joined.count(_SEP) == len(raw) - 1:  # no value holds the separator itself
            return _PACKED + joined
    return raw_text(raw)


def unpack_raw(text: str, header: list[str] | None) -> RawRow:
    if text.startswith(_PACKED):
        return dict(zip(header or [], text[1:].split(_SEP), strict=False))
    return json.loads(text)


def _chain(fns: list[Callable[[str], str]]) -> Callable[[str], str]:
    if not fns:
        return lambda v: v

    def run(v: str) -> str:
        for fn in fns:
            v = fn(v)
        return v

    return lru_cache(maxsize=1 << 16)(run)


@dataclass
class TraceStep:
    step: str
    field: str
    before: str
    after: str | None
    error: str | None = None


@dataclass
class CompiledSpec:
    """A spec turned into closures, compiled once per batch."""

    spec: SourceSpec
    columns: dict[str, str] = field(init=False)
    steps: list[tuple[str, Callable[[str], str], str]] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = dict(self.spec.columns)
        self.columns.update({f"attr.{a}": c for a, c in self.spec.attributes.items()})
        self.steps = [(s.field, compile_step(s), s.op) for s in self.spec.steps]
        # For speed, each field's whole chain of steps is one memoised function: the
        # steps are pure and values repeat (dates, codes, identifiers).
        chains: dict[str, list[Callable[[str], str]]] = {f: [] for f in self.columns}
        for fld, fn, _op in self.steps:
            for f in (chains if fld == "*" else [fld]):
                chains[f].append(fn)
        self.chains = [(f, c, _chain(chains[f])) for f, c in self.columns.items()]

    def apply(self, raw: RawRow) -> dict[str, str]:
        if "__error__" in raw:
            raise RowError(raw["__error__"])
        get = raw.get
        return {f: fn(get(c) or "") for f, c, fn in self.chains}

    def trace(self, raw: RawRow) -> tuple[list[TraceStep], dict[str, str] | None]:
        """Replay the steps, recording each changed value; stops at the first error."""
        out: list[TraceStep] = []
        vals = {f: raw.get(c, "") or "" for f, c in self.columns.items()}
        for f, v in vals.items():
            out.append(TraceStep("read", f, v, v))
        for fld, fn, op in self.steps:
            targets = list(vals) if fld == "*" else [fld]
            for k in targets:
                before = vals[k]
                try:
                    after = fn(before)
                except RowError as exc:
                    out.append(TraceStep(op, k, before, None, str(exc)))
                    return out, None
                if after != before or fld != "*":
                    out.append(TraceStep(op, k, before, after))
                vals[k] = after
        return out, vals

    def keep(self, vals: dict[str, str]) -> bool:
        for f in self.spec.filters:
            v = vals.get(f.field, "")
            if f.op == "eq" and v != str(f.value):
                return False
            if f.op == "ne" and v == str(f.value):
                return False
            if f.op == "in" and v not in [str(x) for x in f.value or []]:
                return False
            if f.op == "not_in" and v in [str(x) for x in f.value or []]:
                return False
            if f.op == "not_empty" and not v:
                return False
        return True


def to_date(vals: dict[str, str], name: str, *, required: bool, today: dt.date) -> dt.date | None:
    v = vals.get(name, "")
    if not v:
        if required:
            raise RowError(f"missing {name}")
        return None
    try:
        d = dt.date.fromisoformat(v)
    except ValueError:
        raise RowError(f"{name} {v!r} is not a date (add a `date` step to the spec)") from None
    if d > today:
        raise RowError(f"{name} {v} lies in the future")
    return d


def to_decimal(v: str) -> Decimal | None:
    if not v:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise RowError(f"value {v!r} is not a number (add a `number` step to the spec)") from None
    if not d.is_finite() or abs(d) >= Decimal("1e16"):
        raise RowError(f"value {v!r} is out of range")
    return d.quantize(Decimal("0.01"))


@lru_cache(maxsize=1 << 12)
def _iso(v: str, name: str) -> str:
    try:
        return dt.date.fromisoformat(v).isoformat()
    except ValueError:
        raise RowError(f"{name} {v!r} is not a date (add a `date` step to the spec)") from None


def iso_date(v: str, name: str, today: str, *, required: bool) -> str | None:
    """A validated ISO date string, not after `today` (ISO strings compare as dates)."""
    if not v:
        if required:
            raise RowError(f"missing {name}")
        return None
    d = _iso(v, name)
    if d > today:
        raise RowError(f"{name} {v} lies in the future")
    return d


@lru_cache(maxsize=1 << 14)
def decimal_text(v: str) -> str | None:
    """A value as stored: two decimals, as text; memoised since values repeat."""
    d = to_decimal(v)
    return None if d is None else str(d)


def identifier(vals: dict[str, str]) -> tuple[str, str]:
    """('uscc', code) or ('resident_id', number), validated with check digits."""
    u = vals.get("uscc", "")
    if u:
        try:
            return "uscc", clean_uscc(u)
        except InvalidInput as exc:
            raise RowError(str(exc)) from None
    r = vals.get("resident_id", "")
    if r:
        try:
            return "resident_id", clean_resident_id(r)
        except InvalidInput as exc:
            raise RowError(str(exc)) from None
    raise RowError("no subject identifier (credit code or ID number) in the row")


def attribute_value(v: str) -> Any:
    """Numbers stay numbers in the attribute bag, so models can band them."""
    if v == "":
        return None
    try:
        if v.lstrip("-").isdigit():
            return int(v)
        f = float(v)
        return f if f == f else v  # NaN stays text
    except ValueError:
        return v

