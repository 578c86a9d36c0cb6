"""Thin engine adapters: where the compiled plan runs.

- `sqlite`, `postgres`: inside the operational store, over its own tables.
- `duckdb` (the default, chosen by measurement — docs/decisions/0002-evaluation-default-engine.md):
  the store's relevant rows are copied into an in-memory DuckDB database (a snapshot
  at one watermark) and the plan runs there; a SQLite store is read by DuckDB's SQLite
  scanner in a child process (sqlite_reader.py).
- `spark`: the same snapshot staged as Parquet files where every executor can read
  them, and read by a Spark session, local or a cluster's (`creditgov[spark]`,
  scoring/spark.py, docs/spark.md).

An adapter supplies the four input relations and the way to read a subject attribute
(the JSON `attributes` column); it never changes the plan. A model an engine cannot
run is refused before anything runs (`check`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy.engine import make_url

from creditgov.core.db import pg_connect
from creditgov.core.duck import check as duck_check
from creditgov.core.duck import connect as duck_connect
from creditgov.core.errors import CreditGovError
from creditgov.scoring import segments
from creditgov.scoring.prepared import Prepared

ENGINES = ("duckdb", "sqlite", "postgres", "spark")
DEFAULT_ENGINE = "duckdb"

#: SQLite compiles a CASE/arithmetic chain as nested expressions and refuses nesting
#: deeper than SQLITE_MAX_EXPR_DEPTH (1000); a sum over n items nests about n deep.
SQLITE_MAX_LEAVES = 400


class EngineError(CreditGovError):
    """An engine that cannot run a model, or is not available here."""


def first_line(exc: BaseException) -> str:
    """What an engine's error says, for a person: its first line (Py4J and psycopg give
    many lines of Java or context), or its kind when it says nothing."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def check(engine: str, p: Prepared, url: str) -> None:
    """Refuse, with a reason, what an engine cannot run."""
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql" if url.startswith("postgresql") else url
    if engine == "sqlite" and dialect != "sqlite":
        raise EngineError("engine sqlite runs inside a SQLite store; this store is " + dialect.split(":")[0])
    if engine == "postgres" and dialect != "postgresql":
        raise EngineError("engine postgres runs inside a PostgreSQL store; this store is " + dialect.split(":")[0])
    if engine in ("duckdb", "spark"):  # both read through a DuckDB snapshot: its settings refused here
        duck_check()
    n_leaves = len(p.leaves) + len(p.bonuses)
    if engine == "sqlite" and n_leaves > SQLITE_MAX_LEAVES:
        raise EngineError(f"model {p.model.name} has {n_leaves} items; SQLite cannot nest an expression "
                          f"that deep (SQLITE_MAX_EXPR_DEPTH 1000): use --engine duckdb")
    if engine == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise EngineError("engine spark needs the optional extra: pip install 'creditgov[spark]'") from None
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise EngineError("engine spark needs a Java runtime (17 or later) on PATH or JAVA_HOME")
        from creditgov.scoring import spark

        spark.settings_from_env()  # a cluster master without a shared staging location is refused here


# ----------------------------------------------------------------------------- sources


@dataclass
class _Tables:
    name: str
    con: Any
    subjects: ir.Table
    records: ir.Table
    changes: ir.Table
    list_entries: ir.Table
    watermark: str
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, expr: ir.Table) -> pa.Table:
        """Execute the plan and fetch every row."""
        return expr.to_pyarrow()


class JsonSource(_Tables):
    """Attributes read with Ibis's JSON operations (DuckDB's JSON extension)."""

    @staticmethod
    def _json(subjects: ir.Table) -> ir.JSONValue:
        # The snapshot holds the document as text; cast only what is not JSON yet.
        a = subjects.attributes
        return a if a.type().is_json() else a.cast("json")

    def attr_num(self, subjects: ir.Table, name: str) -> ir.FloatingValue:
        return self._json(subjects)[name].float

    def attr_str(self, subjects: ir.Table, name: str) -> ir.StringValue:
        return self._json(subjects)[name].str


@ibis.udf.scalar.builtin(name="json_extract")
def _sqlite_extract(j: idt.JSON, path: str) -> str: ...  # type: ignore[empty-body]  # an Ibis builtin: the body never runs, Ibis calls the SQL function of that name


