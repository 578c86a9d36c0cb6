"""Record segments: a columnar copy of a SQLite store's credit records, kept for evaluation.

Evaluation reads every record that can count on the as-of date: 20 million rows for a
county of a million subjects. Decoding that many rows out of SQLite's row format takes
about 20 s on two cores however it is done (docs/decisions/0002), longer than the plan
that scores them. The store therefore keeps, beside its file, a columnar copy of the
columns evaluation reads, as Parquet files (`<store>.segments/`), and a run reads the
copy instead of the rows:

- A **segment** holds the records with ids in (after_id, max_id], typed as the snapshot
  types them, as they stood when the change log was at `change_seq`. Its manifest row
  (`record_segments`) is in the store itself, so the manifest always belongs to the data
  it describes: a store restored from a backup sees its own manifest, and a file that is
  missing or of the wrong size makes the copy be rebuilt.
- The **change log** (`record_changes`) is written by the store's triggers whenever a
  record's evaluated columns change (a status change, a correction making the old
  version not current) or a record is deleted. Nothing in the product has to remember
  to log: the triggers see every UPDATE and DELETE, whoever runs it.
- A run reads, in one read transaction of the store, the manifest, the records newer
  than the last segment (the **tail**) and the current rows of every record logged
  after the oldest segment's `change_seq` (the **overlay**); the segments give all
  other records. Segment rows that the tail or the overlay replace are left out, so
  every record is read once, as the store holds it now.
- When the tail is large (`SEGMENT_MIN_ROWS`), the run first writes it as a new segment;
  when the overlay outgrows `REBUILD_OVERLAY_SHARE` of the copy, or the set of secret
  catalogue items changed, the copy is rebuilt. `creditgov model segments` shows the
  copy and refreshes it; the worker refreshes it on a schedule, so a run after a large
  ingestion finds it current.
- Segments are written by DuckDB's SQLite scanner in the reader's child process
  (sqlite_reader.py), and never hold a secret-class item, raw rows or identifiers:
  only ids, the subject id, the item code, dates, amounts, grade and status.

Only SQLite stores have segments; a PostgreSQL store is read with COPY.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

#: A tail at least this long is written as a segment before a run reads it; a shorter
#: one is read from the store with the overlay.
SEGMENT_MIN_ROWS = int(os.environ.get("CREDITGOV_SEGMENT_MIN_ROWS", "50000"))
#: When more than this share of the copy has changed since its oldest segment was
#: written (or more than MAX_SEGMENTS segments exist), the copy is rebuilt.
REBUILD_OVERLAY_SHARE = 0.05
REBUILD_OVERLAY_MIN = 50_000
MAX_SEGMENTS = 64
#: Replaced segment files are deleted once this old (a run that started before the
#: replacement may still be reading them).
GRACE_SECONDS = 3600

#: The columns a segment copies, typed as the evaluation snapshot types them (the value
#: through its text form, as SQLite prints it: a binary double cast straight to DECIMAL
#: would round 0.285 down). DuckDB SQL.
DUCK_COLUMNS = ("CAST(id AS BIGINT) AS id, CAST(subject_id AS BIGINT) AS subject_id, item_code, "
                "CAST(occurred_on AS DATE) AS occurred_on, "
                "CAST(CAST(\"value\" AS VARCHAR) AS DECIMAL(18, 2)) AS \"value\", grade, status, "
                "CAST(published_from AS DATE) AS published_from, CAST(published_until AS DATE) AS published_until, "
                "is_current <> 0 AS is_current")
#: The same columns as SQLite returns them, for reads through the standard library.
SQLITE_COLUMNS = ("id, subject_id, item_code, CAST(occurred_on AS TEXT), CAST(value AS TEXT), grade, status, "
                  "CAST(published_from AS TEXT), CAST(published_until AS TEXT), "
                  "CASE WHEN is_current THEN 1 ELSE 0 END")
TEXT_SCHEMA = pa.schema([("id", pa.int64()), ("subject_id", pa.int64()), ("item_code", pa.string()),
                         ("occurred_on", pa.string()), ("value", pa.string()), ("grade", pa.string()),
                         ("status", pa.string()), ("published_from", pa.string()),
                         ("published_until", pa.string()), ("is_current", pa.int64())])
#: Text-typed rows cast to the snapshot's types (DuckDB SQL over TEXT_SCHEMA).
FROM_TEXT = ("CAST(id AS BIGINT) AS id, CAST(subject_id AS BIGINT) AS subject_id, item_code, "
             "CAST(occurred_on AS DATE) AS occurred_on, CAST(value AS DECIMAL(18, 2)) AS value, grade, status, "
             "CAST(published_from AS DATE) AS published_from, CAST(published_until AS DATE) AS published_until, "
             "is_current <> 0 AS is_current")


class SegmentError(RuntimeError):
    """The copy could not be written (the reader process failed)."""


@dataclass(frozen=True)
class Segment:
    id: int
    file_name: str
    after_id: int
    max_id: int
    rows: int
    change_seq: int
    excluded: str


@dataclass
class Copy:
    """What one read of the store found: the segments, and the rows that replace theirs."""

    folder: Path
    segments: list[Segment]
    tail_after: int            # records with a larger id come from the store
    overlay_ids: list[int]     # records logged since the oldest segment, re-read from the store
    fresh: pa.Table            # current rows of the tail and the overlay (TEXT_SCHEMA)
    secret: list[str]
    store_max_id: int
    change_seq: int

    @property
    def files(self) -> list[str]:
        return [str(self.folder / s.file_name) for s in self.segments]

    @property
    def copied_rows(self) -> int:
        return sum(s.rows for s in self.segments)


def folder_for(db_path: str) -> Path:
    return Path(f"{db_path}.segments")


def _connect(db_path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _secret_items(conn: sqlite3.Connection) -> list[str]:
    return sorted(r[0] for r in conn.execute("SELECT code FROM catalog_items WHERE data_class = 'secret'"))


TRIGGERS = ("credit_records_changed", "credit_records_deleted")


def _logged(conn: sqlite3.Connection) -> bool:
    """The store's triggers are in place (a schema built by migrations): without them a
    copy could not know what changed, so none is written or read."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return set(TRIGGERS) <= have


