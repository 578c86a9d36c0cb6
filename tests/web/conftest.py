"""A real `creditgov serve` subprocess on a free loopback port over a small real
county, and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.county import PASSWORD, County, build, second_factor_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Server:
    base: str
    county: County


# The county behind each running server, so sign_in finds the accounts' authenticator keys.
COUNTIES: dict[str, County] = {}


def sign_in(page: Any, base: str, role: str) -> None:
    """Sign the page in as the test county's account for `role` (tests/api/county.py):
    the password, then — for the roles that must have a second factor — the code from
    the account's authenticator, typed into the code page as a person would."""
    username = f"t-{role}"
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    county = COUNTIES[base]
    if username in county.totp:
        assert "/login/code" in page.url, f"{role} was not asked for the second factor: {page.url}"
        page.fill("input[name=code]", second_factor_code(county, username))
        page.click("form[data-testid=code-form] button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
    assert "/login" not in page.url, f"{role} could not sign in"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(url: str, env: dict[str, str], log_path: Path, *, ready: str = "/login") -> Iterator[str]:
    """`creditgov serve` on the store at `url` in its own process, on a free loopback
    port, with `env` as its whole environment; yields the base address once `ready`
    answers, and stops the process afterwards."""
    port = _free_port()
    exe = Path(sys.executable).with_name("creditgov")
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(exe), "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + ready, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("creditgov serve did not start:\n" + log_path.read_text()) from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web-county")
    county = build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key")
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(county.key_file), "CREDITGOV_TODAY": "2026-11-01",
           "CREDITGOV_PUBLIC_RATE": "100000/60"}
    with serving(county.url, env, tmp / "serve.log") as base:
        COUNTIES[base] = county
        yield Server(base, county)