@ibis.udf.scalar.builtin(name="json_extract")
def _sqlite_extract_num(j: idt.JSON, path: str) -> float: ...  # type: ignore[empty-body]  # an Ibis builtin: the body never runs, Ibis calls the SQL function of that name


@ibis.udf.scalar.builtin(name="json_type")
def _sqlite_type(j: idt.JSON, path: str) -> str: ...  # type: ignore[empty-body]  # an Ibis builtin: the body never runs, Ibis calls the SQL function of that name


class SqliteSource(_Tables):
    """SQLite's JSON1 functions, called directly: Ibis 12 unwraps a string attribute
    as `a ->> '$.k' ->> '$'`, which parses the bare text as JSON ("malformed JSON")."""

    def attr_num(self, subjects: ir.Table, name: str) -> ir.FloatingValue:
        a, path = subjects.attributes, f"$.{name}"
        return _sqlite_type(a, path).isin(["integer", "real"]).ifelse(
            _sqlite_extract_num(a, path).cast("float64"), ibis.null("float64"))

    def attr_str(self, subjects: ir.Table, name: str) -> ir.StringValue:
        a, path = subjects.attributes, f"$.{name}"
        return (_sqlite_type(a, path) == "text").ifelse(_sqlite_extract(a, path), ibis.null("string"))

    def run(self, expr: ir.Table) -> pa.Table:
        # SQLite's parser has a fixed stack (YYSTACKDEPTH 100) and overflows on the
        # twenty-odd nested sub-selects Ibis emits for a 42-item model ("parser stack
        # overflow"). The same query with every derived table lifted into a WITH
        # clause is equivalent and parses flat. (Ibis 12 internals: pre-execute hooks
        # register the memtables; _fetch_from_cursor types the columns.)
        import sqlglot
        from sqlglot.optimizer.eliminate_subqueries import eliminate_subqueries

        con = self.con
        con._run_pre_execute_hooks(expr)
        sql = eliminate_subqueries(sqlglot.parse_one(str(con.compile(expr)), read="sqlite")).sql(dialect="sqlite")
        schema = expr.schema()
        with con._safe_raw_sql(sql) as cur:
            df = con._fetch_from_cursor(cur, schema)
        return pa.Table.from_pandas(df, schema=schema.to_pyarrow(), preserve_index=False)


@ibis.udf.scalar.builtin(name="json_extract_path_text")
def _pg_text(j: idt.JSON, k: str) -> str: ...  # type: ignore[empty-body]  # an Ibis builtin: the body never runs, Ibis calls the SQL function of that name


@ibis.udf.scalar.builtin(name="json_extract_path")
def _pg_path(j: idt.JSON, k: str) -> idt.JSON: ...


@ibis.udf.scalar.builtin(name="json_typeof")
def _pg_typeof(j: idt.JSON) -> str: ...  # type: ignore[empty-body]  # an Ibis builtin: the body never runs, Ibis calls the SQL function of that name


class PostgresSource(_Tables):
    """PostgreSQL's json functions, called directly: Ibis 12's JSON unwrap emits SQL
    that PostgreSQL rejects (`->> VARIADIC`)."""

    def attr_num(self, subjects: ir.Table, name: str) -> ir.FloatingValue:
        a = subjects.attributes
        return (_pg_typeof(_pg_path(a, name)) == "number").ifelse(
            _pg_text(a, name).cast("float64"), ibis.null("float64"))

    def attr_str(self, subjects: ir.Table, name: str) -> ir.StringValue:
        a = subjects.attributes
        return (_pg_typeof(_pg_path(a, name)) == "string").ifelse(_pg_text(a, name), ibis.null("string"))


@dataclass
class FlatSource(_Tables):
    """Attributes flattened into columns when the snapshot was written (Spark: Ibis's
    JSON operations there are Python UDFs). `stage`: the run's staging place."""

    stage: Any = None

    def run(self, expr: ir.Table) -> pa.Table:
        """The plan's rows collected as Arrow straight from Spark (`DataFrame.toArrow`),
        typed as the plan says; Ibis's own fetch goes through pandas and back."""
        from ibis.formats.pyarrow import PyArrowData

        self.con._run_pre_execute_hooks(expr)
        with self.con._safe_raw_sql(self.con.compile(expr)) as df:
            got = df.toArrow()
        return PyArrowData.convert_table(got, expr.schema())

    def attr_num(self, subjects: ir.Table, name: str) -> ir.FloatingValue:
        return subjects[f"__an_{name}"]

    def attr_str(self, subjects: ir.Table, name: str) -> ir.StringValue:
        return subjects[f"__as_{name}"]


