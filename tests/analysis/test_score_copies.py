"""Scores as Parquet beside the record segments (scoring/score_copies.py): a run writes
its copy while it is stored, the refresh writes the copies older published runs lack,
and the grade distribution and the trend read from them on DuckDB and on Spark give the
store's own figures — by every grouping, for the whole county and for one grid's scope,
on SQLite and on PostgreSQL. A copy that is missing or not whole is not read."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from creditgov.analysis import service
from creditgov.core import db
from creditgov.scoring import score_copies, segments
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.subjects.models import Region, Subject
from tests import store_template
from tests.alerts.demo import Demo
from tests.supervision.helpers import grade_of, publish_run

MODEL = "public-credit-enterprise"


def _one_grid(url: str) -> Any:
    with db.session_scope(url) as s:
        path = s.execute(select(Region.path).where(Region.level == "grid").order_by(Region.code).limit(1)).scalar_one()
        ids = list(s.execute(select(Region.id).where(Region.path.startswith(path))).scalars())
    return Subject.region_id.in_(ids)


def _grades(url: str, engine: str, by: str, scope: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    with db.session_scope(url) as s:
        out = service.distribution(s, what="grade", by=by, model=MODEL, engine=engine, scope=scope)
    return out, out.pop("read")


def _trend(url: str, engine: str, by: str | None, scope: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    with db.session_scope(url) as s:
        out = service.trend(s, model=MODEL, by=by, engine=engine, scope=scope)
    return out, out.pop("read")


def _same_everywhere(url: str, engines: tuple[str, ...], runs: int) -> None:
    scope = _one_grid(url)
    for by in ("street", "grid", "industry", "kind"):
        want, read = _grades(url, "store", by)
        assert read == {"engine": "store"} and want["total"] > 100
        mine = _grades(url, "store", by, scope)[0]
        assert 0 < mine["total"] < want["total"]
        for engine in engines:
            got, read = _grades(url, engine, by)
            assert got == want, (engine, by)
            # a PostgreSQL store's subjects in scope are read by Spark's executors through JDBC
            jdbc = read.pop("subject_partitions", 0)
            assert (jdbc > 0) == (engine == "spark" and url.startswith("postgresql")), (engine, read)
            assert read == {"engine": engine, "segments": 0, "segment_rows": 0, "fresh_rows": 0, "score_runs": 1}
            assert _grades(url, engine, by, scope)[0] == mine, (engine, by)
    for by in (None, "street", "grid"):
        want = _trend(url, "store", by)[0]
        assert len(want["runs"]) == runs and all(p["mean_score"] for p in want["runs"])
        mine = _trend(url, "store", by, scope)[0]
        assert mine != want
        for engine in engines:
            got, read = _trend(url, engine, by)
            assert got == want, (engine, by)
            assert read["engine"] == engine and read["score_runs"] == runs
            assert _trend(url, engine, by, scope)[0] == mine, (engine, by)


def _rewritten_from_the_store(url: str, run_id: int) -> None:
    """The copy the refresh writes from the store is the one the run wrote, row for row."""
    copy = segments.folder_for(url) / score_copies.name(run_id)
    written = pq.read_table(copy)
    copy.unlink()
    with db.session_scope(url) as s:
        assert score_copies.backfill(s, url) == [run_id]
    again = pq.read_table(copy)
    assert again.equals(written) and again.schema.metadata == written.schema.metadata


def test_score_copies_give_the_stores_distribution_and_trend_on_sqlite(demo_store: Demo) -> None:
    url = demo_store.url
    old = publish_run(url, MODEL, ("enterprise",), as_of=dt.date(2026, 7, 31), score_of=lambda k: grade_of(k[::-1]))
    # A real run writes its copy while it is stored: whole, beside the segments.
    done = scoring_service.evaluate(url, ref=MODEL, as_of=dt.date(2026, 10, 31), publish=True, actor="test")
    assert "score_copy" in done.timings
    copy = segments.folder_for(url) / score_copies.name(done.run_id)
    table = pq.read_table(copy)
    assert table.num_rows == done.subjects > 100 and set(table.column("run_id").to_pylist()) == {done.run_id}
    assert table.schema.names == score_copies.SCHEMA.names
    # The run written by hand has none: the store answers and says why.
    want = _trend(url, "store", None)[0]
    got, read = _trend(url, "duckdb", None)
    assert got == want and read["engine"] == "store" and f"run {old} has no current score copy" in read["reason"]
    # The refresh (command or worker) writes the copies the latest published runs lack.
    from creditgov.cli.main import app

    res = CliRunner().invoke(app, ["--db", url, "model", "segments", "--refresh", "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["refresh"]["score_copies"] == [old]
    res = CliRunner().invoke(app, ["--db", url, "model", "segments", "--refresh", "--json"], catch_exceptions=False)
    assert json.loads(res.output)["refresh"]["score_copies"] == []
    _same_everywhere(url, ("duckdb", "spark"), runs=2)
    _rewritten_from_the_store(url, done.run_id)
    # A merge moves a duplicate's score to the survivor (subjects/merge.py): as many
    # scores, other subjects. That copy is not read until the refresh writes it again.
    with db.session_scope(url) as s:
        scored = set(s.execute(select(Score.subject_id).where(Score.run_id == done.run_id)).scalars())
        spare = s.execute(select(Subject.id).where(Subject.id.not_in(scored)).limit(1)).scalar_one()
        s.execute(update(Score).where(Score.run_id == done.run_id, Score.subject_id == min(scored))
                  .values(subject_id=spare))
    want = _grades(url, "store", "kind")[0]
    got, read = _grades(url, "duckdb", "kind")
    assert got == want and f"run {done.run_id} has no current score copy" in read["reason"]
    with db.session_scope(url) as s:
        assert score_copies.backfill(s, url) == [done.run_id]
    got, read = _grades(url, "duckdb", "kind")
    assert got == want and read["score_runs"] == 1
    table = pq.read_table(copy)
    # A copy that is not whole (another row count) is never read.
    pq.write_table(table.slice(0, 10), copy)
    got, read = _grades(url, "duckdb", "street")
    assert got == _grades(url, "store", "street")[0]
    assert read["engine"] == "store" and f"run {done.run_id} has no current score copy" in read["reason"]
    res = CliRunner().invoke(app, ["--db", url, "analyse", "grades", "--model", MODEL, "--engine", "duckdb"])
    assert res.exit_code == 0 and "read from the store: run" in res.output, res.output
    with db.session_scope(url) as s:
        assert score_copies.backfill(s, url) == [done.run_id]
    res = CliRunner().invoke(app, ["--db", url, "analyse", "trend", "--model", MODEL, "--engine", "duckdb"])
    assert res.exit_code == 0 and "scores read on duckdb from the copies of 2 run(s)" in res.output, res.output
    _pruned(url, kept=done.run_id, older=old)


def _pruned(url: str, *, kept: int, older: int) -> None:
    """The refresh removes copies no analysis reads, and a crash's leftovers, once an
    hour old; the latest published runs' copies stay."""
    folder = segments.folder_for(url)
    stray = folder / score_copies.name(987654)  # a run since deleted
    stray.write_bytes((folder / score_copies.name(kept)).read_bytes())
    part = folder / ".scores-crashed.part"
    part.write_bytes(b"half")
    later = time.time() + segments.GRACE_SECONDS + 60
    with db.session_scope(url) as s:
        assert score_copies.prune(s, url) == []  # too young: a run may be storing it now
        assert stray.exists() and part.exists()
        assert score_copies.prune(s, url, now=later) == [987654]
        assert not stray.exists() and not part.exists()
        assert (folder / score_copies.name(kept)).exists() and (folder / score_copies.name(older)).exists()
        assert score_copies.prune(s, url, last=1, now=later) == [older]
        assert (folder / score_copies.name(kept)).exists() and not (folder / score_copies.name(older)).exists()
        assert score_copies.missing(s, url, last=1) == []


