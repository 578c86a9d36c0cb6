"""The supervision tests share the alerts tests' stores: a migrated SQLite template and
the demo county built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.conftest import (  # noqa: F401 - fixtures, re-exported for this folder
    _sqlite_template,
    demo_store,
    demo_template,
    pg_store,
    sqlite_store,
)


@pytest.fixture
def pg_demo(pg_url: str, demo_template, tmp_path: Path,  # noqa: F811 - the fixture imported above
            monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The demo county in PostgreSQL, ingested from the same folder with the same key
    (so blind indexes, and therefore subject keys, are the same as in SQLite)."""
    import shutil

    from tests.alerts.demo import _cli

    key = tmp_path / "pg.key"
    shutil.copyfile(demo_template.key, key)
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    _cli("--db", pg_url, "init")
    _cli("--db", pg_url, "ingest", str(demo_template.folder))
    yield pg_url
