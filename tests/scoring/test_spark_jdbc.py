"""A PostgreSQL store's subjects read by Spark's executors themselves, through JDBC:
every partition in the run's one exported snapshot, attributes flattened by PostgreSQL
exactly as the driver flattens them when it stages subjects (hostile texts included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.scoring import spark
from tests import store_template

HOSTILE = "<script>alert('x')</script> \"O'Brien\" & 𠮷野家 \u202e\u0301 " + "长" * 3000


def _expected(raw: dict[str, Any] | None, numeric: tuple[str, ...], text: tuple[str, ...]) -> tuple[Any, ...]:
    """The flattening the staged subjects get, computed here from the JSON itself: a
    number (not a boolean) as a float, a string as itself, anything else None."""
    a = raw or {}
    num = [float(a[n]) if isinstance(a.get(n), int | float) and not isinstance(a.get(n), bool) else None
           for n in numeric]
    txt = [a[n] if isinstance(a.get(n), str) else None for n in text]
    return (*num, *txt)


def test_executors_read_the_subjects_of_the_runs_snapshot(county_pg: str, pg_base: str) -> None:
    numeric, text = ("capital", "grid", "note"), ("note", "grid", "missing")
    with store_template.pg_copy_of(pg_base, county_pg) as pg:
        with db.session_scope(pg) as s:
            first, second = s.execute(sa.text("SELECT id FROM subjects ORDER BY id LIMIT 2")).scalars().all()
            s.execute(sa.text("UPDATE subjects SET attributes = CAST(:a AS json) WHERE id = :i"),
                      {"a": json.dumps({"capital": 1234.5, "grid": 7, "note": HOSTILE}, ensure_ascii=False),
                       "i": first})
            s.execute(sa.text("UPDATE subjects SET attributes = CAST(:a AS json) WHERE id = :i"),
                      {"a": json.dumps({"capital": "lots", "grid": True, "note": None}), "i": second})
            stored = {i: (k, ind, json.loads(a) if isinstance(a, str) else a) for i, k, ind, a in s.execute(
                sa.text("SELECT id, kind, industry, attributes FROM subjects")).all()}
        session = spark.session()
        with spark.exported(pg) as exp:
            # committed after the snapshot was exported: no partition may see it
            with db.session_scope(pg) as s:
                s.execute(sa.text("UPDATE subjects SET industry = 'changed-after' WHERE id = :i"), {"i": first})
            sql = spark.subjects_sql("true", (numeric, text))
            df, parts = spark.read_subjects(session, spark.JdbcSubjects(pg, sql), exp, 3)
            assert parts == 3 and df.rdd.getNumPartitions() == 3
            got = {r["id"]: r for r in df.collect()}
        assert (exp.low, exp.high) == (min(stored), max(stored)) and len(got) == len(stored)
        for i, (kind, industry, attributes) in stored.items():
            r = got[i]
            assert (r["kind"], r["industry"]) == (kind, industry), i
            flat = tuple(r[f"__an_{n}"] for n in numeric) + tuple(r[f"__as_{n}"] for n in text)
            assert flat == _expected(attributes, numeric, text), i
        assert got[first]["__as_note"] == HOSTILE and got[first]["__an_capital"] == 1234.5
        assert got[first]["industry"] != "changed-after"
        assert (got[second]["__an_capital"], got[second]["__as_grid"]) == (None, None)


def test_how_subjects_reach_the_executors_is_checked(tmp_path: Any) -> None:
    pg = "postgresql+psycopg://u@db.example:5432/credit"
    assert spark.subjects_by_jdbc(spark.settings_from_env({}), pg) is Path(spark.DEFAULT_JDBC_JAR).is_file()
    assert not spark.subjects_by_jdbc(spark.settings_from_env({}), "sqlite:///x.db")
    assert not spark.subjects_by_jdbc(spark.settings_from_env({"CREDITGOV_SPARK_SUBJECTS": "stage"}), pg)
    missing = spark.settings_from_env({"CREDITGOV_SPARK_SUBJECTS": "jdbc",
                                       "CREDITGOV_SPARK_JDBC_JAR": str(tmp_path / "none.jar")})
    with pytest.raises(ConfigError, match="no JDBC driver"):
        spark.subjects_by_jdbc(missing, pg)
    assert not spark.subjects_by_jdbc(spark.SparkSettings(jdbc_jar=str(tmp_path / "none.jar")), pg)
    with pytest.raises(ConfigError, match="Unix sockets"):
        spark.subjects_by_jdbc(spark.settings_from_env({"CREDITGOV_SPARK_SUBJECTS": "jdbc"}),
                               "postgresql+psycopg://u@/credit?host=/run/postgresql")
    with pytest.raises(ConfigError, match="not PostgreSQL"):
        spark.subjects_by_jdbc(spark.settings_from_env({"CREDITGOV_SPARK_SUBJECTS": "jdbc"}), "sqlite:///x.db")
    with pytest.raises(ConfigError, match="expected one of"):
        spark.settings_from_env({"CREDITGOV_SPARK_SUBJECTS": "executors"})
