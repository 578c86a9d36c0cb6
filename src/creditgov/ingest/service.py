"""Ingestion: specs, batches, quarantine, retry and trace.

A batch is one file through one spec version, written in one transaction together
with its subjects, records, quarantined rows and audit entry: a run killed midway
leaves nothing behind, and the next run redoes the file. Records deduplicate by a
natural key (source + document number, or source + raw-row hash), so ingesting the
same file twice, or two overlapping files, adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.core.db import BackgroundCheckpoints, bulk_insert, session_scope
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.ingest.models import Batch, QuarantinedRow, SpecVersion
from creditgov.ingest.pipeline import (
    CompiledSpec,
    LinkPrep,
    PreparedRecords,
    RecordPreparer,
    RowPreparer,
    RowsChunk,
    SubjectPrep,
    TraceStep,
    raw_text,
    resolve_records,
    short_hash,
    unpack_raw,
    unregistered,
)
from creditgov.ingest.readers import Chunk, RawRow
from creditgov.ingest.schemas import Manifest, SourceSpec
from creditgov.ingest.stream import Context, Item, Job, PreparedStream, changes_subjects
from creditgov.ingest.transforms import RowError
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject, SubjectLink

CHUNK = 5000
RECORD_COLUMNS = (
    "subject_id", "item_code", "occurred_on", "decided_on", "value", "grade", "text", "department_code",
    "document_no", "status", "published_from", "published_until", "natural_key", "version", "is_current",
    "supersedes_id", "content_hash", "source", "batch_id", "spec_version", "line_no", "raw_hash", "raw",
    "created_at",
)
SUBJECT_COLUMNS = (
    "kind", "name", "uscc", "resident_id", "resident_id_index", "resident_id_masked", "region_id", "industry",
    "established_on", "address", "attributes", "status", "source", "row_hash", "batch_id", "created_at",
    "updated_at",
)
# What varies from record to record; the rest of RECORD_COLUMNS is fixed per batch.
VAR_COLUMNS = (
    "subject_id", "item_code", "occurred_on", "decided_on", "value", "grade", "text", "document_no",
    "published_from", "published_until", "natural_key", "content_hash", "line_no", "raw_hash", "raw",
)
QUARANTINE_COLUMNS = ("line_no", "raw", "raw_hash", "reason")
_S_HASH = SUBJECT_COLUMNS.index("row_hash")
_NK, _CONTENT = VAR_COLUMNS.index("natural_key"), VAR_COLUMNS.index("content_hash")


KIND_ORDER = {"registration": 0, "links": 1, "records": 2}
Progress = Callable[[str, int], None]


# --------------------------------------------------------------------------- specs

def load_spec(path: Path) -> tuple[SourceSpec, str]:
    spec = load_yaml_model(SourceSpec, path)
    return spec, path.read_text(encoding="utf-8")


def register_spec(session: Session, spec: SourceSpec, text: str) -> SpecVersion:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = session.execute(
        select(SpecVersion).where(SpecVersion.name == spec.name, SpecVersion.spec_hash == digest)
    ).scalar_one_or_none()
    if row is None:
        row = SpecVersion(name=spec.name, version=spec.version, spec_hash=digest, text=text,
                          registered_at=clock.now())
        session.add(row)
        session.flush()
    return row


def latest_spec(session: Session, source: str) -> tuple[SourceSpec, SpecVersion]:
    row = session.execute(
        select(SpecVersion).where(SpecVersion.name == source).order_by(SpecVersion.id.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no spec registered for source {source!r}")
    return parse_yaml_model(SourceSpec, row.text, f"spec {source} v{row.version}"), row


def spec_of_version(row: SpecVersion) -> SourceSpec:
    return parse_yaml_model(SourceSpec, row.text, f"spec {row.name} v{row.version}")


# --------------------------------------------------------------------------- context

@dataclass
class Lookups:
    """What every row needs, read once per run and kept current as rows arrive."""

    today: dt.date
    keyring: KeyRing
    items: dict[str, CatalogItem]
    requests: dict[tuple[str, str], str]
    regions: dict[str, int]
    by_uscc: dict[str, int]
    by_index: dict[str, int]

    @classmethod
    def load(cls, session: Session, keyring: KeyRing) -> Lookups:
        items = {i.code: i for i in catalog_service.items(session)}
        for i in items.values():
            session.expunge(i)
        return cls(
            today=clock.today(),
            keyring=keyring,
            items=items,
            requests=catalog_service.request_status(session),
            regions=subject_service.region_ids(session),
            by_uscc=dict(session.execute(select(Subject.uscc, Subject.id).where(Subject.uscc.is_not(None))).all()),
            by_index=dict(session.execute(
                select(Subject.resident_id_index, Subject.id).where(Subject.resident_id_index.is_not(None))).all()),
        )

    def subject_id(self, kind: str, code: str) -> int | None:
        if kind == "uscc":
            return self.by_uscc.get(code)
        return self.by_index.get(self.keyring.blind_index(code))


@dataclass
class Counts:
    read: int = 0
    accepted: int = 0
    corrected: int = 0
    rejected: int = 0
    duplicates: int = 0
    filtered: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, other: Counts) -> None:
        for k in ("read", "accepted", "corrected", "rejected", "duplicates", "filtered"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.reasons.update(other.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "accepted": self.accepted, "corrected": self.corrected,
                "rejected": self.rejected, "duplicates": self.duplicates, "filtered": self.filtered}


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def _reason_kind(reason: str) -> str:
    """A reason without its particulars, for the summary: quoted values and numbers go."""
    return _QUOTED.sub("…", reason.split(":")[0] if "(" not in reason.split(":")[0] else reason)[:90]


# --------------------------------------------------------------------------- the batch

class BatchWriter:
    """Writes one batch. `process` classifies a row; `flush` writes pending records.

    Each processed row may carry a tag; `outcomes` maps tags to their final outcome
    (accepted, corrected, duplicate, rejected, filtered) for quarantine retries.
    """

    def __init__(self, session: Session, lk: Lookups, spec: SourceSpec, batch: Batch,
                 open_quarantine: set[str] | None = None) -> None:
        self.s, self.lk, self.spec, self.batch = session, lk, spec, batch
        self.counts = Counts()
        self.pending: list[tuple[Any, ...]] = []   # VAR_COLUMNS tuples
        self.pending_tags: list[Any] = []
        self.q_pending: list[tuple[Any, ...]] = []  # QUARANTINE_COLUMNS tuples
        self.links_pending: list[tuple[int, int, str]] = []
        self.buffer: list[tuple[int, RawRow, Any]] = []
        self.buffer_quarantine = True
        self._prep: RecordPreparer | None = None
        self._rows: RowPreparer | None = None
        self.seen: dict[str, str] = {}  # natural key -> content hash, within this batch
        self.links_seen: set[tuple[int, int, str]] | None = None
        self.open_q = open_quarantine if open_quarantine is not None else self._open_quarantine()
        self.outcomes: dict[Any, tuple[str, str | None]] = {}
        self.now = clock.now()
        self.now_s = self.now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.new_subjects: dict[tuple[str, str], list[Any]] = {}
        self.subject_hashes: dict[int, tuple[str | None, str]] | None = None
        self.header: list[str] | None = None
        # Per-batch constants, read once instead of per row.
        self.source, self.department, self.spec_version = spec.name, spec.department, spec.version
        self.batch_id = batch.id
        self.today_s = lk.today.isoformat()
        self.source_has_records: bool | None = None
        self.constants = {"department_code": self.department, "status": "active", "version": 1, "is_current": 1,
                          "supersedes_id": None, "source": self.source, "batch_id": self.batch_id,
                          "spec_version": self.spec_version, "created_at": self.now_s}

    @property
    def preparer(self) -> RecordPreparer:
        if self._prep is None:
            self._prep = RecordPreparer(
                self.spec, keyring=self.lk.keyring, today=self.today_s,
                catalog={c: i.max_publication_months for c, i in self.lk.items.items()}, requests=self.lk.requests)
        return self._prep

    def _open_quarantine(self) -> set[str]:
        q = select(QuarantinedRow.raw_hash).where(
            QuarantinedRow.source == self.spec.name, QuarantinedRow.status == "open")
        return set(self.s.execute(q).scalars())

    # -- classification --------------------------------------------------------------
    def process(self, line: int, raw: RawRow, tag: Any = None, quarantine: bool = True) -> None:
        if self.header is None:
            self.header = list(raw)
        if self.spec.kind == "records":
            # Records are checked a chunk at a time (see RecordPreparer).
            if self.buffer and self.buffer_quarantine != quarantine:
                self._run_buffer()
            self.buffer.append((line, raw, tag))
            self.buffer_quarantine = quarantine
            if len(self.buffer) >= CHUNK:
                self._run_buffer()
            return
        self._take_row(line, *self.rows.prepare(raw), tag, quarantine)

    @property
    def rows(self) -> RowPreparer:
        if self._rows is None:
            self._rows = RowPreparer(self.spec, keyring=self.lk.keyring, today=self.lk.today, regions=self.lk.regions)
        return self._rows

    def take_rows(self, header: list[str] | None, chunk: RowsChunk) -> None:
        """A chunk of a registration or links file prepared by `RowPreparer` (here or in stream.py)."""
        if self.header is None:
            self.header = header
        take = self._take_row
        for line, rtext, rhash, out in chunk.rows:
            take(line, rtext, rhash, out, None, True)

    def _take_row(self, line: int, rtext: str, rhash: str, out: Any, tag: Any, quarantine: bool) -> None:
        """The database half of a registration or link row: `out` is what `RowPreparer` made of it."""
        self.counts.read += 1
        if out is None:
            self.counts.filtered += 1
            self.outcomes[tag] = ("filtered", None)
            return
        try:
            if out.__class__ is str:
                raise RowError(out)
            if self.spec.kind == "registration":
                self._registration(out, tag)
            else:
                self._link(out, tag)
        except RowError as exc:
            self._reject(line, rtext, rhash, str(exc), tag, quarantine)

    def _run_buffer(self) -> None:
        buf, self.buffer = self.buffer, []
        if buf:
            prepared = self.preparer.prepare(None, [b[0] for b in buf], [b[1] for b in buf])
            self.take(prepared, [b[2] for b in buf], self.buffer_quarantine)

    def process_chunk(self, chunk: Chunk) -> None:
        """A chunk of a records file (rows as lists in header order where the format allows)."""
        header = list(chunk.header) if chunk.header is not None else (list(chunk.rows[0]) if chunk.rows else None)
        self.take_prepared(header, self.preparer.prepare(chunk.header, chunk.lines, chunk.rows))

    def take_prepared(self, header: list[str] | None, p: PreparedRecords) -> None:
        """A chunk of a records file prepared by `RecordPreparer` (here or in stream.py)."""
        if self.header is None:
            self.header = header
        self.take(p)

    def take(self, p: PreparedRecords, tags: list[Any] | None = None, quarantine: bool = True) -> None:
        """The database half of a prepared chunk: subjects, natural keys seen in this batch,
        rejections into the quarantine; records go to `pending` for `flush`."""
        c = self.counts
        c.read += p.n
        outcomes = self.outcomes if tags is not None else None
        if p.filtered:
            c.filtered += len(p.filtered)
            if outcomes is not None:
                for i in p.filtered:
                    outcomes[tags[i]] = ("filtered", None)  # type: ignore[index]
        lines, rtexts, rhashes = p.lines, p.rtexts, p.rhashes
        for i in sorted(p.rejected):
            self._reject(lines[i], rtexts[i], rhashes[i], p.rejected[i], tags[i] if tags else None, quarantine)
        lk = self.lk
        rows, row_index, dups, rejects = resolve_records(p, lk.by_uscc, lk.by_index, self.seen, self._unknown_subject)
        for j, reason in rejects:
            self._reject(lines[j], rtexts[j], rhashes[j], reason, tags[j] if tags else None, quarantine)
        c.duplicates += len(dups)
        if outcomes is not None:
            for j in dups:
                outcomes[tags[j]] = ("duplicate", None)  # type: ignore[index]
        self.pending.extend(rows)
        self.pending_tags.extend([tags[j] for j in row_index] if tags else [None] * len(rows))
        if len(self.pending) >= CHUNK:
            self.flush()

    def _reject(self, line: int, rtext: str, rhash: str, reason: str, tag: Any, quarantine: bool) -> None:
        self.outcomes[tag] = ("rejected", reason)
        if rhash in self.open_q:
            self.counts.duplicates += 1
            return
        self.counts.rejected += 1
        self.counts.reasons[_reason_kind(reason)] += 1
        self.open_q.add(rhash)
        if quarantine:
            readable = raw_text(unpack_raw(rtext, self.header))
            stored = self.lk.keyring.encrypt(readable) if self.spec.personal else readable
            self.q_pending.append((line, stored, rhash, reason))

    def _unknown_subject(self, id_kind: str, code: str | None, name: str | None, key: str) -> int:
        spec = self.spec
        if spec.unknown_subject == "quarantine":
            raise unregistered(id_kind, key)
        name = name or ""
        if not name:
            raise RowError("subject not registered and the row has no name to create a provisional subject")
        kind = spec.subject_kind or ("individual" if id_kind == "resident_id" else "enterprise")
        assert code is not None  # the preparer passes identifiers for provisional specs
        sid = subject_service.insert_subject(
            self.s, self.lk.keyring, kind=kind, name=name,
            uscc=code if id_kind == "uscc" else None,
            resident_id=code if id_kind == "resident_id" else None,
            status="provisional", source=spec.name, batch_id=self.batch.id, now=self.now)
        if id_kind == "uscc":
            self.lk.by_uscc[key] = sid
        else:
            self.lk.by_index[key] = sid
        return sid

    def _registration(self, prep: SubjectPrep, tag: Any) -> None:
        """A registration row against the stored subjects and the rows before it in this file."""
        lk = self.lk
        id_kind, code, key, content, values = prep
        existing = (lk.by_uscc if id_kind == "uscc" else lk.by_index).get(key)
        if existing is None:
            prev = self.new_subjects.get((id_kind, code))
            if prev is not None:
                # The same subject twice in one file: identical is a duplicate, different
                # is a conflict a person must look at.
                if prev[_S_HASH] == content:
                    self.counts.duplicates += 1
                    self.outcomes[tag] = ("duplicate", None)
                    return
                raise RowError("conflicts with an earlier row of this file for the same subject")
            self.new_subjects[(id_kind, code)] = [*values, self.batch.id, self.now_s, self.now_s]
            self.counts.accepted += 1
            self.outcomes[tag] = ("accepted", None)
            return
        if self.subject_hashes is None:
            self.subject_hashes = {i: (h, st) for i, h, st in self.s.execute(
                select(Subject.id, Subject.row_hash, Subject.status))}
        if self.subject_hashes.get(existing) == (content, "confirmed"):
            self.counts.duplicates += 1
            self.outcomes[tag] = ("duplicate", None)
            return
        row = self.s.get(Subject, existing)
        assert row is not None
        for k, v in RowPreparer.subject_update(values).items():
            setattr(row, k, v)
        row.status, row.row_hash, row.updated_at, row.batch_id = "confirmed", content, self.now, self.batch.id
        self.subject_hashes[existing] = (content, "confirmed")
        self.counts.corrected += 1
        self.outcomes[tag] = ("corrected", None)

    def _flush_subjects(self) -> None:
        """Insert the batch's new subjects at once, then learn their ids."""
        if not self.new_subjects:
            return
        rows = list(self.new_subjects.values())
        bulk_insert(self.s, Subject.__table__, SUBJECT_COLUMNS, rows, stored_form=True)
        usccs = [r[2] for r in rows if r[2]]
        indexes = [r[4] for r in rows if r[4]]
        for i in range(0, len(usccs), 900):
            self.lk.by_uscc.update(self.s.execute(
                select(Subject.uscc, Subject.id).where(Subject.uscc.in_(usccs[i:i + 900]))).all())
        for i in range(0, len(indexes), 900):
            self.lk.by_index.update(self.s.execute(
                select(Subject.resident_id_index, Subject.id)
                .where(Subject.resident_id_index.in_(indexes[i:i + 900]))).all())
        self.new_subjects = {}

    def _link(self, prep: LinkPrep, tag: Any) -> None:
        lk = self.lk
        role, firm_code, person_index, person_error = prep
        firm_id = lk.by_uscc.get(firm_code)
        if firm_id is None:
            raise RowError(f"firm not registered: credit code {firm_code}")
        if person_error is not None:
            raise RowError(person_error)
        person_id = lk.by_index.get(person_index)  # type: ignore[arg-type]
        if person_id is None:
            raise RowError("person not registered (ID number not on the household roll)")
        if self.links_seen is None:
            self.links_seen = set(self.s.execute(
                select(SubjectLink.firm_id, SubjectLink.person_id, SubjectLink.role)).all())
        key = (firm_id, person_id, role)
        if key in self.links_seen:
            self.counts.duplicates += 1
            self.outcomes[tag] = ("duplicate", None)
            return
        self.links_seen.add(key)
        self.links_pending.append(key)
        self.counts.accepted += 1
        self.outcomes[tag] = ("accepted", None)

    # -- writing ----------------------------------------------------------------------
    def flush(self) -> None:
        self._run_buffer()
        if self.q_pending:
            rows, self.q_pending = self.q_pending, []
            bulk_insert(self.s, QuarantinedRow.__table__, QUARANTINE_COLUMNS, rows, stored_form=True, constants={
                "batch_id": self.batch_id, "source": self.source, "file_name": self.batch.file_name,
                "status": "open", "created_at": self.now_s, "attempts": 1})
        if self.links_pending:
            rows, self.links_pending = self.links_pending, []
            bulk_insert(self.s, SubjectLink.__table__, ("firm_id", "person_id", "role"), rows,
                        stored_form=True, constants={"batch_id": self.batch_id})
        if not self.pending:
            return
        pending, tags = self.pending, self.pending_tags
        self.pending, self.pending_tags = [], []
        current: dict[str, tuple[int, str, int]] = {}
        if self.source_has_records is None:
            # Committed batches of this source with records in them (a small table).
            self.source_has_records = self.s.execute(
                select(Batch.id).where(Batch.source == self.source, Batch.id != self.batch_id,
                                       (Batch.accepted + Batch.corrected) > 0).limit(1)).first() is not None
        # A source's first ingestion cannot collide with stored records: skip the look-ups.
        if self.source_has_records:
            keys = [r[_NK] for r in pending]
            for i in range(0, len(keys), 900):
                q = select(CreditRecord.natural_key, CreditRecord.id, CreditRecord.content_hash,
                           CreditRecord.version).where(
                    CreditRecord.natural_key.in_(keys[i:i + 900]), CreditRecord.is_current.is_(True))
                for nk, rid, ch, ver in self.s.execute(q):
                    current[nk] = (rid, ch, ver)
        c, outcomes = self.counts, self.outcomes
        if not current:
            new_rows = pending
            c.accepted += len(pending)
            for t in tags:
                if t is not None:
                    outcomes[t] = ("accepted", None)
            corrections: list[tuple[Any, ...]] = []
        else:
            new_rows, corrections = [], []
            for rec, tag in zip(pending, tags, strict=True):
                cur = current.get(rec[_NK])
                if cur is None:
                    new_rows.append(rec)
                    c.accepted += 1
                    outcomes[tag] = ("accepted", None)
                elif cur[1] == rec[_CONTENT]:
                    c.duplicates += 1
                    outcomes[tag] = ("duplicate", None)
                else:
                    # A correction: the old version stays, no longer current.
                    self.s.execute(update(CreditRecord).where(CreditRecord.id == cur[0]).values(is_current=False))
                    corrections.append((*rec, cur[2] + 1, cur[0]))
                    c.corrected += 1
                    outcomes[tag] = ("corrected", None)
        if new_rows:
            bulk_insert(self.s, CreditRecord.__table__, VAR_COLUMNS, new_rows, stored_form=True,
                        constants=self.constants)
        if corrections:
            fixed = {k: v for k, v in self.constants.items() if k not in ("version", "supersedes_id")}
            bulk_insert(self.s, CreditRecord.__table__, (*VAR_COLUMNS, "version", "supersedes_id"), corrections,
                        stored_form=True, constants=fixed)

    def finish(self) -> None:
        self.flush()
        self._flush_subjects()
        self.s.flush()
        b = self.batch
        c = self.counts
        b.read, b.accepted, b.corrected, b.rejected = c.read, c.accepted, c.corrected, c.rejected
        b.duplicates, b.filtered, b.finished_at = c.duplicates, c.filtered, clock.now()
        b.header = json.dumps(self.header or [], ensure_ascii=False)
        audit.append(self.s, action=f"ingest.{b.kind}", actor=b.actor,
                     detail={"batch": b.id, "source": b.source, "file": b.file_name,
                             "file_hash": b.file_hash, **c.as_dict()})


