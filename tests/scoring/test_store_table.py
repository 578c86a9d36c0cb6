"""A run's scores stored by `run_store.store_table` a batch at a time, their text built by
Arrow: on both stores every score reads back as computed, whatever a first-level
indicator's code holds, and on PostgreSQL the COPY's text survives any value and the
run's keys are still checked (a missing subject: nothing stored)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import psycopg
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy import Table

from creditgov.core import db, schema
from creditgov.core.errors import IntegrityError
from creditgov.scoring import run_store
from creditgov.scoring.models import Score
from tests import store_template

HOSTILE = ["\\", "a\tb", "line\nnext\r", '"quoted" \'single\'', "<b onmouseover=alert(1)>x</b>", "\\N", "\\.",
           "\u202eevil\u202c", "e\u0301", "\U0001f600 \U00020000", "信" * 3000, ""]
DIMS = ("integrity", "合规\\\t\"<i>", "finance")


def _prepared() -> Any:
    """The two things the store step reads of a prepared model (its first-level codes
    and whether it is weighted); codes no shipped model has, to try the escaping."""
    return SimpleNamespace(dims=tuple((code, {}, 0) for code in DIMS), weighted=True)


def _store(url: str, n: int) -> int:
    schema.upgrade(url)
    with db.session_scope(url) as s:
        s.execute(sa.text("INSERT INTO subjects (id, kind, name, attributes, status, created_at, updated_at) "
                          "VALUES (:id, 'enterprise', :name, '{}', 'active', :t, :t)"),
                  [{"id": i, "name": f"subject {i}", "t": dt.datetime(2026, 11, 1)} for i in range(1, n + 1)])
    return store_template.new_run(url)


def _scores(ids: list[int]) -> pa.Table:
    return pa.table({"subject_id": pa.array(ids, pa.int64()),
                     "score_centi": pa.array([(-1) ** i * i * 137 for i in ids], pa.int64()),
                     "grade": pa.array(["AAA" if i % 3 else "C" for i in ids]),
                     "colour": pa.array(["green" if i % 2 else "red" for i in ids]),
                     **{f"dim{k}": pa.array([i * 10 + k - 50 for i in ids], pa.int64()) for k in range(len(DIMS))}})


def test_every_score_reads_back_in_batches(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_store, "STORE_BATCH", 7)  # 50 rows: eight batches, the last one short
    run = _store(db_url, 50)
    table = _scores(list(range(1, 51)))
    timings: dict[str, float] = {}
    with db.session_scope(db_url) as s:
        run_store.store_table(s, _prepared(), run, table, timings)
    assert "store_copy" in timings
    with db.session_scope(db_url) as s:
        got = {r.subject_id: r for r in s.execute(sa.select(Score).where(Score.run_id == run)).scalars()}
    assert sorted(got) == list(range(1, 51))
    for i, r in got.items():
        assert r.score == Decimal((-1) ** i * i * 137) / 100
        assert (r.grade, r.colour) == ("AAA" if i % 3 else "C", "green" if i % 2 else "red")
        dims = r.dimensions if isinstance(r.dimensions, dict) else json.loads(r.dimensions)
        assert list(dims) == list(DIMS)
        assert [Decimal(str(v)) for v in dims.values()] == [Decimal(i * 10 + k - 50) / 100 for k in range(len(DIMS))]


def test_copy_text_keeps_every_value(pg_url: str) -> None:
    values = [*HOSTILE, None]
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE t (k bigint, a text, b text)")
        with conn.cursor() as cur, cur.copy("COPY t (k, a, b) FROM STDIN") as cp:
            cp.write(run_store.copy_text([pa.array(range(len(values)), pa.int64()), pa.array(values),
                                          pa.chunked_array([values[::-1][:5], values[::-1][5:]])]))
        rows = conn.execute("SELECT k, a, b FROM t ORDER BY k").fetchall()
    assert rows == [(k, v, values[::-1][k]) for k, v in enumerate(values)]


def test_a_missing_subject_stores_nothing(pg_url: str) -> None:
    run = _store(pg_url, 5)
    with pytest.raises(IntegrityError, match="subjects.id = 6"), db.session_scope(pg_url) as s:
        run_store.store_table(s, _prepared(), run, _scores([1, 2, 3, 4, 5, 6]))
    with db.session_scope(pg_url) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Score)).scalar_one() == 0


def test_a_role_without_the_bulk_privilege_gets_the_row_checks(pg_url: str, pg_base: str) -> None:
    """A role that may not turn the per-row triggers off: the database checks each score."""
    run = _store(pg_url, 3)
    with store_template.login_role(pg_url, pg_base, "cg_scores_", ["ALL ON ALL TABLES IN SCHEMA {schema}"]) as plain:
        with db.session_scope(plain) as s:
            assert not db.may_skip_row_triggers(s, cast(Table, Score.__table__))
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="foreign key"), db.session_scope(plain) as s:
            run_store.store_table(s, _prepared(), run, _scores([1, 2, 4]))
        with db.session_scope(plain) as s:
            run_store.store_table(s, _prepared(), run, _scores([1, 2, 3]))
    with db.session_scope(pg_url) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Score)).scalar_one() == 3


def test_a_copy_that_fails_midway_stores_nothing_and_leaves_the_checks_on(pg_url: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A subject twice in a run (the table's own key refuses it) in the third batch: the
    COPY fails with the triggers off, nothing of the run is kept, and the next
    transaction on the same pooled connection checks keys row by row again."""
    monkeypatch.setattr(run_store, "STORE_BATCH", 2)
    run = _store(pg_url, 5)
    with pytest.raises(psycopg.errors.UniqueViolation), db.session_scope(pg_url) as s:
        run_store.store_table(s, _prepared(), run, _scores([1, 2, 3, 4, 4, 5]))
    with db.session_scope(pg_url) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Score)).scalar_one() == 0
        assert s.connection().exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
    with db.session_scope(pg_url) as s:
        assert run_store.store_table(s, _prepared(), run, _scores([1, 2, 3, 4, 5])) == "bulk"
    with db.session_scope(pg_url) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Score)).scalar_one() == 5
