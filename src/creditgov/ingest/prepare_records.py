"""Record files, a chunk at a time: everything about a chunk of record rows that needs no
database (`RecordPreparer` -> `PreparedRecords`), then its subject part (`with_subjects`,
`resolve_records`).

Picklable results, so the helper process of stream.py can prepare chunks while the
writer (writer.py) inserts; the writer runs the same code when it prepares a chunk
itself, so where a chunk is prepared changes nothing in the store.
"""

from __future__ import annotations

import binascii
import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from itertools import compress
from operator import itemgetter
from typing import Any, TypeVar, cast

from creditgov.ingest.pipeline import CompiledSpec
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.ingest.values import (
    decimal_text,
    either_identifier,
    identifier,
    in_column,
    is_negative,
    iso_date,
    negative_value,
    pack_lists,
    pack_raw,
)


class _Bad:
    """A value that failed a step or a check, standing in the column for its reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_V = TypeVar("_V", bound=Hashable)


def _safe(fn: Callable[[_V], Any], flag: list[bool], size: int | None = 1 << 16,
          where: tuple[str, str | None] | None = None) -> Callable[[_V], Any]:
    """`fn` memoised, returning a `_Bad` instead of raising; `flag[0]` turns true once
    any value has failed, so columns without a failure are never scanned for one.
    `where` (field, the file's column): the reason names the column (`values.in_column`)."""

    def run(v: _V) -> Any:
        try:
            return fn(v)
        except RowError as exc:
            flag[0] = True
            return _Bad(str(exc) if where is None else in_column(str(exc), *where))

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
    # The source, for the natural key of a row the spec's `natural_key` does not key
    # (None in the natural-key column until `resolve_records` knows its content hash).
    source: str = ""

    def drop(self, reasons: dict[int, str]) -> None:
        """Reject ok rows (chunk index -> reason) after preparation: out of the columns."""
        keep = [j not in reasons for j in self.ok]
        self.ok = list(compress(self.ok, keep))
        self.columns = tuple(list(compress(c, keep)) for c in self.columns)
        if self.subjects is not None:
            self.subjects = (list(compress(self.subjects[0], keep)), list(compress(self.subjects[1], keep)))
        self.rejected.update(reasons)


class RecordPreparer:
    """The database-free part of a records spec, applied column by column to a chunk:
    steps, filters, the item's catalogue and data-request checks, check digits, dates,
    amounts, hashes and encryption. The steps give what `CompiledSpec.apply` gives row
    by row (trace replays them), and the checks run in the order the batch writer made
    them when it took records one row at a time (item, identifier, occurred_on,
    decided_on, value), so a rejected row keeps the same first reason."""

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
            self.fns.append((f, c, _safe(_chain_plain(fns), flag, where=(f, c)) if fns else None))
        col = spec.columns.get
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

        self.v_item = _safe(item_check, self.flags.setdefault("#item", [False]), None, ("item", col("item")))
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

        def any_id(v: str) -> tuple[str, str, str]:
            kind, code = either_identifier(v)
            return kind, code, code if kind == "uscc" else blind(code)

        idflag = self.flags.setdefault("#id", [False])
        self.v_any = _safe(any_id, idflag, 1 << 18, ("identifier", col("identifier")))
        self.v_uscc = _safe(uscc_id, idflag, 1 << 18, ("uscc", col("uscc")))
        self.v_resident = _safe(resident_id, idflag, 1 << 18, ("resident_id", col("resident_id")))
        self.v_either = _safe(either_id, idflag, 1 << 18)  # two columns: the reason says which identifier

        def occurred_on(v: str) -> str | None:
            return iso_date(v, "occurred_on", today, required=True)

        def decided_on(v: str) -> str | None:
            return iso_date(v, "decided_on", today, required=False)

        self.v_occurred = _safe(occurred_on, self.flags.setdefault("#occurred", [False]), 1 << 14,
                                ("occurred_on", col("occurred_on")))
        self.v_decided = _safe(decided_on, self.flags.setdefault("#decided", [False]), 1 << 14,
                               ("decided_on", col("decided_on")))
        self.v_value = _safe(decimal_text, self.flags.setdefault("#value", [False]), 1 << 16, ("value", col("value")))
        self._aead: Any = None

    # -- the chunk ----------------------------------------------------------------------
    def prepare(self, header: list[str] | None, lines: list[int], rows: list[Any]) -> PreparedRecords:
        n = len(rows)
        rejected: dict[int, str] = {}
        if header is not None:
            index = {h: i for i, h in enumerate(header)}
            raw_cols = {f: list(map(itemgetter(index[c]), rows)) if c in index else [""] * n for f, c, _ in self.fns}
            rtexts = pack_lists(rows, header)
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
        # 3. checks, in the order of the docstring (a row's first failure is its reason)
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
        if "identifier" in vals:
            ids = list(map(self.v_any, vals["identifier"]))
        elif u is not None and r is not None:
            ids = list(map(self.v_either, zip(u, r, strict=True)))
        elif u is not None:
            ids = list(map(self.v_uscc, u))
        else:
            assert r is not None  # SourceSpec requires a records spec to map one of them
            ids = list(map(self.v_resident, r))
        self._check(ids, rejected, dead, "#id", ("", "", ""))
        occ = list(map(self.v_occurred, vals["occurred_on"]))
        self._check(occ, rejected, dead, "#occurred", "")
        none: list[Any] = [None] * n  # a column the spec does not have (never written to)
        dec = list(map(self.v_decided, vals["decided_on"])) if "decided_on" in vals else none
        self._check(dec, rejected, dead, "#decided", None)
        value = list(map(self.v_value, vals["value"])) if "value" in vals else none
        self._check(value, rejected, dead, "#value", None)
        grade = [g.upper() if g else None for g in vals["grade"]] if "grade" in vals else none
        text = [t or None for t in vals["text"]] if "text" in vals else none
        doc = [d or None for d in vals["document_no"]] if "document_no" in vals else none
        # 4. the record's derived values. The natural key of a row the spec's `natural_key`
        # keys is its fields'; any other row's is its fact (`fact_key`), known once its
        # subject is (`resolve_records`): None until then.
        src = self.source
        nks: list[str | None]
        if self.nk_fields:
            nks = [blake2b(f"{src}|{'|'.join(t)}".encode(), digest_size=16).hexdigest() if all(t) else None
                   for t in zip(*(vals[k] for k in self.nk_fields), strict=True)]
        else:
            nks = [None] * n
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
        cols: tuple[list[Any], ...] = (kinds, keys, nks, tails, items, occ, dec, value, grade, text, doc, start, until, stored, codes, names)
        dead = rejected.keys() | skip
        if dead:
            keep = [True] * n
            for i in dead:
                keep[i] = False
            ok = list(compress(range(n), keep))
            cols = tuple(list(compress(c, keep)) for c in cols)
        else:
            ok = list(range(n))
        return PreparedRecords(n, lines, rtexts, rhashes, rejected, filtered, ok, cols, source=src)

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


# --------------------------------------------------------------------------- records: subjects and hashes

def subject_ids(p: PreparedRecords, by_uscc: dict[str, int], by_index: dict[str, int]) -> list[int | None]:
    """The subject id of each ok row of a prepared chunk, None where not registered."""
    kinds_, keys = p.columns[:2]
    if kinds_ and kinds_.count(kinds_[0]) == len(kinds_):
        return list(map((by_uscc if kinds_[0] == "uscc" else by_index).get, keys))
    return [(by_uscc if k == "uscc" else by_index).get(key) for k, key in zip(kinds_, keys, strict=True)]


def content_hashes(sids: Sequence[int | None], tails: Sequence[str]) -> list[str]:
    """What each record says, for telling a duplicate from a correction: a hash of the
    subject id and the content tail of `RecordPreparer`."""
    return [blake2b(f"{sid}|{tail}".encode(), digest_size=16).hexdigest() for sid, tail in zip(sids, tails, strict=True)]


def fact_key(source: str, content: str) -> str:
    """The natural key of a record its spec's `natural_key` does not key (the spec has
    none, or the row leaves a key field empty): the fact it states, by its source and
    content hash — the subject, item, dates, value, grade, text and document number as
    parsed — never by the raw text, so the same fact sent again in another form (1234.5
    as 1234.50, another date form, other spacing) is the same record, a duplicate."""
    return blake2b(f"{source}|fact|{content}".encode(), digest_size=16).hexdigest()


def raw_key(source: str, raw_hash: str) -> str:
    """The natural key such a record was given before facts keyed them: its raw row's
    hash. Records stored then keep it (other platforms know them by it); the writer finds
    them by it when a row's fact is not found (`BatchWriter._flush_records`)."""
    return blake2b(f"{source}|raw|{raw_hash}".encode(), digest_size=16).hexdigest()


def refuse_values(p: PreparedRecords, never_negative: Collection[str], column: str | None) -> list[tuple[int, str]]:
    """The ok rows of `p` whose value is below zero though their item's never is (the
    catalogue's amounts and days, `values.NEVER_NEGATIVE`), taken out of `p` as rejected:
    (chunk index, reason) in row order, the reason naming the file's `column`. Checked
    after the preparer's own checks (a value that is no number is refused there) and
    before the subject is looked up."""
    items, value = p.columns[4], p.columns[7]
    if not never_negative or not any(v is not None and v[:1] == "-" for v in value):
        return []
    bad = {p.ok[r]: in_column(negative_value(v, it), "value", column)
           for r, (it, v) in enumerate(zip(items, value, strict=True)) if it in never_negative and is_negative(v)}
    if bad:
        p.drop(bad)
    return sorted(bad.items())


def with_subjects(p: PreparedRecords, by_uscc: dict[str, int], by_index: dict[str, int]) -> PreparedRecords:
    """`p` with its subject ids and content hashes worked out (the costly, stateless half of
    `resolve_records`), and so the natural keys of its rows keyed by their fact, for a
    spec that creates no provisional subjects. A chunk with a
    subject that is not registered is left as it is: `resolve_records` takes such a
    chunk row by row."""
    sids = subject_ids(p, by_uscc, by_index)
    if None not in sids:
        contents = content_hashes(sids, p.columns[3])
        p.subjects = (cast("list[int]", sids), contents)  # no None: checked above
        nks = p.columns[2]
        if None in nks:  # rows keyed by their fact, keyed here rather than in the writer
            nks[:] = [nk if nk is not None else fact_key(p.source, c) for nk, c in zip(nks, contents, strict=True)]
    return p


def resolve_records(p: PreparedRecords, by_uscc: dict[str, int], by_index: dict[str, int], seen: dict[str, str],
                    unknown: Callable[[str, str | None, str | None, str], int],
                    ) -> tuple[list[tuple[Any, ...]], list[int], list[int], list[tuple[int, str]]]:
    """The subject part of a prepared chunk: each record's subject id (from the maps of
    registered subjects, else `unknown(kind, code, name, key)`, which returns an id or
    raises RowError), its content hash, and the check of natural keys already seen in
    this file (`seen`, natural key -> content hash, updated): the first row wins, an
    identical repeat is a duplicate, a different one is rejected for a person to look at.

    Returns the records as stored (writer.VAR_COLUMNS order), the chunk index of each,
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
    sids: Sequence[int | None]
    contents: list[str] | None
    if p.subjects is not None:
        sids, contents = p.subjects
    else:
        sids, contents = subject_ids(p, by_uscc, by_index), None
    if None not in sids:
        if contents is None:
            contents = content_hashes(sids, tails)
        if None in nks:  # rows keyed by their fact
            src = p.source
            nks = [nk if nk is not None else fact_key(src, c) for nk, c in zip(nks, contents, strict=True)]
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
            if nk is None:
                nk = fact_key(p.source, content)
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