# ----------------------------------------------------------------------------- store reads

TABLES = ("subjects", "credit_records", "record_status_changes", "list_entries")


def _inputs(con: Any, names: Iterable[str] = TABLES) -> tuple[ir.Table, ir.Table, ir.Table, ir.Table]:
    """The four input tables on `con`, in `_Tables`'s field order (`names`: what they
    are called there, one per entry of TABLES)."""
    subjects, records, changes, list_entries = (con.table(n) for n in names)
    return subjects, records, changes, list_entries


def _quote_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _record_filter(p: Prepared, current: str = "is_current = {true}") -> str:
    """Which records a snapshot copies: current versions of the items the model uses
    (never a secret item: a model naming one does not validate) that can be in force on
    the as-of date — occurred by then and after the model's earliest window cut-off,
    published by then, publication not ended, not revoked (rules 1-5 of docs/scoring.md;
    the plan applies them again, and rule 6, the status on the as-of date, from the
    status history). Dates are compared with ISO literals, which SQLite (ISO text),
    PostgreSQL and DuckDB (DATE) all order correctly. `{true}` stands for the dialect's true."""
    items = sorted(p.used_items)
    if not items:
        return "1 = 0"
    a = p.as_of.isoformat()
    cond = [current, f"item_code IN ({_quote_list(items)})", f"occurred_on <= '{a}'",
            f"(published_from IS NULL OR published_from <= '{a}')",
            f"(published_until IS NULL OR published_until >= '{a}')", "status <> 'revoked'"]
    if p.min_cutoff is not None:
        cond.append(f"occurred_on > '{p.min_cutoff.isoformat()}'")
    return " AND ".join(cond)


def _kinds(p: Prepared) -> str:
    """The subjects a model scores: its kinds, as a condition every dialect reads."""
    return f"kind IN ({_quote_list(sorted(p.model.scope.kinds))})"


def _store_queries(p: Prepared) -> dict[str, str]:
    """What a snapshot copies: subjects of the model's kinds, the records that can count
    (`_record_filter`), the status history and list entries (both small). Every value as
    text or integer so that SQLite's loose typing cannot change a type mid-stream."""
    return {
        "subjects": "SELECT id, kind, industry, CAST(established_on AS TEXT) AS established_on, status, "
                    f"CAST(attributes AS TEXT) AS attributes FROM subjects WHERE {_kinds(p)}",
        "credit_records": "SELECT id, subject_id, item_code, CAST(occurred_on AS TEXT) AS occurred_on, "
                          "CAST(value AS TEXT) AS value, grade, status, CAST(published_from AS TEXT) AS published_from, "
                          "CAST(published_until AS TEXT) AS published_until, "
                          f"CASE WHEN is_current THEN 1 ELSE 0 END AS is_current FROM credit_records "
                          f"WHERE {_record_filter(p)}",
        "record_status_changes": "SELECT id, record_id, from_status, to_status, CAST(at AS TEXT) AS at "
                                 "FROM record_status_changes",
        "list_entries": "SELECT id, list_code, subject_id, status, CAST(published_on AS TEXT) AS published_on, "
                        "CAST(expires_on AS TEXT) AS expires_on, CAST(exited_on AS TEXT) AS exited_on "
                        "FROM list_entries",
    }


