"""Database engine, sessions and the declarative base shared by every domain.

One schema for SQLite and PostgreSQL: portable types only, and a naming convention so
Alembic's batch mode can rebuild SQLite tables.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from creditgov.core import files
from creditgov.core.errors import ConfigError, IntegrityError

if TYPE_CHECKING:
    import psycopg

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-200000")
    cur.close()


APPEND_ONLY = "creditgov_append_only"
# Statements that start a write (by their first six letters). A savepoint counts: in
# SQLite it opens a transaction when none is open, and it is taken to write after it.
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLAC", "SAVEPO"})


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for an in-memory database or another
    kind of database."""
    if not url.startswith("sqlite"):
        return None
    u = make_url(url)
    name = u.database
    if not name or name == ":memory:" or u.query.get("mode") == "memory" or name.startswith("file::memory:"):
        return None
    return Path(name.removeprefix("file:").split("?")[0])


def prepare_sqlite_file(url: str) -> None:
    """Before SQLite opens a file database: its folder must exist (SQLite's own
    "unable to open database file" came up as a long traceback from deep inside the
    first query), and the file is the owner's alone (`core.files`): created 0600, and
    narrowed to that when found wider. SQLite gives the WAL and shared-memory files it
    creates the database file's mode, so those follow; ones found wider are narrowed."""
    path = sqlite_file(url)
    if path is None:
        return
    if not path.parent.is_dir():
        raise ConfigError(f"the database folder {path.parent} does not exist: create it, or name another "
                          f"database with --db or CREDITGOV_DB")
    files.create_private(path)
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        files.restrict(f)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        prepare_sqlite_file(url)
        eng = create_engine(url, future=True)
        event.listen(eng, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, open transactions, so BEGIN is explicit and
        # a whole batch is one atomic unit.
        @event.listens_for(eng, "connect")
        def _no_autobegin(dbapi_conn, _rec):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None

        event.listen(eng, "checkout", _checkout(url))

        @event.listens_for(eng, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            if not conn.get_execution_options().get(APPEND_ONLY):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(eng, "before_cursor_execute")
        def _write_begins(conn, cursor, statement, _params, _context, _many):  # pragma: no cover - trivial
            # An append-only unit reads without a transaction and takes the write lock
            # at its first write (see append_only_session_factory).
            if (conn.get_execution_options().get(APPEND_ONLY) and not cursor.connection.in_transaction
                    and statement.lstrip()[:6].upper() in _WRITES):
                cursor.connection.execute("BEGIN IMMEDIATE")

        return eng
    return create_engine(url, future=True, pool_pre_ping=True)


class BackgroundCheckpoints:
    """SQLite's WAL checkpoints moved off the request path.

    By default the connection whose commit pushes the WAL past ~1,000 pages copies it
    back into the database file, so one request in a few hundred pays several
    milliseconds for everyone's writes. A long-running process (the API server, the
    worker) instead turns automatic checkpoints off on its connections and runs a
    PASSIVE checkpoint, which never blocks readers or writers, twice a second on a
    connection of its own. No-op for PostgreSQL and in-memory databases."""

    _active: set[str] = set()

    def __init__(self, url: str, interval: float = 0.5) -> None:
        self.url, self.interval = url, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def applies(self) -> bool:
        return self.url.startswith("sqlite") and ":memory:" not in self.url and self.url not in ("sqlite://",)

    def start(self) -> BackgroundCheckpoints:
        if not self.applies or self._thread is not None:
            return self
        BackgroundCheckpoints._active.add(self.url)
        path = make_url(self.url).database

        def run() -> None:
            assert path is not None  # a file database (see `applies`) has a path
            con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA busy_timeout=1000")
            try:
                while not self._stop.wait(self.interval):
                    with suppress(sqlite3.OperationalError):
                        con.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                con.close()

        self._thread = threading.Thread(target=run, daemon=True, name="sqlite-checkpoints")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._thread = None
        BackgroundCheckpoints._active.discard(self.url)


def _checkout(url: str) -> Callable[..., None]:
    def on_checkout(dbapi_conn, record, _proxy) -> None:  # pragma: no cover - trivial
        want = url in BackgroundCheckpoints._active
        if record.info.get("background_checkpoints", False) != want:
            dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={0 if want else 1000}")
            record.info["background_checkpoints"] = want
    return on_checkout


def session_factory(url: str) -> sessionmaker[Session]:
    # One sessionmaker per engine, kept on the engine so it lives and dies with it:
    # building one creates a Session subclass and its event dispatch, which costs more
    # than a short unit of work such as a credit check.
    engine = engine_for(url)
    factory: sessionmaker[Session] | None = getattr(engine, "_creditgov_sessionmaker", None)
    if factory is None:
        factory = sessionmaker(bind=engine, expire_on_commit=False, future=True)
        engine._creditgov_sessionmaker = factory  # type: ignore[attr-defined]  # a cache slot of ours on the Engine instance
    return factory


def append_only_session_factory(url: str) -> sessionmaker[Session]:
    """Sessions for units of work that read, then only append (an audited read, a
    credit check): on SQLite they read outside a transaction, each statement seeing
    the latest committed data, and take the write lock only at their first INSERT,
    so the lock is held for the appends and the commit rather than the whole unit.
    A unit that reads, decides and then changes what it read must use the ordinary
    sessions, whose transaction holds the write lock from the start. On PostgreSQL
    both kinds are the same."""
    engine = engine_for(url)
    factory: sessionmaker[Session] | None = getattr(engine, "_creditgov_append_only_sessionmaker", None)
    if factory is None:
        bind = engine.execution_options(**{APPEND_ONLY: True}) if url.startswith("sqlite") else engine
        factory = sessionmaker(bind=bind, expire_on_commit=False, future=True)
        engine._creditgov_append_only_sessionmaker = factory  # type: ignore[attr-defined]  # a cache slot of ours on the Engine instance
    return factory


def begin_writing(conn: Connection) -> None:
    """Take the write lock now in an append-only unit, before a read that a write
    depends on (the audit chain reads the last hash, then appends after it). A no-op
    in ordinary units, which hold the lock from their start."""
    if conn.get_execution_options().get(APPEND_ONLY):
        raw = conn.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")


@contextmanager
def session_scope(url: str, *, append_only: bool = False) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error
    (`append_only`: a session from `append_only_session_factory`)."""
    session = (append_only_session_factory if append_only else session_factory)(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _sqlite_value(v: object) -> object:
    # The storage forms SQLAlchemy itself uses for SQLite, so ORM reads see the same values.
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, bool):
        return int(v)
    return v


def pg_params(url: str) -> dict[str, Any]:
    """The libpq connection parameters of the PostgreSQL store at `url`: host (default
    localhost), port, dbname, user, password when given, and the URL's query settings,
    which win as in libpq (a `host=/run/postgresql` socket, `sslmode`, `options` …)."""
    u = make_url(url)
    kw: dict[str, Any] = {"host": u.host or "localhost", "port": u.port or 5432, "dbname": u.database,
                          "user": u.username}
    if u.password:
        kw["password"] = u.password
    for k, v in u.query.items():
        kw[k] = v if isinstance(v, str) else v[0]
    return kw


def pg_connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A plain psycopg connection to the PostgreSQL store at `url` (COPY-heavy readers
    that need no ORM: evaluation snapshots, record segments)."""
    import psycopg

    kw = pg_params(url)
    # COPY prints dates as the session's DateStyle says; readers parse ISO.
    kw["options"] = f"{kw.get('options', '')} -c DateStyle=ISO".strip()
    return psycopg.connect(**kw, autocommit=autocommit)


def refuse_busy(pg: psycopg.Connection[Any]) -> None:
    """Refuse a PostgreSQL connection in the middle of a command (a COPY still open on
    it, as ingestion's record stream keeps one): psycopg would wait for ever on its own
    lock, so say so instead."""
    from psycopg import pq

    if pg.info.transaction_status == pq.TransactionStatus.ACTIVE:
        raise RuntimeError("the connection is in the middle of a COPY: end it (the record stream) first")


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]],
                *, stored_form: bool = False, constants: dict[str, object] | None = None) -> None:
    """Insert many rows inside the session's transaction, bypassing per-row ORM work:
    executemany on SQLite, COPY on PostgreSQL. Columns must be plain (no defaults
    computed in Python) and rows tuples in `columns` order. `stored_form` says the
    values are already text/numbers as SQLite stores them (ISO dates, decimal strings,
    0/1), which both databases accept. `constants` are columns with the same value in
    every row, in stored form: SQLite gets them as literals in the statement, so each
    row binds only what varies."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect.name
    raw = conn.connection.dbapi_connection
    assert raw is not None  # the session's connection is checked out, so its DBAPI connection is live
    consts = dict(constants or {})
    if dialect == "sqlite":

        def literal(v: object) -> str | None:
            """A constant as an SQLite literal, or None when it is better bound."""
            if v is None:
                return "NULL"
            if isinstance(v, bool | int):
                return str(int(v))
            if isinstance(v, str) and "\x00" not in v:
                return "'" + v.replace("'", "''") + "'"
            return None

        literals = {k: lit for k, v in consts.items() if (lit := literal(v)) is not None}
        bound = [k for k in consts if k not in literals]
        if bound:  # rare: a constant that cannot be a literal is bound like the rest
            tail = tuple(consts[k] for k in bound)
            rows = [(*r, *tail) for r in rows]
        names = [*columns, *bound, *literals]
        values = ", ".join(["?"] * (len(columns) + len(bound)) + list(literals.values()))
        cur = raw.cursor()
        try:
            data = rows if stored_form else [tuple(_sqlite_value(v) for v in r) for r in rows]
            cur.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({values})", data)
        finally:
            cur.close()
    elif dialect == "postgresql":
        cols = ", ".join([*columns, *consts])
        tail = tuple(consts.values())
        # The PostgreSQL driver is psycopg 3 (core.settings), whose cursors have COPY.
        pg = cast("psycopg.Connection[Any]", raw)
        refuse_busy(pg)
        with pg.cursor() as pg_cur, pg_cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as cp:
            write = cp.write_row
            if tail:
                for r in rows:
                    write((*r, *tail))
            else:
                for r in rows:
                    write(r)
    else:  # any other database: the portable path
        names = [*columns, *consts]
        tail = tuple(consts.values())
        session.execute(table.insert(), [dict(zip(names, (*r, *tail), strict=True)) for r in rows])


#: Per engine (one store, one role): whether the role may skip the per-row triggers (key
#: None), and per table whether it has no INSERT trigger of its own.
_SKIP_ALLOWED: weakref.WeakKeyDictionary[Engine, dict[str | None, bool]] = weakref.WeakKeyDictionary()


def may_skip_row_triggers(session: Session, table: Table) -> bool:
    """Whether a bulk load into `table` may turn off PostgreSQL's per-row triggers
    (`session_replication_role`) and check its foreign keys once instead: the role is a
    superuser, or on PostgreSQL 15+ was granted `SET ON PARAMETER
    session_replication_role`; and the table has no trigger of its own on INSERT (which
    the load would skip too — only the foreign keys' are made up for). Asked once per
    engine and table: a grant or a trigger changed while the process runs is seen by
    the next process."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return False
    known = _SKIP_ALLOWED.setdefault(conn.engine, {})
    if None not in known:  # the role's privilege, once per engine
        if int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) >= 150000:
            sql = "SELECT has_parameter_privilege('session_replication_role', 'SET')"
        else:
            sql = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        known[None] = bool(conn.exec_driver_sql(sql).scalar_one())
    if table.name not in known:  # the table's own INSERT triggers, once per table
        own = conn.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(%(t)s) "
                                   "AND NOT tgisinternal AND (tgtype & 4) <> 0",  # TRIGGER_TYPE_INSERT
                                   {"t": _ident(table.name)}).scalar_one()
        known[table.name] = not own
    return known[None] and known[table.name]


