"""A run's scores loaded with their foreign keys checked once for the run
(scoring/run_store.py: store_table, core/db.py: lock_references), on PostgreSQL: what the constraint guarantees still
holds — a missing subject is refused with nothing stored, and every referenced row stays
until the commit (a run locked, a subject kept by its trigger) — and a role without the privilege gets the database's own
row-by-row checks."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

import psycopg
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.orm import Session

from creditgov.core import db, schema
from creditgov.core.errors import IntegrityError
from creditgov.scoring import run_store
from creditgov.scoring.models import Score
from creditgov.subjects.models import Subject
from tests import store_template

TABLE = cast(Table, Score.__table__)


def _run(url: str) -> int:
    return store_template.new_run(url)


#: What the store step reads of a prepared model: one first-level indicator, weighted.
PREPARED: Any = SimpleNamespace(dims=(("integrity", {}, 0),), weighted=True)


def _put(s: Session, run: int, subjects: list[int]) -> str:
    """The run's scores stored by the product's step in the session's transaction; how
    their keys were checked: "bulk" (once for the run) or "row" (by the database)."""
    scores = pa.table({"subject_id": pa.array(subjects, pa.int64()), "score_centi": [6150] * len(subjects),
                       "grade": ["A"] * len(subjects), "colour": ["green"] * len(subjects),
                       "dim0": [3050] * len(subjects)})
    return run_store.store_table(s, PREPARED, run, scores)


def _load(url: str, run: int, subjects: list[int]) -> str:
    with db.session_scope(url) as s:
        return _put(s, run, subjects)


def _stored(url: str, run: int) -> int:
    with db.session_scope(url) as s:
        return s.execute(sa.select(sa.func.count()).select_from(Score).where(Score.run_id == run)).scalar_one()


@pytest.fixture()
def store(pg_url: str) -> str:
    schema.upgrade(pg_url)
    with db.session_scope(pg_url) as s:
        s.execute(sa.text("INSERT INTO subjects (id, kind, name, attributes, status, created_at, updated_at) "
                          "SELECT g, 'enterprise', 'subject ' || g, '{}', 'active', now(), now() "
                          "FROM generate_series(1, 5) g"))
    return pg_url


def _refused(c: sa.Connection, sql: str, params: tuple[Any, ...] = ()) -> str | None:
    """Run `sql` on `c` (lock waits cut at 300 ms); the SQLSTATE it failed with, rolled back."""
    c.exec_driver_sql("SET lock_timeout = '300ms'")
    try:
        c.exec_driver_sql(sql, params)
    except sa.exc.DBAPIError as exc:
        c.rollback()
        return cast(str | None, getattr(exc.orig, "sqlstate", None))
    c.rollback()
    return None


def test_the_keys_are_checked_for_the_run_and_hold_until_commit(store: str) -> None:
    run = _run(store)
    other = sa.create_engine(store, poolclass=sa.pool.NullPool)
    try:
        with db.session_scope(store) as s:
            assert db.may_skip_row_triggers(s, TABLE)  # the tests' role is a superuser
            how = _put(s, run, [1, 2, 3])
            assert how == "bulk"
            # The triggers are back on for the rest of the transaction.
            assert s.connection().exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
            with other.connect() as c:
                # The run is locked as the row trigger would: nobody can remove it before this
                # transaction ends.
                assert _refused(c, "DELETE FROM evaluation_runs WHERE id = %s", (run,)) == "55P03"  # lock_not_available
                # A subject is never re-keyed nor deleted (the trigger of migration 0030), and
                # nobody can turn that trigger off while the load is open...
                assert _refused(c, "UPDATE subjects SET id = 99 WHERE id = 2") == "23001"  # restrict_violation
                assert _refused(c, "DELETE FROM subjects WHERE id = 2") == "23001"
                assert _refused(c, "ALTER TABLE subjects DISABLE TRIGGER subjects_keys_kept") == "55P03"
                # ...so the subjects the run names were found without a lock on each: they
                # stay writable, and a new subject can be registered meanwhile.
                assert _refused(c, "UPDATE subjects SET name = 'renamed' WHERE id = 2") is None
                assert _refused(c, "SELECT 1 FROM subjects WHERE id = 2 FOR UPDATE") is None
                assert _refused(c, "INSERT INTO subjects (id, kind, name, attributes, status, created_at, "
                                   "updated_at) VALUES (6, 'enterprise', 'new', '{}', 'active', now(), now())") is None
    finally:
        other.dispose()
    assert _stored(store, run) == 3


def test_with_the_trigger_off_the_subjects_are_locked_as_before(store: str) -> None:
    """The unlocked check relies on the trigger: where an owner has turned it off, every
    subject the load names is locked `FOR KEY SHARE` until the commit, as the
    constraint's own row check would."""
    other = sa.create_engine(store, poolclass=sa.pool.NullPool)
    try:
        with other.begin() as c:
            c.exec_driver_sql("ALTER TABLE subjects DISABLE TRIGGER subjects_keys_kept")
        run = _run(store)
        with db.session_scope(store) as s:
            assert not db.keys_kept(s, cast(Table, Subject.__table__))
            assert _put(s, run, [1, 2, 3]) == "bulk"
            with other.connect() as c:
                assert _refused(c, "UPDATE subjects SET id = 99 WHERE id = 2") == "55P03"
                assert _refused(c, "DELETE FROM subjects WHERE id = 3") == "55P03"
                assert _refused(c, "DELETE FROM subjects WHERE id = 5") is None  # not the run's: not held
        assert _stored(store, run) == 3
    finally:
        other.dispose()


