"""The Spark engine: where the session comes from and where its input is staged.

A run copies the store's snapshot (the same one DuckDB reads) into Parquet files at a
staging location and has Spark read them there. On one machine that location is a
temporary folder and the session is `local[2]`. On a cluster the executors run on other
machines, so both come from configuration (docs/spark.md):

- `CREDITGOV_SPARK_MASTER`: `local[N]`, `local[*]`, `spark://host:7077`, `yarn`,
  `k8s://https://…` (default `local[2]`);
- `CREDITGOV_SPARK_CONF`: a file of `spark.* value` lines, as Spark's own
  `spark-defaults.conf` (executor memory and cores, the S3A or HDFS settings, the
  Kubernetes image …), applied after the engine's own defaults;
- `CREDITGOV_SPARK_STAGING`: a folder or a URL every executor can read (`file:///shared/…`,
  `hdfs://…`, `s3a://…`); each run writes into its own sub-folder and removes it after;
- `CREDITGOV_SPARK_SUBJECTS`: how the subjects reach the executors — `auto` (default:
  from a PostgreSQL store the executors read them themselves through JDBC, otherwise the
  driver stages them), `jdbc` (required; refused when it cannot be done) or `stage`;
- `CREDITGOV_SPARK_SCORES`: how a run's scores reach a PostgreSQL store — `auto` (default:
  the executors write them into the store themselves, spark_scores.py, where they could
  read the subjects), `jdbc` (required) or `driver` (collected on the driver, one COPY);
- `CREDITGOV_SPARK_JDBC_JAR`: PostgreSQL's JDBC driver (default Debian's
  `/usr/share/java/postgresql.jar`, package libpostgresql-jdbc-java), shipped by the
  driver to every executor.

A non-local master without a staging location is refused before anything runs: the
executors could not read the driver's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from creditgov.core.errors import ConfigError

DEFAULT_MASTER = "local[2]"
DEFAULT_JDBC_JAR = "/usr/share/java/postgresql.jar"
SUBJECT_MODES = ("auto", "jdbc", "stage")
SCORE_MODES = ("auto", "jdbc", "driver")
#: Subject ids per JDBC partition (and at least the session's parallelism many partitions),
#: and at most this many partitions: each is a connection to the store while it runs.
JDBC_ROWS_PER_PARTITION = 500_000
JDBC_MAX_PARTITIONS = int(os.environ.get("CREDITGOV_SPARK_JDBC_MAX_PARTITIONS", "32"))
#: The store URL's libpq settings and what pgjdbc calls them; any other makes the JDBC
#: path refuse (`jdbc`) or stage instead (`auto`): the executors must connect as the driver does.
#: (Client certificates are not among them: libpq reads a PEM key, pgjdbc a PKCS-8 or
#: PKCS-12 one.)
JDBC_PARAMS = {"options": "options", "sslmode": "sslmode", "sslrootcert": "sslrootcert",
               "application_name": "ApplicationName", "connect_timeout": "connectTimeout"}
#: Settings the engine needs whatever the deployment says: times are stored as naive UTC.
FIXED = {"spark.sql.session.timeZone": "UTC", "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
         "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
         "spark.sql.execution.arrow.pyspark.enabled": "true"}
_LOCAL = re.compile(r"^local(\[(\d+|\*)(,\d+)?\])?$")


@dataclass(frozen=True)
class SparkSettings:
    master: str = DEFAULT_MASTER
    staging: str | None = None
    conf: dict[str, str] = field(default_factory=dict)
    conf_file: str | None = None
    subjects: str = "auto"
    scores: str = "auto"
    jdbc_jar: str = DEFAULT_JDBC_JAR

    @property
    def local(self) -> bool:
        return bool(_LOCAL.match(self.master))


def read_conf(path: str | Path) -> dict[str, str]:
    """A `spark-defaults.conf`-style file: `key value` or `key=value` per line, `#`
    comments; only `spark.*` keys (anything else is a mistake worth naming)."""
    out: dict[str, str] = {}
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"CREDITGOV_SPARK_CONF: cannot read {p}: {e.strerror}") from None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\S+?)\s*(?:=|\s)\s*(.*)$", line)
        if not m or not m.group(2):
            raise ConfigError(f"{p}:{n}: expected `spark.key value`, got {line!r}")
        key, value = m.group(1), m.group(2).strip()
        if not key.startswith("spark."):
            raise ConfigError(f"{p}:{n}: {key!r} is not a Spark setting (keys start with `spark.`)")
        out[key] = value
    return out


def settings_from_env(env: dict[str, str] | None = None) -> SparkSettings:
    env = dict(os.environ if env is None else env)
    master = env.get("CREDITGOV_SPARK_MASTER", "").strip() or DEFAULT_MASTER
    if not (_LOCAL.match(master) or re.match(r"^(spark|k8s|mesos)://\S+$", master) or master == "yarn"):
        raise ConfigError(f"CREDITGOV_SPARK_MASTER {master!r}: expected local[N], spark://host:port, yarn "
                          "or k8s://https://host:port")
    conf_file = env.get("CREDITGOV_SPARK_CONF", "").strip() or None
    conf = read_conf(conf_file) if conf_file else {}
    staging = env.get("CREDITGOV_SPARK_STAGING", "").strip() or None
    subjects = env.get("CREDITGOV_SPARK_SUBJECTS", "").strip() or "auto"
    if subjects not in SUBJECT_MODES:
        raise ConfigError(f"CREDITGOV_SPARK_SUBJECTS {subjects!r}: expected one of {', '.join(SUBJECT_MODES)}")
    scores = env.get("CREDITGOV_SPARK_SCORES", "").strip() or "auto"
    if scores not in SCORE_MODES:
        raise ConfigError(f"CREDITGOV_SPARK_SCORES {scores!r}: expected one of {', '.join(SCORE_MODES)}")
    jar = env.get("CREDITGOV_SPARK_JDBC_JAR", "").strip() or DEFAULT_JDBC_JAR
    s = SparkSettings(master=master, staging=staging, conf=conf, conf_file=conf_file, subjects=subjects,
                      scores=scores, jdbc_jar=jar)
    if not s.local and not staging:
        raise ConfigError(f"Spark master {master} runs executors on other machines: set CREDITGOV_SPARK_STAGING "
                          "to a folder or URL they can all read (file:///shared/…, hdfs://…, s3a://…)")
    return s


def merged_conf(conf: dict[str, str]) -> dict[str, str]:
    """The deployment's settings with the engine's fixed ones: the time zone wins, and
    Java options the deployment gives (a truststore, Kerberos, GC flags) are kept, the
    engine's `-Duser.timezone=UTC` appended to them."""
    out = {**conf, **FIXED}
    for k in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        if conf.get(k):
            out[k] = f"{conf[k]} {FIXED[k]}"
    return out