def foreign_keys(table: Table) -> dict[str, Column[Any]]:
    """A table's foreign keys as the metadata declares them: column name -> the
    referenced column. Single-column keys only (a composite key would need its columns
    checked together: refused rather than checked one by one)."""
    for fkc in table.foreign_key_constraints:
        if len(fkc.column_keys) != 1:
            raise ValueError(f"{table.name}: composite foreign key {fkc.column_keys} cannot be checked in bulk")
    return {fk.parent.name: fk.column for fk in table.foreign_keys}


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii() or name[0].isdigit():
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


def set_row_triggers(session_or_pg: Session | Any, on: bool) -> None:
    """Turn this transaction's per-row triggers (foreign keys among them) off or back
    on: `SET LOCAL session_replication_role`, which a rollback undoes. Only for a bulk
    load whose keys `lock_references` then checks; see `may_skip_row_triggers`."""
    sql = f"SET LOCAL session_replication_role = {'origin' if on else 'replica'}"
    if isinstance(session_or_pg, Session):
        session_or_pg.connection().exec_driver_sql(sql)
    else:  # a psycopg connection (a COPY stream's own)
        session_or_pg.execute(sql)


@contextmanager
def row_triggers_off(session: Session, off: bool = True) -> Iterator[None]:
    """`set_row_triggers` off for the statements inside (when `off`), back on after them
    — also when one raises without aborting the transaction, so a caller that goes on
    does not go on unchecked (an aborted transaction's rollback undoes the SET LOCAL)."""
    if not off:
        yield
        return
    set_row_triggers(session, False)
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the transaction may be aborted: its rollback restores them
            set_row_triggers(session, True)
        raise
    set_row_triggers(session, True)


