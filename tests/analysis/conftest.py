"""The analysis tests run on the demo county (built once per session), and at scale on
the scoring tests' county in PostgreSQL with its segments in a folder of the test's."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import store_template
from tests.alerts.conftest import demo_store, demo_template  # noqa: F401 - fixtures, re-exported
from tests.scoring.conftest import county_dir, county_key, county_keyring, county_pg  # noqa: F401 - fixtures


@pytest.fixture()
def pg_county(county_pg: str, pg_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    """A private copy of the county in PostgreSQL, keeping its segments under tmp_path."""
    monkeypatch.setenv("CREDITGOV_SEGMENTS", str(tmp_path / "segments"))
    with store_template.pg_copy_of(pg_base, county_pg) as url:
        yield url