# --------------------------------------------------------------------------- runs

@dataclass
class Plan:
    spec: SourceSpec
    text: str
    files: list[Path]


@dataclass
class RunSummary:
    counts: Counts = field(default_factory=Counts)
    batches: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    setup: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts.as_dict(), "batches": self.batches, "seconds": round(self.seconds, 3),
                "reasons": dict(self.counts.reasons.most_common()), "setup": self.setup}


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def plan(paths: Iterable[Path]) -> tuple[list[Plan], list[tuple[str, Path]]]:
    """Work out which specs and files to ingest, and the setup files of a folder.

    A path may be an ingestion folder (with `manifest.yaml`, or a `specs/` folder) or
    one spec file. Fails with a one-line error for a missing path or a bad spec.
    """
    plans: list[Plan] = []
    setup: list[tuple[str, Path]] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise InvalidInput(f"{p}: no such file or folder")
        if p.is_dir():
            manifest_path = p / "manifest.yaml"
            if manifest_path.exists():
                m = load_yaml_model(Manifest, manifest_path)
                if m.regions:
                    setup.append(("regions", p / m.regions))
                if m.data_requests:
                    setup.append(("data_requests", p / m.data_requests))
                patterns, data_dir = m.specs, p / m.data_dir
            else:
                patterns, data_dir = ["specs/*.yaml"], p / "data"
            spec_files = sorted({Path(f) for pat in patterns for f in glob.glob(str(p / pat))})
            if not spec_files:
                raise InvalidInput(f"{p}: no source specs found (looked for {', '.join(patterns)})")
            for sf in spec_files:
                spec, text = load_spec(sf)
                plans.append(Plan(spec, text, _files_for(spec, data_dir, sf)))
        elif p.suffix in (".yaml", ".yml"):
            spec, text = load_spec(p)
            data_dir = p.parent.parent / "data" if p.parent.name == "specs" else p.parent
            plans.append(Plan(spec, text, _files_for(spec, data_dir, p)))
        else:
            raise InvalidInput(f"{p}: give an ingestion folder or a spec file (.yaml), not a data file")
    plans.sort(key=lambda pl: (KIND_ORDER[pl.spec.kind], pl.spec.order, pl.spec.name))
    return plans, setup


