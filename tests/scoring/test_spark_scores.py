"""A Spark run's scores stored in a PostgreSQL store by the executors themselves
(scoring/spark_scores.py): the same stored text as a run the driver stores, counted
without bringing the rows back, its score copy whole, no load table left behind; a
load table with a task's rows twice, or with rows missing, or naming a subject that
does not exist, stores nothing wrong."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from creditgov.core import clock, db
from creditgov.core.errors import ConfigError, IntegrityError
from creditgov.scoring import run_store, score_copies, service, spark, spark_scores
from creditgov.scoring.models import EvaluationRun
from tests import store_template
from tests.scoring.conftest import AS_OF

# a weighted pack (first-level scores in hundredths) and a points pack (in thousandths)
PACKS = ("public-credit-enterprise", "community-resident")


def _stored(url: str, run_id: int) -> list[tuple[object, ...]]:
    with db.session_scope(url) as s:
        return [tuple(r) for r in s.execute(sa.text(
            "SELECT subject_id, CAST(score AS text), grade, colour, CAST(dimensions AS text) "
            "FROM evaluation_scores WHERE run_id = :r ORDER BY subject_id"), {"r": run_id})]


def _load_tables(url: str) -> list[str]:
    with db.session_scope(url) as s:
        return list(s.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                      "AND tablename LIKE 'evaluation\\_score\\_load\\_%'")).scalars())


def _copy(url: str, run_id: int) -> list[tuple[object, ...]]:
    place = score_copies._place(url)
    t = pq.read_table(place.file(score_copies.name(run_id)), filesystem=place.fs)
    return sorted(zip(*(t.column(c).to_pylist() for c in ("subject_id", "score_centi", "grade", "colour")),
                      strict=True))


def _locked_elsewhere(url: str, table: str) -> Any:
    """A connection holding the advisory lock a live run holds on its load table."""
    from creditgov.core.db import pg_connect

    conn = pg_connect(url, autocommit=True)
    assert conn.execute("SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '.' || %s, 0))",
                        (table,)).fetchone() == (True,)
    return conn


def _new_run(url: str, status: str) -> int:
    with db.session_scope(url) as s:
        run = EvaluationRun(model_name="x", model_version="1", model_hash="h", as_of=AS_OF, engine="spark",
                            status=status, actor="t", subjects=0, grades={}, timings={}, started_at=clock.now())
        s.add(run)
        s.flush()
        return run.id


def test_executors_store_the_scores_the_driver_would(county_pg: str, pg_base: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_SPARK_SCORES", "jdbc")
    monkeypatch.setenv("CREDITGOV_SEGMENTS", (tmp_path / "segments").as_uri())  # where score copies go
    with store_template.pg_copy_of(pg_base, county_pg) as pg:
        # load tables left by a driver killed mid-run (its run still says running) and by
        # a run that failed: dropped by the next run; one a live run holds: kept
        killed, failed, alive = (_new_run(pg, s) for s in ("running", "failed", "running"))
        with db.session_scope(pg) as s:
            for r in (killed, failed, alive):
                s.execute(sa.text(f"CREATE UNLOGGED TABLE {spark_scores.load_table(r)} (subject_id bigint)"))
        holder = _locked_elsewhere(pg, spark_scores.load_table(alive))
        bases = {}
        try:
            for name in PACKS:
                base = bases[name] = service.evaluate(pg, ref=name, as_of=AS_OF, engine="duckdb")
                run = service.evaluate(pg, ref=name, as_of=AS_OF, engine="spark")
                assert "load_jdbc" in run.timings and "load_jdbc" not in base.timings, run.timings
                assert {"count", "store_move", "store_keys"} <= set(run.timings), run.timings
                assert "score_copy" in run.timings and "score_copy" in base.timings
                assert run.subjects == base.subjects > 0
                assert (run.grades, run.colours) == (base.grades, base.colours)
                stored = _stored(pg, run.run_id)
                assert stored == _stored(pg, base.run_id) and len(stored) == run.subjects
                assert any(d != "{}" for *_, d in stored)  # first-level scores were written, not left empty
                # the score copy, streamed from the staged rows, is whole and the same rows in the same order
                with db.session_scope(pg) as s:
                    fp = score_copies.fingerprints(s, [run.run_id])[run.run_id]
                assert score_copies.Copies(pg).whole(run.run_id, *fp)
                assert _copy(pg, run.run_id) == _copy(pg, base.run_id)
            assert _load_tables(pg) == [spark_scores.load_table(alive)]
        finally:
            holder.close()
        # the driver's way, asked for, stores the same
        monkeypatch.setenv("CREDITGOV_SPARK_SCORES", "driver")
        run = service.evaluate(pg, ref=PACKS[0], as_of=AS_OF, engine="spark")
        assert "load_jdbc" not in run.timings and _stored(pg, run.run_id) == _stored(pg, bases[PACKS[0]].run_id)


def test_a_run_that_fails_while_storing_leaves_nothing(county_pg: str, pg_base: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The move from the load table refused by the store itself (a trigger of the
    deployment's that raises): the run is failed, holds no score, and neither its load
    table nor its lock is left."""
    monkeypatch.setenv("CREDITGOV_SPARK_SCORES", "jdbc")
    with store_template.pg_copy_of(pg_base, county_pg) as pg:
        with db.session_scope(pg) as s:
            s.execute(sa.text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$BEGIN RAISE EXCEPTION 'scores refused by the store'; END$$"))
            s.execute(sa.text("CREATE TRIGGER refuse BEFORE INSERT ON evaluation_scores "
                              "FOR EACH ROW EXECUTE FUNCTION refuse()"))
        with pytest.raises(Exception, match="scores refused by the store"):
            service.evaluate(pg, ref=PACKS[0], as_of=AS_OF, engine="spark")
        with db.session_scope(pg) as s:
            run_id, status = s.execute(sa.text("SELECT id, status FROM evaluation_runs ORDER BY id DESC LIMIT 1")).one()
            assert status == "failed"
            assert s.execute(sa.text("SELECT count(*) FROM evaluation_scores")).scalar_one() == 0
        assert _load_tables(pg) == []
        _locked_elsewhere(pg, spark_scores.load_table(run_id)).close()  # the driver let its lock go


def test_the_move_from_the_load_table_keeps_each_score_once_or_nothing(county_pg: str, pg_base: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    name = "public-credit-enterprise"
    with store_template.pg_copy_of(pg_base, county_pg) as pg:
        with db.session_scope(pg) as s:
            ids = list(s.execute(sa.text("SELECT id FROM subjects WHERE kind = 'enterprise' ORDER BY id LIMIT 3"))
                       .scalars())
            run = EvaluationRun(model_name=name, model_version="1", model_hash="h", as_of=AS_OF, engine="spark",
                                status="running", actor="t", subjects=0, grades={}, timings={},
                                started_at=clock.now())
            s.add(run)
            s.flush()
            run_id = run.id

        def load(rows: list[tuple[Any, ...]], counted: int) -> spark_scores.Loaded:
            """A load table as the executors fill it: (subject, score in hundredths, grade, first-level text)."""
            table = spark_scores.load_table(run_id)
            with db.session_scope(pg) as s:
                s.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
                s.execute(sa.text(f"CREATE UNLOGGED TABLE {table} (subject_id bigint, score_centi bigint, "
                                  "grade text, colour text, dimensions text)"))
                for subject, centi, grade, dims in rows:
                    s.execute(sa.text(f"INSERT INTO {table} VALUES (:s, :c, :g, 'green', :d)"),
                              {"s": subject, "c": centi, "g": grade, "d": dims})
                schema = s.execute(sa.text("SELECT current_schema()")).scalar_one()
            return spark_scores.Loaded(schema, table, counted, 0, Counter(), Counter())

        rows = [(i, 8_550 + k, "A", '{"a":123.4}') for k, i in enumerate(ids)]
        # a task run again after committing: its rows twice in the load table, once stored
        loaded = load(rows + rows[:2], 3)
        with db.session_scope(pg) as s:
            run_store.store_loaded(s, run_id, loaded)
        got = _stored(pg, run_id)
        assert [g[:4] for g in got] == [(i, f"{85 + (50 + k) / 100:.2f}", "A", "green") for k, i in enumerate(ids)]
        assert got[0][4] == '{"a":123.4}' and _load_tables(pg) == []
        with db.session_scope(pg) as s:
            s.execute(sa.text("DELETE FROM evaluation_scores WHERE run_id = :r"), {"r": run_id})
        # a task's rows lost, or a subject that does not exist: nothing stored, the load table kept for discard
        differing = (rows[0][0], rows[0][1], "B", rows[0][3])  # the same subject, another grade: not a task's rows twice
        for bad_rows, match in ((rows[:2], "2 of its 3"), ([*rows[:2], (10**9, 1, "A", "{}")], "does not exist"),
                                ([*rows, differing], "differing rows")):
            bad = load(bad_rows, 3)
            with pytest.raises(IntegrityError, match=match), db.session_scope(pg) as s:
                run_store.store_loaded(s, run_id, bad)
            assert _stored(pg, run_id) == []
        # a task of the executors still holding its insert open: the move does not hang
        from creditgov.core.db import pg_connect

        loaded = load(rows, 3)
        zombie = pg_connect(pg, autocommit=False)
        try:
            zombie.execute(f"INSERT INTO {loaded.table} VALUES ({rows[0][0]}, 1, 'A', 'green', '{{}}')")
            monkeypatch.setattr(run_store, "LOAD_LOCK_MS", 200)
            with pytest.raises(IntegrityError, match="still being written"), db.session_scope(pg) as s:
                run_store.store_loaded(s, run_id, loaded)
        finally:
            zombie.rollback()
            zombie.close()
        assert _stored(pg, run_id) == []
        assert _load_tables(pg) == [spark_scores.load_table(run_id)]
        spark_scores.discard(pg, run_id)
        assert _load_tables(pg) == []


def test_discard_drops_the_stores_own_load_table_only(pg_url: str, pg_base: str) -> None:
    """A store whose search_path goes on to another schema (`-c search_path=s,public`):
    its failed run's discard never drops the other schema's table of the same name."""
    from creditgov.core.db import pg_connect

    with store_template.pg_schema(pg_base, "o_") as other_url:
        other = other_url.rsplit("%3D", 1)[1]
        mine = pg_url.rsplit("%3D", 1)[1]
        both = pg_url.replace(f"%3D{mine}", f"%3D{mine}%2C{other}")
        with pg_connect(other_url, autocommit=True) as c:
            c.execute(f"CREATE TABLE {spark_scores.load_table(7)} (subject_id bigint)")
        spark_scores.discard(both, 7)
        with pg_connect(other_url, autocommit=True) as c:
            assert c.execute("SELECT to_regclass(%s) IS NOT NULL", (spark_scores.load_table(7),)).fetchone() == (True,)


@pytest.mark.parametrize("weighted", [True, False])
def test_the_first_level_scores_text_is_the_drivers(weighted: bool) -> None:
    """The executors' JSON text of the first-level scores (`dims_text`, a Spark column)
    against `fixed_text` on the driver, for values where two ways of writing a decimal
    could part: signs, zeros, trailing zeros, large numbers; a code with quotes."""
    import json
    from types import SimpleNamespace

    per, width = (100, 2) if weighted else (1000, 3)
    values = [0, 1, -1, 5, -5, 10, 100, 1000, -1000, 1234, 120000, 1_000_000, -1_000_001, 99_999_999_999, 7, 70, 700]
    code = "甲\"'x\\"
    fake = SimpleNamespace(weighted=weighted, dims=((code, {}, 0), ("b", {}, 0)))
    df = spark.session().createDataFrame([(v, -v) for v in values], "dim0 bigint, dim1 bigint")
    got = [r[0] for r in df.select(spark_scores.dims_text(fake)).collect()]  # type: ignore[arg-type]  # only weighted and dims are read
    a, b = (run_store.fixed_text(pa.array(vs), per, width, strip=True).to_pylist()
            for vs in (values, [-v for v in values]))
    want = ["{" + json.dumps(code, ensure_ascii=False) + ":" + x + ',"b":' + y + "}" for x, y in zip(a, b, strict=True)]
    assert got == want
    assert [json.loads(g)[code] for g in got][:3] == [0, 1 / per, -1 / per]


def test_how_scores_reach_the_store_is_checked() -> None:
    pg = "postgresql+psycopg://u@db.example:5432/credit"
    env = spark.settings_from_env
    assert not spark.scores_by_jdbc(env({"CREDITGOV_SPARK_SCORES": "driver"}), pg)
    assert not spark.scores_by_jdbc(env({}), "sqlite:///x.db")
    with pytest.raises(ConfigError, match="CREDITGOV_SPARK_SCORES=jdbc: the store is not PostgreSQL"):
        spark.scores_by_jdbc(env({"CREDITGOV_SPARK_SCORES": "jdbc"}), "sqlite:///x.db")
    with pytest.raises(ConfigError, match="expected one of auto, jdbc, driver"):
        env({"CREDITGOV_SPARK_SCORES": "executors"})
