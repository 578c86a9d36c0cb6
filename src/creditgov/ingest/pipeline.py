"""The row pipeline: one raw row through one spec to a subject, a link or a record.

Kept apart from the batch bookkeeping in `service.py` so the same code runs for a file,
for a quarantine retry and for a trace replay, in the writer's process or in the
helper process that prepares a run's files ahead of it (stream.py). Everything here
needs no database: `RecordPreparer` (record files, a chunk at a time), `RowPreparer`
(registration and link rows, up to the look-ups of stored subjects), and
`resolve_records` (subject ids from the writer's maps, content hashes, the in-file
natural-key check).
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from hashlib import blake2b
from itertools import compress
from operator import itemgetter, mul
from typing import Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from creditgov.core.errors import InvalidInput
from creditgov.ingest.readers import RawRow
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError, compile_step
from creditgov.security.crypto import mask_id
from creditgov.subjects.identifiers import clean_resident_id, clean_uscc
from creditgov.subjects.schemas import kinds


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


# python-stdnum checks identifiers through generic Unicode clean-up that costs tens of
# microseconds each, and a large county has a few hundred thousand distinct ones. An
# identifier already in canonical form (ASCII, right length and alphabet, nothing for
# the clean-up to change) is checked here with the same rules; anything else goes to
# stdnum (subjects/identifiers.py), which gives the canonical form or the reason.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _canonical_uscc(v: str) -> bool:
    """True when stdnum's `uscc.validate(v)` returns `v` itself."""
    if len(v) != 18 or not v.isascii() or not v[:8].isdigit():
        return False
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, v[:17]), _USCC_WEIGHTS))
    except KeyError:  # a character outside the alphabet
        return False
    return _USCC_ALPHABET[(31 - total) % 31] == v[17]


@lru_cache(maxsize=1 << 14)
def _birth_place_known(prefix: str, year: str) -> bool:
    """stdnum's birth-place check, which depends only on the first six digits and the year."""
    try:
        ric.get_birth_place(prefix + year + "01010000")
        return True
    except StdnumError:
        return False


def _canonical_resident_id(v: str) -> bool:
    """True when stdnum's `ric.validate(v)` returns `v` itself."""
    if len(v) != 18 or not v.isascii() or not v[:17].isdigit() or v[17] not in "0123456789X":
        return False
    check = (1 - 2 * int(v[:17], 13)) % 11
    if v[17] != ("X" if check == 10 else str(check)):
        return False
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return _birth_place_known(v[:6], v[6:10])


def identifier(vals: dict[str, str]) -> tuple[str, str]:
    """('uscc', code) or ('resident_id', number), validated with check digits."""
    u = vals.get("uscc", "")
    if u:
        if _canonical_uscc(u):
            return "uscc", u
        try:
            return "uscc", clean_uscc(u)
        except InvalidInput as exc:
            raise RowError(str(exc)) from None
    r = vals.get("resident_id", "")
    if r:
        if _canonical_resident_id(r):
            return "resident_id", r
        try:
            return "resident_id", clean_resident_id(r)
        except InvalidInput as exc:
            raise RowError(str(exc)) from None
    raise RowError("no subject identifier (credit code or ID number) in the row")


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



# --------------------------------------------------------------------------- records, a chunk at a time

