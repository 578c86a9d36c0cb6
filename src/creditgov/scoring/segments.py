"""Record segments: a columnar copy of a store's credit records, kept for evaluation.

Evaluation reads every record that can count on the as-of date: 20 million rows for a
county of a million subjects. Decoding that many rows out of SQLite's row format takes
about 20 s on two cores however it is done (docs/decisions/0002), and sending them out
of PostgreSQL through COPY about as long — longer than the plan that scores them. The
store therefore keeps a columnar copy of the columns evaluation reads, as Parquet files,
and a run reads the copy instead of the rows:

- **Where**: a folder or URL per store (`core.settings.segment_place`): beside a SQLite
  file (`<store>.segments/`) by default, or in a sub-folder of `CREDITGOV_SEGMENTS` — a
  shared folder, `s3a://…` or `hdfs://…` — which every Spark executor of a cluster
  reads directly (docs/spark.md). A PostgreSQL store keeps segments only there (every
  machine serving it shares its manifest, so must reach its files). Files are read and
  written through pyarrow's filesystems, which speak the same URLs.
- A **segment** holds the records with ids in (after_id, max_id], typed as the snapshot
  types them. Its manifest row (`record_segments`) is in the store itself, so the
  manifest always belongs to the data it describes: a store restored from a backup sees
  its own manifest, and a file that is missing or of the wrong size makes the copy be
  rebuilt.
- The **change log** (`record_changes`) is written by the store's triggers whenever a
  record's evaluated columns change (a status change, a correction making the old
  version not current) or a record is deleted. Nothing in the product has to remember
  to log: the triggers see every UPDATE and DELETE, whoever runs it.
- What a segment has seen: on SQLite (one writer at a time) the log position
  `change_seq` when its copy started, and every id up to `max_id`. On PostgreSQL,
  transactions commit in an order no sequence shows, so a segment records the
  **snapshot** its copy was read in, each log row the transaction that wrote it, and
  each record the transaction that inserted it (`written_xid`, migration 0029); a
  reader asks PostgreSQL which of them a segment's snapshot could not see
  (`pg_visible_in_snapshot`).
- A run reads, in one read transaction of the store, the manifest, the records newer
  than the last segment (the **tail**) and the current rows of every record some
  segment has not seen as it is now (the **overlay**); the segments give all other
  records. Segment rows that the tail or the overlay replace are left out, so every
  record is read once, as the store holds it now.
- When the tail is large (`SEGMENT_MIN_ROWS`), the run first writes it as a new segment;
  when the overlay outgrows `REBUILD_OVERLAY_SHARE` of the copy, or the set of secret
  catalogue items changed, the copy is rebuilt. `creditgov model segments` shows the
  copy and refreshes it; the worker refreshes it on a schedule, so a run after a large
  ingestion finds it current.
- Segments never hold a secret-class item, raw rows or identifiers: only ids, the
  subject id, the item code, dates, amounts, grade and status. A SQLite store's are
  written by DuckDB's SQLite scanner in the reader's child process (sqlite_reader.py);
  a PostgreSQL store's from one `COPY … TO STDOUT` in a REPEATABLE READ transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from creditgov.core.errors import ConfigError, ServerFault
from creditgov.core.settings import segment_place

if TYPE_CHECKING:
    from creditgov.scoring.segment_logs import PostgresLog, SqliteLog

#: A tail at least this long is written as a segment before a run reads it; a shorter
#: one is read from the store with the overlay.
SEGMENT_MIN_ROWS = int(os.environ.get("CREDITGOV_SEGMENT_MIN_ROWS", "50000"))
#: When more than this share of the copy has changed since its oldest segment was
#: written (or more than MAX_SEGMENTS segments exist), the copy is rebuilt.
REBUILD_OVERLAY_SHARE = 0.05
REBUILD_OVERLAY_MIN = 50_000
MAX_SEGMENTS = 64
#: Replaced segment files are deleted this long after they were replaced (a run that
#: started before the replacement may still be reading them).
GRACE_SECONDS = 3600
#: Rows per Parquet row group of a segment. Segments are sorted by item, so a row
#: group holds one or two items and a run reads only the groups of the items its model
#: uses (Parquet statistics: DuckDB and Spark skip the others); smaller groups skip
#: more finely and give Spark more tasks to share among executors.
ROW_GROUP_ROWS = 262_144

@dataclass(frozen=True)
class Column:
    """One column of a segment file, in the one table every spelling of it derives from."""

    name: str
    segment: str          # its type in the segment file (DuckDB)
    text: pa.DataType     # how a store's rows read as text carry it (TEXT_SCHEMA)
    csv: str              # the type DuckDB reads PostgreSQL's CSV of it as


COLUMNS = (
    Column("id", "BIGINT", pa.int64(), "BIGINT"),
    Column("subject_id", "BIGINT", pa.int64(), "BIGINT"),
    Column("item_code", "VARCHAR", pa.string(), "VARCHAR"),
    Column("occurred_on", "DATE", pa.string(), "DATE"),
    # through its text form: a binary double cast straight to DECIMAL would round 0.285 down
    Column("value", "DECIMAL(18, 2)", pa.string(), "VARCHAR"),
    Column("grade", "VARCHAR", pa.string(), "VARCHAR"),
    Column("status", "VARCHAR", pa.string(), "VARCHAR"),
    Column("published_from", "DATE", pa.string(), "DATE"),
    Column("published_until", "DATE", pa.string(), "DATE"),
    Column("is_current", "BOOLEAN", pa.int64(), "INTEGER"),
    # What a segment also holds for the statistics forms (records by supplying
    # department, new and corrected in a period: statistics/service.py). A record's
    # department, version and creation time are written once, with the record (a
    # correction is a new version).
    Column("department_code", "VARCHAR", pa.string(), "VARCHAR"),
    Column("created_at", "TIMESTAMP", pa.string(), "TIMESTAMP"),
    Column("version", "INTEGER", pa.int64(), "INTEGER"),
)


def _cast(c: Column) -> str:
    if c.segment == "BOOLEAN":
        return f"{c.name} <> 0 AS {c.name}"
    return c.name if c.segment == "VARCHAR" else f"CAST({c.name} AS {c.segment}) AS {c.name}"


#: Every column of a segment file: a file without one of them is rebuilt.
FIELDS = tuple(c.name for c in COLUMNS)
#: The columns evaluation reads: what load_into's view shows it.
EVALUATED = FIELDS[:FIELDS.index("is_current") + 1]
#: Text-typed rows cast to the segment's types (DuckDB SQL over TEXT_SCHEMA, or over
#: PostgreSQL's CSV read as CSV_TYPES, where the casts of dates and numbers are no-ops).
FROM_TEXT = ", ".join(_cast(c) for c in COLUMNS)
TEXT_SCHEMA = pa.schema([(c.name, c.text) for c in COLUMNS])
CSV_TYPES = "{" + ", ".join(f"'{c.name}': '{c.csv}'" for c in COLUMNS) + "}"
#: The evaluated columns as DuckDB's SQLite scanner reads them (SQLite's own types: the
#: value through its text form, as SQLite prints it) — what a snapshot reads — and the
#: statistics' columns a segment adds to them.
DUCK_COLUMNS = ("CAST(id AS BIGINT) AS id, CAST(subject_id AS BIGINT) AS subject_id, item_code, "
                "CAST(occurred_on AS DATE) AS occurred_on, "
                "CAST(CAST(\"value\" AS VARCHAR) AS DECIMAL(18, 2)) AS \"value\", grade, status, "
                "CAST(published_from AS DATE) AS published_from, CAST(published_until AS DATE) AS published_until, "
                "is_current <> 0 AS is_current")
DUCK_EXTRA = ", ".join(_cast(c) for c in COLUMNS[len(EVALUATED):])
#: The same columns as SQLite returns them, for reads through the standard library.
SQLITE_COLUMNS = ("id, subject_id, item_code, CAST(occurred_on AS TEXT), CAST(value AS TEXT), grade, status, "
                  "CAST(published_from AS TEXT), CAST(published_until AS TEXT), "
                  "CASE WHEN is_current THEN 1 ELSE 0 END, department_code, CAST(created_at AS TEXT), version")
#: The same columns as PostgreSQL's COPY … (FORMAT csv) prints them.
PG_COLUMNS = ("id, subject_id, item_code, occurred_on, value, grade, status, published_from, published_until, "
              "CASE WHEN is_current THEN 1 ELSE 0 END, department_code, created_at, version")


class SegmentError(ServerFault):
    """The copy could not be written (the reader process, the store's COPY, DuckDB or
    the place failed); nothing is left half written: the manifest is unchanged. A
    deployment's problem, not the caller's: the command prints it as one line, the API
    answers 500."""


@dataclass(frozen=True)
class Segment:
    id: int
    file_name: str
    after_id: int
    max_id: int
    rows: int
    change_seq: int
    excluded: str
    snapshot: str | None = None


# ----------------------------------------------------------------------------- the place


class Place:
    """One store's segment folder, local or remote, opened through pyarrow's
    filesystems (s3a:// is pyarrow's s3://)."""

    def __init__(self, url: str, configured: bool = False) -> None:
        self.url = url.rstrip("/")
        self.configured = configured
        #: Why the store keeps no segments (a server store without CREDITGOV_SEGMENTS).
        self.unset: str | None = None
        parts = urlsplit(self.url)
        if parts.scheme == "file":
            self.fs: Any = pafs.LocalFileSystem()
            self.path = url2pathname(parts.path)
            self.local: Path | None = Path(self.path)
            return
        arrow_url = "s3://" + self.url.split("://", 1)[1] if parts.scheme in ("s3a", "s3n") else self.url
        try:
            self.fs, self.path = pafs.FileSystem.from_uri(arrow_url)
        except Exception as e:  # pyarrow raises several kinds for an unknown scheme or an unreachable store
            raise ConfigError(f"record segments at {self.url!r}: {e}") from None
        self.local = None

    @classmethod
    def nowhere(cls, why: str) -> Place:
        """No place: every manifest reads as absent, so the store is read row by row."""
        p = cls.__new__(cls)
        p.url, p.configured, p.unset, p.fs, p.path, p.local = "", False, why, None, "", None
        return p

    def file(self, name: str) -> str:
        """The file's path on `fs`."""
        return f"{self.path.rstrip('/')}/{name}"

    def file_url(self, name: str) -> str:
        """The file as Spark (and DuckDB, for a local folder) names it."""
        return f"{self.url}/{name}"

    def ensure(self) -> None:
        if self.local is not None:
            self.local.mkdir(mode=0o700, parents=True, exist_ok=True)
        else:
            self.fs.create_dir(self.path, recursive=True)

    def rows(self, name: str) -> int | None:
        """The file's row count; None when it is missing, unreadable, or lacks one of the
        segment's columns (written by an older release)."""
        if self.unset:
            return None
        try:
            meta = pq.read_metadata(self.file(name), filesystem=self.fs)
        except (OSError, pa.ArrowException):
            return None
        if not set(FIELDS) <= set(meta.schema.names):
            return None
        return int(meta.num_rows)

    def size(self, name: str) -> int:
        info = self.fs.get_file_info(self.file(name))
        return int(info.size or 0)

    def delete(self, name: str) -> None:
        with contextlib.suppress(OSError, pa.ArrowException):
            self.fs.delete_file(self.file(name))

    def put(self, local_file: str, name: str) -> None:
        """Move a finished local file into place: a rename here, a copy elsewhere."""
        if self.local is not None:
            os.replace(local_file, self.file(name))
            return
        try:
            pafs.copy_files(local_file, self.file(name), source_filesystem=pafs.LocalFileSystem(),
                            destination_filesystem=self.fs)
        except BaseException:
            self.delete(name)  # no partial file left in the shared place
            raise
        finally:
            with contextlib.suppress(OSError):
                os.unlink(local_file)

    def collect(self, live: set[str]) -> None:
        """Delete files no manifest row names once no run can still be reading them:
        a file is marked when it is first found retired (`<name>.retired`, right after
        the refresh that replaced it) and deleted GRACE_SECONDS after its mark — not
        after its own age, or a rebuild would delete at once the old files a running
        DuckDB view or Spark executors still read."""
        cutoff = time.time() - GRACE_SECONDS
        try:
            infos = {i.base_name: i for i in self.fs.get_file_info(pafs.FileSelector(self.path,
                                                                                     allow_not_found=True))}
        except (OSError, pa.ArrowException):
            return
        for name in infos:
            if name.startswith("records-") and name.endswith(".parquet") and name not in live:
                mark = infos.get(f"{name}.retired")
                if mark is None:
                    with contextlib.suppress(OSError, pa.ArrowException):
                        self.fs.open_output_stream(self.file(f"{name}.retired")).close()
                elif mark.mtime is not None and mark.mtime.timestamp() < cutoff:
                    self.delete(name)
                    self.delete(f"{name}.retired")
            elif name.endswith(".parquet.retired") and name.removesuffix(".retired") not in infos:
                self.delete(name)


def place_for(url: str) -> Place:
    where = segment_place(url)
    if where is None:
        return Place.nowhere("a PostgreSQL store keeps record segments only where every machine serving it reads "
                             "them: set CREDITGOV_SEGMENTS (a shared folder, hdfs://… or s3a://…)")
    return Place(where.url, where.configured)


def folder_for(url: str) -> Path:
    """The local folder of a store's segments (a store whose segments are elsewhere has none)."""
    p = place_for(url)
    if p.unset:
        raise ConfigError(p.unset)
    if p.local is None:
        raise ConfigError(f"the record segments of this store are at {p.url}, not in a local folder")
    return p.local


def intact(place: Place, segs: list[Segment], secret: list[str]) -> bool:
    """Contiguous from id 0, every file present with its row count, written for today's
    set of secret items."""
    expect = 0
    for s in segs:
        if s.after_id != expect or s.excluded != ",".join(secret) or place.rows(s.file_name) != s.rows:
            return False
        expect = s.max_id
    return True


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def new_name(after_id: int, max_id: int | None = None) -> str:
    top = f"{max_id:012d}" if max_id is not None else "tail"
    return f"records-{after_id + 1:012d}-{top}-{uuid.uuid4().hex[:8]}.parquet"


def text_table(rows: Sequence[Sequence[Any]]) -> pa.Table:
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in TEXT_SCHEMA]
    return pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(cols, TEXT_SCHEMA, strict=True)],
                                schema=TEXT_SCHEMA)


