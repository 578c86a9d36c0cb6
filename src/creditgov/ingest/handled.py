"""Handled sources: files whose rows another domain applies, through the same specs.

A `handled` spec (schemas.py) reads, transforms and filters a file like any other, but
instead of credit records each row goes to the function registered under the spec's
`handler` by the composition root (e.g. `finance.repayments`: a bank's repayment
lands in the loan book through the finance service, its one writer). Ingestion keeps
what it keeps for every source — the batch, the spec version, a rejected row in the
quarantine with its reason, retry — and, for each applied row, its raw form and what
the handler made of it (`HandledRow`), so `creditgov ingest trace-row` replays it and
the same raw row delivered again is a duplicate that is never handed over twice.

Each row is applied in a savepoint: a row its handler refuses (any product error, or
`RowError`) leaves nothing behind and goes to the quarantine; the others stand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import ConfigError, CreditGovError, NotFound
from creditgov.ingest.models import Batch, HandledRow, QuarantinedRow, SpecVersion
from creditgov.ingest.pipeline import CompiledSpec, TraceStep
from creditgov.ingest.readers import RawRow, read_rows
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.ingest.values import raw_text, short_hash
from creditgov.ingest.writer import Counts, _reason_kind
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing


@dataclass(frozen=True)
class RowIn:
    """What a handler is given: the row's transformed fields and the spec's context."""

    source: str
    batch_id: int
    line_no: int
    values: dict[str, str]
    context: dict[str, str]
    actor: str


@dataclass(frozen=True)
class Applied:
    """A handler's answer: `known` when the row's fact was already there (e.g. the same
    repayment reported through the API first), and what it names (`domain.kind:id`)."""

    target: str
    known: bool = False


Handler = Callable[[Session, RowIn], Applied]
HANDLERS: dict[str, Handler] = {}


def register_handler(entry: tuple[str, Handler]) -> None:
    """The composition root's seam: `(name, function)` of another domain."""
    HANDLERS[entry[0]] = entry[1]


def handler(name: str | None) -> Handler:
    if name is None or name not in HANDLERS:
        raise ConfigError(f"no row handler {name!r} is registered; known: {', '.join(sorted(HANDLERS)) or 'none'}")
    return HANDLERS[name]


class HandledBatch:
    """One batch of a handled source: a file, or a retry of its quarantined rows."""

    def __init__(self, session: Session, spec: SourceSpec, batch: Batch, keyring: KeyRing) -> None:
        self.s, self.spec, self.batch, self.keyring = session, spec, batch, keyring
        self.fn = handler(spec.handler)
        self.compiled = CompiledSpec(spec)
        self.counts = Counts()
        self.header: list[str] | None = None
        self.applied = set(session.execute(select(HandledRow.raw_hash)
                                           .where(HandledRow.source == spec.name)).scalars())
        self.open_q = set(session.execute(select(QuarantinedRow.raw_hash).where(
            QuarantinedRow.source == spec.name, QuarantinedRow.status == "open")).scalars())

    def _stored(self, raw: RawRow) -> str:
        text = raw_text(raw)
        return self.keyring.encrypt(text) if self.spec.personal else text

    def process(self, line: int, raw: RawRow, *, retrying: bool = False) -> tuple[str, str | None]:
        """(outcome, reason): accepted, duplicate, filtered or rejected."""
        if self.header is None:
            self.header = [k for k in raw if k != "__error__"]
        c = self.counts
        c.read += 1
        rhash = short_hash(raw_text(raw))
        if rhash in self.applied:
            c.duplicates += 1
            return "duplicate", None
        try:
            vals = self.compiled.apply(raw)
        except RowError as exc:
            return self._reject(line, raw, rhash, str(exc), retrying)
        if not self.compiled.keep(vals):
            c.filtered += 1
            return "filtered", None
        row = RowIn(self.spec.name, self.batch.id, line, vals, dict(self.spec.context), self.batch.actor)
        try:
            with self.s.begin_nested():
                got = self.fn(self.s, row)
        except (RowError, CreditGovError) as exc:
            return self._reject(line, raw, rhash, str(exc), retrying)
        self.s.add(HandledRow(batch_id=self.batch.id, source=self.spec.name, line_no=line, raw=self._stored(raw),
                              raw_hash=rhash, outcome="known" if got.known else "applied", target=got.target,
                              created_at=clock.now()))
        self.applied.add(rhash)
        if got.known:
            c.duplicates += 1
            return "duplicate", None
        c.accepted += 1
        return "accepted", None

    def _reject(self, line: int, raw: RawRow, rhash: str, reason: str, retrying: bool) -> tuple[str, str | None]:
        c = self.counts
        if retrying:
            c.rejected += 1
            c.reasons[_reason_kind(reason)] += 1
            return "rejected", reason
        if rhash in self.open_q:  # the same bad row again: already waiting in the quarantine
            c.duplicates += 1
            return "rejected", reason
        c.rejected += 1
        c.reasons[_reason_kind(reason)] += 1
        self.open_q.add(rhash)
        self.s.add(QuarantinedRow(batch_id=self.batch.id, source=self.spec.name, file_name=self.batch.file_name,
                                  line_no=line, raw=self._stored(raw), raw_hash=rhash, reason=reason,
                                  status="open", created_at=clock.now()))
        return "rejected", reason

    def run_file(self, path: Path) -> None:
        for line, raw in read_rows(self.spec, path):
            self.process(line, raw)

    def finish(self) -> dict[str, Any]:
        self.s.flush()
        b, c = self.batch, self.counts
        b.read, b.accepted, b.corrected, b.rejected = c.read, c.accepted, 0, c.rejected
        b.duplicates, b.filtered, b.finished_at = c.duplicates, c.filtered, clock.now()
        b.header = json.dumps(self.header or [], ensure_ascii=False)
        audit.append(self.s, action=f"ingest.{b.kind}", actor=b.actor,
                     detail={"batch": b.id, "source": b.source, "file": b.file_name,
                             "file_hash": b.file_hash, "handler": self.spec.handler, **c.as_dict()})
        return {"batch": b.id, "source": b.source, "file": b.file_name, **c.as_dict()}


