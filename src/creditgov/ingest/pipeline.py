"""The row pipeline: one raw row through one spec's steps and filters.

`CompiledSpec` is a spec turned into closures, compiled once per batch: `apply` gives a
row's values, `keep` its filters, `trace` replays the steps for `ingest trace`. The same
code runs for a file, for a quarantine retry and for a trace replay, in the writer's
process or in the helper process that prepares a run's files ahead of it (stream.py).
Built on it, needing no database either: `RecordPreparer` (prepare_records.py, record
files a chunk at a time, and `resolve_records`: subject ids from the writer's maps,
content hashes, the in-file natural-key check) and `RowPreparer` (prepare_rows.py,
registration and link rows, up to the look-ups of stored subjects). The batch
bookkeeping is in writer.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from creditgov.ingest.readers import RawRow
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError, compile_step

#: Why a value holding U+0000 is refused: PostgreSQL's text cannot hold it and its JSON
#: functions refuse its escape, so one such cell would fail the whole file there (and a
#: SQLite store's copy could never move); refused on every store alike.
NUL_REASON = "a NUL character (U+0000) in field {field!r}: not a text the store can keep"


def _refuse_nul(field: str, v: str) -> str:
    if "\x00" in v:
        raise RowError(NUL_REASON.format(field=field))
    return v


def _chain(field: str, fns: list[Callable[[str], str]]) -> Callable[[str], str]:
    if not fns:
        return lambda v: v if "\x00" not in v else _refuse_nul(field, v)

    def run(v: str) -> str:
        _refuse_nul(field, v)
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
        self.chains = [(f, c, _chain(f, chains[f])) for f, c in self.columns.items()]

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
            if "\x00" in v:
                out.append(TraceStep("read", f, v, None, NUL_REASON.format(field=f)))
                return out, None
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