@dataclass
class Look:
    """What a refresh needs to know, read in one transaction."""
    secret: list[str]
    segs: list[Segment]          # the manifest as it stands (intact or not)
    intact: bool
    store_max: int
    overlay: int                 # records changed since the copy's oldest view of them
    change_seq: int = 0          # SQLite: the log position before the copy starts


@dataclass
class Copy:
    """What one read of the store found: the segments, and the rows that replace theirs."""

    place: Place
    segments: list[Segment]
    tail_after: int            # records with a larger id come from the store
    overlay_ids: list[int]     # records some segment has not seen as they are now, re-read from the store
    fresh: pa.Table            # current rows of the tail and the overlay (TEXT_SCHEMA)
    secret: list[str]
    store_max_id: int
    change_seq: int
    position: str              # the read's view of the store, for the run's watermark

    @property
    def folder(self) -> Path | None:
        return self.place.local

    @property
    def files(self) -> list[str]:
        """Paths DuckDB reads for a local folder; URLs otherwise."""
        if self.place.local is not None:
            return [str(self.place.local / s.file_name) for s in self.segments]
        return [self.place.file_url(s.file_name) for s in self.segments]

    @property
    def urls(self) -> list[str]:
        return [self.place.file_url(s.file_name) for s in self.segments]

    @property
    def copied_rows(self) -> int:
        return sum(s.rows for s in self.segments)


