"""The two kinds of unit of work on SQLite, and WAL checkpoints off the request path,
on a real SQLite file with real concurrent connections."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from creditgov.core import db
from creditgov.security import service as audit
from tests import store_template


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'creditgov.db'}"
    store_template.fill(url)
    return url


def _other_writer(url: str) -> sqlite3.Connection:
    con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    return con


def _holds_the_lock_until_commit(session: Session, other: sqlite3.Connection) -> None:
    """Another writer must wait while the session is open, and may write once it commits."""
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    session.commit()
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")


def test_ordinary_session_holds_the_write_lock_from_its_first_read(sqlite_store: str) -> None:
    other = _other_writer(sqlite_store)
    session = db.session_factory(sqlite_store)()
    try:
        session.execute(text("SELECT count(*) FROM audit_entries")).scalar()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        session.rollback()
        session.close()
        other.close()


def test_append_only_session_reads_without_the_lock_and_takes_it_to_append(sqlite_store: str) -> None:
    other = _other_writer(sqlite_store)
    session = db.append_only_session_factory(sqlite_store)()
    try:
        before = session.execute(text("SELECT count(*) FROM audit_entries")).scalar()
        # Reading took no lock: another process may write meanwhile …
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE scratch (x INTEGER)")
        other.execute("COMMIT")
        # … and the append takes it, so now the other writer must wait.
        audit.append(session, action="test.append", actor="tester")
        _holds_the_lock_until_commit(session, other)
    finally:
        session.close()
        other.close()
    with db.session_scope(sqlite_store) as s:
        assert s.execute(text("SELECT count(*) FROM audit_entries")).scalar() == before + 1


def test_append_only_session_takes_the_lock_at_a_savepoint(sqlite_store: str) -> None:
    """A savepoint opens SQLite's transaction when none is open; in an append-only unit
    it is the start of its writes, so it takes the write lock there, not a deferred
    read transaction that would fail to upgrade when another writer got in first."""
    other = _other_writer(sqlite_store)
    session = db.append_only_session_factory(sqlite_store)()
    try:
        session.execute(text("SELECT count(*) FROM audit_entries")).scalar()
        session.connection().execute(text("SAVEPOINT work"))
        session.connection().execute(text("ROLLBACK TO SAVEPOINT work"))
        _holds_the_lock_until_commit(session, other)
    finally:
        session.close()
        other.close()


def test_concurrent_append_only_audits_keep_one_unbroken_chain(sqlite_store: str) -> None:
    """The last hash is read under the write lock, so racing appends never fork the chain."""
    factory = db.append_only_session_factory(sqlite_store)
    errors: list[BaseException] = []

    def appender(n: int) -> None:
        try:
            for i in range(25):
                s = factory()
                try:
                    s.execute(text("SELECT count(*) FROM subjects")).scalar()  # read first, as a file read does
                    audit.append(s, action="test.race", actor=f"t{n}", detail={"i": i})
                    s.commit()
                finally:
                    s.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.session_scope(sqlite_store) as s:
        r = audit.verify(s)
        assert r.ok, r.reason
        assert s.execute(text("SELECT count(*) FROM audit_entries WHERE action = 'test.race'")).scalar() == 100


def _fill(url: str, n: int) -> None:
    with db.session_scope(url) as s:
        for i in range(n):
            audit.append(s, action="test.fill", actor="tester", detail={"pad": "x" * 2000, "i": i})


def test_background_checkpoints_take_checkpoints_off_commits(sqlite_store: str) -> None:
    main_file = Path(sqlite_store.removeprefix("sqlite:///"))
    # Without the thread, ~400 kB of commits stay in the WAL (SQLite's own checkpoint
    # waits for ~4 MB), and the database file does not grow.
    size = main_file.stat().st_size
    _fill(sqlite_store, 200)
    time.sleep(0.3)
    assert main_file.stat().st_size == size
    cp = db.BackgroundCheckpoints(sqlite_store, interval=0.05).start()
    try:
        with db.session_scope(sqlite_store) as s:
            assert s.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        _fill(sqlite_store, 200)
        deadline = time.monotonic() + 10
        while main_file.stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.05)
        assert main_file.stat().st_size > size  # the thread copied the WAL back
    finally:
        cp.stop()
    with db.session_scope(sqlite_store) as s:
        assert s.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
