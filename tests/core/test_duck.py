"""DuckDB as the product opens it (core/duck.py): a memory limit from configuration,
refused clearly when malformed, and a spill folder of the connection's own that a
plan larger than the limit fills and closing removes (an evaluation held to the
smallest limit: tests/scoring/test_memory_limit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditgov.core import duck
from creditgov.core.errors import ConfigError

GB = 10**9


def test_limits_are_sizes_or_shares_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = duck.machine_memory()
    assert machine > 256 * 2**20
    monkeypatch.delenv(duck.MEMORY_ENV, raising=False)
    assert duck.memory_limit() == machine * duck.DEFAULT_SHARE // 100
    assert duck.memory_limit("8GB") == 8 * GB
    assert duck.memory_limit("1.5 GiB") == 3 * 2**29
    assert duck.memory_limit("512mb") == 512 * 10**6
    assert duck.memory_limit("25%") == machine // 4
    monkeypatch.setenv(duck.MEMORY_ENV, "100MiB")
    assert duck.memory_limit() == 100 * 2**20
    for bad in ("lots", "0%", "150%", "8 parsecs", "-1GB", "10MB"):
        with pytest.raises(ConfigError, match=duck.MEMORY_ENV):
            duck.memory_limit(bad)


def test_a_plan_larger_than_the_limit_spills_into_its_own_folder(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(duck.MEMORY_ENV, "100MB")
    monkeypatch.setenv(duck.SPILL_ENV, str(tmp_path / "spill" / "here"))
    con = duck.connect(threads=1)
    try:
        limit, folder = con.execute("SELECT current_setting('memory_limit'), "
                                    "current_setting('temp_directory')").fetchone() or ("", "")
        assert limit in ("95.3 MiB", "95.4 MiB")  # 100 MB in DuckDB's own units
        spill = Path(folder)
        assert spill.parent == tmp_path / "spill" / "here" and spill.name.startswith("creditgov-duckdb-")
        assert not spill.exists()  # made when first needed
        con.execute("CREATE TABLE t AS SELECT range AS a, md5(CAST(range AS VARCHAR)) AS b FROM range(3000000)")
        assert con.execute("SELECT count(DISTINCT b) FROM t").fetchone() == (3_000_000,)
        assert spill.is_dir() and any(spill.iterdir())
    finally:
        con.close()
    assert not spill.exists()
    assert (tmp_path / "spill" / "here").is_dir()


def test_an_unusable_spill_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv(duck.SPILL_ENV, str(tmp_path / "file" / "below"))
    with pytest.raises(ConfigError, match=duck.SPILL_ENV):
        duck.connect()