# ----------------------------------------------------------------------------- the operations


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _store(url: str) -> SqliteLog | PostgresLog:
    from creditgov.scoring.segment_logs import PostgresLog, SqliteLog

    if url.startswith("sqlite"):
        return SqliteLog(url)
    if url.startswith("postgresql"):
        return PostgresLog(url)
    raise ConfigError(f"record segments: unsupported store {url.split(':')[0]}")


def look(url: str) -> Look | None:
    """What the copy is, cheaply (manifest, intact, the store's top id, the overlay's
    size; no rows read): None when the store keeps no segments."""
    store, place = _store(url), place_for(url)
    if place.unset or not store.logged():
        return None
    return store.look(place)


def read(url: str) -> Copy:
    """Manifest, tail and overlay in one read transaction of the store."""
    return _store(url).read(place_for(url))


def refresh(url: str, *, min_rows: int | None = None, rebuild: bool = False) -> dict[str, Any]:
    """Bring the copy up to date: append the tail as a segment, or rebuild the whole
    copy when it is missing, damaged, written for another set of secret items, or
    overgrown with changes — in either case only when that means writing at least
    `min_rows` records (fewer are read straight from the store). The manifest is
    changed in one short write transaction that first checks nobody else changed it;
    a lost race deletes the new file and keeps the winner's."""
    t0 = time.perf_counter()
    min_rows = SEGMENT_MIN_ROWS if min_rows is None else min_rows
    store, place = _store(url), place_for(url)
    if place.unset:
        return {"action": "none", "segments": 0, "rows": 0, "seconds": 0.0, "reason": place.unset}
    if not store.logged():
        return {"action": "none", "segments": 0, "rows": 0, "seconds": 0.0,
                "reason": "the store has no change-log triggers (run creditgov init)"}
    look = store.look(place)
    segs = look.segs
    copied = sum(s.rows for s in segs) if look.intact else 0
    whole = (rebuild or not look.intact or len(segs) > MAX_SEGMENTS
             or look.overlay > max(REBUILD_OVERLAY_MIN, REBUILD_OVERLAY_SHARE * copied))
    after = 0 if whole else segs[-1].max_id
    result: dict[str, Any] = {"action": "none", "segments": len(segs) if look.intact else 0, "rows": 0}
    if look.store_max <= after or look.store_max - after < min_rows:
        result["seconds"] = round(time.perf_counter() - t0, 3)
        return result
    try:
        seg = store.write(place, after, look)
    except SegmentError:
        raise
    except Exception as exc:  # the place, the store's COPY, DuckDB: say what failed, in one kind of error
        raise SegmentError(f"writing a record segment into {place.url} failed: {type(exc).__name__}: {exc}") from exc
    try:
        live = store.commit(segs, whole, seg)
    except BaseException:
        place.delete(seg.file_name)
        raise
    if live is None:
        # Another process changed the copy since we looked: keep its work.
        place.delete(seg.file_name)
        result.update(action="lost-race", seconds=round(time.perf_counter() - t0, 3))
        return result
    store.summarize()  # outside the try above: the segment is committed, whatever happens here
    place.collect({s.file_name for s in live})
    result.update(action="rebuilt" if whole else "appended", segments=len(live), rows=seg.rows,
                  seconds=round(time.perf_counter() - t0, 3))
    return result


