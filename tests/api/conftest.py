"""One real county per database for the API tests (built once per session: the
evaluation engine takes seconds), and clients that call the real application."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from creditgov.api.app import create_app
from tests.api.county import County, build, county_on


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_county")
        return
    # PostgreSQL proves the scope clauses; the scores come from the SQLite county's engine run.
    with county_on(request, tmp_path_factory.mktemp("county-postgres")) as c:
        yield c


@pytest.fixture(scope="session")
def sqlite_county(tmp_path_factory: pytest.TempPathFactory) -> County:
    """The evaluated county on SQLite alone, for tests that need scores but not both databases."""
    tmp = tmp_path_factory.mktemp("county-sqlite-only")
    return build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key")


def client_for(c: County, *, rate: str = "100000/60") -> TestClient:
    os.environ["CREDITGOV_PUBLIC_RATE"] = rate
    try:
        app = create_app(c.url, c.key_file)
    finally:
        os.environ.pop("CREDITGOV_PUBLIC_RATE", None)
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


@pytest.fixture(scope="session")
def client(county: County) -> TestClient:
    return client_for(county)


@pytest.fixture(scope="session")
def sclient(sqlite_county: County) -> TestClient:
    return client_for(sqlite_county)
