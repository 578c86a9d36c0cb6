"""How each kind of store tells the record segments what changed (segments.py).

- `SqliteLog`: one writer at a time, so the change log's sequence orders every change
  and a segment remembers the log position its copy started at; segments are written
  by DuckDB's SQLite scanner in the reader's child process (sqlite_reader.py).
- `PostgresLog`: transactions commit in an order no sequence shows, so a segment
  remembers the snapshot its copy was read in (one REPEATABLE READ `COPY … TO STDOUT`),
  and the store the transaction that wrote each change and each record (migration
  0029); `pg_visible_in_snapshot` tells which of them a segment could not see.

Each offers the same steps: `logged` (the triggers are in place), `look` (what a
refresh must decide on), `write` (one segment file), `commit` (the manifest, checked
against a racing refresh), `summarize` (after a commit, what helps the next look) and
`read` (manifest, tail and overlay in one transaction).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy.engine import make_url

from creditgov.core.db import pg_connect
from creditgov.core.duck import connect as duck_connect
from creditgov.core.errors import ConfigError
from creditgov.scoring.segments import (
    CSV_TYPES,
    FROM_TEXT,
    PG_COLUMNS,
    ROW_GROUP_ROWS,
    SQLITE_COLUMNS,
    TEXT_SCHEMA,
    Copy,
    Look,
    Place,
    Segment,
    SegmentError,
    intact,
    new_name,
    now,
    quote,
    text_table,
)

# ----------------------------------------------------------------------------- SQLite


TRIGGERS = ("credit_records_changed", "credit_records_deleted")
_MANIFEST = "SELECT id, file_name, after_id, max_id, rows, change_seq, excluded, snapshot FROM record_segments"


log = logging.getLogger(__name__)


class SqliteLog:
    """A SQLite store: one writer at a time, so the log's sequence orders every change."""

    def __init__(self, url: str) -> None:
        path = make_url(url).database
        if not path or path == ":memory:":
            raise ConfigError("an in-memory SQLite store keeps no record segments")
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")
        finally:
            conn.close()

    @staticmethod
    def _secret(conn: sqlite3.Connection) -> list[str]:
        return sorted(r[0] for r in conn.execute("SELECT code FROM catalog_items WHERE data_class = 'secret'"))

    @staticmethod
    def _logged(conn: sqlite3.Connection) -> bool:
        """The store's triggers are in place (a schema built by migrations): without them a
        copy could not know what changed, so none is written or read."""
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return set(TRIGGERS) <= have

    @staticmethod
    def _manifest(conn: sqlite3.Connection) -> list[Segment]:
        return [Segment(*r) for r in conn.execute(_MANIFEST + " ORDER BY after_id")]

    def logged(self) -> bool:
        conn = self._connect()
        try:
            return self._logged(conn)
        finally:
            conn.close()

    def look(self, place: Place) -> Look:
        with self._reading() as conn:
            secret = self._secret(conn)
            segs = self._manifest(conn)
            complete = bool(segs) and intact(place, segs, secret)
            # The log position first, then the ids: a change made while the file is written
            # has a larger seq and is re-read through the overlay.
            change_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM record_changes").fetchone()[0]
            store_max = conn.execute("SELECT COALESCE(MAX(id), 0) FROM credit_records").fetchone()[0]
            overlay = 0
            if complete:
                since = min(s.change_seq for s in segs)
                overlay = conn.execute("SELECT COUNT(DISTINCT record_id) FROM record_changes WHERE seq > ?",
                                       (since,)).fetchone()[0]
        return Look(secret, segs, complete, store_max, overlay, change_seq)

    def write(self, place: Place, after: int, look: Look) -> Segment:
        """Records (after, look.store_max] as one Parquet file, in the reader process."""
        name = new_name(after, look.store_max)
        place.ensure()
        with tempfile.TemporaryDirectory(prefix="creditgov-segment-") as tmp:
            # A local folder is written in place (the writer renames its part file); a
            # remote one receives the finished file.
            target = place.file(name) if place.local is not None else str(Path(tmp) / name)
            job = {"segment": {"path": target, "after_id": after, "max_id": look.store_max, "secret": look.secret}}
            proc = subprocess.run([sys.executable, "-m", "creditgov.scoring.sqlite_reader", self.path, "-"],
                                  input=json.dumps(job).encode(), capture_output=True, check=False)
            if proc.returncode != 0:
                with contextlib.suppress(OSError):
                    os.unlink(target)
                err = proc.stderr.decode(errors="replace").strip().splitlines()
                raise SegmentError(f"writing a record segment failed: {err[-1] if err else proc.returncode}")
            rows = int(json.loads(proc.stdout.decode().strip().splitlines()[-1])["rows"])
            if place.local is None:
                place.put(target, name)
        return Segment(0, name, after, look.store_max, rows, look.change_seq, ",".join(look.secret))

    def summarize(self) -> None:
        """After a segment is committed: nothing to do on SQLite (PostgresLog.summarize)."""

    def commit(self, seen: list[Segment], whole: bool, seg: Segment) -> list[Segment] | None:
        """Record the new segment if nobody changed the manifest since `seen`; the live
        manifest, or None when another process won."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            if [s.id for s in self._manifest(conn)] != [s.id for s in seen]:
                conn.execute("ROLLBACK")
                return None
            if whole:
                conn.execute("DELETE FROM record_segments")
            conn.execute("INSERT INTO record_segments (file_name, after_id, max_id, rows, change_seq, excluded, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (seg.file_name, seg.after_id, seg.max_id, seg.rows, seg.change_seq, seg.excluded,
                          now()))
            live = self._manifest(conn)
            # Changes every segment already holds are no longer needed.
            conn.execute("DELETE FROM record_changes WHERE seq <= ?", (min(s.change_seq for s in live),))
            conn.execute("COMMIT")
            return live
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def tail(self, after: int) -> tuple[int, int, list[str]]:
        """(records after `after` but secret ones, the store's top id, the secret items),
        counted in one read transaction, no row read: what `segments.status` shows."""
        with self._reading() as conn:
            secret = self._secret(conn)
            hide = "".join(" AND item_code <> ?" for _ in secret)
            n = conn.execute(f"SELECT COUNT(*) FROM credit_records WHERE id > ?{hide}", (after, *secret)).fetchone()[0]
            top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM credit_records").fetchone()[0]
        return int(n), int(top), secret

    def read(self, place: Place) -> Copy:
        """Manifest, tail and overlay in one read transaction of the store."""
        with self._reading() as conn:
            secret = self._secret(conn)
            segs = self._manifest(conn) if self._logged(conn) else []
            if segs and not intact(place, segs, secret):
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
        if secret:
            hidden = set(secret)
            rows = [r for r in rows if r[2] not in hidden]
        return Copy(place, segs, tail_after, overlay, text_table(rows), secret, store_max, change_seq,
                    f"records<={store_max};log<={change_seq}")


# ----------------------------------------------------------------------------- PostgreSQL


def _foreign(xid: str) -> str:
    """SQL: the transaction id in column `xid` is not this server's: an id past every id
    the server has handed out came with a restored backup of another server, whose rows
    every copy since holds (a restore leaves the manifest and the log behind,
    security/backup.py). Any transaction of this server a statement can see is below
    its snapshot's xmax."""
    return f"{xid} >= pg_snapshot_xmax(pg_current_snapshot())::text::bigint"


def _unseen(xid: str, snapshot: str) -> str:
    """SQL: the segment read in `snapshot` (an SQL expression) could not see the
    transaction in column `xid`."""
    return f"NOT {_foreign(xid)} AND NOT pg_visible_in_snapshot({xid}::text::xid8, {snapshot}::pg_snapshot)"


class PostgresLog:
    """A PostgreSQL store: copies are read in REPEATABLE READ snapshots, and changes are
    matched against them by the writing transaction (migration 0029)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Any]:
        """A REPEATABLE READ, read-only transaction: every statement sees one snapshot."""
        with pg_connect(self.url, autocommit=False) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                yield conn
            finally:
                conn.rollback()

    @staticmethod
    def _secret(conn: Any) -> list[str]:
        return sorted(r[0] for r in conn.execute("SELECT code FROM catalog_items WHERE data_class = 'secret'"))

    @staticmethod
    def _logged(conn: Any) -> bool:
        """The triggers and the column of migration 0029 are in place."""
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "        WHERE c.oid = to_regclass('credit_records') AND t.tgname = ANY(%s)), "
            "       (SELECT COUNT(*) FROM pg_attribute WHERE attrelid = to_regclass('credit_records') "
            "        AND attname = 'written_xid' AND NOT attisdropped)", (list(TRIGGERS),)).fetchone()
        return bool(row and row[0] == len(TRIGGERS) and row[1] == 1)

    @staticmethod
    def _manifest(conn: Any) -> list[Segment]:
        return [Segment(*r) for r in conn.execute(_MANIFEST + " ORDER BY after_id")]

    def logged(self) -> bool:
        with pg_connect(self.url) as conn:
            return self._logged(conn)

    @staticmethod
    def _unseen_sql(segs: list[Segment]) -> str:
        """Ids the segment holding them has not seen as they are now: changed or deleted
        by a transaction its snapshot could not see, or inserted by one. Each id is
        checked against its own segment only (an appended segment holds rows the first
        one never saw, correctly). The inserted ones are found through the BRIN index: a
        transaction a snapshot cannot see is at least that snapshot's xmin."""
        parts = []
        for seg in segs:
            snap, xmin = quote(str(seg.snapshot)), int(str(seg.snapshot).split(":")[0])
            ids = f"BETWEEN {seg.after_id + 1} AND {seg.max_id}"
            parts.append(f"SELECT record_id AS id FROM record_changes WHERE record_id {ids} AND xid IS NOT NULL "
                         f"AND {_unseen('xid', snap)}")
            parts.append(f"SELECT id FROM credit_records WHERE id {ids} AND written_xid >= {xmin} "
                         f"AND {_unseen('written_xid', snap)}")
        return " UNION ".join(parts)

    def look(self, place: Place) -> Look:
        with self._reading() as conn:
            secret = self._secret(conn)
            segs = self._manifest(conn)
            complete = bool(segs) and intact(place, segs, secret) and all(s.snapshot for s in segs)
            store_max = conn.execute("SELECT COALESCE(MAX(id), 0) FROM credit_records").fetchone()[0]
            overlay = 0
            if complete:
                overlay = conn.execute(f"SELECT COUNT(*) FROM ({self._unseen_sql(segs)}) u").fetchone()[0]
        return Look(secret, segs, complete, store_max, overlay)

    def write(self, place: Place, after: int, look: Look) -> Segment:
        """Records after `after` as the snapshot of one REPEATABLE READ transaction holds
        them, COPYed out as CSV into a local file and turned into Parquet by DuckDB
        (spilling to disk: memory stays flat whatever the size), then put in place."""
        place.ensure()
        # Work files (the CSV, DuckDB's spill, the Parquet file) inside a local place, so
        # the finished file is renamed into it, never moved across filesystems.
        with tempfile.TemporaryDirectory(prefix=".creditgov-segment-", dir=place.local) as tmp:
            csv_path = Path(tmp) / "records.csv"
            with self._reading() as conn:
                snapshot, store_max = conn.execute(
                    "SELECT pg_current_snapshot()::text, (SELECT COALESCE(MAX(id), 0) FROM credit_records)").fetchone()
                secret = self._secret(conn)
                where = f"id > {after} AND id <= {store_max}"
                if secret:
                    where += " AND item_code NOT IN (" + ", ".join("'" + c.replace("'", "''") + "'"
                                                                    for c in secret) + ")"
                with open(csv_path, "wb") as f, conn.cursor().copy(
                        f"COPY (SELECT {PG_COLUMNS} FROM credit_records WHERE {where}) "
                        "TO STDOUT WITH (FORMAT csv)") as cp:
                    for chunk in cp:
                        f.write(chunk)
            name = new_name(after, store_max)
            local = str(Path(tmp) / name)
            rows = _csv_to_parquet(csv_path, local)
            place.put(local, name)
        return Segment(0, name, after, store_max, rows, 0, ",".join(secret), snapshot)

    def commit(self, seen: list[Segment], whole: bool, seg: Segment) -> list[Segment] | None:
        with pg_connect(self.url, autocommit=False) as conn:
            try:
                conn.execute("LOCK TABLE record_segments IN SHARE ROW EXCLUSIVE MODE")
                if [s.id for s in self._manifest(conn)] != [s.id for s in seen]:
                    conn.rollback()
                    return None
                if whole:
                    conn.execute("DELETE FROM record_segments")
                conn.execute("INSERT INTO record_segments (file_name, after_id, max_id, rows, change_seq, excluded, "
                             "snapshot, created_at) VALUES (%s, %s, %s, %s, 0, %s, %s, %s)",
                             (seg.file_name, seg.after_id, seg.max_id, seg.rows, seg.excluded, seg.snapshot,
                              now()))
                live = self._manifest(conn)
                # Changes the segment holding their record has seen are no longer needed; nor
                # are committed changes of records past every segment (any later copy sees them).
                conn.execute("DELETE FROM record_changes c WHERE c.xid IS NOT NULL AND "
                             f"({_foreign('c.xid')} OR NOT EXISTS (SELECT 1 FROM record_segments s "
                             "WHERE c.record_id > s.after_id AND c.record_id <= s.max_id "
                             "AND NOT pg_visible_in_snapshot(c.xid::text::xid8, s.snapshot::pg_snapshot)))")
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        return live

    def summarize(self) -> None:
        """Let PostgreSQL find the overlay (records a segment could not see) from the
        `written_xid` BRIN index instead of reading every record in the segments' range:
        summarize the block ranges written since the last summary (a BRIN index reports
        every unsummarized range as a match, and after a large load that is all of them)
        and refresh the planner's statistics of the two columns the overlay query filters
        on (stale ones, right after a load, made it read the whole table by the primary
        key: 2 s a look at 1.7 M records, against a millisecond). Done after each segment
        is committed (segments.refresh, after the manifest's commit), which has just read
        those records anyway. A role that may not (it does not own the table), or a lock
        held longer than 5 s (a VACUUM or index build): the slower plan until the next
        segment, logged, nothing else changes."""
        import psycopg

        try:
            with pg_connect(self.url) as conn:
                conn.execute("SET lock_timeout = '5s'")
                conn.execute("SELECT brin_summarize_new_values('ix_credit_records_written_xid'::regclass)")
                conn.execute("ANALYZE credit_records (id, written_xid)")
        except psycopg.Error as exc:
            log.warning("could not summarize the written_xid index or analyze credit_records: %s", exc)

    def tail(self, after: int) -> tuple[int, int, list[str]]:
        """As SqliteLog.tail, in one snapshot."""
        with self._reading() as conn:
            secret = self._secret(conn)
            n, top = conn.execute("SELECT (SELECT COUNT(*) FROM credit_records WHERE id > %s "
                                  "AND NOT (item_code = ANY(%s))), (SELECT COALESCE(MAX(id), 0) FROM credit_records)",
                                  (after, secret)).fetchone()
        return int(n), int(top), secret

    def read(self, place: Place) -> Copy:
        with self._reading() as conn:
            secret = self._secret(conn)
            segs = self._manifest(conn) if self._logged(conn) else []
            if segs and not (all(s.snapshot for s in segs) and intact(place, segs, secret)):
                segs = []
            snapshot, store_max = conn.execute(
                "SELECT pg_current_snapshot()::text, (SELECT COALESCE(MAX(id), 0) FROM credit_records)").fetchone()
            tail_after = segs[-1].max_id if segs else 0
            overlay: list[int] = []
            if segs:
                overlay = sorted(r[0] for r in conn.execute(self._unseen_sql(segs)))
            hide = ""
            if secret:
                hide = " AND item_code NOT IN (" + ", ".join("'" + c.replace("'", "''") + "'" for c in secret) + ")"
            sql = f"SELECT {PG_COLUMNS} FROM credit_records WHERE id > {tail_after}{hide}"
            if overlay:
                # The ids found above, in the same snapshot: the overlay query runs once.
                sql += (f" UNION ALL SELECT {PG_COLUMNS} FROM credit_records "
                        f"WHERE id = ANY('{{{','.join(map(str, overlay))}}}'::bigint[]){hide}")
            fresh = copy_arrow(conn, sql, TEXT_SCHEMA)
        return Copy(place, segs, tail_after, overlay, fresh, secret, store_max, 0,
                    f"records<={store_max};snapshot={snapshot}")


def _csv_options(schema: pa.Schema) -> tuple[pacsv.ReadOptions, pacsv.ConvertOptions]:
    return (pacsv.ReadOptions(column_names=schema.names, block_size=1 << 24),
            pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True, null_values=[""],
                                 quoted_strings_can_be_null=False))


