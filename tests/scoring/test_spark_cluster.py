"""The Spark engine on a real standalone cluster: a master and two workers started here
on loopback, executors in their own JVMs reading the run's Parquet from the configured
staging folder, never the driver's temporary one, and a PostgreSQL store's subjects from
the store itself through JDBC, and a stored run's scores written into that store by
the executors. Same digits as DuckDB, for both
stores — and still the same digits when one worker dies (killed with its executor, as a
machine is lost) while its executor is running tasks of the run: Spark runs them again
on the executor left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.scoring import segments, service, spark
from tests import store_template
from tests.scoring.conftest import AS_OF
from tests.scoring.test_engines import _prepared, _rows
from tests.scoring.test_spark_scores import _stored
from tests.spark_cluster import Cluster, free_port, standalone

# Every shipped pack agrees with DuckDB on local Spark (test_engines.py); here the cluster
# path with one firm and one resident pack, each on both stores.
PACKS = ("public-credit-enterprise", "community-resident")

EVALUATE = """
import json, os, sys
from creditgov.core import db
from creditgov.scoring import service
from tests.scoring.conftest import AS_OF
from tests.scoring.test_engines import COLUMNS
out = {}
for url in sys.argv[2:]:
    # the PostgreSQL store is on loopback, where `auto` sends no cluster's executors: insist
    os.environ["CREDITGOV_SPARK_SUBJECTS"] = "jdbc" if url.startswith("postgresql") else "auto"
    for name in json.loads(sys.argv[1]):
        with db.session_scope(url) as s:
            p = service.prepared_for(s, name, AS_OF)[1]
        table, _, timings = service.compute(url, p, "spark")
        out[f"{url}|{name}|segment_files"] = timings.get("segment_files", 0)
        out[f"{url}|{name}|subject_partitions"] = timings.get("subject_partitions", 0)
        dims = [c for c in table.column_names if c.startswith("dim")]
        out[f"{url}|{name}"] = [[r[c] for c in (*COLUMNS, *dims)] for r in table.to_pylist()]
    if url.startswith("postgresql"):  # a stored run: the executors write its scores into the store
        os.environ["CREDITGOV_SPARK_SCORES"] = "jdbc"
        r = service.evaluate(url, ref=json.loads(sys.argv[1])[0], as_of=AS_OF, engine="spark")
        out[f"{url}|run"] = [r.run_id, sorted(r.timings)]