def _files_for(spec: SourceSpec, data_dir: Path, spec_file: Path) -> list[Path]:
    files = sorted(Path(f) for f in glob.glob(str(data_dir / spec.file)))
    if not files:
        raise InvalidInput(f"{spec_file}: no file matches {spec.file!r} in {data_dir}")
    return files


def ingest_paths(url: str, keyring: KeyRing, paths: Iterable[Path], *, actor: str | None = None,
                 progress: Progress | None = None) -> RunSummary:
    t0 = time.perf_counter()
    plans, setup = plan(paths)
    summary = RunSummary()
    actor = actor or audit.default_actor()
    for what, path in setup:
        with session_scope(url) as s:
            if what == "regions":
                summary.setup["regions"] = subject_service.load_regions(s, path=path, actor=actor)
            else:
                summary.setup["data_requests"] = catalog_service.load_requests(s, path=path, actor=actor)
    with session_scope(url) as s:
        lk = Lookups.load(s, keyring)
    # Files are prepared (read, checked, hashed, encrypted) ahead of the writer, in a
    # second process when they are big enough: see stream.py.
    jobs = [Job(pl.spec, f) for pl in plans for f in pl.files]
    stream = PreparedStream(jobs, Context(
        keyring, lk.today.isoformat(), {c: i.max_publication_months for c, i in lk.items.items()},
        dict(lk.requests), lk.regions, lk.by_uscc, lk.by_index), chunk=CHUNK) if jobs else None
    checkpoints = None
    try:
        # On SQLite, WAL checkpoints run on a thread of their own during the run instead
        # of inside each batch's commit (unless this process already runs one).
        if url not in BackgroundCheckpoints._active:
            checkpoints = BackgroundCheckpoints(url).start()
        assert stream is not None
        for job, j in enumerate(jobs):
            pl = next(p for p in plans if p.spec is j.spec)
            n_uscc, n_index = len(lk.by_uscc), len(lk.by_index)
            result = _ingest_file(url, lk, pl, j.path, actor, progress, stream.file(job))
            if changes_subjects(j.spec):  # committed: the helper may resolve later files against them
                stream.committed(job, dict(islice(lk.by_uscc.items(), n_uscc, None)),
                                 dict(islice(lk.by_index.items(), n_index, None)))
            summary.counts.add(result[0])
            summary.batches.append(result[1])
    finally:
        if stream is not None:
            stream.close()
        if checkpoints is not None:
            checkpoints.stop()
    summary.seconds = time.perf_counter() - t0
    return summary


