"""The batch writer: one file (or one quarantine retry) through one spec, into the store.

`BatchWriter` takes rows as the preparers left them (prepare_records.py, prepare_rows.py;
it runs them itself on rows handed over as read) and does the part that needs the
database: the look-up of stored subjects (and the provisional ones a spec may create),
the natural key and content hash of each record against this batch and the stored
records (new, duplicate or correction: a correction keeps the old version, no longer
current), rejected rows into the quarantine, and bulk inserts that bind only what
varies. On PostgreSQL the match against stored records is one query by the keys
(pg_copy.py). `Lookups` (lookups.py) is what every row needs, read once per run;
`Counts` what a batch did. The caller holds the transaction (service.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Table, bindparam, inspect, select, update
from sqlalchemy.orm import InstanceState, Session

from creditgov.core import clock
from creditgov.core.db import References, bulk_insert, may_skip_row_triggers, row_triggers_off
from creditgov.ingest import pg_copy
from creditgov.ingest.lookups import Counts, Lookups, _reason_kind, keyed
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.ingest.prepare_records import (
    PreparedRecords,
    RecordPreparer,
    fact_key,
    raw_key,
    refuse_values,
    resolve_records,
)
from creditgov.ingest.prepare_rows import LinkPrep, RowPreparer, RowsChunk, SubjectPrep
from creditgov.ingest.readers import Chunk, RawRow
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.ingest.values import raw_text, unpack_raw, unregistered
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject, SubjectLink

CHUNK = 5000
SUBJECT_COLUMNS = (
    "kind", "name", "uscc", "resident_id", "resident_id_index", "resident_id_masked", "region_id", "industry",
    "established_on", "address", "attributes", "status", "source", "row_hash", "batch_id", "created_at",
    "updated_at",
)
# What varies from record to record; a record's other columns are fixed per batch
# (`BatchWriter.constants`, and version and supersedes_id for corrections).
VAR_COLUMNS = (
    "subject_id", "item_code", "occurred_on", "decided_on", "value", "grade", "text", "document_no",
    "published_from", "published_until", "natural_key", "content_hash", "line_no", "raw_hash", "raw",
)
QUARANTINE_COLUMNS = ("line_no", "raw", "raw_hash", "reason")
_S_HASH = SUBJECT_COLUMNS.index("row_hash")
_NK, _CONTENT = VAR_COLUMNS.index("natural_key"), VAR_COLUMNS.index("content_hash")
_RAW_HASH = VAR_COLUMNS.index("raw_hash")


# --------------------------------------------------------------------------- the batch

class BatchWriter:
    """Writes one batch. `process` classifies a row; `flush` writes pending records.

    Each processed row may carry a tag; `outcomes` maps tags to their final outcome
    (accepted, corrected, duplicate, rejected, filtered) for quarantine retries.

    A row still open in the quarantine from an earlier batch of the source, sent again,
    is checked again like any row: accepted if it now passes, else rejected again with
    its reason and quarantined in this batch; either way its earlier entry is closed at
    `finish` (`resent`, or `resolved` by this batch). The same rejected row twice within
    one batch is quarantined once, the repeat counted as a duplicate of that row.
    """

    def __init__(self, session: Session, lk: Lookups, spec: SourceSpec, batch: Batch,
                 open_quarantine: set[str] | None = None) -> None:
        self.s, self.lk, self.spec, self.batch = session, lk, spec, batch
        self.counts = Counts()
        self.pending: list[tuple[Any, ...]] = []   # VAR_COLUMNS tuples
        self.pending_tags: list[Any] = []
        self.q_pending: list[tuple[Any, ...]] = []  # QUARANTINE_COLUMNS tuples
        self.links_pending: list[tuple[int, int, str, str | None, str | None]] = []  # dates in ISO form
        self.links_redated: list[dict[str, Any]] = []  # stored links whose dates a row changed
        self.buffer: list[tuple[int, RawRow, Any]] = []
        self.buffer_quarantine = True
        self._prep: RecordPreparer | None = None
        self._rows: RowPreparer | None = None
        self.seen: dict[str, str] = {}  # natural key -> content hash, within this batch
        # (firm, person, role) -> (since, until) of the links stored or pending
        self.links_seen: dict[tuple[int, int, str], tuple[dt.date | None, dt.date | None]] | None = None
        # Raw-row hashes of the source's open quarantine entries from earlier batches
        # (none for a retry or a manual entry, whose rows are those entries themselves),
        # and of those rows this batch met again: hash -> rejected again.
        self.open_q = open_quarantine if open_quarantine is not None else self._open_quarantine()
        self.again: dict[str, bool] = {}
        self.rejected_here: set[str] = set()  # raw-row hashes this batch quarantined
        self.outcomes: dict[Any, tuple[str, str | None]] = {}
        self.now = clock.now()
        self.now_s = self.now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.new_subjects: dict[tuple[str, str], list[Any]] = {}
        self.subject_hashes: dict[int, tuple[str | None, str]] | None = None
        self.subject_updates: dict[int, dict[str, Any]] = {}  # stored subjects a row corrected, by id
        self.header: list[str] | None = None
        # Per-batch constants, read once instead of per row.
        self.source, self.department, self.spec_version = spec.name, spec.department, spec.version
        self.batch_id = batch.id
        self.today_s = lk.today.isoformat()
        self.source_has_records: bool | None = None
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.constants = {"department_code": self.department, "status": "active", "version": 1, "is_current": 1,
                          "supersedes_id": None, "source": self.source, "batch_id": self.batch_id,
                          "spec_version": self.spec_version, "created_at": self.now_s}
        # PostgreSQL, a source's first file: its records go through one COPY kept open (pg_copy.py).
        self.stream: pg_copy.RecordStream | None = None
        # Where the role may, the records' inserts (stream or not) skip PostgreSQL's
        # per-row foreign-key checks; the keys they name are checked once at `finish`.
        self.references = (References(cast(Table, CreditRecord.__table__), VAR_COLUMNS, self.constants)
                           if self.postgres and may_skip_row_triggers(session, cast(Table, CreditRecord.__table__))
                           else None)

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
        if rhash in self.open_q:
            self.again.setdefault(rhash, False)
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
        outcomes = self.outcomes
        if self.open_q:
            again, open_q = self.again, self.open_q
            for h in p.rhashes:
                if h in open_q:
                    again.setdefault(h, False)
        if p.filtered:
            c.filtered += len(p.filtered)
            if tags is not None:
                for i in p.filtered:
                    outcomes[tags[i]] = ("filtered", None)
        lines, rtexts, rhashes = p.lines, p.rtexts, p.rhashes
        for i in sorted(p.rejected):
            self._reject(lines[i], rtexts[i], rhashes[i], p.rejected[i], tags[i] if tags else None, quarantine)
        lk = self.lk
        for j, reason in refuse_values(p, lk.never_negative, self.spec.columns.get("value")):
            self._reject(lines[j], rtexts[j], rhashes[j], reason, tags[j] if tags else None, quarantine)
        rows, row_index, dups, rejects = resolve_records(p, lk.by_uscc, lk.by_index, self.seen, self._unknown_subject)
        for j, reason in rejects:
            self._reject(lines[j], rtexts[j], rhashes[j], reason, tags[j] if tags else None, quarantine)
        c.duplicates += len(dups)
        if tags is not None:
            for j in dups:
                outcomes[tags[j]] = ("duplicate", None)
        self.pending.extend(rows)
        self.pending_tags.extend([tags[j] for j in row_index] if tags else [None] * len(rows))
        if len(self.pending) >= CHUNK:
            self.flush()

    def _reject(self, line: int, rtext: str, rhash: str, reason: str, tag: Any, quarantine: bool) -> None:
        self.outcomes[tag] = ("rejected", reason)
        if rhash in self.rejected_here:  # the same row again in this batch: quarantined once
            self.counts.duplicates += 1
            return
        if rhash in self.open_q:  # open from an earlier batch: rejected again, quarantined here
            self.again[rhash] = True
        self.counts.rejected += 1
        self.counts.reasons[_reason_kind(reason)] += 1
        self.rejected_here.add(rhash)
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
        if key in lk.merged_keys:
            # A subject merged into another: its department's registration changes nothing
            # (the survivor's data is corrected through subjects.changes).
            self.counts.duplicates += 1
            self.outcomes[tag] = ("duplicate", f"merged into subject {existing}")
            return
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
        # Written with the chunk's other writes, one statement for all (`_flush_subject_updates`):
        # a monthly registry delivery re-sends every firm, and one round trip each was
        # most of such a file's time.
        self.subject_updates[existing] = {**RowPreparer.subject_update(values), "status": "confirmed",
                                          "row_hash": content, "updated_at": self.now, "batch_id": self.batch.id}
        if len(self.subject_updates) >= CHUNK:  # registration files are taken whole: bound the memory
            self._flush_subject_updates()
        self.subject_hashes[existing] = (content, "confirmed")
        self.counts.corrected += 1
        self.outcomes[tag] = ("corrected", None)

    def _flush_subject_updates(self) -> None:
        """The stored subjects this file's rows corrected, updated by one executemany."""
        if not self.subject_updates:
            return
        self._end_stream()
        updates, self.subject_updates = self.subject_updates, {}
        self.s.flush()  # a Core statement does not autoflush: pending ORM changes go first
        st = cast(Table, Subject.__table__)
        columns = next(iter(updates.values())).keys()
        self.s.execute(update(st).where(st.c.id == bindparam("_id"))
                       .values({c: bindparam(f"v_{c}") for c in columns}),
                       [{"_id": sid, **{f"v_{c}": v for c, v in fields.items()}} for sid, fields in updates.items()])
        self._expire_loaded(Subject, updates)

    def _flush_subjects(self) -> None:
        """Insert the batch's new subjects at once, then learn their ids."""
        if not self.new_subjects:
            return
        rows = list(self.new_subjects.values())
        bulk_insert(self.s, cast(Table, Subject.__table__), SUBJECT_COLUMNS, rows, stored_form=True)
        usccs = [r[2] for r in rows if r[2]]
        indexes = [r[4] for r in rows if r[4]]
        for i in range(0, len(usccs), 900):
            self.lk.by_uscc.update(keyed(self.s.execute(
                select(Subject.uscc, Subject.id).where(Subject.uscc.in_(usccs[i:i + 900]))).all()))
        for i in range(0, len(indexes), 900):
            self.lk.by_index.update(keyed(self.s.execute(
                select(Subject.resident_id_index, Subject.id)
                .where(Subject.resident_id_index.in_(indexes[i:i + 900]))).all()))
        self.new_subjects = {}

    def _link(self, prep: LinkPrep, tag: Any) -> None:
        lk = self.lk
        role, firm_code, person_index, person_error, since_s, until_s = prep
        firm_id = lk.by_uscc.get(firm_code)
        if firm_id is None:
            raise RowError(f"firm not registered: credit code {firm_code}")
        if person_error is not None:
            raise RowError(person_error)
        assert person_index is not None  # RowPreparer.link gives an index whenever it gives no error
        person_id = lk.by_index.get(person_index)
        if person_id is None:
            raise RowError("person not registered (ID number not on the household roll)")
        if self.links_seen is None:
            self.links_seen = {(f, p, r): (a, b) for f, p, r, a, b in self.s.execute(
                select(SubjectLink.firm_id, SubjectLink.person_id, SubjectLink.role, SubjectLink.since,
                       SubjectLink.until)).tuples()}
        key = (firm_id, person_id, role)
        dates = (dt.date.fromisoformat(since_s) if since_s else None,
                 dt.date.fromisoformat(until_s) if until_s else None)
        if key in self.links_seen:
            # The same link again: a row that gives other dates (the role ended, or began
            # on another day) corrects them; one without dates leaves them as they are.
            if dates == (None, None) or dates == self.links_seen[key]:
                self.counts.duplicates += 1
                self.outcomes[tag] = ("duplicate", None)
                return
            self.links_seen[key] = dates
            self.links_redated.append({"f": firm_id, "p": person_id, "r": role, "since": dates[0],
                                       "until": dates[1]})
            self.counts.corrected += 1
            self.outcomes[tag] = ("corrected", None)
            return
        self.links_seen[key] = dates
        self.links_pending.append((*key, since_s, until_s))
        self.counts.accepted += 1
        self.outcomes[tag] = ("accepted", None)

    # -- writing ----------------------------------------------------------------------
    def _end_stream(self) -> None:
        if self.stream is not None:
            self.stream.end()

    def flush(self, final: bool = False) -> None:
        """Write what is pending (`final`: the batch's last flush). While records stream
        (PostgreSQL, a source's first file), rejected rows wait for the stream's end, or
        a chunk's worth of them, so a few rejections do not cut the stream."""
        self._run_buffer()
        if self.pending:
            self._flush_records()
        self._flush_subject_updates()
        if final:
            self._end_stream()
        if self.q_pending and (final or self.stream is None or len(self.q_pending) >= CHUNK):
            self._end_stream()
            rows, self.q_pending = self.q_pending, []
            bulk_insert(self.s, cast(Table, QuarantinedRow.__table__), QUARANTINE_COLUMNS, rows, stored_form=True, constants={
                "batch_id": self.batch_id, "source": self.source, "file_name": self.batch.file_name,
                "status": "open", "created_at": self.now_s, "attempts": 1})
        if self.links_pending:
            self._end_stream()
            rows, self.links_pending = self.links_pending, []
            bulk_insert(self.s, cast(Table, SubjectLink.__table__), ("firm_id", "person_id", "role", "since", "until"),
                        rows, stored_form=True, constants={"batch_id": self.batch_id})
        if self.links_redated:
            self._end_stream()
            redated, self.links_redated = self.links_redated, []
            sl = cast(Table, SubjectLink.__table__)
            self.s.execute(update(sl).where(sl.c.firm_id == bindparam("f"), sl.c.person_id == bindparam("p"),
                                            sl.c.role == bindparam("r"))
                           .values(since=bindparam("since"), until=bindparam("until"),
                                   batch_id=self.batch_id), redated)

    def _flush_records(self) -> None:
        pending, tags = self.pending, self.pending_tags
        self.pending, self.pending_tags = [], []
        if self.source_has_records is None:
            # Committed batches of this source with records in them (a small table).
            self.source_has_records = self.s.execute(
                select(Batch.id).where(Batch.source == self.source, Batch.id != self.batch_id,
                                       (Batch.accepted + Batch.corrected) > 0).limit(1)).first() is not None
        c, outcomes = self.counts, self.outcomes
        # A source's first ingestion cannot collide with stored records: no look-ups, and
        # on PostgreSQL the records stream.
        if not self.source_has_records and self.postgres:
            if self.stream is None:
                self.stream = pg_copy.RecordStream(self.s, VAR_COLUMNS, self.constants, references=self.references)
            self.stream.write(pending)
            c.accepted += len(pending)
            for t in tags:
                if t is not None:
                    outcomes[t] = ("accepted", None)
            return
        self._end_stream()
        current: dict[str, tuple[int, str, int]] = {}
        if self.source_has_records:
            current = self._current([r[_NK] for r in pending])
            self._stored_by_raw_key(pending, current)
        if not current:
            new_rows = pending
            c.accepted += len(pending)
            for t in tags:
                if t is not None:
                    outcomes[t] = ("accepted", None)
            corrections: list[tuple[Any, ...]] = []
        else:
            new_rows, corrections = [], []
            retired: list[int] = []
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
                    retired.append(cur[0])
                    corrections.append((*rec, cur[2] + 1, cur[0]))
                    c.corrected += 1
                    outcomes[tag] = ("corrected", None)
            if retired:
                self._retire(retired)
        if not new_rows and not corrections:
            return
        refs = self.references
        if refs is not None:  # keys checked at `finish`; corrections share VAR_COLUMNS' positions
            refs.note(new_rows)
            refs.note(corrections)
        with row_triggers_off(self.s, refs is not None):  # the transaction's other statements keep theirs
            if new_rows:
                bulk_insert(self.s, cast(Table, CreditRecord.__table__), VAR_COLUMNS, new_rows, stored_form=True,
                            constants=self.constants)
            if corrections:
                fixed = {k: v for k, v in self.constants.items() if k not in ("version", "supersedes_id")}
                bulk_insert(self.s, cast(Table, CreditRecord.__table__), (*VAR_COLUMNS, "version", "supersedes_id"),
                            corrections, stored_form=True, constants=fixed)

    def _current(self, keys: list[str]) -> dict[str, tuple[int, str, int]]:
        """natural key -> (id, content hash, version) of the current stored records with these keys."""
        if self.postgres:
            return pg_copy.current_records(self.s, keys)
        current: dict[str, tuple[int, str, int]] = {}
        for i in range(0, len(keys), 900):
            q = select(CreditRecord.natural_key, CreditRecord.id, CreditRecord.content_hash,
                       CreditRecord.version).where(
                CreditRecord.natural_key.in_(keys[i:i + 900]), CreditRecord.is_current.is_(True))
            for nk, rid, ch, ver in self.s.execute(q):
                current[nk] = (rid, ch, ver)
        return current

    def _stored_by_raw_key(self, pending: list[tuple[Any, ...]], current: dict[str, tuple[int, str, int]]) -> None:
        """Rows keyed by their fact (`prepare_records.fact_key`) that no current record has:
        a record stored before facts keyed them carries its raw row's key (`raw_key`), and
        keeps it, so the same file sent again still finds it. Such a row takes that key
        (a duplicate, or a new version of that record), in `pending` and `current`."""
        src, every = self.source, not self.spec.natural_key  # without a natural key every row is keyed so
        old = {i: raw_key(src, r[_RAW_HASH]) for i, r in enumerate(pending)
               if r[_NK] not in current and (every or r[_NK] == fact_key(src, r[_CONTENT]))}
        if not old:
            return
        found = self._current(list(set(old.values())))
        for i, key in old.items():
            if key in found:
                rec = pending[i]
                pending[i] = (*rec[:_NK], key, *rec[_NK + 1:])
                current[key] = found[key]

    def _retire(self, ids: list[int]) -> None:
        """The record versions corrections replace, no longer current: one statement for
        all (an ORM UPDATE each cost ~150 µs of building on SQLite)."""
        if self.postgres:
            pg_copy.retire(self.s, ids)
        else:
            t = cast(Table, CreditRecord.__table__)
            self.s.execute(update(t).where(t.c.id == bindparam("rid")).values(is_current=False),
                           [{"rid": rid} for rid in ids])
        self._expire_loaded(CreditRecord, set(ids), ["is_current"])

    def _expire_loaded(self, cls: type, ids: Collection[int], attrs: list[str] | None = None) -> None:
        """As the ORM's UPDATE would after a Core one: rows of `cls` with these ids already
        loaded in the session read the new values when next used (found by identity,
        without loading an expired one to read its id)."""
        for obj in list(self.s.identity_map.values()):
            if isinstance(obj, cls):
                identity = cast(InstanceState[Any], inspect(obj)).identity
                if identity is not None and identity[0] in ids:
                    self.s.expire(obj, attrs)

    def _close_resent(self) -> None:
        """The earlier open quarantine entries of the rows this batch met again: `resent`
        where this batch quarantined the row anew (its entry, with today's reason, is the
        one to work on), `resolved` by this batch where the row now went in (accepted, a
        duplicate of a stored record, or filtered out)."""
        if not self.again:
            return
        qt = cast(Table, QuarantinedRow.__table__)
        for status, again in (("resent", True), ("resolved", False)):
            hashes = [h for h, rejected in self.again.items() if rejected is again]
            for i in range(0, len(hashes), 900):
                self.s.execute(update(qt).where(
                    qt.c.source == self.source, qt.c.status == "open", qt.c.batch_id != self.batch_id,
                    qt.c.raw_hash.in_(hashes[i:i + 900])).values(
                    status=status, resolved_at=self.now, resolved_batch_id=self.batch_id))

    def finish(self) -> None:
        self.flush(final=True)
        if self.references is not None:
            self.references.check(self.s)
        self._flush_subjects()
        self._close_resent()
        self.s.flush()
        b = self.batch
        c = self.counts
        b.read, b.accepted, b.corrected, b.rejected = c.read, c.accepted, c.corrected, c.rejected
        b.duplicates, b.filtered, b.finished_at = c.duplicates, c.filtered, clock.now()
        b.header = json.dumps(self.header or [], ensure_ascii=False)
        audit.append(self.s, action=f"ingest.{b.kind}", actor=b.actor,
                     detail={"batch": b.id, "source": b.source, "file": b.file_name,
                             "file_hash": b.file_hash, **c.as_dict()})