def _scan_queries(p: Prepared) -> dict[str, str]:
    """The same rows in DuckDB SQL over the store attached through DuckDB's SQLite
    scanner (`store`), typed as the snapshot's tables (`_DUCK_TYPES`). The scanner
    types each column by its declared type; a record's value is read through its text
    form, as SQLite prints it, exactly like the other readers (a binary double cast
    straight to DECIMAL would round 0.285 down)."""
    return {
        "subjects": "SELECT CAST(id AS BIGINT) AS id, kind, industry, CAST(established_on AS DATE) AS established_on, "
                    f"status, CAST(attributes AS VARCHAR) AS attributes FROM store.subjects WHERE {_kinds(p)}",
        "credit_records": f"SELECT {segments.DUCK_COLUMNS} "
                          f"FROM store.credit_records WHERE {_record_filter(p, 'is_current <> 0')}",
        "record_status_changes": "SELECT CAST(id AS BIGINT) AS id, CAST(record_id AS BIGINT) AS record_id, "
                                 "from_status, to_status, CAST(\"at\" AS TIMESTAMP) AS \"at\" "
                                 "FROM store.record_status_changes",
        "list_entries": "SELECT CAST(id AS BIGINT) AS id, list_code, CAST(subject_id AS BIGINT) AS subject_id, "
                        "status, CAST(published_on AS DATE) AS published_on, CAST(expires_on AS DATE) AS expires_on, "
                        "CAST(exited_on AS DATE) AS exited_on FROM store.list_entries",
    }


_DUCK_TYPES = {
    "subjects": "CAST(id AS BIGINT) AS id, kind, industry, CAST(established_on AS DATE) AS established_on, "
                "status, attributes",
    "credit_records": "CAST(id AS BIGINT) AS id, CAST(subject_id AS BIGINT) AS subject_id, item_code, "
                      "CAST(occurred_on AS DATE) AS occurred_on, CAST(value AS DECIMAL(18, 2)) AS value, grade, "
                      "status, CAST(published_from AS DATE) AS published_from, "
                      "CAST(published_until AS DATE) AS published_until, CAST(is_current AS BOOLEAN) AS is_current",
    "record_status_changes": "CAST(id AS BIGINT) AS id, CAST(record_id AS BIGINT) AS record_id, from_status, "
                             "to_status, CAST(\"at\" AS TIMESTAMP) AS \"at\"",
    "list_entries": "CAST(id AS BIGINT) AS id, list_code, CAST(subject_id AS BIGINT) AS subject_id, status, "
                    "CAST(published_on AS DATE) AS published_on, CAST(expires_on AS DATE) AS expires_on, "
                    "CAST(exited_on AS DATE) AS exited_on",
}

_TEXT_SCHEMAS = {
    "subjects": [("id", pa.int64()), ("kind", pa.string()), ("industry", pa.string()),
                 ("established_on", pa.string()), ("status", pa.string()), ("attributes", pa.string())],
    "credit_records": [("id", pa.int64()), ("subject_id", pa.int64()), ("item_code", pa.string()),
                       ("occurred_on", pa.string()), ("value", pa.string()), ("grade", pa.string()),
                       ("status", pa.string()), ("published_from", pa.string()), ("published_until", pa.string()),
                       ("is_current", pa.int64())],
    "record_status_changes": [("id", pa.int64()), ("record_id", pa.int64()), ("from_status", pa.string()),
                              ("to_status", pa.string()), ("at", pa.string())],
    "list_entries": [("id", pa.int64()), ("list_code", pa.string()), ("subject_id", pa.int64()),
                     ("status", pa.string()), ("published_on", pa.string()), ("expires_on", pa.string()),
                     ("exited_on", pa.string())],
}


def sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise EngineError("an in-memory SQLite store cannot be read by another connection")
    return path


def _sqlite_query(sql: str) -> str:
    return sql.replace("{true}", "1")


def _typed(table: str, got: pa.Table) -> pa.Table:
    """Give a text read the snapshot's text schema."""
    schema = pa.schema(_TEXT_SCHEMAS[table])
    if got.num_rows == 0:
        return schema.empty_table()
    return pa.Table.from_arrays([got.column(i).cast(f.type) for i, f in enumerate(schema)], schema=schema)


def _read_sqlite_stdlib(url: str, queries: dict[str, str]) -> dict[str, pa.Table]:
    """Rows of the SQLite store as text-typed Arrow, through the standard library (in
    this process: the same SQLite library as the rest of the product). The slow,
    obviously right reader that the scanner is tested against."""
    import sqlite3

    out = {}
    conn = sqlite3.connect(sqlite_path(url))
    try:
        for t, sql in queries.items():
            rows = conn.execute(_sqlite_query(sql)).fetchall()
            schema = pa.schema(_TEXT_SCHEMAS[t])
            cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
            out[t] = _typed(t, pa.Table.from_arrays(
                [pa.array(list(c), type=f.type) for c, f in zip(cols, schema, strict=True)], schema=schema))
    finally:
        conn.close()
    return out


