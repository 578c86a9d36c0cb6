"""One model, four engines, one answer — on a generated county, for every shipped pack.
And: explain for any subject equals its row in the batch run; stored runs repeat."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from creditgov.core import db
from creditgov.scoring import engines, service
from creditgov.scoring.models import EvaluationRun
from creditgov.scoring.prepared import Prepared, prepare
from tests.scoring.conftest import AS_OF
from tests.scoring.test_model import PACKS

COLUMNS = ("subject_id", "n", "score_centi", "grade", "colour")


def _prepared(url: str, name: str) -> Prepared:
    with db.session_scope(url) as s:
        return service.prepared_for(s, name, AS_OF)[1]


def _rows_timed(url: str, p: Prepared, engine: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    table, _, timings = service.compute(url, p, engine)
    dims = [c for c in table.column_names if c.startswith("dim")]
    return [tuple(r[c] for c in (*COLUMNS, *dims)) for r in table.to_pylist()], timings


def _rows(url: str, p: Prepared, engine: str) -> list[tuple[Any, ...]]:
    return _rows_timed(url, p, engine)[0]


@pytest.fixture(scope="module")
def duckdb_rows(county: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: _rows(county, _prepared(county, name), "duckdb") for name in PACKS}


def test_every_pack_covers_subjects_of_the_county(duckdb_rows: dict[str, list[tuple[Any, ...]]]) -> None:
    for name, rows in duckdb_rows.items():
        assert len(rows) >= 20, name
        assert len({r[3] for r in rows}) >= 2, f"{name}: every subject got the same grade"


@pytest.mark.parametrize("engine", ["sqlite", "spark"])
def test_engines_on_the_sqlite_store_agree_with_duckdb(county: str, duckdb_rows: dict[str, list[tuple[Any, ...]]],
                                                       engine: str) -> None:
    for name in PACKS:
        assert _rows(county, _prepared(county, name), engine) == duckdb_rows[name], (engine, name)


def test_postgres_in_store_and_duckdb_from_postgres_agree(county_pg: str,
                                                          duckdb_rows: dict[str, list[tuple[Any, ...]]]) -> None:
    for name in PACKS:
        p = _prepared(county_pg, name)
        assert _rows(county_pg, p, "postgres") == duckdb_rows[name], name
        assert _rows(county_pg, p, "duckdb") == duckdb_rows[name], name


def test_spark_executors_read_a_postgres_stores_subjects_themselves(
        county_pg: str, duckdb_rows: dict[str, list[tuple[Any, ...]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Through JDBC, in id-range partitions of one exported snapshot, attributes flattened
    by PostgreSQL: the digits of DuckDB; staged by the driver instead, the same."""
    for name in PACKS:
        rows, timings = _rows_timed(county_pg, _prepared(county_pg, name), "spark")
        assert timings["subject_partitions"] == 2, name  # CREDITGOV_SPARK_PARTITIONS' default
        assert rows == duckdb_rows[name], name
    monkeypatch.setenv("CREDITGOV_SPARK_SUBJECTS", "stage")
    name = next(iter(PACKS))
    rows, timings = _rows_timed(county_pg, _prepared(county_pg, name), "spark")
    assert "subject_partitions" not in timings
    assert rows == duckdb_rows[name]


def test_explain_equals_the_batch_row_for_every_subject(county: str,
                                                        duckdb_rows: dict[str, list[tuple[Any, ...]]]) -> None:
    excluded: set[str] = set()
    fired: set[str] = set()
    for name in PACKS:
        p = _prepared(county, name)
        rows = {r[0]: r for r in duckdb_rows[name]}
        with db.session_scope(county) as s:
            explained = service.explain_many(s, p, sorted(rows))
        assert set(explained) == set(rows)
        for sid, e in explained.items():
            dims = tuple(int(v * (100 if p.weighted else 1000)) for v in e.dimensions.values())
            assert (sid, e.n, e.score_centi, e.grade, e.colour, *dims) == rows[sid], (name, sid)
            excluded |= {r["reason"] for r in e.excluded}
            fired |= {f"{name}:{o['code']}" for o in e.overrides if o["triggered"]}
    # the county's status history and list entries mattered, or the agreement proves less
    assert {"disputed on the as-of date", "repaired on the as-of date", "revoked",
            "publication period ended"} <= excluded
    assert "public-credit-enterprise:serious_dishonesty_veto" in fired
    assert "community-resident:serious_dishonesty_veto" in fired


def test_runs_are_stored_and_repeat_exactly(county: str) -> None:
    a = service.evaluate(county, ref="qujiang-park", as_of=AS_OF, engine="duckdb", actor="test")
    b = service.evaluate(county, ref="qujiang-park@2", as_of=AS_OF, engine="sqlite", actor="test")
    with db.session_scope(county) as s:
        ra, rb = s.get(EvaluationRun, a.run_id), s.get(EvaluationRun, b.run_id)
        assert ra is not None and rb is not None
        assert (ra.model_name, ra.model_version, ra.status, ra.as_of) == ("qujiang-park", "2", "done", AS_OF)
        assert ra.model_hash == rb.model_hash == service.get(s, "qujiang-park")[0].content_hash
        assert ra.watermark == rb.watermark and ra.watermark.startswith("records<=")
        assert ra.engine == "duckdb" and rb.engine == "sqlite" and "evaluate" in ra.timings
        sa_, sb = service.run_scores(s, a.run_id), service.run_scores(s, b.run_id)
        assert len(sa_) == ra.subjects == sum(ra.grades.values()) > 0
        assert {k: (v.score, v.grade, v.colour, v.dimensions) for k, v in sa_.items()} == \
               {k: (v.score, v.grade, v.colour, v.dimensions) for k, v in sb.items()}
        one = next(iter(sa_.values()))
        assert isinstance(one.score, Decimal) and set(one.dimensions) == {
            "basic", "operation", "public_credit", "compliance", "performance", "social_responsibility"}


@pytest.mark.parametrize("name", ["community-resident", "qujiang-park"])
def test_the_sqlite_scanner_reads_what_the_standard_library_reads(county: str, name: str) -> None:
    p = _prepared(county, name)
    fast = engines.read_store(county, p, scanner=True)
    slow = engines.read_store(county, p, scanner=False)
    for t in engines.TABLES:
        assert fast[t].schema.types == slow[t].schema.types, t
        assert fast[t].equals(slow[t]), t
    assert fast["credit_records"].num_rows > 1000
    assert fast["record_status_changes"].num_rows > 0 and fast["list_entries"].num_rows > 0


def test_engines_refuse_what_they_cannot_run(county: str, county_pg: str) -> None:
    p = _prepared(county, "qujiang-park")
    with pytest.raises(engines.EngineError, match="inside a PostgreSQL store"):
        engines.check("postgres", p, county)
    with pytest.raises(engines.EngineError, match="inside a SQLite store"):
        engines.check("sqlite", p, county_pg)
    with pytest.raises(engines.EngineError, match="unknown engine"):
        engines.check("oracle", p, county)
    big = p.model.model_copy(update={"indicators": [
        p.model.indicators[0].model_copy(update={"children": [p.model.indicators[0]] * 60, "code": "wide"})]})
    wide = prepare(big, p.catalog, AS_OF)
    assert len(wide.leaves) > engines.SQLITE_MAX_LEAVES
    with pytest.raises(engines.EngineError, match="SQLITE_MAX_EXPR_DEPTH"):
        engines.check("sqlite", wide, county)
    engines.check("duckdb", wide, county)  # DuckDB has no such limit
