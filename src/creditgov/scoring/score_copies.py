"""Each finished run's scores as one Parquet file beside the record segments.

A province's trend reads twelve runs of ten million scores each. Counting them in the
store's SQL is the same row-by-row decoding the record segments avoid (segments.py),
so a run also writes its rows — subject, score in hundredths, grade, colour — as
`scores-run-<id>.parquet` at the store's segment place (a local folder, or the shared
`CREDITGOV_SEGMENTS` folder or URL every Spark executor reads). Analysis reads them on
DuckDB or Spark (analysis/scan.py) for distributions and trends of a large store.

- The store stays the record: the copy is written while the run is stored, and a copy
  that is missing, unreadable or of another row count than its run is not read — the
  store answers instead. Scores never change after their run, so a whole copy is the
  run's scores for good.
- A failed write never fails the run: it is logged, and `creditgov model segments
  --refresh` (or the worker's segment job) writes the copies the latest published runs
  lack, from the store.
- Scores hold no identifiers and nothing secret: a subject id, a number, two labels.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core.errors import ConfigError
from creditgov.scoring import segments
from creditgov.scoring.models import EvaluationRun, Score

log = logging.getLogger(__name__)

SCHEMA = pa.schema([pa.field("run_id", pa.int64(), nullable=False),
                    pa.field("subject_id", pa.int64(), nullable=False),
                    pa.field("score_centi", pa.int64(), nullable=False),
                    pa.field("grade", pa.string(), nullable=False),
                    pa.field("colour", pa.string(), nullable=False)])
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


def write(url: str, run_id: int, table: pa.Table) -> str | None:
    """Write a run's rows (`subject_id`, `score_centi`, `grade`, `colour`, as the engines
    return them) where the store's segments are: the file's URL, or None where the
    store keeps no segments."""
    place = _place(url)
    if place.unset:
        return None
    n = table.num_rows
    out = pa.table([pa.array([run_id] * n, pa.int64()), table.column("subject_id").cast(pa.int64()),
                    table.column("score_centi").cast(pa.int64()), table.column("grade").cast(pa.string()),
                    table.column("colour").cast(pa.string())], schema=SCHEMA)
    place.ensure()
    fd, tmp = tempfile.mkstemp(dir=str(place.local) if place.local is not None else None,
                               prefix=".scores-", suffix=".part")
    os.close(fd)
    try:
        pq.write_table(out, tmp, compression="zstd")
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
        return None


class Copies:
    """Which runs' copies are whole, at one store's place."""

    def __init__(self, url: str) -> None:
        self.place = _place(url)

    def whole(self, run_id: int, subjects: int) -> bool:
        if self.place.unset:
            return False
        try:
            meta = pq.read_metadata(self.place.file(name(run_id)), filesystem=self.place.fs)
        except (OSError, pa.ArrowException):
            return False
        return set(SCHEMA.names) <= set(meta.schema.names) and meta.num_rows == subjects

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


def missing(session: Session, url: str, *, last: int = BACKFILL_RUNS) -> list[EvaluationRun]:
    """Each model's latest `last` published, finished runs that have no whole copy."""
    copies = Copies(url)
    if copies.place.unset:
        return []
    runs = session.execute(select(EvaluationRun).where(EvaluationRun.published.is_(True),
                                                       EvaluationRun.status == "done")
                           .order_by(EvaluationRun.model_name, EvaluationRun.as_of.desc(),
                                     EvaluationRun.id.desc())).scalars()
    seen: dict[str, int] = {}
    out = []
    for run in runs:
        seen[run.model_name] = seen.get(run.model_name, 0) + 1
        if seen[run.model_name] <= last and not copies.whole(run.id, run.subjects):
            out.append(run)
    return out


def backfill(session: Session, url: str, *, last: int = BACKFILL_RUNS) -> list[int]:
    """Write, from the store, the copies `missing` names: the runs written."""
    done = []
    for run in missing(session, url, last=last):
        ids: list[int] = []
        centi: list[int] = []
        grades: list[str] = []
        colours: list[str] = []
        for sid, score, grade, colour in session.execute(
                select(Score.subject_id, Score.score, Score.grade, Score.colour)
                .where(Score.run_id == run.id).order_by(Score.subject_id)).tuples():
            ids.append(sid)
            centi.append(int(round(score * 100)))
            grades.append(grade)
            colours.append(colour)
        write(url, run.id, pa.table({"subject_id": pa.array(ids, pa.int64()), "score_centi": pa.array(centi, pa.int64()),
                                     "grade": grades, "colour": colours}))
        done.append(run.id)
    return done
