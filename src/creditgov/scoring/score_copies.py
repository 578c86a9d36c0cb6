"""Each finished run's scores as one Parquet file beside the record segments.

A province's trend reads twelve runs of ten million scores each. Counting them in the
store's SQL is the same row-by-row decoding the record segments avoid (segments.py),
so a run also writes its rows — subject, score in hundredths, grade, colour — as
`scores-run-<id>.parquet` at the store's segment place (a local folder, or the shared
`CREDITGOV_SEGMENTS` folder or URL every Spark executor reads). Analysis reads them on
DuckDB or Spark (analysis/scan.py) for distributions and trends of a large store.

- The store stays the record: the copy is written while the run is stored, and a copy
  is read only while it holds what the store holds — as many scores, of the same
  subjects (their count and the sum of their ids, kept in the file's metadata, against
  the store's, which one indexed query gives). Scores change only when subjects are
  merged (the duplicate's scores move to the survivor) or a merge is undone; that copy
  is then not read until the refresh writes it again.
- A failed write never fails the run: it is logged, and `creditgov model segments
  --refresh` (or the worker's segment job) writes the copies the latest published runs
  lack, from the store.
- The refresh also removes what no analysis reads: copies of runs that are not among
  each model's latest twelve published runs, and temporary files a crash left, once
  they are an hour old (`prune`).
- Scores hold no identifiers and nothing secret: a subject id, a number, two labels.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core.duck import connect as duck_connect
from creditgov.core.errors import ConfigError
from creditgov.scoring import segments
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.scoring.published import NEWEST_FIRST, PUBLISHED

log = logging.getLogger(__name__)

SCHEMA = pa.schema([pa.field("run_id", pa.int64(), nullable=False),
                    pa.field("subject_id", pa.int64(), nullable=False),
                    pa.field("score_centi", pa.int64(), nullable=False),
                    pa.field("grade", pa.string(), nullable=False),
                    pa.field("colour", pa.string(), nullable=False)])
#: The file metadata key of the sum of the copy's subject ids.
ID_SUM = "creditgov.subject_id_sum"
#: How many of each model's latest published runs a refresh keeps copied (a trend's default).
BACKFILL_RUNS = 12


def _place(url: str) -> segments.Place:
    """The store's segment place; nowhere for a store that can keep none (in memory)."""
    try:
        return segments.place_for(url)
    except ConfigError as exc:
        return segments.Place.nowhere(str(exc))


def name(run_id: int) -> str:
    return f"scores-run-{run_id:010d}.parquet"


_NAME = re.compile(r"scores-run-(\d+)\.parquet")


def write(url: str, run_id: int, table: pa.Table) -> str | None:
    """Write a run's rows (`subject_id`, `score_centi`, `grade`, `colour`, as the engines
    return them) where the store's segments are: the file's URL, or None where the
    store keeps no segments."""
    import pyarrow.compute as pc

    total = pc.sum(table.column("subject_id").cast(pa.int64())).as_py() or 0
    return write_batches(url, run_id, table.to_batches(), total)


def write_batches(url: str, run_id: int, batches: Iterable[pa.RecordBatch], id_sum: int) -> str | None:
    """`write`, from the run's rows in batches whose subject ids add up to `id_sum`
    (known beforehand: it goes into the file's metadata): a run staged elsewhere is
    copied a batch at a time, never held whole (spark_scores.py)."""
    place = _place(url)
    if place.unset:
        return None
    schema = SCHEMA.with_metadata({ID_SUM: str(id_sum)})
    place.ensure()
    fd, tmp = tempfile.mkstemp(dir=str(place.local) if place.local is not None else None,
                               prefix=".scores-", suffix=".part")
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as out:
            for b in batches:
                if b.num_rows:
                    out.write_batch(pa.record_batch(
                        [pa.array([run_id] * b.num_rows, pa.int64()), b.column("subject_id").cast(pa.int64()),
                         b.column("score_centi").cast(pa.int64()), b.column("grade").cast(pa.string()),
                         b.column("colour").cast(pa.string())], schema=schema))
        place.put(tmp, name(run_id))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return place.file_url(name(run_id))


def write_quietly(url: str, run_id: int, table: pa.Table) -> str | None:
    """`write`, logging instead of raising: the run is stored whatever happens here."""
    try:
        return write(url, run_id, table)
    except Exception:  # the store is the record; a missing copy is read from it
        log.warning("could not write the score copy of run %s; analysis reads the store", run_id, exc_info=True)
        discard(url, run_id)  # no older file of this id (a store restored over its place) stays
        return None


def discard(url: str, run_id: int) -> None:
    """Remove a run's copy, if any (a run that failed after writing it)."""
    place = _place(url)
    if not place.unset:
        place.delete(name(run_id))