# ----------------------------------------------------------------------------- the session

_SESSION: Any = None
_SESSION_KEY: tuple[Any, ...] | None = None
_LOCK = threading.Lock()


def session(s: SparkSettings | None = None) -> Any:
    """One Spark session per process and setting (starting one costs seconds), with its
    own warehouse folder: Spark refuses to reuse a warehouse another process left."""
    global _SESSION, _SESSION_KEY
    s = s or settings_from_env()
    conf = merged_conf(s.conf)
    # the jar whatever the mode: a driver JVM started without it cannot load it later
    if Path(s.jdbc_jar).is_file():
        conf["spark.jars"] = ",".join(j for j in (conf.get("spark.jars"), s.jdbc_jar) if j)
    key = (s.master, tuple(sorted(conf.items())))
    with _LOCK:
        if _SESSION is not None and _SESSION_KEY == key:
            return _SESSION
        if _SESSION is not None:
            _SESSION.stop()
            _SESSION = None
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        from pyspark.sql import SparkSession

        parallelism = os.environ.get("CREDITGOV_SPARK_PARTITIONS", "2")
        builder = (SparkSession.builder.master(s.master).appName("creditgov")
                   .config("spark.sql.shuffle.partitions", parallelism)
                   .config("spark.default.parallelism", parallelism)
                   .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="creditgov-spark-warehouse-"))
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false"))
        for k, v in conf.items():
            builder = builder.config(k, v)
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
        _SESSION_KEY = key
        return _SESSION


# ----------------------------------------------------------------------------- subjects through JDBC


#: What every connection names, whatever its settings (core.db.pg_params).
_CONNECTION_KEYS = frozenset({"host", "port", "dbname", "user", "password"})


