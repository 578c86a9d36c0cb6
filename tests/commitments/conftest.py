from __future__ import annotations

import pytest
from tests.lists.helpers import load_domain_data

from creditgov.catalog import service as catalog_service
from creditgov.core import db, schema


@pytest.fixture
def county(store: str) -> str:
    """An initialised store (SQLite and PostgreSQL) with the shipped lists, measures
    and templates loaded."""
    with db.session_scope(store) as s:
        load_domain_data(s)
    return store


@pytest.fixture
def county_sqlite(sqlite_url: str) -> str:
    """The same on SQLite only, for tests of rules that do not depend on the database
    (validation messages, argument checks): PostgreSQL adds time, not coverage."""
    schema.upgrade(sqlite_url)
    with db.session_scope(sqlite_url) as s:
        catalog_service.load_catalog(s, actor="test")
        load_domain_data(s)
    return sqlite_url