def fingerprints(session: Session, run_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(scores, sum of their subject ids) of each run as the store holds them now; a
    run without scores is (0, 0). One query over the scores' primary key."""
    ids = list(run_ids)
    got = {int(r): (int(n), int(t or 0)) for r, n, t in session.execute(
        select(Score.run_id, func.count(), func.sum(Score.subject_id)).where(Score.run_id.in_(ids))
        .group_by(Score.run_id)).tuples()}
    return {r: got.get(r, (0, 0)) for r in ids}


class Copies:
    """Which runs' copies are whole, at one store's place."""

    def __init__(self, url: str) -> None:
        self.place = _place(url)

    def whole(self, run_id: int, scores: int, id_sum: int) -> bool:
        """The copy holds `scores` rows whose subject ids add up to `id_sum` (the store's
        `fingerprints`)."""
        if self.place.unset:
            return False
        try:
            meta = pq.read_metadata(self.place.file(name(run_id)), filesystem=self.place.fs)
        except (OSError, pa.ArrowException):
            return False
        kept = (meta.metadata or {}).get(ID_SUM.encode())
        return (set(SCHEMA.names) <= set(meta.schema.names) and meta.num_rows == scores
                and kept is not None and kept.decode() == str(id_sum))

    def urls(self, run_ids: Iterable[int]) -> list[str]:
        return [self.place.file_url(name(r)) for r in run_ids]

    def source(self, run_ids: Iterable[int]) -> tuple[str, Any]:
        """What DuckDB reads the runs' copies from: ('sql', read_parquet([...])) for a
        local folder, ('dataset', a pyarrow dataset) for a remote place (DuckDB reads
        neither HDFS nor s3a:// names; pyarrow does)."""
        files = [self.place.file(name(r)) for r in run_ids]
        if self.place.local is not None:
            return "sql", "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"
        import pyarrow.dataset as pads

        return "dataset", pads.dataset(files, filesystem=self.place.fs, format="parquet")


def _latest(session: Session, last: int) -> list[EvaluationRun]:
    """Each model's latest `last` published, finished runs."""
    runs = session.execute(select(EvaluationRun).where(PUBLISHED)
                           .order_by(EvaluationRun.model_name, *NEWEST_FIRST)).scalars()
    seen: dict[str, int] = {}
    latest = []
    for run in runs:
        seen[run.model_name] = seen.get(run.model_name, 0) + 1
        if seen[run.model_name] <= last:
            latest.append(run)
    return latest


def missing(session: Session, url: str, *, last: int = BACKFILL_RUNS) -> list[EvaluationRun]:
    """Each model's latest `last` published, finished runs whose copy is missing or no
    longer the store's."""
    copies = Copies(url)
    if copies.place.unset:
        return []
    latest = _latest(session, last)
    now = fingerprints(session, (r.id for r in latest))
    return [r for r in latest if not copies.whole(r.id, *now[r.id])]


def prune(session: Session, url: str, *, last: int = BACKFILL_RUNS, now: float | None = None) -> list[int]:
    """Remove the copies no analysis needs: those of runs that are not among each
    model's latest `last` published runs (drafts, comparisons, runs since superseded or
    deleted), and the `.scores-*.part` files a crash left. Only files older than
    segments.GRACE_SECONDS go, so a run still being stored (its copy written, the run
    not yet committed) or a reader still holding a file is not disturbed. The runs
    whose copies were removed."""
    place = _place(url)
    if place.unset:
        return []
    import pyarrow.fs as pafs

    cutoff = (time.time() if now is None else now) - segments.GRACE_SECONDS
    try:
        infos = place.fs.get_file_info(pafs.FileSelector(place.path, allow_not_found=True))
    except (OSError, pa.ArrowException):
        return []
    keep = {r.id for r in _latest(session, last)}
    gone = []
    for info in infos:
        old = info.mtime is not None and info.mtime.timestamp() < cutoff
        m = _NAME.fullmatch(info.base_name)
        if m and old and int(m.group(1)) not in keep:
            place.delete(info.base_name)
            gone.append(int(m.group(1)))
        elif info.base_name.startswith(".scores-") and info.base_name.endswith(".part") and old:
            place.delete(info.base_name)
    return sorted(gone)


def _from_store(session: Session, url: str, run_id: int) -> pa.Table:
    """A run's scores read the way evaluation reads a store (COPY on PostgreSQL, DuckDB's
    SQLite scanner on SQLite), not row by row: a province's run is ten million."""
    from creditgov.scoring import engines

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from creditgov.core.db import pg_connect
        from creditgov.scoring.segment_logs import copy_arrow

        schema = pa.schema([f for f in SCHEMA if f.name != "run_id"])
        with pg_connect(url) as conn:
            return copy_arrow(conn, "SELECT subject_id, round(score * 100)::bigint, grade, colour FROM "
                                    "evaluation_scores WHERE run_id = %s ORDER BY subject_id", schema, (run_id,))
    duck = duck_connect()
    try:
        # The score through its text form, as SQLite prints it (a double cast straight to
        # DECIMAL could round a hundredth away).
        engines.scan_sqlite_into(duck, url, {"scores": (
            "SELECT CAST(subject_id AS BIGINT) AS subject_id, "
            "CAST(CAST(CAST(score AS VARCHAR) AS DECIMAL(18, 2)) * 100 AS BIGINT) AS score_centi, grade, colour "
            f"FROM store.evaluation_scores WHERE run_id = {int(run_id)} ORDER BY subject_id")})
        return duck.execute("SELECT * FROM scores").to_arrow_table()
    finally:
        duck.close()


def backfill(session: Session, url: str, *, last: int = BACKFILL_RUNS) -> list[int]:
    """Write, from the store, the copies `missing` names: the runs written. A run whose
    copy cannot be written is logged and left to the next refresh."""
    done = []
    for run in missing(session, url, last=last):
        try:
            write(url, run.id, _from_store(session, url, run.id))
        except Exception:  # one run's failure leaves the others' copies to be written
            log.warning("could not write the score copy of run %s", run.id, exc_info=True)
            continue
        done.append(run.id)
    return done
