"""The `served` fixture: a bare initialised store served by the real application
(tests/security/served.py), with the clock pinned at `START`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditgov.api.app import create_app
from creditgov.security.crypto import create_key_file
from tests.security.served import START, Served


@pytest.fixture
def served(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    key = tmp_path / "creditgov.key"
    ring = create_key_file(key)

    def at(moment: dt.datetime) -> None:
        monkeypatch.setenv("CREDITGOV_NOW", moment.isoformat())

    at(START)
    yield Served(url=store, key=key, ring=ring, app=create_app(store, key), at=at)