def _ingest_file(url: str, lk: Lookups, pl: Plan, path: Path, actor: str, progress: Progress | None,
                 prepared: Iterator[tuple[list[str] | None, Item]],
                 ) -> tuple[Counts, dict[str, Any]]:
    # Lookups are updated as rows arrive; if the batch rolls back they must too. A batch
    # only adds entries, and dicts keep their order, so the lengths are the snapshot.
    snap = (len(lk.by_uscc), len(lk.by_index))
    try:
        with session_scope(url) as s:
            sv = register_spec(s, pl.spec, pl.text)
            batch = Batch(source=pl.spec.name, spec_version_id=sv.id, file_name=path.name,
                          file_hash=_file_hash(path), kind="file", started_at=clock.now(), actor=actor)
            s.add(batch)
            s.flush()
            w = BatchWriter(s, lk, pl.spec, batch)
            for header, chunk in prepared:
                if isinstance(chunk, PreparedRecords):
                    w.take_prepared(header, chunk)
                    n = chunk.n
                elif isinstance(chunk, Chunk):  # handed over as read: prepared here
                    w.process_chunk(chunk)
                    n = len(chunk.rows)
                elif isinstance(chunk, RowsChunk):
                    w.take_rows(header, chunk)
                    n = len(chunk.rows)
                else:
                    w.take_rows(header, RowsChunk([(line, *w.rows.prepare(raw)) for line, raw in chunk.rows]))
                    n = len(chunk.rows)
                if progress:
                    progress(path.name, n)
            w.finish()
            info = {"batch": batch.id, "source": pl.spec.name, "file": path.name, **w.counts.as_dict()}
            return w.counts, info
    except BaseException:
        lk.by_uscc = dict(islice(lk.by_uscc.items(), snap[0]))
        lk.by_index = dict(islice(lk.by_index.items(), snap[1]))
        raise