def _manifest(conn: sqlite3.Connection) -> list[Segment]:
    return [Segment(*r) for r in conn.execute(
        "SELECT id, file_name, after_id, max_id, rows, change_seq, excluded FROM record_segments ORDER BY after_id")]


def _intact(folder: Path, segs: list[Segment], secret: list[str]) -> bool:
    """Contiguous from id 0, every file present with its row count, written for today's
    set of secret items."""
    expect = 0
    for s in segs:
        if s.after_id != expect or s.excluded != ",".join(secret):
            return False
        path = folder / s.file_name
        try:
            if pq.ParquetFile(path).metadata.num_rows != s.rows:
                return False
        except (OSError, pa.ArrowException):
            return False
        expect = s.max_id
    return True


def read(db_path: str) -> Copy:
    """Manifest, tail and overlay in one read transaction of the store."""
    folder = folder_for(db_path)
    conn = _connect(db_path)
    try:
        conn.execute("BEGIN")
        secret = _secret_items(conn)
        segs = _manifest(conn) if _logged(conn) else []
        if segs and not _intact(folder, segs, secret):
            segs = []
        change_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM record_changes").fetchone()[0]
        store_max = conn.execute("SELECT COALESCE(MAX(id), 0) FROM credit_records").fetchone()[0]
        tail_after = segs[-1].max_id if segs else 0
        overlay: list[int] = []
        if segs:
            since = min(s.change_seq for s in segs)
            overlay = [r[0] for r in conn.execute(
                "SELECT DISTINCT record_id FROM record_changes WHERE seq > ? AND record_id <= ? ORDER BY 1",
                (since, tail_after))]
        rows = conn.execute(f"SELECT {SQLITE_COLUMNS} FROM credit_records WHERE id > ?", (tail_after,)).fetchall()
        for i in range(0, len(overlay), 900):
            part = overlay[i:i + 900]
            rows += conn.execute(f"SELECT {SQLITE_COLUMNS} FROM credit_records WHERE id IN "
                                 f"({', '.join('?' * len(part))})", part).fetchall()
        conn.execute("COMMIT")
    finally:
        conn.close()
    if secret:
        hidden = set(secret)
        rows = [r for r in rows if r[2] not in hidden]
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in TEXT_SCHEMA]
    fresh = pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(cols, TEXT_SCHEMA, strict=True)],
                                 schema=TEXT_SCHEMA)
    return Copy(folder, segs, tail_after, overlay, fresh, secret, store_max, change_seq)