def copy_arrow(conn: Any, sql: str, schema: pa.Schema, params: Any = None) -> pa.Table:
    """A query's rows through COPY … TO STDOUT (CSV) as Arrow typed by `schema` — an
    order of magnitude faster than fetching rows through the driver. An unquoted empty
    field is NULL, a quoted one an empty text, as PostgreSQL writes them. `params` are
    bound by the driver (`%(name)s` or `%s` in `sql`)."""
    import io

    buf = io.BytesIO()
    with conn.cursor().copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as cp:
        for chunk in cp:
            buf.write(chunk)
    if buf.tell() == 0:
        return schema.empty_table()
    buf.seek(0)
    read, convert = _csv_options(schema)
    return pacsv.read_csv(buf, read_options=read, convert_options=convert)


def _csv_to_parquet(csv_path: Path, out: str) -> int:
    """PostgreSQL's CSV of PG_COLUMNS as a segment file, written by DuckDB exactly as the
    SQLite reader writes one (same types, sorted by item, row groups of ROW_GROUP_ROWS),
    spilling to the file's folder rather than holding the copy in memory. An unquoted
    empty field is NULL, a quoted one an empty text, as PostgreSQL wrote them; the value
    goes through its text form into the decimal."""
    con = duck_connect(spill=csv_path.parent / "spill")
    try:
        src = (f"read_csv({quote(str(csv_path))}, header = false, auto_detect = false, delim = ',', "
               f"columns = {CSV_TYPES}, nullstr = '', "
               "quote = '\"', escape = '\"', allow_quoted_nulls = false)")
        row = con.execute(f"COPY (SELECT {FROM_TEXT} FROM {src} ORDER BY item_code, id) TO {quote(out)} "
                          f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0
