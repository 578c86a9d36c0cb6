from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from tests import store_template

from creditgov.catalog import service as catalog_service
from creditgov.commitments import service as commitments_service
from creditgov.core import db, schema
from creditgov.lists import service as lists_service


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One initialised store per test module and database (the migrations take
    seconds on a busy machine): catalogue, lists and commitment templates loaded.
    Tests share it, so each makes its own subjects and looks only at its own rows."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('workflows') / 'creditgov.db'}"
        else:
            url = stack.enter_context(store_template.pg_schema(request.getfixturevalue("pg_base"), "wf_"))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CREDITGOV_TODAY", "2026-01-05")
            schema.upgrade(url)
            with db.session_scope(url) as s:
                catalog_service.load_catalog(s, actor="test")
                lists_service.load_lists(s, actor="test")
                commitments_service.load_templates(s, actor="test")
        yield url
        db.engine_for(url).dispose()


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch):
    """Move the business date: `today("2026-09-30")`."""

    def move(day: str | dt.date) -> dt.date:
        d = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
        monkeypatch.setenv("CREDITGOV_TODAY", d.isoformat())
        return d

    return move