@dataclass(frozen=True)
class RowsOf:
    """The values a bulk load put into a foreign-key column, as a query of the store
    naming one column (a load staged in another table): `lock_references` checks them
    there, without fetching them."""
    sql: str


def lock_within(session: Session, table: str, mode: str, ms: int, previous: str | None = None) -> bool:
    """`LOCK TABLE table IN mode MODE` in the session's transaction, waited for `ms` at
    most: False (the transaction still usable) when it was not granted in time. The
    session's lock timeout is put back afterwards (`previous`, else read here)."""
    conn = session.connection()
    if previous is None:
        previous = conn.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar_one()
    try:
        with session.begin_nested():  # the savepoint is taken by the session's connection()
            inner = session.connection()
            inner.exec_driver_sql(f"SET LOCAL lock_timeout = {int(ms)}")
            inner.exec_driver_sql(f"LOCK TABLE {table} IN {mode} MODE")
    except DBAPIError as exc:  # the savepoint's rollback restored the timeout
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        return False
    conn.exec_driver_sql("SELECT set_config('lock_timeout', %(v)s, true)", {"v": previous})
    return True


KEPT_FUNCTION = "creditgov_keys_kept"  # the keys-kept triggers' function (migration 0030)
KEPT_LOCK_MS = 2000  # waited for the table's lock before falling back to row locks