def scan_sqlite_into(duck: Any, url: str, queries: dict[str, str]) -> None:
    """Fill the snapshot's tables from a SQLite store through DuckDB's SQLite scanner,
    run in a child process (sqlite_reader.py says why it must be another process). The
    child streams each table as Arrow IPC through a pipe, already typed; this process
    loads the stream into its DuckDB while the child is still reading — one copy, no
    files."""
    import json
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "creditgov.scoring.sqlite_reader", sqlite_path(url), "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    errors: list[bytes] = []
    stderr = proc.stderr
    drain = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    drain.start()
    try:
        proc.stdin.write(json.dumps(queries).encode())
        proc.stdin.close()
        for name in queries:
            reader = pa.ipc.open_stream(proc.stdout)
            duck.register(f"_in_{name}", reader)
            try:
                duck.execute(f"CREATE TABLE {name} AS SELECT * FROM _in_{name}")
            finally:
                duck.unregister(f"_in_{name}")
    except BaseException as exc:
        proc.kill()
        proc.wait()
        drain.join(5)
        err = b"".join(errors).decode(errors="replace").strip().splitlines()
        if isinstance(exc, Exception):
            raise EngineError(f"reading the SQLite store failed: {err[-1] if err else exc}") from exc
        raise
    proc.wait()
    drain.join(5)
    if proc.returncode != 0:
        err = b"".join(errors).decode(errors="replace").strip().splitlines()
        raise EngineError(f"reading the SQLite store failed: {err[-1] if err else proc.returncode}")


def _read_postgres(url: str, queries: dict[str, str]) -> dict[str, pa.Table]:
    return {t: _read_postgres_one(url, t, q) for t, q in queries.items()}


def _read_postgres_one(url: str, table: str, sql: str) -> pa.Table:
    """Rows of the PostgreSQL store as Arrow through COPY (segment_logs.copy_arrow)."""
    from creditgov.scoring.segment_logs import copy_arrow

    with pg_connect(url) as conn:
        return copy_arrow(conn, sql.replace("{true}", "true"), pa.schema(_TEXT_SCHEMAS[table]))


def snapshot(url: str, p: Prepared, *, scanner: bool = True) -> tuple[Any, dict[str, float]]:
    """An in-memory DuckDB database holding what the plan reads, typed, and how long
    filling it took (`_snapshot`)."""
    duck, timings, _ = _snapshot(url, p, scanner=scanner)
    return duck, timings


@dataclass
class Records:
    """How a snapshot's credit records were read: the segments and the rows replacing
    theirs (a Spark run reads the segments itself), and the filter the plan's rows pass."""
    copy: segments.Copy
    where: str


def _snapshot(url: str, p: Prepared, *, scanner: bool = True,
              skip: tuple[str, ...] = ()) -> tuple[Any, dict[str, float], Records | None]:
    """The snapshot and how its records were read. The credit records come from the
    store's record segments plus the rows changed since (segments.py); the other tables
    from a SQLite store through DuckDB's SQLite scanner in a child process, from
    PostgreSQL through COPY. `scanner=False`: every table straight from the store (the
    standard library for SQLite, COPY for PostgreSQL), the slow reader tests hold the
    fast one to. Tables in `skip` are left out (a Spark run whose executors read them
    from the store themselves)."""
    import time

    duck = duck_connect()
    try:
        t0 = time.perf_counter()
        sqlite = url.startswith("sqlite")
        if scanner:
            where = _record_filter(p, "is_current")
            copy = segments.prepare(url)
            info = segments.load_into(duck, url, where, prepared=copy)
            t_records = time.perf_counter() - t0
            queries = {t: q for t, q in (_scan_queries(p) if sqlite else _store_queries(p)).items()
                       if t != "credit_records" and t not in skip}
            if sqlite:
                scan_sqlite_into(duck, url, queries)
            else:
                _load(duck, _read_postgres(url, queries))
            return duck, {"read_store": round(time.perf_counter() - t0, 3), "read_records": round(t_records, 3),
                          "refresh_segments": info["refresh_seconds"], "load_records": info["load_seconds"],
                          "segment_rows": info["segment_rows"], "fresh_rows": info["fresh_rows"]}, \
                Records(copy[0], where)
        queries = _store_queries(p)
        data = _read_sqlite_stdlib(url, queries) if sqlite else _read_postgres(url, queries)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        _load(duck, data)
        return duck, {"read_store": round(t_read, 3), "load_snapshot": round(time.perf_counter() - t0, 3)}, None
    except BaseException:
        duck.close()
        raise


