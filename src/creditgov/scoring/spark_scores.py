"""A Spark run's scores written into a PostgreSQL store by the executors themselves.

Collected on the driver, a province's run is one process holding every score (a hundred
million rows, several times that as Python objects while they are formatted) and one
connection copying them into the store: the long pole of docs/scale.md's projection.
Where the executors reach the store (`spark.scores_by_jdbc`: the same conditions as
their reading the subjects), a run instead

1. writes the plan's rows once into its staging place (the plan runs there, once);
2. counts them there — rows, the sum of their subject ids, grades and colours: a few
   numbers come back to the driver, not the rows;
3. has the executors write each row's first-level scores as the JSON text the driver's
   path writes (`dims_text`) and insert the rows through JDBC, in parallel, into an
   unlogged load table of the store, `evaluation_score_load_<run>`, made for the run;
4. copies them, a batch at a time, as the run's score copy (score_copies.py);

and the run's own transaction (`run_store.store_loaded`) moves them into `evaluation_scores` with one
`INSERT … SELECT` — the score's decimal computed there, the text kept — checks the
foreign keys once, marks the run done and drops the load table: a crash leaves a failed
run without scores, never half a run, as before. A task Spark runs again after it
committed its rows (its executor lost before it reported) inserts them twice: the load
table then holds more rows than the run, and the move keeps each subject's once (the
rows are the same: the staged file is read again, not the plan; the move checks they
are). While a run is alive, a connection of its driver holds an advisory lock named
after its load table; a load table nobody holds such a lock on (its driver was killed,
or its run failed and could not drop it) is dropped by the next such run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from creditgov.core.errors import ConfigError
from creditgov.scoring import score_copies
from creditgov.scoring.prepared import Prepared

log = logging.getLogger(__name__)

LOAD_PREFIX = "evaluation_score_load_"
#: Rows per JDBC batch (pgjdbc rewrites a batch into multi-row INSERTs).
BATCH_ROWS = 10_000
#: The advisory lock a live run holds on its load table (per schema and table name).
_LOCK_KEY = "hashtextextended(current_schema() || '.' || %s, 0)"


def load_table(run_id: int) -> str:
    return f"{LOAD_PREFIX}{int(run_id)}"


def quoted(schema: str, name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))


def applies(src: Any, url: str) -> bool:
    """Whether this run's scores go into the store through the executors: a Spark source
    with a staging place, a store they may reach (`spark.scores_by_jdbc`), and a role that
    may create the load table in the store's schema (`auto` stores through the driver
    otherwise; `jdbc` is refused with the reason)."""
    from creditgov.core.db import pg_connect
    from creditgov.scoring import spark

    s = spark.settings_from_env()
    if src.name != "spark" or getattr(src, "stage", None) is None or not spark.scores_by_jdbc(s, url):
        return False
    with pg_connect(url) as conn:
        row = conn.execute("SELECT current_schema(), has_schema_privilege(current_schema(), 'CREATE')").fetchone()
    if row is not None and row[0] is not None and row[1]:
        return True
    if s.scores == "jdbc":
        where = f"schema {row[0]}" if row is not None and row[0] is not None else "no schema (search_path)"
        raise ConfigError(f"CREDITGOV_SPARK_SCORES=jdbc: the store's role may not create the run's load table in "
                          f"{where}")
    return False


@dataclass
class Loaded:
    """A run's scores, in the store's load table and counted; `holder` is the driver's
    connection holding the run's lock on that table until `release`."""
    schema: str
    name: str
    rows: int
    id_sum: int
    grades: Counter[str]
    colours: Counter[str]
    holder: Any = field(default=None, repr=False, compare=False)

    @property
    def table(self) -> str:
        return quoted(self.schema, self.name)

    def release(self) -> None:
        if self.holder is not None:
            with contextlib.suppress(Exception):
                self.holder.close()
            self.holder = None


def number_text(name: str, per: int, width: int) -> Any:
    """The integer column `name` in units of 1/per as the decimal text
    `run_store.fixed_text(strip=True)` writes — trailing zeros and a bare point dropped,
    the sign before — as a Spark column: computed by the executors, in parallel, rather
    than by the database in the run's one transaction."""
    from pyspark.sql import functions as F

    a = f"abs(CAST(`{name}` AS BIGINT))"
    unsigned = F.expr(f"concat(CAST({a} div {per} AS STRING), '.', lpad(CAST({a} % {per} AS STRING), {width}, '0'))")
    return F.concat(F.when(F.col(name) < 0, F.lit("-")).otherwise(F.lit("")),
                    F.regexp_replace(unsigned, r"\.?0+$", ""))


def dims_text(p: Prepared) -> Any:
    """The first-level scores' JSON text of each row, as `run_store.store_table` writes
    it, from the plan's `dim<k>` columns (a Spark column)."""
    from pyspark.sql import functions as F

    if not p.dims:
        return F.lit("{}")
    per, width = (100, 2) if p.weighted else (1000, 3)
    parts = []
    for k, (code, _, _) in enumerate(p.dims):
        parts += [F.lit(("{" if k == 0 else ",") + json.dumps(code, ensure_ascii=False) + ":"),
                  number_text(f"dim{k}", per, width)]
    return F.concat(*parts, F.lit("}"))


