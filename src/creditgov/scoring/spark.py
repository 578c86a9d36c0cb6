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
  `hdfs://…`, `s3a://…`); each run writes into its own sub-folder and removes it after.

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
    s = SparkSettings(master=master, staging=staging, conf=conf, conf_file=conf_file)
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
    key = (s.master, tuple(sorted(s.conf.items())))
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
        for k, v in merged_conf(s.conf).items():
            builder = builder.config(k, v)
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
        _SESSION_KEY = key
        return _SESSION


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
          files: dict[str, list[str]] | None = None) -> Iterator[tuple[Any, dict[str, str]]]:
    """The snapshot in `duck` flattened (the numeric and text `attributes` as columns),
    staged as Parquet and registered as temporary views of the Spark session: (session,
    {table: view}). When the credit records came from segments the executors can read
    (`reads_segments`), only the rows replacing theirs are staged and the executors read
    the segment files themselves: the driver copies thousands of rows, not millions.
    `files` names tables the executors read straight from Parquet files (the caller
    checked `reaches`)."""
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
    if "subjects" in tables:
        duck.execute(f"CREATE TABLE subjects_flat AS SELECT {', '.join(flat)} FROM subjects")
    direct = reads_segments(s, records)
    staged = {name: f"SELECT * FROM {'subjects_flat' if name == 'subjects' else name}" for name in tables}
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
            yield spark, names
        finally:
            for view in names.values():
                spark.catalog.dropTempView(view)
    finally:
        stage.remove()


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