def _load(duck: Any, data: dict[str, pa.Table]) -> None:
    for name, tbl in data.items():
        duck.register(f"_in_{name}", tbl)
        duck.execute(f"CREATE TABLE {name} AS SELECT {_DUCK_TYPES[name]} FROM _in_{name}")
        duck.unregister(f"_in_{name}")


def read_store(url: str, p: Prepared, *, scanner: bool = True) -> dict[str, pa.Table]:
    """What the snapshot holds, as Arrow tables in id order."""
    duck, _ = snapshot(url, p, scanner=scanner)
    try:
        return {t: duck.execute(f"SELECT * FROM {t} ORDER BY id").to_arrow_table() for t in TABLES}
    finally:
        duck.close()


def watermark(url: str) -> str:
    """The store's high-water marks: what a run saw (ids only grow; a status change
    adds a row)."""
    sql = ("SELECT (SELECT COALESCE(MAX(id), 0) FROM credit_records), "
           "(SELECT COALESCE(MAX(id), 0) FROM record_status_changes), "
           "(SELECT COALESCE(MAX(id), 0) FROM list_entries), "
           "(SELECT COUNT(*) FROM list_entries WHERE status = 'published')")
    if url.startswith("sqlite"):
        import sqlite3

        lite = sqlite3.connect(sqlite_path(url))
        try:
            r, c, lmax, lpub = lite.execute(sql).fetchone()
        finally:
            lite.close()
    else:
        with pg_connect(url) as conn:
            row = conn.execute(sql).fetchone()
        assert row is not None  # a SELECT of four sub-selects yields one row
        r, c, lmax, lpub = row
    return f"records<={r};changes<={c};lists<={lmax}/{lpub}"


# ----------------------------------------------------------------------------- opening


@contextlib.contextmanager
def open_source(engine: str, url: str, p: Prepared) -> Iterator[Any]:
    """The plan's inputs on `engine` for the store at `url`, with timings of any copy."""

    check(engine, p, url)
    wm = watermark(url)
    if engine == "sqlite":
        con = ibis.sqlite.connect(sqlite_path(url))
        try:
            yield SqliteSource("sqlite", con, *_inputs(con), watermark=wm)
        finally:
            con.disconnect()
        return
    if engine == "postgres":
        raw = pg_connect(url)
        con = ibis.postgres.from_connection(raw)
        try:
            yield PostgresSource("postgres", con, *_inputs(con), watermark=wm)
        finally:
            raw.close()
        return
    if engine == "spark":
        yield from _spark_source(url, p, wm)
        return
    duck, timings, _ = _snapshot(url, p)  # duckdb (`check` knows no other engine)
    con = ibis.duckdb.from_connection(duck)
    try:
        yield JsonSource("duckdb", con, *_inputs(con), watermark=wm, timings=timings)
    finally:
        duck.close()


def _spark_source(url: str, p: Prepared, wm: str) -> Iterator[Any]:
    """The snapshot staged as Parquet where the executors can read it, the record segments
    read where they are, and a PostgreSQL store's subjects read by the executors through
    JDBC in one exported snapshot (scoring/spark.py)."""
    from creditgov.scoring import spark

    attributes = (p.attributes_num, p.attributes_str)
    jdbc = None
    if spark.subjects_by_jdbc(spark.settings_from_env(), url):
        jdbc = spark.JdbcSubjects(url, spark.subjects_sql(_kinds(p), attributes))
    duck, timings, records = _snapshot(url, p, skip=("subjects",) if jdbc else ())
    try:
        with spark.views(duck, TABLES, timings, records, attributes=attributes, jdbc=jdbc) as (
                session, views, stage):
            con = ibis.pyspark.connect(session)
            yield FlatSource("spark", con, *_inputs(con, (views[t] for t in TABLES)), watermark=wm,
                             timings=timings, stage=stage)
    finally:
        with contextlib.suppress(Exception):
            duck.close()


def execute(src: Any, expr: ir.Table) -> pa.Table:
    """Run the plan on its source and fetch every row, sorted by subject."""
    return src.run(expr.order_by("subject_id"))