def test_a_subject_is_never_deleted_nor_re_keyed_on_postgresql(store: str) -> None:
    """The guarantee the unlocked check stands on, for every writer of the store."""
    with db.session_scope(store) as s, pytest.raises(sa.exc.IntegrityError, match="never deleted nor re-keyed"):
        s.execute(sa.text("DELETE FROM subjects WHERE id = 4"))
    with db.session_scope(store) as s, pytest.raises(sa.exc.IntegrityError, match=r"subjects: row 4 is never"):
        s.execute(sa.text("UPDATE subjects SET id = 40 WHERE id = 4"))
    with db.session_scope(store) as s:  # the id written again as it is, and other columns, change freely
        s.execute(sa.text("UPDATE subjects SET id = id, name = 'kept' WHERE id = 4"))
        assert s.execute(sa.text("SELECT name FROM subjects WHERE id = 4")).scalar_one() == "kept"


def test_a_missing_subject_is_refused_and_nothing_is_stored(store: str) -> None:
    run = _run(store)
    with pytest.raises(IntegrityError, match=r"subjects\.id = 42 does not exist"):
        _load(store, run, [1, 2, 42])
    assert _stored(store, run) == 0
    with pytest.raises(IntegrityError, match=r"evaluation_runs\.id = 987 does not exist"):
        _load(store, 987, [1])
    assert _stored(store, 987) == 0
    assert _load(store, run, [1, 2, 3, 4, 5]) == "bulk" and _stored(store, run) == 5


def test_a_role_without_the_privilege_gets_the_row_checks(store: str, pg_base: str) -> None:
    with store_template.login_role(store, pg_base, "cg_plain_", ["ALL ON ALL TABLES IN SCHEMA {schema}",
                                             "ALL ON ALL SEQUENCES IN SCHEMA {schema}"]) as plain:
        run = _run(store)
        with db.session_scope(plain) as s:
            assert not db.may_skip_row_triggers(s, TABLE)
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="foreign key"):  # the COPY's own error
            _load(plain, run, [1, 42])
        assert _stored(store, run) == 0
        assert _load(plain, run, [1, 2]) == "row" and _stored(store, run) == 2


def test_the_keys_checked_are_the_ones_the_metadata_declares(store: str) -> None:
    """The checked keys come from the table's declared foreign keys, so a key added to
    the schema is checked too: a load that leaves one out is refused before it runs,
    and a text key (credit_records' item code) is compared as the referenced column's
    type."""
    from creditgov.records.models import CreditRecord

    assert set(db.foreign_keys(TABLE)) == {"run_id", "subject_id"}
    records = cast(Table, CreditRecord.__table__)
    assert set(db.foreign_keys(records)) == {"subject_id", "item_code", "department_code", "batch_id"}
    run = _run(store)
    with db.session_scope(store) as s:
        with pytest.raises(ValueError, match=r"every foreign key \['run_id', 'subject_id'\]"):
            db.lock_references(s, TABLE, {"run_id": {run}})
        with pytest.raises(IntegrityError, match=r"catalog_items\.code = 'no-such-item' does not exist"):
            db.lock_references(s, records, {"subject_id": {1, 2}, "item_code": {"no-such-item"},
                                            "department_code": set(), "batch_id": {None}})


def test_a_table_with_its_own_insert_trigger_keeps_the_row_checks(store: str) -> None:
    """Turning the per-row triggers off would skip a table's own INSERT trigger too (only
    the foreign keys' checks are made up for), so such a table is loaded row by row."""
    run = _run(store)
    with db.session_scope(store) as s:
        s.connection().exec_driver_sql(
            "CREATE FUNCTION scores_seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE evaluation_runs SET subjects = subjects + 1 WHERE id = NEW.run_id; RETURN NEW; END $$")
        s.connection().exec_driver_sql("CREATE TRIGGER scores_seen AFTER INSERT ON evaluation_scores "
                                       "FOR EACH ROW EXECUTE FUNCTION scores_seen()")
    fresh = sa.create_engine(store, poolclass=sa.pool.NullPool)  # whether it may is kept per engine
    try:
        with sa.orm.Session(fresh) as s, s.begin():
            assert not db.may_skip_row_triggers(s, TABLE)
            assert _put(s, run, [1, 2, 3]) == "row"
        with fresh.connect() as c:
            assert c.exec_driver_sql("SELECT subjects FROM evaluation_runs WHERE id = %s", (run,)).scalar_one() == 3
    finally:
        fresh.dispose()