def keys_kept(session: Session, table: Table, key: str = "id") -> bool:
    """Whether no row of `table` can be deleted nor its `key` changed until this
    transaction ends, so that a row found now is still there at the commit:

    - the table names its guarding trigger (`info["keys_kept"]`; subjects: migration
      0030), and that trigger is as made — before each row's DELETE and UPDATE of `key`,
      no condition, the keys-kept function — and fires for ordinary sessions;
    - the table is held in ROW EXCLUSIVE mode, the mode its writers take (no INSERT,
      UPDATE or DELETE waits for it), so nobody can disable, drop or re-create the
      trigger before this transaction ends; DDL that takes a SHARE lock on the table
      (CREATE INDEX, a new foreign key to it) waits for the load, as it waits for any
      writer. The lock is waited for `KEPT_LOCK_MS` at most;
    - the transaction is READ COMMITTED, so the check's snapshot is taken after that
      lock (a REPEATABLE READ snapshot may predate a delete made with the trigger off).

    Otherwise — or for a role without a table-wide write privilege to take the lock —
    False, and the caller locks the rows themselves. Not guarded against: a session
    that turns triggers off (`session_replication_role = replica`), which skips the
    foreign keys' own triggers as well, and the function's owner replacing its body."""
    trigger = table.info.get("keys_kept")
    conn = session.connection()
    if not trigger or conn.dialect.name != "postgresql":
        return False
    name = _ident(table.name)
    may, timeout = conn.exec_driver_sql(  # the lock's timeout now, to put back after the wait
        "SELECT current_setting('transaction_isolation') = 'read committed' "
        "AND coalesce(has_table_privilege(to_regclass(%(t)s), 'INSERT, UPDATE, DELETE, TRUNCATE'), false), "
        "current_setting('lock_timeout')", {"t": name}).one()
    if not may:
        return False
    if not lock_within(session, name, "ROW EXCLUSIVE", KEPT_LOCK_MS, timeout):
        return False
    # tgtype: ROW 1, BEFORE 2, DELETE 8, UPDATE 16 (INSTEAD 64 must be clear); tgattr: the
    # UPDATE's columns (none: every column)
    return bool(conn.exec_driver_sql(
        "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid = to_regclass(%(t)s) AND t.tgname = %(n)s AND t.tgenabled IN ('O', 'A') "
        "AND (t.tgtype & 91) = 27 AND t.tgqual IS NULL AND p.proname = %(f)s "
        "AND (cardinality(t.tgattr::int2[]) = 0 OR (SELECT a.attnum FROM pg_attribute a "
        "WHERE a.attrelid = t.tgrelid AND a.attname = %(k)s) = ANY (t.tgattr::int2[]))",
        {"t": name, "n": trigger, "f": KEPT_FUNCTION, "k": key}).scalar_one())


