"""DuckDB as the product opens it (core/duck.py): a memory limit from configuration,
refused clearly when malformed or more than there is, and a spill folder of the
connection's own on disk that a plan larger than the limit fills and closing removes —
and that a killed process's leftovers are swept from (an evaluation held to the
smallest limit: tests/scoring/test_memory_limit.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from creditgov.core import duck
from creditgov.core.errors import ConfigError

GB = 10**9


def test_limits_are_sizes_or_shares_of_the_memory_duckdb_sees(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = duck.machine_memory()
    con = duckdb.connect()
    try:  # DuckDB's own default is 80% of it (printed to three digits)
        printed = con.execute("SELECT current_setting('memory_limit')").fetchone()
    finally:
        con.close()
    assert printed is not None and abs(machine * 0.8 / 2**30 - float(printed[0].split()[0])) < 0.1
    monkeypatch.delenv(duck.MEMORY_ENV, raising=False)
    assert duck.memory_limit() == machine * duck.DEFAULT_SHARE // 100
    assert duck.memory_limit("0.1GB") == 10**8
    assert duck.memory_limit("0.25 GiB") == 2**28
    assert duck.memory_limit("512mb") == 512 * 10**6
    assert duck.memory_limit("25%") == machine // 4
    monkeypatch.setenv(duck.MEMORY_ENV, "100MiB")
    assert duck.memory_limit() == 100 * 2**20
    for bad in ("lots", "0%", "150%", "8 parsecs", "-1GB", "1e3GB", "10MB", "1000TB"):
        with pytest.raises(ConfigError, match=duck.MEMORY_ENV):
            duck.memory_limit(bad)


def test_a_plan_larger_than_the_limit_spills_into_its_own_folder(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(duck.MEMORY_ENV, "100MB")
    monkeypatch.delenv(duck.SPILL_ENV, raising=False)  # the user's cache folder (the tests': conftest)
    con = duck.connect(threads=1)
    try:
        limit, folder = con.execute("SELECT current_setting('memory_limit'), "
                                    "current_setting('temp_directory')").fetchone() or ("", "")
        assert limit == "95.3 MiB"  # 100 MB in DuckDB's own units
        spill = Path(folder)
        assert spill.parent == Path(os.environ["XDG_CACHE_HOME"]) / "creditgov" / "duckdb-spill"
        assert spill.name.startswith("creditgov-duckdb-") and f"-{os.getpid()}-" in spill.name
        assert not spill.exists()  # made when first needed
        con.execute("CREATE TABLE t AS SELECT range AS a, md5(CAST(range AS VARCHAR)) AS b FROM range(3000000)")
        assert con.execute("SELECT count(DISTINCT b) FROM t").fetchone() == (3_000_000,)
        assert spill.is_dir() and any(spill.iterdir())
    finally:
        con.close()
    assert not spill.exists() and spill.parent.is_dir()


def test_a_killed_process_leaves_a_folder_the_next_one_sweeps(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(duck.SPILL_ENV, str(tmp_path / "spill"))
    monkeypatch.setenv(duck.MEMORY_ENV, "100MB")
    child = subprocess.run([sys.executable, "-c", (
        "import os\n"
        "from creditgov.core import duck\n"
        "con = duck.connect(threads=1)\n"
        "con.execute('CREATE TABLE t AS SELECT range a, md5(CAST(range AS VARCHAR)) b FROM range(3000000)')\n"
        "con.execute('SELECT count(DISTINCT b) FROM t').fetchone()\n"
        "print(con.execute(\"SELECT current_setting('temp_directory')\").fetchone()[0], flush=True)\n"
        "os._exit(9)  # as a kill: no close\n")], capture_output=True, text=True, check=False, timeout=300)
    left = Path(child.stdout.strip())
    assert child.returncode == 9 and left.is_dir() and any(left.iterdir()), child.stderr[-2000:]
    mine = duck.connect()  # this process is alive: its own folders are never swept
    try:
        assert not left.exists()
    finally:
        mine.close()


def test_an_unusable_spill_folder_is_refused_before_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv(duck.SPILL_ENV, str(tmp_path / "file" / "below"))
    with pytest.raises(ConfigError, match=duck.SPILL_ENV):
        duck.check()
    with pytest.raises(ConfigError, match=duck.SPILL_ENV):
        duck.connect()
