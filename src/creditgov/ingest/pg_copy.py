"""PostgreSQL's half of `BatchWriter.flush`: stored records matched by one query a chunk.

When a source already has records, every pending record's natural key is looked up
among the current stored records (a new record, a duplicate or a correction). On
SQLite that is a query per 900 keys; here one query a chunk takes the keys as an array
(`current_records`), and the versions a correction replaces are marked not current by
one `UPDATE` over their ids. The classification itself stays in writer.py, the same on
both databases.

A source's first file (no stored record to match) writes its records through one
`RecordStream`: a single `COPY` kept open across the batch's chunks instead of one per
chunk. Ending a `COPY` waits until the server has inserted every row sent, so with one
per chunk the writer and PostgreSQL took turns — the writer resolving a chunk while the
server idled, the server inserting while the writer waited (0.70–0.74 of a bare COPY of
the same rows). With the stream open, the server inserts what the socket holds while
the writer resolves the next chunk. Where the role may, the stream's COPYs run without
PostgreSQL's per-row foreign-key checks, which queued at each COPY's end cost more than
the insert: the batch checks every subject, item, department and batch its rows name
once, locking them as the per-row check would, before it commits (`references`,
core.db.References); the matching path's inserts do the same (writer.py). The stream
ends before any other statement of the transaction (an SQLAlchemy statement ends it by
itself; writer.py ends it before its own COPYs), and a rollback aborts it, so the
file's transaction is one unit as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from creditgov.core.db import References, refuse_busy, set_row_triggers
from creditgov.records.models import CreditRecord

if TYPE_CHECKING:
    import psycopg


def _pg(session: Session) -> psycopg.Connection[Any]:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None  # the session's connection is checked out, so its DBAPI connection is live
    # The PostgreSQL driver is psycopg 3 (core.settings), whose cursors have COPY.
    pg = cast("psycopg.Connection[Any]", raw)
    refuse_busy(pg)
    return pg


def current_records(session: Session, keys: Iterable[str]) -> dict[str, tuple[int, str, int]]:
    """natural key -> (id, content hash, version) of the current stored record, for `keys`.

    The keys go as one array compared with `= ANY`, which PostgreSQL answers from the
    natural-key index (a bitmap scan: ~45 ms for a chunk of 5,000 keys against 1.7 M
    records). A join with a staging table of the keys, as before, let the planner
    choose a hash join over a scan of the whole table whenever its statistics lagged
    behind a large load (~400 ms a chunk, most of a second ingestion's time)."""
    distinct = list(set(keys))
    if not distinct:
        return {}
    with _pg(session).cursor() as cur:
        cur.execute("SELECT natural_key, id, content_hash, version FROM credit_records"
                    " WHERE natural_key = ANY(%s::text[]) AND is_current", (distinct,))
        return {nk: (rid, ch, ver) for nk, rid, ch, ver in cur.fetchall()}


def retire(session: Session, ids: Sequence[int]) -> None:
    """Mark the record versions that corrections replace as no longer current, at once
    (the caller expires them in the session, as for SQLite: writer.py)."""
    if not ids:
        return
    with _pg(session).cursor() as cur:
        cur.execute("UPDATE credit_records SET is_current = false WHERE id = ANY(%s)", (list(ids),))


class StreamAborted(Exception):
    """Sent to PostgreSQL as the reason a `RecordStream` was cut off (its transaction rolled back)."""


#: Rows per `COPY` of a stream: at this many the COPY is ended and the next write opens
#: another. PostgreSQL checks a row's foreign keys when its COPY ends and queues the
#: checks until then, so the queue (and the time to a refused row's error) stays bounded
#: on a file of millions of rows.
STREAM_ROWS = 100_000


class RecordStream:
    """One `COPY credit_records` kept open across a batch's chunks (module docstring).

    `write` opens it at the first rows; `end` finishes it (waiting for the server, and
    raising what the server refused); `abort` cuts it off. While it is open, any
    SQLAlchemy statement, commit or rollback on its connection ends or aborts it first:
    psycopg serves one command at a time per connection and would otherwise wait on
    itself."""

    def __init__(self, session: Session, columns: Sequence[str], constants: dict[str, object], *,
                 references: References | None = None) -> None:
        self.session = session
        self.tail = tuple(constants.values())
        self.sql = f"COPY {CreditRecord.__tablename__} ({', '.join([*columns, *constants])}) FROM STDIN"
        self._stack: ExitStack | None = None
        self._write: Any = None
        self._rows = 0  # sent through the open COPY
        self._watched: Connection | None = None  # the connection whose statements end the stream
        #: Given: COPY with the per-row triggers off, the rows' foreign-key values noted
        #: there, to be checked once for the whole batch (`References.check`) before it
        #: commits.
        self.references = references
        self._pg: Any = None

    @property
    def open(self) -> bool:
        return self._stack is not None

    def write(self, rows: Sequence[Sequence[object]]) -> None:
        if not rows:
            return
        if self._stack is None:
            self._start()
        write, tail = self._write, self.tail
        if self.references is not None:
            self.references.note(rows)
        try:
            for r in rows:
                write((*r, *tail))
        except BaseException as exc:
            self._stop(exc)
            raise
        self._rows += len(rows)
        if self._rows >= STREAM_ROWS:
            self.end()

    def end(self) -> None:
        """Finish the COPY: every row sent is inserted (or the server's refusal raised)."""
        self._stop(None)

    def abort(self) -> None:
        self._stop(StreamAborted("the ingestion's transaction was rolled back"))

    def _start(self) -> None:
        conn = self.session.connection()
        if self._watched is not conn:
            # Listening for the connection's life (an SQLAlchemy connection lasts one
            # transaction of the session): a listener cannot be removed while it runs.
            event.listen(conn, "before_cursor_execute", self._before_statement)
            event.listen(conn, "commit", self._before_statement)
            event.listen(conn, "rollback", self._before_rollback)
            self._watched = conn
        pg = self._pg = _pg(self.session)
        if self.references is not None:
            set_row_triggers(pg, False)
        with ExitStack() as stack:
            cur = stack.enter_context(pg.cursor())
            copy = stack.enter_context(cur.copy(self.sql))
            self._stack, self._write, self._rows = stack.pop_all(), copy.write_row, 0

    def _stop(self, exc: BaseException | None) -> None:
        stack = self._stack
        if stack is None:
            return
        self._stack = self._write = None
        if exc is None:
            stack.close()
            if self.references is not None:  # the transaction's other statements keep their triggers
                set_row_triggers(self._pg, True)
        else:  # the transaction rolls back, which undoes the SET LOCAL too
            stack.__exit__(type(exc), exc, exc.__traceback__)

    def _before_statement(self, *_args: Any) -> None:
        self.end()

    def _before_rollback(self, *_args: Any) -> None:
        self.abort()