def lock_references(session: Session, table: Table,
                    values: Mapping[str, Collection[object] | RowsOf]) -> None:
    """The foreign keys of a bulk load into `table`, checked once for the load: `values`
    gives, for every foreign-key column of the table (`foreign_keys`, from the
    metadata; a column the load leaves NULL gets an empty set), the values the load's
    rows put there. Every row they name is found and locked `FOR KEY SHARE` — the lock
    PostgreSQL's per-row check takes, so none can be removed or re-keyed before the
    commit — or, in a table whose keys are kept (`keys_kept`: subjects), found without
    a lock on each. A value that names no row raises `IntegrityError`, and the load's
    transaction must then roll back; a foreign key left out raises `ValueError`. A
    `RowsOf` gives the values as a query, checked inside the store."""
    keys = foreign_keys(table)
    if set(values) != set(keys):
        raise ValueError(f"{table.name}: the load must give the values of every foreign key "
                         f"{sorted(keys)}, not {sorted(values)}")
    conn = session.connection()
    for column, named in values.items():
        target = keys[column]
        name, key = _ident(target.table.name), _ident(target.name)
        if isinstance(named, RowsOf):
            source, params = f"SELECT DISTINCT v FROM ({named.sql}) AS q(v) WHERE v IS NOT NULL", None
        else:
            distinct = list(set(named) - {None})
            if not distinct:
                continue
            # The array typed as the referenced column (psycopg sends a list of texts untyped);
            # texts as text, never a bounded varchar, which would cut a longer value to fit;
            # sent in binary (%b): a million ids in 0.7 s against 1.3 s as text.
            kind = "text" if isinstance(target.type, String) else target.type.compile(dialect=conn.dialect)
            source, params = f"SELECT v FROM unnest(%(v)b::{kind}[]) AS u(v)", {"v": distinct}
        lock = "" if keys_kept(session, target.table, target.name) else " FOR KEY SHARE OF t"
        found, wanted = conn.exec_driver_sql(
            f"WITH u(v) AS ({source}) SELECT (SELECT count(*) FROM (SELECT 1 FROM {name} t JOIN u "
            f"ON t.{key} = u.v{lock}) l), (SELECT count(*) FROM u)", params).one()
        if found != wanted:
            missing = conn.exec_driver_sql(
                f"SELECT u.v FROM ({source}) u WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE t.{key} = u.v) "
                "LIMIT 1", params).scalar()
            raise IntegrityError(f"{name}.{key} = {missing!r} does not exist "
                                 f"({wanted - found} value(s) of this load name no row); nothing was stored")


class References:
    """The foreign-key values a bulk load puts into `table`, gathered as its rows are
    written (`note`) and checked once before the load commits (`check`): for rows of
    `columns`, the load's `constants` (columns the same for every row) included. A
    foreign key the load gives no value for is NULL in its rows, so nothing to check —
    unless the column has a default, which the load would put there unchecked: refused."""

    def __init__(self, table: Table, columns: Sequence[str], constants: Mapping[str, object] | None = None) -> None:
        keys = foreign_keys(table)
        constants = constants or {}
        for name in keys:
            c = table.c[name]
            if name not in columns and name not in constants and (c.default is not None
                                                                   or c.server_default is not None):
                raise ValueError(f"{table.name}.{name}: a foreign key with a default must be given to check it in bulk")
        self.table = table
        self._at = [(name, columns.index(name)) for name in keys if name in columns]
        self.named: dict[str, set[object]] = {name: ({constants[name]} if name in constants else set())
                                              for name in keys}
        self.rows = 0

    def note(self, rows: Sequence[Sequence[object]]) -> None:
        for name, i in self._at:
            self.named[name].update(r[i] for r in rows)
        self.rows += len(rows)

    def check(self, session: Session) -> None:
        if self.rows:
            lock_references(session, self.table, self.named)