def _jdbc_refusal(s: SparkSettings, url: str) -> str | None:
    """Why the executors cannot read this store's subjects through JDBC, or None."""
    from sqlalchemy.engine import make_url

    from creditgov.core.db import pg_params

    if make_url(url).get_backend_name() != "postgresql":
        return "the store is not PostgreSQL (a SQLite store is one machine's file; the driver stages its subjects)"
    kw = pg_params(url)
    if str(kw["host"]).startswith("/"):
        return "the store's host is a socket folder (JDBC does not speak Unix sockets)"
    other = sorted(set(kw) - _CONNECTION_KEYS - set(JDBC_PARAMS))
    if other:
        return (f"the store's URL sets {', '.join(other)}, which PostgreSQL's JDBC driver does not take "
                "the same way: the executors would not connect as the driver does")
    if not Path(s.jdbc_jar).is_file():
        return f"no JDBC driver at {s.jdbc_jar} (install libpostgresql-jdbc-java or set CREDITGOV_SPARK_JDBC_JAR)"
    return None


def _loopback(url: str) -> bool:
    import ipaddress

    from creditgov.core.db import pg_params

    host = str(pg_params(url)["host"])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def subjects_by_jdbc(s: SparkSettings, url: str) -> bool:
    """Whether the executors read the store's subjects themselves, through JDBC, rather
    than the driver reading and staging them (`CREDITGOV_SPARK_SUBJECTS`, `by_jdbc`)."""
    return by_jdbc(s.subjects, "CREDITGOV_SPARK_SUBJECTS", s, url)


def scores_by_jdbc(s: SparkSettings, url: str) -> bool:
    """Whether the executors write a run's scores into the store themselves, through
    JDBC, rather than the driver collecting and storing them (`CREDITGOV_SPARK_SCORES`,
    `by_jdbc`; spark_scores.py)."""
    return by_jdbc(s.scores, "CREDITGOV_SPARK_SCORES", s, url)


def by_jdbc(mode: str, setting: str, s: SparkSettings, url: str) -> bool:
    """Whether the executors reach the store themselves through JDBC: a PostgreSQL store
    reached over TCP whose URL's settings pgjdbc takes, with the driver's jar present
    (`auto`; not for a loopback host with executors on other machines); `jdbc` that
    cannot be done is refused with the reason; any other mode keeps the driver between."""
    if mode not in ("auto", "jdbc"):
        return False
    why = _jdbc_refusal(s, url)
    if why is None and mode == "auto" and not s.local and _loopback(url):
        return False  # executors on other machines would reach their own loopback; `jdbc` insists
    if why and mode == "jdbc":
        raise ConfigError(f"{setting}=jdbc: {why}")
    return why is None


@dataclass(frozen=True)
class Exported:
    """A read transaction of the store, held open while the executors read the subjects,
    whose snapshot every executor's JDBC session imports: all partitions, and any task
    Spark runs again after losing an executor, see the same subjects."""
    snapshot: str
    low: int | None
    high: int | None


@contextlib.contextmanager
def exported(url: str) -> Iterator[Exported]:
    """A REPEATABLE READ transaction of the PostgreSQL store at `url`, its snapshot
    exported (`pg_export_snapshot`), and the subjects' id range in it (two look-ups of
    the primary key: no count of a province's subjects); closed once the subjects are
    staged (while it is open, vacuum keeps the row versions it can see)."""
    import psycopg

    from creditgov.core.db import pg_connect

    conn = pg_connect(url, autocommit=False)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        got = conn.execute("SELECT MIN(id), MAX(id) FROM subjects").fetchone()
        assert row is not None and got is not None  # an aggregate and a function call always give a row
        yield Exported(row[0], got[0], got[1])
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.close()


def subjects_sql(where: str, attributes: tuple[Sequence[str], Sequence[str]]) -> str:
    """The subjects `where` selects, typed and flattened as the staged ones are (`views`):
    numeric attributes that are JSON numbers as doubles, text attributes that are JSON
    strings as text, anything else null — computed by PostgreSQL for each partition with
    the `json` functions the postgres engine uses (PostgresSource); the document itself
    stays in the store, as it does not go into the staged subjects."""
    numeric, text = attributes
    # `id` as the table has it: each partition's range then runs on the primary key (a
    # cast here would make every partition scan the whole table); widened in Spark
    cols = ["id", "kind", "industry", "established_on", "status"]
    cols += [f"CASE WHEN json_typeof(attributes -> '{n}') = 'number' "
             f"THEN CAST(attributes ->> '{n}' AS double precision) END AS \"__an_{n}\"" for n in numeric]
    cols += [f"CASE WHEN json_typeof(attributes -> '{n}') = 'string' THEN attributes ->> '{n}' END "
             f'AS "__as_{n}"' for n in text]
    return f"SELECT {', '.join(cols)} FROM subjects WHERE {where}"


