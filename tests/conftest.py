"""Shared fixtures: a real database (SQLite file and PostgreSQL schema), a key ring,
and a CLI runner. PostgreSQL is at 127.0.0.1:5432 (database `test`); under CI=true a
missing PostgreSQL fails the run instead of skipping."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from creditgov import bootstrap
from creditgov.core import db
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.security.policy import ARGON2ID_FLOOR, SIGNIN
from tests import store_template
from tests.browser import CHROMIUM, CHROMIUM_ARGS

FIXTURES = Path(__file__).parent / "fixtures"
# Every entry point (the command, the application factory, the worker) wires the
# composition root's seams; tests that call services directly get the same wiring.
bootstrap.wire()

PG_BASE = os.environ.get("CREDITGOV_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        eng = sa.create_engine(PG_BASE)
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # the reason is reported in the skip/fail message
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_base() -> str:
    problem = _pg_available()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return PG_BASE


@pytest.fixture
def pg_url(pg_base: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with store_template.pg_schema(pg_base) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'creditgov.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's tests run on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'creditgov.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    return create_key_file(tmp_path / "test.key")


@pytest.fixture(scope="session", autouse=True)
def _cheapest_password_hashing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Passwords hashed at the lowest cost the sign-in policy accepts (OWASP's Argon2id
    minimum, 7 MiB × 5 passes × 1 lane: about an eighth of the CPU time of the shipped
    64 MiB × 3 × 4), set as a deployment sets its own: the shipped policy with only its
    `hashing` figures changed, named by CREDITGOV_SIGNIN_POLICY (commands run as
    processes inherit it). Tests of the cost itself take the variable away for the
    shipped figures (tests/security/test_password_hashing.py)."""
    memory_kib, time_cost = min(ARGON2ID_FLOOR, key=lambda pair: pair[0] * pair[1])
    doc = yaml.safe_load(SIGNIN.text())
    doc["hashing"] = {**doc["hashing"], "memory_kib": memory_kib, "time_cost": time_cost, "parallelism": 1}
    path = tmp_path_factory.getbasetemp() / "signin-tests.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDITGOV_SIGNIN_POLICY", str(path))
        yield


@pytest.fixture(scope="session", autouse=True)
def _store_templates() -> Iterator[None]:
    yield
    store_template.drop_all()


@pytest.fixture
def store(db_url: str) -> str:
    """An initialised store: schema at head and the shipped catalogue loaded (a copy
    of the session's template, see tests/store_template.py)."""
    return store_template.fill(db_url)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A copy of the small hand-made county (so tests may edit its specs)."""
    dst = tmp_path / "mini"
    shutil.copytree(FIXTURES / "mini", dst)
    return dst


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")


@pytest.fixture(autouse=True)
def _private_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server store's default key lives in the user's config folder, and DuckDB spills
    into the user's cache folder: tests keep both in folders of the test run, never in
    the home folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache-home"))


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the real `creditgov` command in-process in a fresh working folder."""
    from creditgov.cli.main import app

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    invoke.work = work  # type: ignore[attr-defined]
    return invoke


@pytest.fixture
def county(store: str) -> str:
    """An initialised store (SQLite and PostgreSQL) with the shipped lists, measures
    and commitment templates loaded (used by the lists, measures and commitments tests)."""
    from tests.lists.helpers import load_domain_data

    with db.session_scope(store) as s:
        load_domain_data(s)
    return store


@pytest.fixture
def county_sqlite(sqlite_url: str) -> str:
    """The same on SQLite only, for rules that do not depend on the database
    (validation messages, argument checks): PostgreSQL adds time, not coverage."""
    from tests.lists.helpers import load_domain_data

    store_template.fill(sqlite_url)
    with db.session_scope(sqlite_url) as s:
        load_domain_data(s)
    return sqlite_url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium under Playwright, one per session for every directory's browser
    tests (a second Playwright in the same process would refuse to start)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI=true: run scripts/system-deps.sh")
        pytest.skip("chromium not installed: run scripts/system-deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
