"""Analysis at scale: the regional analysis reads the credit records the way evaluation
does when the store is large — from the record segments (the columnar copy of
scoring/segments.py) plus the rows changed since, on DuckDB or on Spark — instead of
aggregating tens of millions of rows in the store's SQL.

Which reader (`engine`):
- `store`: SQL on the store (SQLite or PostgreSQL), as a county needs;
- `duckdb`: the segments and the fresh rows on an in-process DuckDB;
- `spark`: the same on the Spark master of `CREDITGOV_SPARK_MASTER` (docs/spark.md):
  the executors read the segment files where they are, the driver stages the fresh rows
  and the subjects in scope;
- `auto` (the default, or `CREDITGOV_ANALYSIS_ENGINE`): `duckdb` once the segments hold
  at least `CREDITGOV_ANALYSIS_SEGMENT_ROWS` records (default 1,000,000), else `store`.

The aggregate is one Ibis expression for both column engines, and reads exactly the
records the store's SQL reads: every current record once, as the store holds it now
(tests/analysis/test_scan.py holds the three readers to the same figures). Analysis
never writes the copy (a page must not wait for a segment to be written): evaluation
and the worker keep it current, and rows newer than it are read from the store.

Secret-class items are never in the segments; a figure that needs one is read from the
store (`secret_items` says which made it so).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

import ibis
import pyarrow as pa
from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from creditgov.core.duck import connect as duck_connect
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.scoring import engines, score_copies, segments
from creditgov.scoring.models import RecordSegment
from creditgov.scoring.spark import JdbcSubjects
from creditgov.subjects.models import Subject

ENGINES = ("store", "duckdb", "spark")
#: The subjects in scope: read (Arrow), or a query the Spark executors read themselves.
Subjects: TypeAlias = pa.Table | JdbcSubjects
CHOICES = ("auto", *ENGINES)
DEFAULT_SEGMENT_ROWS = 1_000_000
#: What an item code may hold where it is written into a filter (Spark SQL reads
#: backslashes in literals, so codes are checked rather than escaped).
ITEM_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,80}")


def _threshold() -> int:
    raw = os.environ.get("CREDITGOV_ANALYSIS_SEGMENT_ROWS", str(DEFAULT_SEGMENT_ROWS))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"CREDITGOV_ANALYSIS_SEGMENT_ROWS={raw!r}: a number of records") from None
    if value < 0:
        raise ConfigError(f"CREDITGOV_ANALYSIS_SEGMENT_ROWS={raw!r}: not negative")
    return value


def choose(session: Session, engine: str | None = None) -> str:
    """The reader for this store: the one asked for, or `auto` decided by the size of
    its record segments."""
    asked = engine or os.environ.get("CREDITGOV_ANALYSIS_ENGINE", "auto")
    if asked not in CHOICES:
        where = "--engine" if engine else "CREDITGOV_ANALYSIS_ENGINE"
        raise (InvalidInput if engine else ConfigError)(
            f"{where}={asked!r}: one of {', '.join(CHOICES)}")
    if asked != "auto":
        return asked
    rows = session.execute(select(func.coalesce(func.sum(RecordSegment.rows), 0))).scalar_one()
    return "duckdb" if int(rows) >= _threshold() else "store"


#: A copy further behind the store than this (records newer than it plus records changed
#: since) is not read: the rows would come from the store one by one, and analysis never
#: writes the copy. The store's SQL answers until the worker or a run refreshes it.
MAX_BEHIND_MIN = 200_000
MAX_BEHIND_SHARE = 0.10


def ready(url: str, items: Sequence[str] = ()) -> str | None:
    """Why the record segments cannot answer now (None: they can), from the manifest
    alone: no copy, a copy being rebuilt (a lost file, files of an older release, a
    changed set of secret items), or one far behind the store. Raises SecretItems when
    one of `items` is secret (never in the segments)."""
    lk = segments.look(url)
    if lk is None:
        return "this store keeps no record segments"
    if not lk.segs:
        return "the store has no record segments yet"
    if not lk.intact:
        return "the record segments are being rebuilt"
    copied = sum(s.rows for s in lk.segs)
    behind = max(0, lk.store_max - lk.segs[-1].max_id) + lk.overlay
    if behind > max(MAX_BEHIND_MIN, MAX_BEHIND_SHARE * copied):
        return f"the record segments are {behind:,} records behind the store"
    secret = tuple(sorted(set(items) & set(lk.secret)))
    if secret:
        raise SecretItems(secret)
    return None


def store_url(session: Session) -> str:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url.render_as_string(hide_password=False)


def subjects_in(session: Session, where: ColumnElement[bool], *, groups: bool = False,
                engine: str | None = None) -> Subjects:
    """(subject_id, region_id) of the subjects in scope, the join side of the scan; with
    `groups` also their industry and kind (what distributions group by). Read the way
    evaluation reads subjects, not row by row through the driver: PostgreSQL sends them
    by COPY — or, for a scan of the whole store on `engine` spark whose executors may
    reach the store, they read them themselves through JDBC (scoring/spark.py; the query
    is what is returned); a SQLite store's whole county comes through
    DuckDB's SQLite scanner (a scope's subjects, a grid's or a department's, through the
    driver)."""
    schema = pa.schema([("subject_id", pa.int64()), ("region_id", pa.int64()),
                        *([("industry", pa.string()), ("kind", pa.string())] if groups else [])])
    cols = [Subject.id.label("subject_id"), Subject.region_id, *([Subject.industry, Subject.kind] if groups else [])]
    url = store_url(session)
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and engine == "spark" and isinstance(where, True_):
        from creditgov.scoring import spark

        # The whole store's subjects only: a scope (a grid's, a department's) is small
        # enough for one COPY, and as a JDBC source each of up to 32 partitions would run
        # its query again over the whole id range.
        if spark.subjects_by_jdbc(spark.settings_from_env(), url):
            query = select(Subject.id, *cols[1:]).compile(dialect=dialect)
            return JdbcSubjects(url, str(query), id_as="subject_id")
    if dialect.name == "postgresql":
        from creditgov.core.db import pg_connect
        from creditgov.scoring.segment_logs import copy_arrow

        # The scope's values bound by the driver, as any query's are.
        compiled = select(*cols).where(where).compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        with pg_connect(url) as conn:
            return copy_arrow(conn, str(compiled), schema, dict(compiled.params))
    if isinstance(where, True_) and dialect.name == "sqlite":
        names = ", ".join(schema.names[2:])
        duck = duck_connect()
        try:
            engines.scan_sqlite_into(duck, url, {"subjects": (
                "SELECT CAST(id AS BIGINT) AS subject_id, CAST(region_id AS BIGINT) AS region_id"
                + (f", {names}" if names else "") + " FROM store.subjects")})
            return duck.execute("SELECT * FROM subjects").to_arrow_table().cast(schema)
        finally:
            duck.close()
    got: tuple[list[Any], ...] = tuple([] for _ in schema)
    for row in session.execute(select(*cols).where(where)).tuples():
        for col, v in zip(got, row, strict=True):
            col.append(v)
    return pa.table([pa.array(c, f.type) for c, f in zip(got, schema, strict=True)], schema=schema)


@dataclass
class Scan:
    """What a scan read, for the caller to show (`engine`, segment and fresh rows)."""

    engine: str
    segments: int = 0
    segment_rows: int = 0
    fresh_rows: int = 0
    secret_items: tuple[str, ...] = ()
    score_runs: int = 0
    subject_partitions: int = 0  # the executors read the subjects through JDBC, in so many partitions

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "segments": self.segments, "segment_rows": self.segment_rows,
                "fresh_rows": self.fresh_rows, **({"secret_items": list(self.secret_items)}
                                                  if self.secret_items else {}),
                **({"score_runs": self.score_runs} if self.score_runs else {}),
                **({"subject_partitions": self.subject_partitions} if self.subject_partitions else {})}


def record_filter(items: Sequence[str], since: dt.date, on: dt.date) -> str:
    """Current, active records of `items` that occurred in [since, on], in SQL that
    DuckDB and Spark both read (ISO date literals compare with DATE columns in both)."""
    for i in items:
        if not ITEM_CODE.fullmatch(i):
            raise InvalidInput(f"not a catalogue item code: {i!r}")
    names = ", ".join(f"'{i}'" for i in sorted(items))
    return (f"is_current AND status = 'active' AND item_code IN ({names}) "
            f"AND occurred_on >= '{since.isoformat()}' AND occurred_on <= '{on.isoformat()}'")


def _load_subjects(duck: Any, engine: str, subjects: Subjects | None) -> Any:
    """The subjects in scope into `duck` as table `subjects`; a JDBC query (spark only)
    is returned for the executors to read instead."""
    if subjects is None:
        return None
    if not isinstance(subjects, pa.Table):
        if engine != "spark":
            raise InvalidInput(f"the subjects' query is read by Spark's executors, not on {engine!r}")
        return subjects
    duck.register("_subjects_arrow", subjects)
    duck.execute("CREATE TABLE subjects AS SELECT * FROM _subjects_arrow")
    duck.unregister("_subjects_arrow")
    return None


@contextlib.contextmanager
def tables(url: str, engine: str, where: str, subjects: Subjects | None, copy: segments.Copy | None = None,
           columns: Sequence[str] = segments.EVALUATED) -> Iterator[tuple[Any, Any, Scan]]:
    """Ibis tables on `engine`: the records satisfying `where` (with `columns`), read
    from the store's record segments and the rows changed since, and the subjects in
    scope (None: no scope, every record)."""
    if engine not in ("duckdb", "spark"):
        raise InvalidInput(f"the segments are read on duckdb or spark, not {engine!r}")
    c = copy or segments.read(url)
    duck = duck_connect()
    names: tuple[str, ...] = ("credit_records",) if subjects is None else ("subjects", "credit_records")
    try:
        info = segments.load_into(duck, url, where, prepared=(c, {"action": "none", "seconds": 0.0}),
                                  columns=columns)
        jdbc = _load_subjects(duck, engine, subjects)
        scan = Scan(engine, info["segments"], info["segment_rows"], info["fresh_rows"])
        if engine == "duckdb":
            con = ibis.duckdb.from_connection(duck)
            yield con.table("credit_records"), (con.table("subjects") if subjects is not None else None), scan
            return
        from creditgov.scoring import spark

        timings: dict[str, float] = {}
        with spark.views(duck, names, timings, engines.Records(c, where), jdbc=jdbc) as (session, views, _):
            scan.subject_partitions = int(timings.get("subject_partitions", 0))
            con = ibis.pyspark.connect(session)
            yield (con.table(views["credit_records"]).select(*columns),
                   con.table(views["subjects"]) if subjects is not None else None, scan)
    finally:
        with contextlib.suppress(Exception):
            duck.close()


def record_totals(url: str, engine: str, subjects: Subjects, items: Sequence[str], since: dt.date,
                  on: dt.date) -> tuple[list[tuple[Any, ...]], Scan]:
    """Per (region, item): records, distinct subjects, the sum of their values and how
    many are above zero — over current active records of `items` in [since, on] of the
    subjects in `subjects` (grid risk's record figures, analysis/service.py). The caller
    asks `ready` first."""
    with tables(url, engine, record_filter(items, since, on), subjects) as (records, subj, scan):
        j = records.join(subj, "subject_id")
        agg = j.group_by(["region_id", "item_code"]).aggregate(
            n=j.subject_id.count(), subjects=j.subject_id.nunique(), total=j.value.sum(),
            positive=ibis.ifelse(j.value > 0, 1, 0).sum())
        got = agg.to_pyarrow().to_pylist()
    rows = [(r["region_id"], r["item_code"], int(r["n"]), int(r["subjects"]), r["total"], r["positive"])
            for r in got]
    return rows, scan


def department_counts(url: str, engine: str, subjects: Subjects | None, start_utc: dt.datetime,
                      end_utc: dt.datetime) -> tuple[dict[str, dict[Any, int]], Scan]:
    """The statistics form's records table (statistics/service.py) per supplying
    department: records first written in [start, end) (`new`), corrections written
    then (`corrections`), and records first written before the end (`total`) — every
    record, current or not, of the subjects in `subjects` (None: all). Secret items
    are not in the segments: `Scan.secret_items` names them for the caller to count in
    the store. The caller asks `ready` first."""
    c = segments.read(url)
    end = end_utc.isoformat(sep=" ")
    with tables(url, engine, f"created_at < TIMESTAMP '{end}'", subjects, copy=c,
                columns=("subject_id", "department_code", "created_at", "version")) as (records, subj, scan):
        r = records if subj is None else records.join(subj, "subject_id")
        fresh = r.created_at >= ibis.timestamp(start_utc)
        agg = r.group_by("department_code").aggregate(
            new=ibis.ifelse(fresh & (r.version == 1), 1, 0).sum(),
            corrections=ibis.ifelse(fresh & (r.version > 1), 1, 0).sum(),
            total=ibis.ifelse(r.version == 1, 1, 0).sum())
        got = agg.to_pyarrow().to_pylist()
    scan.secret_items = tuple(c.secret)
    # As the store's GROUP BY under each condition: a department only where it counts.
    return {col: {g["department_code"]: int(g[col]) for g in got if g[col]}
            for col in ("new", "corrections", "total")}, scan


def scores_ready(url: str, runs: Sequence[tuple[int, int, int]]) -> str | None:
    """Why the runs' score copies (scoring/score_copies.py) cannot answer (None: they
    can): `runs` are (run id, scores, sum of their subject ids) as the store holds them
    now (score_copies.fingerprints); a copy must be whole and hold the same subjects."""
    copies = score_copies.Copies(url)
    if copies.place.unset:
        return copies.place.unset
    lacking = [rid for rid, n, ids in runs if not copies.whole(rid, n, ids)]
    if lacking:
        return (f"run {', '.join(map(str, lacking))} has no current score copy "
                "(`creditgov model segments --refresh` writes it)")
    return None


@contextlib.contextmanager
def score_tables(url: str, engine: str, run_ids: Sequence[int],
                 subjects: Subjects | None) -> Iterator[tuple[Any, Any, Scan]]:
    """Ibis tables on `engine`: the runs' scores (run_id, subject_id, score_centi, grade,
    colour) from their copies, and the subjects in scope (None: every subject). The
    caller asks `scores_ready` first."""
    if engine not in ("duckdb", "spark"):
        raise InvalidInput(f"the score copies are read on duckdb or spark, not {engine!r}")
    copies = score_copies.Copies(url)
    kind, source = copies.source(run_ids)
    duck = duck_connect()
    try:
        if kind == "dataset":
            duck.register("_scores_dataset", source)
            source = "_scores_dataset"
        jdbc = _load_subjects(duck, engine, subjects)
        scan = Scan(engine, score_runs=len(run_ids))
        if engine == "duckdb":
            duck.execute(f"CREATE VIEW scores AS SELECT * FROM {source}")
            con = ibis.duckdb.from_connection(duck)
            yield con.table("scores"), (con.table("subjects") if subjects is not None else None), scan
            return
        from creditgov.scoring import spark

        names: tuple[str, ...] = ("subjects",) if subjects is not None else ()
        direct = spark.reaches(spark.settings_from_env(), copies.place)
        if not direct:  # the executors cannot reach the driver's folder: stage the copies
            duck.execute(f"CREATE TABLE scores AS SELECT * FROM {source}")
            names += ("scores",)
        timings: dict[str, float] = {}
        with spark.views(duck, names, timings, files={"scores": copies.urls(run_ids)} if direct else None,
                         jdbc=jdbc) as (session, views, _):
            scan.subject_partitions = int(timings.get("subject_partitions", 0))
            con = ibis.pyspark.connect(session)
            yield con.table(views["scores"]), (con.table(views["subjects"]) if subjects is not None else None), scan
    finally:
        with contextlib.suppress(Exception):
            duck.close()


def grade_counts(url: str, engine: str, run_id: int, subjects: Subjects) -> tuple[list[tuple[Any, ...]], Scan]:
    """(region, industry, kind, grade, subjects) of one run over the subjects in
    `subjects` (with `groups`): the grade distribution of analysis/service.py."""
    with score_tables(url, engine, [run_id], subjects) as (scores, subj, scan):
        j = scores.join(subj, "subject_id")
        got = (j.group_by(["region_id", "industry", "kind", "grade"]).aggregate(n=j.subject_id.count())
               .to_pyarrow().to_pylist())
    return [(r["region_id"], r["industry"], r["kind"], r["grade"], int(r["n"])) for r in got], scan


def run_totals(url: str, engine: str, run_ids: Sequence[int], subjects: Subjects | None,
               groups: bool) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], Scan]:
    """Per (run, grade): subjects and the sum of their scores; with `groups` also per
    (run, region, industry, kind): the sum and the count — over the subjects in
    `subjects` (None: all). A trend's figures (analysis/service.py); scores as decimals."""
    with score_tables(url, engine, run_ids, subjects) as (scores, subj, scan):
        t = scores if subj is None else scores.join(subj, "subject_id")
        by_grade = (t.group_by(["run_id", "grade"]).aggregate(n=t.subject_id.count(), centi=t.score_centi.sum())
                    .to_pyarrow().to_pylist())
        by_group = (t.group_by(["run_id", "region_id", "industry", "kind"])
                    .aggregate(n=t.subject_id.count(), centi=t.score_centi.sum()).to_pyarrow().to_pylist()
                    if groups else [])
    grades = [(r["run_id"], r["grade"], int(r["n"]), Decimal(int(r["centi"])) / 100) for r in by_grade]
    groups_out = [(r["run_id"], r["region_id"], r["industry"], r["kind"], Decimal(int(r["centi"])) / 100, int(r["n"]))
                  for r in by_group]
    return grades, groups_out, scan


class SecretItems(Exception):  # noqa: N818 - a signal to read from the store, not an error for users
    """A figure needs items the segments leave out (secret class): read the store."""

    def __init__(self, items: tuple[str, ...]) -> None:
        super().__init__(", ".join(items))
        self.items = items