@dataclass(frozen=True)
class JdbcSubjects:
    """What the executors need to read the subjects themselves: the store and the query
    (whose `id` column, the subjects' own, partitions the read), and what the read calls
    that column."""
    url: str
    sql: str
    id_as: str = "id"


def jdbc_connection(url: str) -> tuple[str, dict[str, str]]:
    """The JDBC URL and connection properties that reach the store at `url` as
    `core.db.pg_connect` does (the same `pg_params`): host, port, database, user, the
    password (or the driver's `PGPASSWORD` or password file, which libpq reads and pgjdbc
    does not), and the libpq settings of JDBC_PARAMS under pgjdbc's names (`PGSSLMODE`,
    `PGOPTIONS` when the URL sets none)."""
    from urllib.parse import quote

    from creditgov.core.db import pg_params

    kw = pg_params(url)
    host = str(kw.pop("host"))
    host = f"[{host}]" if ":" in host else host
    where = f"jdbc:postgresql://{host}:{kw.pop('port')}/{quote(kw.pop('dbname') or '', safe='')}"
    props = {JDBC_PARAMS[k]: str(v) for k, v in kw.items() if k in JDBC_PARAMS}
    if kw.get("user"):
        props["user"] = str(kw["user"])
    password = kw.get("password") or os.environ.get("PGPASSWORD") or _password_file(pg_params(url))
    if password:
        props["password"] = str(password)
    if "sslmode" not in props and os.environ.get("PGSSLMODE"):
        props["sslmode"] = os.environ["PGSSLMODE"]
    if "options" not in props and os.environ.get("PGOPTIONS"):  # e.g. a search_path, as libpq reads it
        props["options"] = os.environ["PGOPTIONS"]
    return where, props


