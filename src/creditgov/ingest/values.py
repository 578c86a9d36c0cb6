"""Raw rows and the values in them: the stored form of a raw row and its hash, the
parsers of dates and amounts, and the subject identifier of a row.

Pure functions shared by the preparers (prepare_records.py, prepare_rows.py), the batch
writer and trace: no database, no spec. The check of identifiers is the one in
subjects/identifiers.py (the fast check of canonical forms, then python-stdnum).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from creditgov.core.errors import InvalidInput
from creditgov.ingest.readers import RawRow
from creditgov.ingest.transforms import RowError
from creditgov.subjects.identifiers import (
    clean_resident_id,
    clean_uscc,
    is_canonical_resident_id,
    is_canonical_uscc,
)


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


def pack_lists(rows: list[list[str]], header: list[str]) -> list[str]:
    """`pack_raw` for rows given as lists in header order (one join per row)."""
    out = [_PACKED + _SEP.join(r) for r in rows]
    want = len(header) - 1
    for i, t in enumerate(out):
        if t.count(_SEP) != want:  # a value holds the separator itself: JSON, as pack_raw does
            out[i] = raw_text(dict(zip(header, rows[i], strict=False)))
    return out


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
        if is_canonical_uscc(u):
            return "uscc", u
        try:
            return "uscc", clean_uscc(u)
        except InvalidInput as exc:
            raise RowError(str(exc)) from None
    r = vals.get("resident_id", "")
    if r:
        if is_canonical_resident_id(r):
            return "resident_id", r
        try:
            return "resident_id", clean_resident_id(r)
        except InvalidInput as exc:
            raise RowError(str(exc)) from None
    raise RowError("no subject identifier (credit code or ID number) in the row")


def either_identifier(v: str) -> tuple[str, str]:
    """A column holding credit codes and ID numbers alike (spec field `identifier`,
    e.g. a court's list of firms and people): ('uscc', code) or ('resident_id', number),
    told apart by which check the value passes. A value that passes both (18 digits
    with both check characters right, rare) is refused as ambiguous rather than guessed."""
    if not v:
        raise RowError("no subject identifier (credit code or ID number) in the row")
    as_uscc = as_rid = None
    why = []
    try:
        as_uscc = identifier({"uscc": v})
    except RowError as exc:
        why.append(str(exc))
    try:
        as_rid = identifier({"resident_id": v})
    except RowError as exc:
        why.append(str(exc))
    if as_uscc and as_rid:
        raise RowError("identifier is valid both as a credit code and as an ID number: "
                       "map it with `uscc` or `resident_id` instead")
    found = as_uscc or as_rid
    if found is None:
        # both messages, the ID number masked by clean_resident_id; the code shown as is
        # only when it looks like one (letters), else masked too, as it may be an ID number
        shown = why[0] if any(c.isalpha() for c in v[:17]) else "invalid credit code"
        raise RowError(f"identifier is neither a credit code nor an ID number ({shown}; {why[1]})")
    return found


#: Catalogue value kinds (`catalog.schemas.ValueKind`) whose values are never below zero:
#: an amount of money (a fine, arrears, a loan, a donation) and a number of days. A row
#: giving a negative value of an item of these kinds is refused (`negative_value`).
NEVER_NEGATIVE = frozenset({"amount", "days"})


def negative_value(value: str, item: str) -> str:
    """The reason for a value below zero of an item whose kind is in `NEVER_NEGATIVE`."""
    return f"value {value!r} is below zero: item {item!r} is never negative"


def is_negative(value: str | None) -> bool:
    """Whether a stored value (`decimal_text`) is below zero (-0.00 is not)."""
    return value is not None and value.startswith("-") and Decimal(value) < 0


def in_column(reason: str, field: str, column: str | None) -> str:
    """A reason about one field that names the file's column it came from, as the
    department's file names it (the spec maps columns to fields): `… (column '账单日期',
    field occurred_on)`; `reasons.split_column` reads it back (a column named as the
    field, as a manual entry's generated spec names them, is said as the field). As it is
    when there is no column (a fixed item)."""
    if not column:
        return reason
    return f"{reason} (column {column!r}, field {field})"


def unregistered(id_kind: str, key: str) -> RowError:
    """The reason for a record whose subject is not registered (spec `unknown_subject: quarantine`)."""
    shown = key if id_kind == "uscc" else key[:8] + "…"
    what = "credit code" if id_kind == "uscc" else "ID number (index)"
    return RowError(f"subject not registered: {what} {shown}")


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