def load(src: Any, expr: Any, url: str, run_id: int, p: Prepared, timings: dict[str, float]) -> Loaded:
    """Steps 1-4 of the module's docstring, for the plan `expr` on the Spark source `src`."""
    from pyspark.sql import functions as F

    from creditgov.scoring.engines import EngineError, first_line
    from creditgov.scoring.spark import JDBC_MAX_PARTITIONS, jdbc_connection

    con, stage = src.con, src.stage
    spark = con._session
    t0 = time.perf_counter()
    con._run_pre_execute_hooks(expr)
    target = stage.file("scores")
    with con._safe_raw_sql(con.compile(expr)) as df:
        df.write.parquet(target)
    timings["evaluate"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    scores = spark.read.parquet(target)
    grades: Counter[str] = Counter()
    colours: Counter[str] = Counter()
    rows = id_sum = 0
    for r in scores.groupBy("grade", "colour").agg(F.count(F.lit(1)).alias("n"),
                                                    F.sum("subject_id").alias("ids")).collect():
        grades[r["grade"]] += int(r["n"])
        colours[r["colour"]] += int(r["n"])
        rows += int(r["n"])
        id_sum += int(r["ids"] or 0)
    timings["count"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    loaded = _create(url, run_id, rows, id_sum, grades, colours)
    try:
        jdbc_url, props = jdbc_connection(url)
        # one connection per partition, at most as many as the subjects' read may open
        props = {**props, "driver": "org.postgresql.Driver", "batchsize": str(BATCH_ROWS),
                 "reWriteBatchedInserts": "true", "numPartitions": str(JDBC_MAX_PARTITIONS)}
        cols = [F.col("subject_id").cast("bigint"), F.col("score_centi").cast("bigint"), F.col("grade"),
                F.col("colour"), dims_text(p).alias("dimensions")]
        # the table named with its schema: append to a table the executors' search_path
        # does not show would make Spark create one elsewhere
        scores.select(*cols).write.mode("append").jdbc(jdbc_url, loaded.table, properties=props)
    except BaseException as exc:
        loaded.release()  # the run's failure drops the table (service.evaluate)
        if not isinstance(exc, Exception):
            raise
        raise EngineError(f"the executors could not insert the scores into the store through JDBC: {first_line(exc)} "
                          "(CREDITGOV_SPARK_SCORES=driver has the driver store them)") from exc
    timings["load_jdbc"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    try:
        batches = stage.dataset("scores").to_batches(columns=["subject_id", "score_centi", "grade", "colour"],
                                                      batch_size=1 << 20)
        if score_copies.write_batches(url, run_id, batches, id_sum) is not None:
            timings["score_copy"] = round(time.perf_counter() - t0, 3)
    except Exception:  # the store is the record; a missing copy is written again by the refresh
        log.warning("could not write the score copy of run %s; analysis reads the store", run_id, exc_info=True)
        score_copies.discard(url, run_id)
    return loaded


def _create(url: str, run_id: int, rows: int, id_sum: int, grades: Counter[str], colours: Counter[str]) -> Loaded:
    """The run's load table, in the store's schema, its lock held by a connection of the
    driver's own (closed by `Loaded.release`); first, the load tables no live run holds."""
    from creditgov.core.db import pg_connect

    name = load_table(run_id)
    holder = pg_connect(url, autocommit=True)
    try:
        if not _one(holder, f"SELECT pg_try_advisory_lock({_LOCK_KEY})", (name,)):
            raise ConfigError(f"the load table {name} is held by another run of this store")
        schema = _one(holder, "SELECT current_schema()")
        _drop_left(holder, schema, name)
        loaded = Loaded(schema, name, rows, id_sum, grades, colours, holder)
        holder.execute(f"DROP TABLE IF EXISTS {loaded.table}")
        holder.execute(f"CREATE UNLOGGED TABLE {loaded.table} (subject_id bigint NOT NULL, "
                       "score_centi bigint NOT NULL, grade text NOT NULL, colour text NOT NULL, "
                       "dimensions text NOT NULL)")
        return loaded
    except BaseException:
        holder.close()
        raise


def _drop_left(conn: Any, schema: str, mine: str) -> None:
    """Drop the schema's load tables no live run holds (a run alive elsewhere holds its
    lock: its table stays). Never in the run's way: a table that cannot be dropped within
    a second (a backup reading it) or at all (another role's) is left for a later run."""
    left = [t for (t,) in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname ~ %s AND c.relname <> %s",
        (schema, f"^{LOAD_PREFIX}[0-9]+$", mine)).fetchall()]
    for t in left:
        if not _one(conn, f"SELECT pg_try_advisory_lock({_LOCK_KEY})", (t,)):
            continue
        try:
            conn.execute("SET lock_timeout = 1000")
            conn.execute(f"DROP TABLE IF EXISTS {quoted(schema, t)}")
        except Exception:
            log.warning("could not drop the load table %s left by an earlier run", t, exc_info=True)
        finally:
            conn.execute("SET lock_timeout TO DEFAULT")
            conn.execute(f"SELECT pg_advisory_unlock({_LOCK_KEY})", (t,))


def _one(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None  # a SELECT of expressions gives one row
    return row[0]


def discard(url: str, run_id: int) -> None:
    """Drop a failed run's load table, if it has one (never raises: the run's failure is
    what the caller reports)."""
    if not url.startswith("postgresql"):
        return
    from creditgov.core.db import pg_connect

    try:
        with pg_connect(url, autocommit=True) as conn:
            schema = _one(conn, "SELECT current_schema()")
            if schema is not None:  # the store's own schema: never one further along the search_path
                conn.execute(f"DROP TABLE IF EXISTS {quoted(schema, load_table(run_id))}")
    except Exception:
        log.warning("could not drop the load table of run %s", run_id, exc_info=True)