def _write(db_path: str, folder: Path, after_id: int, max_id: int, secret: list[str]) -> tuple[str, int]:
    """Write records (after_id, max_id] as one Parquet file, in the reader process."""
    folder.mkdir(mode=0o700, exist_ok=True)
    name = f"records-{after_id + 1:012d}-{max_id:012d}-{uuid.uuid4().hex[:8]}.parquet"
    job = {"segment": {"path": str(folder / name), "after_id": after_id, "max_id": max_id, "secret": secret}}
    proc = subprocess.run([sys.executable, "-m", "creditgov.scoring.sqlite_reader", db_path, "-"],
                          input=json.dumps(job).encode(), capture_output=True, check=False)
    if proc.returncode != 0:
        (folder / name).unlink(missing_ok=True)
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise SegmentError(f"writing a record segment failed: {err[-1] if err else proc.returncode}")
    return name, int(json.loads(proc.stdout.decode().strip().splitlines()[-1])["rows"])


def refresh(db_path: str, *, min_rows: int | None = None, rebuild: bool = False) -> dict[str, Any]:
    """Bring the copy up to date: append the tail as a segment, or rebuild the whole
    copy when it is missing, damaged, written for another set of secret items, or
    overgrown with changes — in either case only when that means writing at least
    `min_rows` records (fewer are read straight from the store). The manifest is
    changed in one short write transaction that first checks nobody else changed it;
    a lost race deletes the new file and keeps the winner's."""
    t0 = time.perf_counter()
    min_rows = SEGMENT_MIN_ROWS if min_rows is None else min_rows
    folder = folder_for(db_path)
    conn = _connect(db_path)
    try:
        if not _logged(conn):
            return {"action": "none", "segments": 0, "rows": 0, "seconds": 0.0,
                    "reason": "the store has no change-log triggers (run creditgov init)"}
        conn.execute("BEGIN")
        secret = _secret_items(conn)
        segs = _manifest(conn)
        intact = bool(segs) and _intact(folder, segs, secret)
        # The log position first, then the ids: a change made while the file is written
        # has a larger seq and is re-read through the overlay.
        change_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM record_changes").fetchone()[0]
        store_max = conn.execute("SELECT COALESCE(MAX(id), 0) FROM credit_records").fetchone()[0]
        overlay = 0
        if intact:
            since = min(s.change_seq for s in segs)
            overlay = conn.execute("SELECT COUNT(DISTINCT record_id) FROM record_changes WHERE seq > ?",
                                   (since,)).fetchone()[0]
        conn.execute("COMMIT")
    finally:
        conn.close()
    copied = sum(s.rows for s in segs) if intact else 0
    whole = (rebuild or not intact or len(segs) > MAX_SEGMENTS
             or overlay > max(REBUILD_OVERLAY_MIN, REBUILD_OVERLAY_SHARE * copied))
    after = 0 if whole else segs[-1].max_id
    result: dict[str, Any] = {"action": "none", "segments": len(segs) if intact else 0, "rows": 0}
    if store_max <= after or store_max - after < min_rows:
        result["seconds"] = round(time.perf_counter() - t0, 3)
        return result
    name, rows = _write(db_path, folder, after, store_max, secret)
    conn = _connect(db_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        if [s.id for s in _manifest(conn)] != [s.id for s in segs]:
            # Another process changed the copy since we looked: keep its work.
            conn.execute("ROLLBACK")
            (folder / name).unlink(missing_ok=True)
            result.update(action="lost-race", seconds=round(time.perf_counter() - t0, 3))
            return result
        if whole:
            conn.execute("DELETE FROM record_segments")
        conn.execute("INSERT INTO record_segments (file_name, after_id, max_id, rows, change_seq, excluded, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (name, after, store_max, rows, change_seq, ",".join(secret), now))
        live = _manifest(conn)
        # Changes every segment already holds are no longer needed.
        conn.execute("DELETE FROM record_changes WHERE seq <= ?", (min(s.change_seq for s in live),))
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        (folder / name).unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    _collect(folder, {s.file_name for s in live})
    result.update(action="rebuilt" if whole else "appended", segments=len(live), rows=rows,
                  seconds=round(time.perf_counter() - t0, 3))
    return result


def _collect(folder: Path, live: set[str]) -> None:
    """Delete files no manifest row names, once they are old enough that no run can
    still be reading them."""
    cutoff = time.time() - GRACE_SECONDS
    for f in folder.glob("records-*.parquet"):
        if f.name not in live:
            with contextlib.suppress(OSError):
                if f.stat().st_mtime < cutoff:
                    f.unlink()


def load_into(duck: Any, db_path: str, where: str, *, table: str = "credit_records") -> dict[str, Any]:
    """Give the DuckDB connection a relation `table` of the store's records that satisfy
    `where` (DuckDB SQL over the snapshot's columns): a view over the segments' Parquet
    files and a small table of the tail and overlay rows read from the store just now.
    The plan reads the files itself, in parallel and only the columns it needs, instead
    of first loading 20 million rows into a table (files a run may still read are kept
    for GRACE_SECONDS after they are replaced). Refreshes the copy first when the tail
    is long. Returns what it did."""
    t0 = time.perf_counter()
    info = refresh(db_path)
    t_refresh = time.perf_counter() - t0
    c = read(db_path)
    t1 = time.perf_counter()
    fresh_table, overlay_table = f"_{table}_fresh", f"_{table}_overlay"
    duck.register("_fresh_arrow", c.fresh)
    try:
        duck.execute(f"CREATE TABLE {fresh_table} AS SELECT {FROM_TEXT} FROM _fresh_arrow")
    finally:
        duck.unregister("_fresh_arrow")
    if c.segments:
        files = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in c.files) + "]"
        skip = f"id <= {c.tail_after}"
        if c.overlay_ids:
            duck.register("_overlay_arrow", pa.table({"id": pa.array(c.overlay_ids, pa.int64())}))
            try:
                duck.execute(f"CREATE TABLE {overlay_table} AS SELECT id FROM _overlay_arrow")
            finally:
                duck.unregister("_overlay_arrow")
            skip += f" AND id NOT IN (SELECT id FROM {overlay_table})"
        sql = (f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files}) WHERE {skip} AND ({where}) "
               f"UNION ALL SELECT * FROM {fresh_table} WHERE {where}")
    else:
        sql = f"CREATE VIEW {table} AS SELECT * FROM {fresh_table} WHERE {where}"
    duck.execute(sql)
    return {"segments": len(c.segments), "segment_rows": c.copied_rows, "fresh_rows": c.fresh.num_rows,
            "overlay": len(c.overlay_ids), "refresh": info["action"], "refresh_seconds": round(t_refresh, 3),
            "load_seconds": round(time.perf_counter() - t1, 3),
            "watermark": f"records<={c.store_max_id};log<={c.change_seq}"}


def status(db_path: str) -> dict[str, Any]:
    """The copy as the store describes it, for `creditgov model segments`."""
    c = read(db_path)
    ids = c.fresh.column("id").to_pylist()
    return {"folder": str(c.folder), "segments": len(c.segments), "rows": c.copied_rows,
            "after_id": c.tail_after, "store_max_id": c.store_max_id,
            "tail": sum(1 for i in ids if i > c.tail_after),
            "overlay": len(c.overlay_ids), "secret_items_left_out": c.secret,
            "bytes": sum((c.folder / s.file_name).stat().st_size for s in c.segments)}