class _Bad:
    """A value that failed a step or a check, standing in the column for its reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _safe(fn: Callable[[str], Any], flag: list[bool], size: int | None = 1 << 16) -> Callable[[Any], Any]:
    """`fn` memoised, returning a `_Bad` instead of raising; `flag[0]` turns true once
    any value has failed, so columns without a failure are never scanned for one."""

    def run(v: Any) -> Any:
        try:
            return fn(v)
        except RowError as exc:
            flag[0] = True
            return _Bad(str(exc))

    return lru_cache(maxsize=size)(run)


@dataclass
class PreparedRecords:
    """A chunk of record rows after every check that needs no database: per row either a
    reason (rejected), filtered, or the record's values. Picklable, so a second process
    can prepare chunks while the first one writes."""

    n: int
    lines: list[int]
    rtexts: list[str]                 # the packed raw row of every row (quarantine needs it)
    rhashes: list[str]
    rejected: dict[int, str]          # row index -> reason
    filtered: list[int]
    ok: list[int]                     # indexes of rows with a record, in order
    # Columns over the ok rows: identifier kind, lookup key (credit code or blind index),
    # natural key, content tail, item, occurred, decided, value, grade, text, document_no,
    # published_from, published_until, raw as stored, identifier, name — the last two
    # only for specs that create provisional subjects.
    columns: tuple[list[Any], ...]
    # Subject ids and content hashes over the ok rows, when the helper process had the
    # subject maps to work them out (`with_subjects`).
    subjects: tuple[list[int], list[str]] | None = None


class RecordPreparer:
    """The database-free part of a records spec, applied column by column to a chunk:
    steps, filters, the item's catalogue and data-request checks, check digits, dates,
    amounts, hashes and encryption. Same results and reasons as `CompiledSpec.apply`
    followed by `BatchWriter._record`, in the same order of checks."""

    def __init__(self, spec: SourceSpec, *, keyring: Any, today: str, catalog: dict[str, int | None],
                 requests: dict[tuple[str, str], str]) -> None:
        self.spec, self.keyring, self.today = spec, keyring, today
        self.cs = CompiledSpec(spec)
        self.flags: dict[str, list[bool]] = {}
        self.fns: list[tuple[str, str, Callable[[Any], Any] | None]] = []
        steps: dict[str, list[Callable[[str], str]]] = {f: [] for f in self.cs.columns}
        for fld, fn, _op in self.cs.steps:
            for f in (steps if fld == "*" else [fld]):
                steps[f].append(fn)
        for f, c in self.cs.columns.items():
            flag = self.flags.setdefault(f, [False])
            fns = steps[f]
            self.fns.append((f, c, _safe(_chain_plain(fns), flag) if fns else None))
        self.source = spec.name
        self.fixed_item = spec.item or ""
        self.nk_fields = list(spec.natural_key)
        self.personal = spec.personal
        self.provisional = spec.unknown_subject == "provisional"
        allowed = set(spec.items)

        def item_check(code: str) -> int | None:
            if not code:
                raise RowError("missing item")
            if code not in allowed:
                raise RowError(f"item {code!r} is not among the items spec {spec.name} may produce")
            if code not in catalog:
                raise RowError(f"item {code!r} is not in the data catalogue")
            status = requests.get((code, spec.department))
            if status != "approved":
                why = "was rejected" if status == "rejected" else "was never requested"
                raise RowError(f"item {code!r} is not approved from department {spec.department!r}: "
                               f"the data request {why}")
            return catalog[code]

        self.v_item = _safe(item_check, self.flags.setdefault("#item", [False]), None)
        blind = keyring.blind_index

        def uscc_id(u: str) -> tuple[str, str, str]:
            kind, code = identifier({"uscc": u})
            return kind, code, code

        def resident_id(r: str) -> tuple[str, str, str]:
            kind, code = identifier({"resident_id": r})
            return kind, code, blind(code)

        def either_id(pair: tuple[str, str]) -> tuple[str, str, str]:
            kind, code = identifier({"uscc": pair[0], "resident_id": pair[1]})
            return kind, code, code if kind == "uscc" else blind(code)

        idflag = self.flags.setdefault("#id", [False])
        self.v_uscc = _safe(uscc_id, idflag, 1 << 18)
        self.v_resident = _safe(resident_id, idflag, 1 << 18)
        self.v_either = _safe(either_id, idflag, 1 << 18)
        self.v_occurred = _safe(lambda v: iso_date(v, "occurred_on", today, required=True),
                                self.flags.setdefault("#occurred", [False]), 1 << 14)
        self.v_decided = _safe(lambda v: iso_date(v, "decided_on", today, required=False),
                               self.flags.setdefault("#decided", [False]), 1 << 14)
        self.v_value = _safe(decimal_text, self.flags.setdefault("#value", [False]), 1 << 16)
        self._aead: Any = None

    # -- the chunk ----------------------------------------------------------------------
    def prepare(self, header: list[str] | None, lines: list[int], rows: list[Any]) -> PreparedRecords:
        n = len(rows)
        rejected: dict[int, str] = {}
        if header is not None:
            index = {h: i for i, h in enumerate(header)}
            raw_cols = {f: list(map(itemgetter(index[c]), rows)) if c in index else [""] * n for f, c, _ in self.fns}
            rtexts = _pack_lists(rows, header)
        else:
            for i, r in enumerate(rows):
                if "__error__" in r:
                    rejected[i] = r["__error__"]
            raw_cols = {f: [r.get(c) or "" for r in rows] for f, c, _ in self.fns}
            tabular = self.spec.format in ("csv", "xlsx")
            rtexts = [pack_raw(r, tabular) for r in rows]
        rhashes = [blake2b(t.encode("utf-8"), digest_size=16).hexdigest() for t in rtexts]
        # 1. steps, field by field in the spec's column order (the first failure is the reason)
        vals: dict[str, list[Any]] = {}
        for f, _c, fn in self.fns:
            col = raw_cols[f] if fn is None else list(map(fn, raw_cols[f]))
            if fn is not None and self.flags[f][0]:
                _take_bad(col, rejected)
            vals[f] = col
        # 2. filters
        filtered: list[int] = []
        if self.spec.filters:
            names = list(vals)
            for i, t in enumerate(zip(*vals.values(), strict=True)):
                if i not in rejected and not self.cs.keep(dict(zip(names, t, strict=True))):
                    filtered.append(i)
            skip = set(filtered)
        else:
            skip = set()
        # 3. checks, in the order BatchWriter._record makes them
        dead = rejected.keys() | skip
        items = vals["item"] if "item" in vals else None
        if items is not None and self.fixed_item:
            items = [v or self.fixed_item for v in items]
        if items is None:
            months_col = [self.v_item(self.fixed_item)] * n
            items = [self.fixed_item] * n
        else:
            months_col = list(map(self.v_item, items))
        self._check(months_col, rejected, dead, "#item", None)
        u, r = vals.get("uscc"), vals.get("resident_id")
        if u is not None and r is not None:
            ids = list(map(self.v_either, zip(u, r, strict=True)))
        elif u is not None:
            ids = list(map(self.v_uscc, u))
        else:
            ids = list(map(self.v_resident, r))  # type: ignore[arg-type]
        self._check(ids, rejected, dead, "#id", ("", "", ""))
        occ = list(map(self.v_occurred, vals["occurred_on"]))
        self._check(occ, rejected, dead, "#occurred", "")
        none = [None] * n  # a column the spec does not have (never written to)
        dec = list(map(self.v_decided, vals["decided_on"])) if "decided_on" in vals else none
        self._check(dec, rejected, dead, "#decided", None)
        value = list(map(self.v_value, vals["value"])) if "value" in vals else none
        self._check(value, rejected, dead, "#value", None)
        grade = [g.upper() if g else None for g in vals["grade"]] if "grade" in vals else none
        text = [t or None for t in vals["text"]] if "text" in vals else none
        doc = [d or None for d in vals["document_no"]] if "document_no" in vals else none
        # 4. the record's derived values
        src = self.source
        if self.nk_fields:
            nk_in = [f"{src}|{'|'.join(t)}" if all(t) else f"{src}|raw|{h}"
                     for t, h in zip(zip(*(vals[k] for k in self.nk_fields), strict=True), rhashes, strict=True)]
        else:
            nk_in = [f"{src}|raw|{h}" for h in rhashes]
        nks = [blake2b(t.encode("utf-8"), digest_size=16).hexdigest() for t in nk_in]
        blank = [""] * n
        tails = list(map("|".join, zip(items, occ, *(blank if c is none else [v or "" for v in c]
                                                    for c in (dec, value, grade, text, doc)), strict=True)))
        start = [d or o for d, o in zip(dec, occ, strict=True)]
        until = [_until_iso(s, m) for s, m in zip(start, months_col, strict=True)]
        if self.personal:
            stored = self._encrypt_all(rtexts)
        else:
            stored = rtexts
        kinds = [x[0] for x in ids]
        keys = [x[2] for x in ids]
        if self.provisional:
            codes, names = [x[1] for x in ids], vals.get("name") or [""] * n
        else:
            codes = names = none
        cols = (kinds, keys, nks, tails, items, occ, dec, value, grade, text, doc, start, until, stored, codes, names)
        dead = rejected.keys() | skip
        if dead:
            keep = [True] * n
            for i in dead:
                keep[i] = False
            ok = list(compress(range(n), keep))
            cols = tuple(list(compress(c, keep)) for c in cols)
        else:
            ok = list(range(n))
        return PreparedRecords(n, lines, rtexts, rhashes, rejected, filtered, ok, cols)

    def _encrypt_all(self, texts: list[str]) -> list[str]:
        """`KeyRing.encrypt` for many values: the same token format (key id, then base64 of
        a fresh random 96-bit nonce, the ciphertext and tag), one random read per chunk."""
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(self.keyring.enc_key)
        aead, kid = self._aead, self.keyring.key_id
        aad, prefix = kid.encode(), kid + ":"
        random = os.urandom(12 * len(texts))
        nonces = [random[i:i + 12] for i in range(0, len(random), 12)]
        enc, b64 = aead.encrypt, binascii.b2a_base64  # base64.b64encode's output, without its wrapper
        return [prefix + b64(nonce + enc(nonce, t.encode("utf-8"), aad), newline=False).decode("ascii")
                for nonce, t in zip(nonces, texts, strict=True)]

    def _check(self, col: list[Any], rejected: dict[int, str], dead: set[int], flag: str, blank: Any) -> None:
        """Record each row's first failure and blank the failed cells, so the derived
        values can still be computed column-wise (the row is dropped later)."""
        if not self.flags[flag][0]:
            return
        for i, v in enumerate(col):
            if v.__class__ is _Bad:
                if i not in dead:
                    rejected[i] = v.reason
                    dead.add(i)
                col[i] = blank


def _take_bad(col: list[Any], rejected: dict[int, str]) -> None:
    for i, v in enumerate(col):
        if v.__class__ is _Bad:
            rejected.setdefault(i, v.reason)
            col[i] = ""


def _chain_plain(fns: list[Callable[[str], str]]) -> Callable[[str], str]:
    if len(fns) == 1:
        return fns[0]

    def run(v: str) -> str:
        for fn in fns:
            v = fn(v)
        return v

    return run


@lru_cache(maxsize=1 << 14)
def _until_iso(start: str, months: int | None) -> str | None:
    from creditgov.core import clock

    if months is None or not start:
        return None
    return clock.add_months(dt.date.fromisoformat(start), months).isoformat()


def _pack_lists(rows: list[list[str]], header: list[str]) -> list[str]:
    """`pack_raw` for rows given as lists in header order (one join per row)."""
    out = [_PACKED + _SEP.join(r) for r in rows]
    want = len(header) - 1
    for i, t in enumerate(out):
        if t.count(_SEP) != want:  # a value holds the separator itself: JSON, as pack_raw does
            out[i] = raw_text(dict(zip(header, rows[i], strict=False)))
    return out


# --------------------------------------------------------------------------- records: subjects and hashes

def subject_ids(p: PreparedRecords, by_uscc: dict[str, int], by_index: dict[str, int]) -> list[int | None]:
    """The subject id of each ok row of a prepared chunk, None where not registered."""
    kinds_, keys = p.columns[:2]
    if kinds_ and kinds_.count(kinds_[0]) == len(kinds_):
        return list(map((by_uscc if kinds_[0] == "uscc" else by_index).get, keys))
    return [(by_uscc if k == "uscc" else by_index).get(key) for k, key in zip(kinds_, keys, strict=True)]


def content_hashes(sids: list[Any], tails: list[str]) -> list[str]:
    """What each record says, for telling a duplicate from a correction: a hash of the
    subject id and the content tail of `RecordPreparer`."""
    return [blake2b(f"{sid}|{tail}".encode(), digest_size=16).hexdigest() for sid, tail in zip(sids, tails, strict=True)]


def with_subjects(p: PreparedRecords, by_uscc: dict[str, int], by_index: dict[str, int]) -> PreparedRecords:
    """`p` with its subject ids and content hashes worked out (the costly, stateless half of
    `resolve_records`), for a spec that creates no provisional subjects. A chunk with a
    subject that is not registered is left as it is: `resolve_records` takes such a
    chunk row by row."""
    sids = subject_ids(p, by_uscc, by_index)
    if None not in sids:
        p.subjects = (sids, content_hashes(sids, p.columns[3]))  # type: ignore[arg-type]
    return p


def resolve_records(p: PreparedRecords, by_uscc: dict[str, int], by_index: dict[str, int], seen: dict[str, str],
                    unknown: Callable[[str, str | None, str | None, str], int],
                    ) -> tuple[list[tuple[Any, ...]], list[int], list[int], list[tuple[int, str]]]:
    """The subject part of a prepared chunk: each record's subject id (from the maps of
    registered subjects, else `unknown(kind, code, name, key)`, which returns an id or
    raises RowError), its content hash, and the check of natural keys already seen in
    this file (`seen`, natural key -> content hash, updated): the first row wins, an
    identical repeat is a duplicate, a different one is rejected for a person to look at.

    Returns the records as stored (service.VAR_COLUMNS order), the chunk index of each,
    the chunk indexes of the duplicates, and (chunk index, reason) of the rejected rows,
    in row order."""
    rows: list[tuple[Any, ...]] = []
    row_index: list[int] = []
    dups: list[int] = []
    rejects: list[tuple[int, str]] = []
    lines, rhashes = p.lines, p.rhashes
    nks, tails = p.columns[2:4]
    if not nks:
        return rows, row_index, dups, rejects
    # Column-wise where possible: subject ids, content hashes, then the rows that stay.
    if p.subjects is not None:
        sids, contents = p.subjects
    else:
        sids, contents = subject_ids(p, by_uscc, by_index), None
    if None not in sids:
        if contents is None:
            contents = content_hashes(sids, tails)
        ok = p.ok
        distinct = set(nks)
        before = seen.keys() & distinct
        if len(distinct) == len(nks) and not before:
            seen.update(zip(nks, contents, strict=True))
            keep = None
        else:  # natural keys seen before, or repeated here: those rows in order, the first wins
            suspect = before
            if len(distinct) != len(nks):
                suspect |= {nk for nk, times in Counter(nks).items() if times > 1}
            keep = [nk not in suspect for nk in nks]
            seen.update(compress(zip(nks, contents, strict=True), keep))
            seen_get = seen.get
            docs = p.columns[10]
            for r in [r for r, k in enumerate(keep) if not k]:
                nk, content = nks[r], contents[r]
                prev = seen_get(nk)
                if prev is None:
                    seen[nk] = content
                    keep[r] = True
                elif prev == content:
                    dups.append(ok[r])
                else:
                    rejects.append((ok[r], "conflicts with an earlier row of this file with the same natural key "
                                           f"({docs[r]})"))
        if len(ok) == p.n:
            ok_lines, ok_hashes = lines, rhashes
        else:
            ok_lines, ok_hashes = [lines[j] for j in ok], [rhashes[j] for j in ok]
        item, occ, dec, value, grade, text, doc, start, until, stored = p.columns[4:14]
        every = zip(sids, item, occ, dec, value, grade, text, doc, start, until, nks, contents, ok_lines, ok_hashes,
                    stored, strict=True)
        if keep is None:
            return list(every), list(ok), dups, rejects
        return list(compress(every, keep)), list(compress(ok, keep)), dups, rejects
    # A subject to create or reject: row by row, in order (a created subject serves the rows after it).
    seen_get = seen.get
    for j, kind, key, nk, tail, item, occ, dec, value, grade, text, doc, start, until, stored, code, name in zip(
            p.ok, *p.columns, strict=True):
        sid = (by_uscc if kind == "uscc" else by_index).get(key)  # current: an earlier row may have added it
        try:
            if sid is None:
                sid = unknown(kind, code, name, key)
            content = blake2b(f"{sid}|{tail}".encode(), digest_size=16).hexdigest()
            prev = seen_get(nk)
            if prev is not None:
                if prev == content:
                    dups.append(j)
                    continue
                raise RowError(f"conflicts with an earlier row of this file with the same natural key ({doc})")
        except RowError as exc:
            rejects.append((j, str(exc)))
            continue
        seen[nk] = content
        rows.append((sid, item, occ, dec, value, grade, text, doc, start, until, nk, content, lines[j], rhashes[j],
                     stored))
        row_index.append(j)
    return rows, row_index, dups, rejects


# --------------------------------------------------------------------------- registrations and links

# A prepared registration row: (identifier kind, canonical identifier, look-up key (the
# credit code, or the ID number's blind index), content hash, the new subject's values in
# service.SUBJECT_COLUMNS order up to row_hash, stored form). Plain strings and numbers:
# they cross between processes, and dates or nested dicts cost several times more to
# unpickle (`subject_update` derives an update's fields from them when one is needed).
SubjectPrep = tuple[str, str, str, str, list[Any]]
# A prepared link row: (role, firm credit code, person's blind index or None, why the
# person's ID number is invalid or None); the firm is looked up before the person is checked.
LinkPrep = tuple[str, str, str | None, str | None]


@dataclass
class RowsChunk:
    """Consecutive rows of a registration or links file after `RowPreparer`: per row
    (line, packed raw row, raw hash, outcome), the outcome a reason (rejected), None
    (filtered) or the prepared tuple. Picklable."""

    rows: list[tuple[int, str, str, Any]]


class RowPreparer:
    """The database-free part of a registration or links spec, row by row: steps,
    filters and every check that needs no stored subject, in `BatchWriter`'s order,
    with the ID number's encryption, blind index and mask done here."""

    def __init__(self, spec: SourceSpec, *, keyring: Any, today: dt.date, regions: dict[str, int]) -> None:
        self.spec, self.keyring, self.today, self.regions = spec, keyring, today, regions
        self.cs = CompiledSpec(spec)
        self.tabular = spec.format in ("csv", "xlsx")
        self.kinds = kinds()

    def prepare(self, raw: RawRow) -> tuple[str, str, Any]:
        """(packed raw row, raw hash, outcome) as in `RowsChunk`."""
        rtext = pack_raw(raw, self.tabular)
        rhash = short_hash(rtext)
        try:
            vals = self.cs.apply(raw)
            if not self.cs.keep(vals):
                return rtext, rhash, None
            if self.spec.kind == "registration":
                return rtext, rhash, self.registration(vals)
            return rtext, rhash, self.link(vals)
        except RowError as exc:
            return rtext, rhash, str(exc)

    def registration(self, vals: dict[str, str]) -> SubjectPrep:
        spec = self.spec
        kind_code = vals.get("kind") or spec.subject_kind or ""
        kind = self.kinds.get(kind_code)
        if kind is None:
            raise RowError(f"unknown subject kind {kind_code!r}")
        name = vals.get("name", "")
        if not name:
            raise RowError("missing name")
        id_kind, code = identifier(vals)
        if id_kind != kind.identifier:
            raise RowError(f"a {kind.code} is identified by {kind.identifier}, the row gives {id_kind}")
        region_code = vals.get("region", "")
        region_id = None
        if region_code:
            region_id = self.regions.get(region_code)
            if region_id is None:
                raise RowError(f"unknown region code {region_code!r}")
        established = to_date(vals, "established_on", required=False, today=self.today)
        attrs = {k[5:]: attribute_value(v) for k, v in vals.items() if k.startswith("attr.")}
        content = short_hash(json.dumps([kind.code, name, code, region_code, vals.get("industry", ""),
                                         str(established or ""), vals.get("address", ""), attrs],
                                        ensure_ascii=False, sort_keys=True))
        rid = code if id_kind == "resident_id" else None
        index = self.keyring.blind_index(rid) if rid else None
        values = [
            kind.code, name, code if id_kind == "uscc" else None,
            self.keyring.encrypt(rid) if rid else None, index, mask_id(rid) if rid else None, region_id,
            vals.get("industry") or None, established.isoformat() if established else None,
            vals.get("address") or None, json.dumps(attrs, ensure_ascii=False), "confirmed", spec.name, content,
        ]
        return id_kind, code, code if index is None else index, content, values

    @staticmethod
    def subject_update(values: list[Any]) -> dict[str, Any]:
        """The fields a registration row sets on a stored subject, from its prepared values."""
        kind, name, _uscc, _rid, _index, _masked, region_id, industry, established, address, attrs = values[:11]
        return {"kind": kind, "name": name, "region_id": region_id, "industry": industry,
                "established_on": dt.date.fromisoformat(established) if established else None,
                "address": address, "attributes": json.loads(attrs)}

    def link(self, vals: dict[str, str]) -> LinkPrep:
        role = vals.get("role", "")
        if role not in ("legal_representative", "principal", "employee"):
            raise RowError(f"unknown role {role!r}")
        _, firm_code = identifier({"uscc": vals.get("firm_uscc", "")})
        try:
            _, pid = identifier({"resident_id": vals.get("person_id", "")})
        except RowError as exc:
            return role, firm_code, None, str(exc)
        return role, firm_code, self.keyring.blind_index(pid), None