def count_rows_hint(plans: list[Plan]) -> int:
    """A cheap estimate of rows to read (file sizes), for the progress bar."""
    return sum(f.stat().st_size for pl in plans for f in pl.files)


# --------------------------------------------------------------------------- quarantine

def quarantine(session: Session, *, source: str | None = None, status: str = "open",
               limit: int = 100) -> list[QuarantinedRow]:
    q = select(QuarantinedRow)
    if status != "all":
        q = q.where(QuarantinedRow.status == status)
    if source:
        q = q.where(QuarantinedRow.source == source)
    return list(session.execute(q.order_by(QuarantinedRow.id).limit(limit)).scalars())


def quarantine_raw(keyring: KeyRing, row: QuarantinedRow) -> RawRow:
    text = row.raw if row.raw.startswith("{") else keyring.decrypt(row.raw)
    return json.loads(text)


def retry(url: str, keyring: KeyRing, *, source: str | None = None, spec_path: Path | None = None,
          ids: list[int] | None = None, actor: str | None = None) -> RunSummary:
    """Re-run open quarantined rows through the latest spec of their source."""
    t0 = time.perf_counter()
    actor = actor or audit.default_actor()
    summary = RunSummary()
    if spec_path is not None:
        spec, text = load_spec(spec_path)
        with session_scope(url) as s:
            register_spec(s, spec, text)
        source = source or spec.name
    with session_scope(url) as s:
        q = select(QuarantinedRow.source).where(QuarantinedRow.status == "open").distinct()
        if source:
            q = q.where(QuarantinedRow.source == source)
        if ids:
            q = q.where(QuarantinedRow.id.in_(ids))
        sources = sorted(s.execute(q).scalars())
        lk = Lookups.load(s, keyring)
    for src in sources:
        with session_scope(url) as s:
            spec, sv = latest_spec(s, src)
            q = select(QuarantinedRow).where(QuarantinedRow.source == src, QuarantinedRow.status == "open")
            if ids:
                q = q.where(QuarantinedRow.id.in_(ids))
            rows = list(s.execute(q.order_by(QuarantinedRow.id)).scalars())
            batch = Batch(source=src, spec_version_id=sv.id, file_name=f"quarantine:{src}", file_hash=None,
                          kind="retry", started_at=clock.now(), actor=actor)
            s.add(batch)
            s.flush()
            # Rows being retried must not count as "already quarantined" duplicates.
            w = BatchWriter(s, lk, spec, batch, open_quarantine=set())
            for qr in rows:
                w.process(qr.line_no, quarantine_raw(keyring, qr), tag=qr.id, quarantine=False)
            w.flush()
            now = clock.now()
            for qr in rows:
                outcome, reason = w.outcomes.get(qr.id, ("rejected", qr.reason))
                if outcome == "rejected":
                    qr.reason, qr.attempts = reason or qr.reason, qr.attempts + 1
                else:
                    qr.status, qr.resolved_at, qr.resolved_batch_id = "resolved", now, batch.id
            w.finish()
            summary.counts.add(w.counts)
            summary.batches.append({"batch": batch.id, "source": src, "file": batch.file_name,
                                    **w.counts.as_dict()})
    summary.seconds = time.perf_counter() - t0
    return summary