def test_the_unlocked_check_needs_the_trigger_as_made_and_read_committed(store: str) -> None:
    """A trigger of that name that would let a re-key or a delete through, or a snapshot
    taken before the table's lock (REPEATABLE READ), and the rows are locked instead."""
    subjects = cast(Table, Subject.__table__)
    with db.session_scope(store) as s:
        s.connection().exec_driver_sql("SET LOCAL lock_timeout = '7s'")
        assert db.keys_kept(s, subjects)
        assert s.connection().exec_driver_sql("SHOW lock_timeout").scalar_one() == "7s"  # put back
    repeatable = sa.create_engine(store, isolation_level="REPEATABLE READ", poolclass=sa.pool.NullPool)
    try:
        with sa.orm.Session(repeatable) as s, s.begin():
            assert not db.keys_kept(s, subjects)
    finally:
        repeatable.dispose()
    made = "BEFORE DELETE OR UPDATE OF id ON subjects FOR EACH ROW"
    other = sa.create_engine(store, poolclass=sa.pool.NullPool)
    try:
        with other.begin() as c:
            c.exec_driver_sql("CREATE FUNCTION let_through() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RETURN OLD; END $$")
        for unlike in (f"{made} EXECUTE FUNCTION let_through()",
                       "BEFORE DELETE OR UPDATE OF name ON subjects FOR EACH ROW EXECUTE FUNCTION creditgov_keys_kept()",
                       f"{made} WHEN (OLD.id > 100) EXECUTE FUNCTION creditgov_keys_kept()",
                       "AFTER UPDATE OF id ON subjects FOR EACH ROW EXECUTE FUNCTION creditgov_keys_kept()",
                       "BEFORE DELETE OR UPDATE OF id ON subjects FOR EACH STATEMENT "
                       "EXECUTE FUNCTION creditgov_keys_kept()"):
            with other.begin() as c:
                c.exec_driver_sql("DROP TRIGGER subjects_keys_kept ON subjects")
                c.exec_driver_sql(f"CREATE TRIGGER subjects_keys_kept {unlike}")
            with db.session_scope(store) as s:
                assert not db.keys_kept(s, subjects), unlike
        with other.begin() as c:
            c.exec_driver_sql("DROP TRIGGER subjects_keys_kept ON subjects")
            c.exec_driver_sql(f"CREATE TRIGGER subjects_keys_kept {made} EXECUTE FUNCTION creditgov_keys_kept()")
        with db.session_scope(store) as s:
            assert db.keys_kept(s, subjects)  # as made again
    finally:
        other.dispose()


def test_behind_ddl_on_subjects_the_load_waits_a_moment_then_locks_the_rows(store: str) -> None:
    """The table's lock is waited for `KEPT_LOCK_MS` at most: behind a CREATE INDEX (a
    SHARE lock) the load locks its subjects row by row instead, and is stored."""
    run = _run(store)
    other = sa.create_engine(store, poolclass=sa.pool.NullPool)
    try:
        with other.connect() as c:
            c.exec_driver_sql("LOCK TABLE subjects IN SHARE MODE")  # as CREATE INDEX takes it
            t0 = time.perf_counter()
            assert _load(store, run, [1, 2, 3]) == "bulk"
            assert time.perf_counter() - t0 >= db.KEPT_LOCK_MS / 1000
            c.rollback()
    finally:
        other.dispose()
    assert _stored(store, run) == 3


def test_a_role_that_may_not_lock_the_table_gets_the_row_locks(store: str, pg_base: str) -> None:
    """ROW EXCLUSIVE needs a table-wide write privilege: a role that may only update a
    column of subjects (which `FOR KEY SHARE` is enough for) is told no, and its
    transaction goes on."""
    with store_template.login_role(store, pg_base, "cg_narrow_", ["SELECT, UPDATE (name) ON {schema}.subjects"]) as narrow, \
            db.session_scope(narrow) as s:
        assert not db.keys_kept(s, cast(Table, Subject.__table__))
        assert s.execute(sa.text("SELECT count(*) FROM (SELECT 1 FROM subjects FOR KEY SHARE) l")).scalar_one() == 5
