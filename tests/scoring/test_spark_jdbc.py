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
    env = spark.settings_from_env
    assert spark.subjects_by_jdbc(env({}), pg) is Path(spark.DEFAULT_JDBC_JAR).is_file()
    assert not spark.subjects_by_jdbc(env({}), "sqlite:///x.db")
    assert not spark.subjects_by_jdbc(env({"CREDITGOV_SPARK_SUBJECTS": "stage"}), pg)
    missing = env({"CREDITGOV_SPARK_SUBJECTS": "jdbc", "CREDITGOV_SPARK_JDBC_JAR": str(tmp_path / "none.jar")})
    with pytest.raises(ConfigError, match="no JDBC driver"):
        spark.subjects_by_jdbc(missing, pg)
    assert not spark.subjects_by_jdbc(spark.SparkSettings(jdbc_jar=str(tmp_path / "none.jar")), pg)
    jdbc = env({"CREDITGOV_SPARK_SUBJECTS": "jdbc"})
    with pytest.raises(ConfigError, match="Unix sockets"):
        spark.subjects_by_jdbc(jdbc, "postgresql+psycopg://u@/credit?host=/run/postgresql")
    with pytest.raises(ConfigError, match="not PostgreSQL"):
        spark.subjects_by_jdbc(jdbc, "sqlite:///x.db")
    # libpq settings pgjdbc does not take, or not the same way (a PEM client key): the
    # executors would not connect as the driver does
    for odd, named in ((pg + "?target_session_attrs=read-write", "target_session_attrs"),
                       (pg + "?sslmode=verify-full&sslcert=/etc/c.crt&sslkey=/etc/c.key", "sslcert, sslkey")):
        assert not spark.subjects_by_jdbc(env({}), odd)
        with pytest.raises(ConfigError, match=named):
            spark.subjects_by_jdbc(jdbc, odd)
    if Path(spark.DEFAULT_JDBC_JAR).is_file():
        # a TCP host given as a query setting, as libpq allows
        assert spark.subjects_by_jdbc(env({}), "postgresql+psycopg://u@/credit?host=db.example")
        # a loopback store with executors elsewhere: staged unless insisted on
        cluster = {"CREDITGOV_SPARK_MASTER": "spark://10.0.0.5:7077", "CREDITGOV_SPARK_STAGING": "/shared"}
        loop = "postgresql+psycopg://u@127.0.0.1:5432/credit"
        assert spark.subjects_by_jdbc(env({}), loop)
        assert not spark.subjects_by_jdbc(env(cluster), loop)
        assert spark.subjects_by_jdbc(env({**cluster, "CREDITGOV_SPARK_SUBJECTS": "jdbc"}), loop)
    with pytest.raises(ConfigError, match="expected one of"):
        env({"CREDITGOV_SPARK_SUBJECTS": "executors"})


def test_executors_connect_as_the_driver_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("PGSSLMODE", raising=False)
    monkeypatch.setenv("PGOPTIONS", "-csearch_path=elsewhere")  # the URL's own options win
    url, props = spark.jdbc_connection(
        "postgresql+psycopg://credit:p%40ss@ignored:1/county_db?host=db.example&port=6432&sslmode=verify-full"
        "&application_name=cg&connect_timeout=5&options=-csearch_path%3Dcounty")
    assert url == "jdbc:postgresql://db.example:6432/county_db"
    assert props == {"user": "credit", "password": "p@ss", "sslmode": "verify-full", "ApplicationName": "cg",
                     "connectTimeout": "5", "options": "-csearch_path=county"}
    monkeypatch.setenv("PGPASSWORD", "from-env")
    monkeypatch.setenv("PGSSLMODE", "require")
    url, props = spark.jdbc_connection("postgresql+psycopg://credit@[::1]/credit")
    assert url == "jdbc:postgresql://[::1]:5432/credit"
    # as libpq reads them: the password, the TLS mode and the options (a search_path)
    assert props == {"user": "credit", "password": "from-env", "sslmode": "require",
                     "options": "-csearch_path=elsewhere"}


def test_a_document_postgresql_cannot_read_says_how_to_stage(county_pg: str, pg_base: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`\\u0000` in an attribute document: PostgreSQL's JSON functions refuse it, so the
    JDBC read fails as an engine error naming the way round; staged, the run gives
    DuckDB's digits for the same store."""
    from creditgov.scoring import service
    from creditgov.scoring.engines import EngineError
    from tests.scoring.test_engines import _prepared, _rows

    name = "public-credit-enterprise"
    with store_template.pg_copy_of(pg_base, county_pg) as pg:
        with db.session_scope(pg) as s:
            s.execute(sa.text("UPDATE subjects SET attributes = CAST(:a AS json) WHERE id = "
                              "(SELECT MIN(id) FROM subjects WHERE kind = 'enterprise')"),
                      {"a": '{"registered_capital": 5000000, "note": "a\\u0000b"}'})
        p = _prepared(pg, name)
        with pytest.raises(EngineError, match="CREDITGOV_SPARK_SUBJECTS=stage"):
            service.compute(pg, p, "spark")
        monkeypatch.setenv("CREDITGOV_SPARK_SUBJECTS", "stage")
        assert _rows(pg, p, "spark") == _rows(pg, p, "duckdb")


def test_executors_get_the_password_libpq_finds_in_the_password_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A driver whose password is in `~/.pgpass` (here `PGPASSFILE`) connects through libpq;
    pgjdbc reads no such file, so the executors are given what libpq found — for the host,
    port, database and user of the store, not another line's."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    passfile = tmp_path / "pgpass"
    passfile.write_text("db.example:6432:other_db:credit:not-this-one\n"
                        "db.example:6432:county_db:credit:s3cr\\:et'\"\n"
                        "*:*:*:*:wildcard\n", encoding="utf-8")
    passfile.chmod(0o600)  # libpq ignores a password file others can read
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    _url, props = spark.jdbc_connection("postgresql+psycopg://credit@db.example:6432/county_db")
    assert props["password"] == "s3cr:et'\""
    _url, props = spark.jdbc_connection("postgresql+psycopg://someone@db.example:6432/county_db")
    assert props["password"] == "wildcard"
    _url, props = spark.jdbc_connection("postgresql+psycopg://credit:given@db.example:6432/county_db")
    assert props["password"] == "given"  # the URL's own wins, as in libpq
    passfile.write_text("db.example:6432:other_db:credit:not-this-one\n", encoding="utf-8")
    _url, props = spark.jdbc_connection("postgresql+psycopg://credit@db.example:6432/county_db")
    assert "password" not in props