# --------------------------------------------------------------------------- trace

@dataclass
class Trace:
    record: CreditRecord
    batch: Batch
    spec_version: SpecVersion
    raw: RawRow
    steps: list[TraceStep]
    result: dict[str, str] | None
    replay_matches: bool


def trace(session: Session, keyring: KeyRing, record_id: int, *, actor: str | None = None) -> Trace:
    rec = session.get(CreditRecord, record_id)
    if rec is None:
        raise NotFound(f"credit record {record_id} not found")
    if rec.batch_id is None or rec.raw is None:
        raise NotFound(f"credit record {record_id} was not ingested from a file (no lineage to replay)")
    batch = session.get(Batch, rec.batch_id)
    assert batch is not None
    sv = session.get(SpecVersion, batch.spec_version_id)
    assert sv is not None
    spec = spec_of_version(sv)
    stored = keyring.decrypt(rec.raw) if spec.personal else rec.raw
    raw = unpack_raw(stored, json.loads(batch.header or "[]"))
    steps, result = CompiledSpec(spec).trace(raw)
    matches = short_hash(stored) == rec.raw_hash
    if spec.personal:
        audit.append(session, action="ingest.trace", actor=actor, subject_id=rec.subject_id,
                     purpose="lineage", detail={"record": rec.id})
    return Trace(rec, batch, sv, raw, steps, result, matches)


def batches(session: Session, limit: int = 50) -> list[Batch]:
    return list(session.execute(select(Batch).order_by(Batch.id.desc()).limit(limit)).scalars())


def count_open_quarantine(session: Session) -> int:
    return session.execute(select(func.count(QuarantinedRow.id)).where(QuarantinedRow.status == "open")).scalar_one()


def count_batches(session: Session) -> int:
    return session.execute(select(func.count(Batch.id))).scalar_one()


def spec_versions(session: Session) -> list[SpecVersion]:
    return list(session.execute(select(SpecVersion).order_by(SpecVersion.name, SpecVersion.id)).scalars())


__all__ = [
    "BatchWriter", "ConfigError", "Counts", "Lookups", "RunSummary", "Trace", "batches", "ingest_paths",
    "load_spec", "plan", "quarantine", "register_spec", "retry", "spec_versions", "trace",
]