def test_score_copies_give_the_stores_distribution_and_trend_on_postgresql(pg_county: str) -> None:
    url = pg_county
    # the later run on Spark: its executors insert the scores and the copy is streamed
    # from their staged rows (scoring/spark_scores.py)
    for as_of, engine in ((dt.date(2026, 9, 30), "duckdb"), (dt.date(2026, 10, 31), "spark")):
        done = scoring_service.evaluate(url, ref=MODEL, as_of=as_of, publish=True, actor="test", engine=engine)
        assert "score_copy" in done.timings and ("load_jdbc" in done.timings) == (engine == "spark")
    _same_everywhere(url, ("duckdb", "spark"), runs=2)
    _rewritten_from_the_store(url, done.run_id)
    _same_everywhere(url, ("duckdb",), runs=2)


def test_a_store_without_a_segment_place_writes_no_copy(pg_base: str, county_pg: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITGOV_SEGMENTS", raising=False)
    with store_template.pg_copy_of(pg_base, county_pg) as url:
        done = scoring_service.evaluate(url, ref=MODEL, as_of=dt.date(2026, 10, 31), publish=True, actor="test")
        assert "score_copy" not in done.timings
        got, read = _grades(url, "duckdb", "street")
        assert read["engine"] == "store" and read["reason"].startswith("a PostgreSQL store keeps record segments")
        with db.session_scope(url) as s:
            assert s.get(EvaluationRun, done.run_id) is not None
            assert score_copies.missing(s, url) == [] and score_copies.backfill(s, url) == []