def retry(session: Session, spec: SourceSpec, batch: Batch, keyring: KeyRing, rows: list[QuarantinedRow],
          raw_of: Callable[[QuarantinedRow], RawRow]) -> HandledBatch:
    """Hand open quarantined rows over again (after the loan, the bank or the spec was mended)."""
    hb = HandledBatch(session, spec, batch, keyring)
    now = clock.now()
    for qr in rows:
        outcome, reason = hb.process(qr.line_no, raw_of(qr), retrying=True)
        if outcome == "rejected":
            qr.reason, qr.attempts = reason or qr.reason, qr.attempts + 1
        else:
            qr.status, qr.resolved_at, qr.resolved_batch_id = "resolved", now, batch.id
    return hb


@dataclass
class RowTrace:
    row: HandledRow
    batch: Batch
    spec_version: SpecVersion
    raw: RawRow
    steps: list[TraceStep]
    result: dict[str, str] | None
    replay_matches: bool


def trace_row(session: Session, keyring: KeyRing, row_id: int, spec_of: Callable[[SpecVersion], SourceSpec],
              *, actor: str | None = None) -> RowTrace:
    row = session.get(HandledRow, row_id)
    if row is None:
        raise NotFound(f"handled row {row_id} not found")
    batch = session.get(Batch, row.batch_id)
    assert batch is not None
    sv = session.get(SpecVersion, batch.spec_version_id)
    assert sv is not None
    spec = spec_of(sv)
    text = keyring.decrypt(row.raw) if spec.personal else row.raw
    if spec.personal:  # a personal source's raw row read back: written to the audit chain, as `trace` does
        audit.append(session, action="ingest.trace", actor=actor or audit.default_actor(), purpose="lineage",
                     detail={"handled_row": row.id, "target": row.target})
    raw = json.loads(text)
    steps, result = CompiledSpec(spec).trace(raw)
    return RowTrace(row, batch, sv, raw, steps, result, short_hash(raw_text(raw)) == row.raw_hash)


def row_for(session: Session, target: str) -> HandledRow | None:
    """The file row that produced `target` (e.g. `finance.repayment:7`), if one did."""
    return session.execute(select(HandledRow).where(HandledRow.target == target)
                           .order_by(HandledRow.id).limit(1)).scalar_one_or_none()