from creditgov.scoring import spark
sc = spark.session().sparkContext
out["__master"] = sc.master
out["__executors"] = sc._jsc.sc().getExecutorMemoryStatus().size()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master and two workers (1 core, 1 GB each) as their own processes."""
    with standalone(tmp_path_factory.mktemp("spark-logs")) as c:
        yield c


def _json(url: str) -> Any:
    return json.loads(urllib.request.urlopen(url, timeout=5).read())


def _kill_when_busy(driver_ui: str, victim: tuple[subprocess.Popen[bytes], int], run: subprocess.Popen[str],
                    seen: dict[str, Any]) -> None:
    """Watch the run's executors through the driver's REST API; when the victim worker's
    executor is running tasks and the other one is registered too, kill the worker's
    process group (worker and executor JVMs) with SIGKILL."""
    proc, wui = victim
    deadline = time.monotonic() + 600
    while run.poll() is None and time.monotonic() < deadline:
        try:
            apps = _json(f"{driver_ui}/api/v1/applications")
            execs = [e for e in _json(f"{driver_ui}/api/v1/applications/{apps[0]['id']}/executors")
                     if e["id"] != "driver"]
        except (OSError, IndexError, KeyError, ValueError):
            time.sleep(0.05)
            continue
        seen["most_executors"] = max(seen.get("most_executors", 0), len(execs))
        mine = [e for e in execs if f":{wui}/" in json.dumps(e.get("executorLogs", {}))]
        if len(execs) == 2 and mine and mine[0]["activeTasks"] > 0:
            seen["killed_with_active_tasks"] = mine[0]["activeTasks"]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def duckdb_rows(county: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: _rows(county, _prepared(county, name), "duckdb") for name in PACKS}


@pytest.fixture()
def stores(county: str, county_pg: str, pg_base: str, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Path]]:
    """Private copies of the county in both stores, each with its record segments written
    into one shared folder (as a deployment's `CREDITGOV_SEGMENTS`) and a few records
    logged as changed since (re-read from the store, their segment rows left out)."""
    shared = tmp_path / "segments"
    monkeypatch.setenv("CREDITGOV_SEGMENTS", shared.as_uri())
    lite = store_template.sqlite_copy_of(county, tmp_path / "creditgov.db")
    with store_template.pg_copy_of(pg_base, county_pg) as pg:
        for url in (lite, pg):
            assert segments.refresh(url, min_rows=0)["action"] == "rebuilt"
            with db.session_scope(url) as s:
                s.execute(sa.text("UPDATE credit_records SET status = status WHERE id IN "
                                  "(SELECT id FROM credit_records WHERE item_code = 'market.penalty' "
                                  "ORDER BY id LIMIT 5)"))
            assert segments.status(url)["overlay"] == 5
        yield lite, pg, shared


def test_a_cluster_run_equals_duckdb_on_both_stores_even_losing_a_worker(
        cluster: Cluster, stores: tuple[str, str, Path], duckdb_rows: dict[str, list[tuple[Any, ...]]],
        tmp_path: Path) -> None:
    county, county_pg, shared = stores
    staging = tmp_path / "shared"
    env = {**os.environ, "CREDITGOV_SPARK_MASTER": cluster.master, "CREDITGOV_SPARK_STAGING": staging.as_uri(),
           # many small tasks per stage, so a stage is still running when the worker dies
           "CREDITGOV_SPARK_PARTITIONS": "24",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}
    driver_port = free_port()
    conf = tmp_path / "spark-defaults.conf"
    conf.write_text("# what a deployment sets for its executors\nspark.executor.memory 512m\n"
                    "spark.executor.cores=1\nspark.cores.max 2\n"
                    f"# the driver's UI, which the test watches\nspark.ui.enabled true\nspark.ui.port {driver_port}\n"
                    "spark.port.maxRetries 0\n", encoding="utf-8")
    env["CREDITGOV_SPARK_CONF"] = str(conf)
    err = tmp_path / "driver.log"
    with open(err, "w", encoding="utf-8") as errf:
        run = subprocess.Popen([sys.executable, "-c", EVALUATE, json.dumps(PACKS), county, county_pg], env=env,
                               stdout=subprocess.PIPE, stderr=errf, text=True)
        seen: dict[str, Any] = {}
        try:
            _kill_when_busy(f"http://127.0.0.1:{driver_port}", cluster.workers[1], run, seen)
            out_text, _ = run.communicate(timeout=900)
        finally:
            if run.poll() is None:
                run.kill()
    assert run.returncode == 0, err.read_text(errors="replace")[-4000:]
    assert seen.get("most_executors") == 2, seen  # both workers ran executors of the run
    assert seen.get("killed_with_active_tasks", 0) > 0, seen  # the worker died with tasks of the run on it
    assert "Lost executor" in err.read_text(errors="replace")  # and the driver noticed, mid-run
    out = json.loads(out_text.strip().splitlines()[-1])
    assert out.pop("__master") == cluster.master
    assert out.pop("__executors") == 2  # the driver and the one executor left
    for url in (county, county_pg):
        for name in PACKS:
            assert [tuple(r) for r in out[f"{url}|{name}"]] == duckdb_rows[name], (url, name)
            # the executors read the store's segments from the shared folder themselves
            assert out[f"{url}|{name}|segment_files"] == 1, (url, name)
        # and a PostgreSQL store's subjects through JDBC, one exported snapshot, in the
        # run's 24 partitions; a SQLite store's are staged by the driver
        assert out[f"{county_pg}|{name}|subject_partitions"] == 24, name
        assert out[f"{county}|{name}|subject_partitions"] == 0, name
    # the stored run: the executors inserted its scores, the same text as a DuckDB run's
    run_id, timings = out[f"{county_pg}|run"]
    assert "load_jdbc" in timings, timings
    base = service.evaluate(county_pg, ref=PACKS[0], as_of=AS_OF, engine="duckdb")
    assert _stored(county_pg, run_id) == _stored(county_pg, base.run_id) != []
    assert {p.parent.as_uri() for p in shared.rglob("records-*.parquet")} == \
        {segments.place_for(url).url for url in (county, county_pg)}
    # each run staged its Parquet in its own sub-folder of the shared location and removed it
    assert staging.is_dir() and not any(staging.iterdir())


def test_cluster_settings_are_checked_before_anything_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert spark.settings_from_env({}).master == "local[2]"
    with pytest.raises(ConfigError, match="CREDITGOV_SPARK_STAGING"):
        spark.settings_from_env({"CREDITGOV_SPARK_MASTER": "spark://10.0.0.5:7077"})
    with pytest.raises(ConfigError, match="expected local"):
        spark.settings_from_env({"CREDITGOV_SPARK_MASTER": "cluster-please"})
    bad = tmp_path / "bad.conf"
    bad.write_text("spark.executor.memory 2g\nexecutor.cores 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.conf:2: 'executor.cores' is not a Spark setting"):
        spark.settings_from_env({"CREDITGOV_SPARK_CONF": str(bad)})
    good = tmp_path / "good.conf"
    good.write_text("spark.executor.memory=2g\n# note\n\nspark.hadoop.fs.s3a.endpoint http://minio:9000\n",
                    encoding="utf-8")
    s = spark.settings_from_env({"CREDITGOV_SPARK_MASTER": "yarn", "CREDITGOV_SPARK_STAGING": "hdfs://nn/cg",
                                 "CREDITGOV_SPARK_CONF": str(good)})
    assert s.conf == {"spark.executor.memory": "2g", "spark.hadoop.fs.s3a.endpoint": "http://minio:9000"}
    assert not s.local and s.staging == "hdfs://nn/cg"
    # The deployment's Java options are kept, the engine's time zone appended.
    merged = spark.merged_conf({"spark.executor.extraJavaOptions": "-Djavax.net.ssl.trustStore=/etc/ts.jks",
                                "spark.sql.session.timeZone": "Asia/Shanghai"})
    assert merged["spark.executor.extraJavaOptions"] == "-Djavax.net.ssl.trustStore=/etc/ts.jks -Duser.timezone=UTC"
    assert merged["spark.driver.extraJavaOptions"] == "-Duser.timezone=UTC"
    assert merged["spark.sql.session.timeZone"] == "UTC"
    # A relative staging folder is taken from the working folder, not refused by pathlib.
    monkeypatch.chdir(tmp_path)
    stage = spark.staging(spark.SparkSettings(staging="relative-staging"))
    try:
        assert stage.url.startswith((tmp_path / "relative-staging").as_uri() + "/creditgov-run-")
    finally:
        stage.remove()