def _password_file(kw: dict[str, object]) -> str | None:
    """The password libpq would take from the password file (`~/.pgpass`, or
    `PGPASSFILE`) for these settings, which pgjdbc does not read: libpq looks it up when a
    connection starts (`PQconnectStart`), before anything is sent, and says what it found
    (`PQpass`); the attempt is then dropped."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    conn = pq.PGconn.connect_start(make_conninfo(**{k: str(v) for k, v in kw.items() if v is not None}).encode())
    try:
        found = conn.password
    finally:
        conn.finish()
    return found.decode() if found else None


def read_subjects(spark: Any, j: JdbcSubjects, e: Exported, partitions: int) -> tuple[Any, int]:
    """The subjects as a DataFrame the executors read from the store through JDBC, in
    id-range partitions (at least `partitions`, one per JDBC_ROWS_PER_PARTITION ids of the
    range, at most JDBC_MAX_PARTITIONS), each session importing the run's snapshot; and
    how many partitions Spark made."""
    jdbc_url, props = jdbc_connection(j.url)
    # Spark opens the partition's connection with autocommit off (fetchsize > 0), so
    # pgjdbc has begun a transaction and no query has run in it yet: the first
    # statements may still set its isolation and import the snapshot.
    r = (spark.read.format("jdbc")
         .option("url", jdbc_url)
         .option("driver", "org.postgresql.Driver")
         .option("dbtable", f"({j.sql}) AS cg_subjects")
         .option("fetchsize", "10000")
         .option("sessionInitStatement", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                                         f"SET TRANSACTION SNAPSHOT '{e.snapshot}'"))
    for k, v in props.items():
        r = r.option(k, v)
    if e.low is not None and e.high is not None and e.high > e.low:
        n = min(JDBC_MAX_PARTITIONS, max(partitions, -(-(e.high - e.low + 1) // JDBC_ROWS_PER_PARTITION)))
        r = (r.option("partitionColumn", "id").option("lowerBound", str(e.low))
             .option("upperBound", str(e.high)).option("numPartitions", str(n)))
    df = r.load()
    df = df.withColumn("id", df["id"].cast("bigint"))
    if j.id_as != "id":
        df = df.withColumnRenamed("id", j.id_as)
    return df, df.rdd.getNumPartitions()


# ----------------------------------------------------------------------------- staging


@dataclass
class Staging:
    """Where one run's Parquet files are: the URL Spark reads and the way to write and
    remove them from the driver."""
    url: str
    _fs: Any
    _path: str

    def file(self, name: str) -> str:
        return f"{self.url.rstrip('/')}/{name}.parquet"

    def write(self, name: str, table: Any) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table, f"{self._path.rstrip('/')}/{name}.parquet", filesystem=self._fs)

    def dataset(self, name: str) -> Any:
        """What Spark wrote at `file(name)` (a folder of part files), read by pyarrow."""
        import pyarrow.dataset as pads

        return pads.dataset(f"{self._path.rstrip('/')}/{name}.parquet", filesystem=self._fs, format="parquet")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self._fs.delete_dir(self._path)


def staging(s: SparkSettings) -> Staging:
    """A fresh sub-folder of the configured staging location (or of a temporary folder),
    opened through pyarrow's filesystems (local, HDFS, S3); Spark reads the same place
    through its own (s3a:// is pyarrow's s3://)."""
    import pyarrow.fs as pafs

    run = f"creditgov-run-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if not s.staging:
        path = tempfile.mkdtemp(prefix="creditgov-spark-run-")
        return Staging(Path(path).as_uri(), pafs.LocalFileSystem(), path)
    base = s.staging.rstrip("/")
    parts = urlsplit(base)
    if not parts.scheme or parts.scheme == "file":
        root = Path(parts.path if parts.scheme else base).resolve()
        root.mkdir(parents=True, exist_ok=True)
        path = str(root / run)
        Path(path).mkdir()
        return Staging(Path(path).as_uri(), pafs.LocalFileSystem(), path)
    arrow_url = "s3://" + base.split("://", 1)[1] if parts.scheme in ("s3a", "s3n") else base
    try:
        fs, path = pafs.FileSystem.from_uri(arrow_url)
    except Exception as e:  # pyarrow raises several kinds for an unknown scheme or an unreachable cluster
        raise ConfigError(f"CREDITGOV_SPARK_STAGING {s.staging!r}: {e}") from None
    fs.create_dir(f"{path}/{run}")
    return Staging(f"{base}/{run}", fs, f"{path}/{run}")


def reaches(s: SparkSettings, place: Any) -> bool:
    """Whether the executors read files at a segment place where they are: always for a
    local master; on a cluster only when the deployment put them in a shared place
    (`CREDITGOV_SEGMENTS`) — a default folder is on the driver's machine only."""
    return s.local or bool(place.configured)


def reads_segments(s: SparkSettings, records: Any) -> bool:
    """Whether the executors read the record segments where they are (`reaches`)."""
    return records is not None and bool(records.copy.segments) and reaches(s, records.copy.place)


@contextlib.contextmanager
def views(duck: Any, tables: tuple[str, ...], timings: dict[str, float], records: Any = None, *,
          attributes: tuple[Sequence[str], Sequence[str]] = ((), ()),
          files: dict[str, list[str]] | None = None,
          jdbc: JdbcSubjects | None = None) -> Iterator[tuple[Any, dict[str, str], Staging]]:
    """The snapshot in `duck` flattened (the numeric and text `attributes` as columns),
    staged as Parquet and registered as temporary views of the Spark session: (session,
    {table: view}). When the credit records came from segments the executors can read
    (`reads_segments`), only the rows replacing theirs are staged and the executors read
    the segment files themselves: the driver copies thousands of rows, not millions.
    `files` names tables the executors read straight from Parquet files (the caller
    checked `reaches`). With `jdbc` the executors read the subjects from the store
    themselves (`read_subjects`, one exported snapshot) and write them into the staging
    place once, which the plan then reads; `duck` holds none. The run's staging place is
    yielded too (a run may stage its results there) and removed after."""
    s = settings_from_env()
    t0 = time.perf_counter()
    flat = ["*"]
    numeric, text = attributes
    for name in numeric:
        flat.append(f"CASE WHEN json_type(attributes, '$.{name}') IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT') "
                    f"THEN CAST(json_extract(attributes, '$.{name}') AS DOUBLE) END AS __an_{name}")
    for name in text:
        flat.append(f"CASE WHEN json_type(attributes, '$.{name}') = 'VARCHAR' "
                    f"THEN json_extract_string(attributes, '$.{name}') END AS __as_{name}")
    by_jdbc = jdbc is not None and "subjects" in tables
    if "subjects" in tables and not by_jdbc:
        if any(c[0] == "attributes" for c in duck.execute("DESCRIBE subjects").fetchall()):
            flat[0] = "* EXCLUDE (attributes)"  # the plan reads the flattened columns, never the document
        duck.execute(f"CREATE TABLE subjects_flat AS SELECT {', '.join(flat)} FROM subjects")
    direct = reads_segments(s, records)
    staged = {name: f"SELECT * FROM {'subjects_flat' if name == 'subjects' else name}" for name in tables
              if not (name == "subjects" and by_jdbc)}
    if direct:
        # The tail and overlay rows (already filtered) and the ids whose segment rows they replace.
        staged["credit_records"] = f"SELECT * FROM _credit_records_fresh WHERE {records.where}"
        staged["overlay_ids"] = ("SELECT * FROM _credit_records_overlay" if records.copy.overlay_ids
                                 else "SELECT CAST(NULL AS BIGINT) AS id WHERE false")
    stage = staging(s)
    try:
        for name, sql in staged.items():
            stage.write(name, duck.execute(sql).to_arrow_table())
        duck.close()
        timings["write_parquet"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        spark = session(s)
        timings["spark_session"] = round(time.perf_counter() - t0, 3)
        names: dict[str, str] = {}
        tag = uuid.uuid4().hex[:8]
        try:
            for name in tables:
                view = f"cg_{name}_{os.getpid()}_{tag}"
                if name == "subjects" and jdbc is not None:
                    # read once, by the executors, into the run's staging place: the plan
                    # uses the subjects several times, and each use of a JDBC source
                    # would read the store again
                    t0 = time.perf_counter()
                    timings["subject_partitions"] = _stage_by_jdbc(spark, jdbc, stage.file(name))
                    timings["subjects_jdbc"] = round(time.perf_counter() - t0, 3)
                df = spark.read.parquet(stage.file(name))
                if name == "credit_records" and direct:
                    df = _records(spark, records, stage, df)
                    timings["segment_files"] = len(records.copy.segments)
                df.createOrReplaceTempView(view)
                names[name] = view
            for name, urls in (files or {}).items():
                view = f"cg_{name}_{os.getpid()}_{tag}"
                spark.read.parquet(*urls).createOrReplaceTempView(view)
                names[name] = view
            yield spark, names, stage
        finally:
            for view in names.values():
                spark.catalog.dropTempView(view)
    finally:
        stage.remove()


def _stage_by_jdbc(spark: Any, jdbc: JdbcSubjects, target: str) -> int:
    """The executors read the subjects through JDBC in one exported snapshot and write
    them to `target`; how many partitions. A failure says what failed and the way round."""
    from creditgov.scoring.engines import EngineError, first_line

    try:
        with exported(jdbc.url) as e:
            df, n = read_subjects(spark, jdbc, e, int(spark.sparkContext.defaultParallelism))
            df.write.parquet(target)
        return int(n)
    except Exception as exc:  # Py4J's or psycopg's error, many lines of Java: keep the first
        raise EngineError(f"the executors could not read the subjects from the store through JDBC: {first_line(exc)} "
                          "(CREDITGOV_SPARK_SUBJECTS=stage has the driver read and stage them)") from exc


def _records(spark: Any, records: Any, stage: Staging, fresh: Any) -> Any:
    """The segments' rows the tail and the overlay do not replace, filtered as the
    snapshot filters them, and the fresh rows: every record once, as the store holds it
    now (segments.load_into, in Spark)."""
    from pyspark.sql.functions import broadcast

    c = records.copy
    seg = spark.read.parquet(*c.urls).where(f"id <= {c.tail_after}").where(records.where)
    if c.overlay_ids:
        seg = seg.join(broadcast(spark.read.parquet(stage.file("overlay_ids"))), "id", "left_anti")
    return seg.unionByName(fresh)
