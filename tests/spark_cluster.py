"""A Spark standalone cluster on loopback — a master and workers started from the
`spark-class` launcher PySpark ships, each in a session of its own — for the cluster
test (tests/scoring/test_spark_cluster.py) and the scale benchmark (benchmarks/scale.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_class() -> tuple[str, dict[str, str]]:
    import pyspark

    home = str(Path(pyspark.__file__).parent)
    env = {**os.environ, "SPARK_HOME": home, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1",
           "PYSPARK_PYTHON": sys.executable}
    return str(Path(home) / "bin" / "spark-class"), env


class Cluster:
    """The master's URL and, per worker, its process (a session of its own, so killing
    its group takes its executor with it) and web UI port (executors' log links name it)."""

    def __init__(self, master: str) -> None:
        self.master = master
        self.workers: list[tuple[subprocess.Popen[bytes], int]] = []


@contextmanager
def standalone(logs: Path, *, workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[Cluster]:
    """A master and `workers` workers (`cores` and `memory` each), up and registered;
    every process stopped afterwards."""
    spark_class, env = _spark_class()
    port, ui = free_port(), free_port()
    logs.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], env=env,
                              stdout=open(logs / "master.log", "wb"), stderr=subprocess.STDOUT,
                              start_new_session=True)]
    c = Cluster(f"spark://127.0.0.1:{port}")
    try:
        for n in range(1, workers + 1):
            wui = free_port()
            w = subprocess.Popen([spark_class, "org.apache.spark.deploy.worker.Worker", c.master,
                                  "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
                                  "--webui-port", str(wui), "--work-dir", str(logs / f"work{n}")], env=env,
                                 stdout=open(logs / f"worker{n}.log", "wb"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
            procs.append(w)
            c.workers.append((w, wui))
        deadline = time.monotonic() + 180
        while True:
            try:
                state = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5).read())
                if sum(w.get("state") == "ALIVE" for w in state.get("workers", [])) == workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise AssertionError("the Spark cluster did not come up:\n" + "".join(
                    f.read_text(errors="replace")[-2000:] for f in sorted(logs.glob("*.log"))))
            time.sleep(1)
        yield c
    finally:
        for p in procs[::-1]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
