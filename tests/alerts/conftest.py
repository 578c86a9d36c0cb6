"""Real peers for the channel tests: an SMTP server process and an HTTP gateway
process on loopback, stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.peers.running import HttpPeer, SmtpPeer

ALIYUN_SECRET = "test-aliyun-secret"
HOOK_SECRET = "test-hook-secret"


@pytest.fixture
def smtp_peer(tmp_path: Path) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tmp_path / "maildir").start()
    yield peer
    peer.stop()


@pytest.fixture
def http_peer(tmp_path: Path) -> Iterator[HttpPeer]:
    peer = HttpPeer(tmp_path / "gateway.json",
                    ["--aliyun-secret", ALIYUN_SECRET, "--hook-secret", HOOK_SECRET]).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated store with the catalogue, copied for each test (a migration
    takes seconds; a file copy takes milliseconds)."""
    from creditgov.catalog import service as catalog_service
    from creditgov.core import db, schema

    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    schema.upgrade(url)
    with db.session_scope(url) as s:
        catalog_service.load_catalog(s, actor="test")
    db.engine_for(url).dispose()  # the last connection closing folds the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def sqlite_store(_sqlite_template: Path, tmp_path: Path) -> str:
    """An initialised SQLite store (schema at head, catalogue loaded)."""
    import shutil

    dst = tmp_path / "store.db"
    shutil.copyfile(_sqlite_template, dst)
    return f"sqlite:///{dst}"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.alerts import demo

    return demo.template(tmp_path_factory.getbasetemp() / "demo-county")


@pytest.fixture
def demo_store(demo_template, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A private copy of the demo county's store (SQLite), initialised and ingested."""
    from tests.alerts import demo

    return demo.copy(demo_template, tmp_path / "demo")


@pytest.fixture
def pg_store(pg_url: str) -> str:
    """An initialised PostgreSQL store (for behaviour only PostgreSQL has)."""
    from creditgov.catalog import service as catalog_service
    from creditgov.core import db, schema

    schema.upgrade(pg_url)
    with db.session_scope(pg_url) as s:
        catalog_service.load_catalog(s, actor="test")
    return pg_url
