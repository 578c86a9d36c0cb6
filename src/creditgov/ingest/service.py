"""Ingestion: specs, runs, quarantine, retry and trace.

A batch is one file through one spec version, written in one transaction together
with its subjects, records, quarantined rows and audit entry: a run killed midway
leaves nothing behind, and the next run redoes the file. Records deduplicate by a
natural key (source + document number, or source + raw-row hash), so ingesting the
same file twice, or two overlapping files, adds nothing twice (the batch writer,
writer.py, does that; this module runs the batches).
"""

from __future__ import annotations

import glob
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.catalog import service as catalog_service
from creditgov.core import clock
from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.core.db import BackgroundCheckpoints, engine_for, session_scope
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.ingest import handled
from creditgov.ingest.models import Batch, QuarantinedRow, SpecVersion
from creditgov.ingest.pipeline import CompiledSpec, TraceStep
from creditgov.ingest.prepare_records import PreparedRecords
from creditgov.ingest.prepare_rows import RowsChunk
from creditgov.ingest.readers import Chunk, RawRow
from creditgov.ingest.schemas import Manifest, SourceSpec
from creditgov.ingest.stream import Context, Item, Job, PreparedStream, changes_subjects
from creditgov.ingest.values import short_hash, unpack_raw
from creditgov.ingest.writer import CHUNK, BatchWriter, Counts, Lookups
from creditgov.records.models import CreditRecord
from creditgov.security import rotation
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects import service as subject_service

KIND_ORDER = {"registration": 0, "links": 1, "records": 2, "handled": 3}
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
        # A version names one text, as a model's does (scoring.service.draft): records keep
        # the spec version they went through, so the same name and version with another
        # text would make `ingest trace` replay the wrong steps.
        same = session.execute(
            select(SpecVersion.spec_hash).where(SpecVersion.name == spec.name, SpecVersion.version == spec.version)
        ).first()
        if same is not None:
            raise InvalidInput(
                f"spec {spec.name} version {spec.version!r} is already registered with other content "
                f"(sha256 {same[0][:12]}…, this file {digest[:12]}…): a changed spec needs a new "
                f"`version:`; every version is kept")
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
    plans, setup = plan(paths)
    return ingest_plans(url, keyring, plans, setup, actor=actor, progress=progress)


def ingest_plans(url: str, keyring: KeyRing, plans: list[Plan], setup: Iterable[tuple[str, Path]] = (), *,
                 actor: str | None = None, progress: Progress | None = None,
                 parallel: bool | None = None) -> RunSummary:
    """Ingest the planned files, each in its own batch and transaction (`ingest_paths`
    for folders and spec files; `uploads.py` for one file a department sent through the
    pages or the API, with `parallel=False`: a server process forks no helper)."""
    t0 = time.perf_counter()
    rotation.refuse_while_rotating(url)  # the run keeps blind indexes of one key in memory
    plans = sorted(plans, key=lambda pl: (KIND_ORDER[pl.spec.kind], pl.spec.order, pl.spec.name))
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
    # second process when they are big enough: see stream.py. The store's idle pooled
    # connections are closed first, so a forked helper holds no copy of their sockets.
    if parallel is not False:
        engine_for(url).dispose()
    jobs = [Job(pl.spec, f) for pl in plans for f in pl.files if pl.spec.kind != "handled"]
    stream = PreparedStream(jobs, Context(
        keyring, lk.today.isoformat(), {c: i.max_publication_months for c, i in lk.items.items()},
        dict(lk.requests), lk.regions, lk.by_uscc, lk.by_index), chunk=CHUNK, parallel=parallel) if jobs else None
    checkpoints = None
    try:
        # On SQLite, WAL checkpoints run on a thread of their own during the run instead
        # of inside each batch's commit (unless this process already runs one).
        if url not in BackgroundCheckpoints._active:
            checkpoints = BackgroundCheckpoints(url).start()
        for job, j in enumerate(jobs):
            assert stream is not None
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
    for pl in plans:  # handled sources: rows go to another domain's handler (handled.py)
        if pl.spec.kind == "handled":
            for f in pl.files:
                result = _handle_file(url, keyring, pl, f, actor)
                summary.counts.add(result[0])
                summary.batches.append(result[1])
    summary.seconds = time.perf_counter() - t0
    return summary


def _handle_file(url: str, keyring: KeyRing, pl: Plan, path: Path, actor: str) -> tuple[Counts, dict[str, Any]]:
    with session_scope(url) as s:
        sv = register_spec(s, pl.spec, pl.text)
        batch = Batch(source=pl.spec.name, spec_version_id=sv.id, file_name=path.name,
                      file_hash=_file_hash(path), kind="file", started_at=clock.now(), actor=actor)
        s.add(batch)
        s.flush()
        hb = handled.HandledBatch(s, pl.spec, batch, keyring)
        hb.run_file(path)
        return hb.counts, hb.finish()


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
    rotation.refuse_while_rotating(url)
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
            open_rows = select(QuarantinedRow).where(QuarantinedRow.source == src, QuarantinedRow.status == "open")
            if ids:
                open_rows = open_rows.where(QuarantinedRow.id.in_(ids))
            rows = list(s.execute(open_rows.order_by(QuarantinedRow.id)).scalars())
            batch = Batch(source=src, spec_version_id=sv.id, file_name=f"quarantine:{src}", file_hash=None,
                          kind="retry", started_at=clock.now(), actor=actor)
            s.add(batch)
            s.flush()
            if spec.kind == "handled":
                hb = handled.retry(s, spec, batch, keyring, rows, lambda qr: quarantine_raw(keyring, qr))
                summary.counts.add(hb.counts)
                summary.batches.append(hb.finish())
                continue
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


def trace_row(session: Session, keyring: KeyRing, row_id: int, *, actor: str | None = None) -> handled.RowTrace:
    """A row of a handled source (e.g. a bank's repayment) back to its raw form and steps;
    a personal source's read is audited."""
    return handled.trace_row(session, keyring, row_id, spec_of_version, actor=actor)


def batches(session: Session, limit: int = 50) -> list[Batch]:
    return list(session.execute(select(Batch).order_by(Batch.id.desc()).limit(limit)).scalars())


def count_open_quarantine(session: Session) -> int:
    return session.execute(select(func.count(QuarantinedRow.id)).where(QuarantinedRow.status == "open")).scalar_one()


def count_batches(session: Session) -> int:
    return session.execute(select(func.count(Batch.id))).scalar_one()


def spec_versions(session: Session) -> list[SpecVersion]:
    return list(session.execute(select(SpecVersion).order_by(SpecVersion.name, SpecVersion.id)).scalars())


__all__ = [
    "ConfigError", "Plan", "RunSummary", "Trace", "batches", "ingest_paths", "ingest_plans",
    "load_spec", "plan", "quarantine", "register_spec", "retry", "spec_versions", "trace",
]