def prepare(url: str) -> tuple[Copy, dict[str, Any]]:
    """Refresh the copy when the tail is long, then read it: (copy, what the refresh did)."""
    t0 = time.perf_counter()
    info = refresh(url)
    info["seconds"] = round(time.perf_counter() - t0, 3)
    return read(url), info


def load_into(duck: Any, url: str, where: str, *, table: str = "credit_records",
              prepared: tuple[Copy, dict[str, Any]] | None = None,
              columns: Sequence[str] = EVALUATED) -> dict[str, Any]:
    """Give the DuckDB connection a relation `table` of the store's records that satisfy
    `where` (DuckDB SQL over the snapshot's columns): a view over the segments' Parquet
    files and a small table of the tail and overlay rows read from the store just now.
    The plan reads the files itself, in parallel and only the columns it needs, instead
    of first loading 20 million rows into a table (files a run may still read are kept
    for GRACE_SECONDS after they are replaced). Refreshes the copy first when the tail
    is long. Returns what it did."""
    c, info = prepared or prepare(url)
    t1 = time.perf_counter()
    fresh_table, overlay_table = f"_{table}_fresh", f"_{table}_overlay"
    cols = ", ".join(f'"{c}"' for c in columns)
    duck.register("_fresh_arrow", c.fresh)
    try:
        duck.execute(f"CREATE TABLE {fresh_table} AS SELECT {FROM_TEXT} FROM _fresh_arrow")
    finally:
        duck.unregister("_fresh_arrow")
    if c.segments:
        skip = f"id <= {c.tail_after}"
        if c.overlay_ids:
            duck.register("_overlay_arrow", pa.table({"id": pa.array(c.overlay_ids, pa.int64())}))
            try:
                duck.execute(f"CREATE TABLE {overlay_table} AS SELECT id FROM _overlay_arrow")
            finally:
                duck.unregister("_overlay_arrow")
            skip += f" AND id NOT IN (SELECT id FROM {overlay_table})"
        if c.place.local is not None:
            files = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in c.files) + "]"
            source = f"read_parquet({files})"
        else:
            # DuckDB reads neither HDFS nor Spark's s3a:// names: pyarrow's dataset does.
            import pyarrow.dataset as pads

            duck.register(f"_{table}_segments", pads.dataset([c.place.file(s.file_name) for s in c.segments],
                                                             filesystem=c.place.fs, format="parquet"))
            source = f"_{table}_segments"
        sql = (f"CREATE VIEW {table} AS SELECT {cols} FROM {source} WHERE {skip} AND ({where}) "
               f"UNION ALL SELECT {cols} FROM {fresh_table} WHERE {where}")
    else:
        sql = f"CREATE VIEW {table} AS SELECT {cols} FROM {fresh_table} WHERE {where}"
    duck.execute(sql)
    return {"segments": len(c.segments), "segment_rows": c.copied_rows, "fresh_rows": c.fresh.num_rows,
            "overlay": len(c.overlay_ids), "refresh": info["action"], "refresh_seconds": info["seconds"],
            "load_seconds": round(time.perf_counter() - t1, 3), "watermark": c.position}


def status(url: str) -> dict[str, Any]:
    """The copy as the store describes it, for `creditgov model segments`: the manifest
    and counts (the rows newer than the copy and changed since are counted, not read —
    without a copy, that is every record)."""
    store, place = _store(url), place_for(url)
    lk = store.look(place) if not place.unset and store.logged() else None
    segs = lk.segs if lk is not None and lk.intact else []
    after = segs[-1].max_id if segs else 0
    tail, top, secret = store.tail(after)
    return {"folder": place.url if place.local is None else str(place.local),
            **({"reason": place.unset} if place.unset else {}),
            "shared": place.configured, "segments": len(segs), "rows": sum(s.rows for s in segs),
            "after_id": after, "store_max_id": top, "tail": tail,
            "overlay": lk.overlay if lk is not None and segs else 0, "secret_items_left_out": secret,
            "bytes": sum(place.size(s.file_name) for s in segs)}
