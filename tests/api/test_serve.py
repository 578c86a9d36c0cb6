"""The server as clients meet it, on loopback: a real uvicorn and `creditgov serve`.

- An unhandled exception answers 500 and the keep-alive connection goes on serving
  (it used to be reset: Starlette re-raised after answering, and uvicorn closed it).
- `X-Forwarded-For` counts only from the trusted proxies a deployment names
  (CREDITGOV_TRUSTED_PROXIES, none by default): from anyone else it cannot buy a
  fresh public rate limit."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from creditgov.api.app import CSP, create_app
from creditgov.api.proxies import parse, server_options
from creditgov.core.errors import ConfigError

EXE = Path(sys.executable).with_name("creditgov")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """An initialised store (`creditgov init`), as a deployment has one."""
    tmp = tmp_path_factory.mktemp("serve")
    db = tmp / "creditgov.db"
    r = subprocess.run([str(EXE), "--db", str(db), "init"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "XDG_CONFIG_HOME": str(tmp / "config")})
    assert r.returncode == 0, r.stderr
    return f"sqlite:///{db}", Path(str(db) + ".key")


@contextmanager
def running(app: FastAPI) -> Iterator[int]:
    """`app` under a real uvicorn on a free loopback port, in a thread of this process."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           **server_options([])))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert t.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        t.join(10)


def _boom() -> None:
    raise RuntimeError("a bug in a route")


def test_a_500_never_poisons_the_keep_alive_connection(store: tuple[str, Path]) -> None:
    url, key = store
    app = create_app(url, key, secure_cookies=False)
    app.add_api_route("/test-boom", _boom)  # test-only failing routes: a page and an API route
    api = next(r.app for r in app.routes if getattr(r, "path", None) == "/api/v1")
    api.add_api_route("/test-boom", _boom)
    with running(app) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.connect()
        sock = conn.sock
        steps = [("/test-boom", "*/*", 500, "application/problem+json"), ("/login", "text/html", 200, "text/html"),
                 ("/api/v1/test-boom", "*/*", 500, "application/problem+json"),
                 ("/api/v1/public/lists", "*/*", 200, "application/json"),
                 ("/test-boom", "text/html", 500, "text/html"), ("/api/v1/openapi.json", "*/*", 200, "application/json")]
        for path, accept, status, ctype in steps:
            conn.request("GET", path, headers={"accept": accept})
            r = conn.getresponse()
            body = r.read()
            assert (path, r.status) == (path, status)
            assert r.getheader("content-type", "").startswith(ctype), (path, r.getheader("content-type"))
            assert r.getheader("connection") != "close" and r.getheader("content-security-policy") == CSP, path
            assert conn.sock is sock, f"the connection was closed after {path}"  # the same socket throughout
            if status == 500 and ctype != "text/html":
                assert json.loads(body)["detail"].startswith("internal error")
        conn.close()


@contextmanager
def serve(store: tuple[str, Path], *args: str, **env: str) -> Iterator[str]:
    """`creditgov serve` as a deployment runs it, with a small public rate limit."""
    url, key = store
    port = _free_port()
    full_env = {**os.environ, "CREDITGOV_KEY_FILE": str(key), "CREDITGOV_PUBLIC_RATE": "3/60", **env}
    proc = subprocess.Popen([str(EXE), "--db", url, "serve", "--port", str(port), *args], env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()  # noqa: S310 - loopback
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    raise RuntimeError(f"creditgov serve did not start:\n{out}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def _public(base: str, forwarded: str | None) -> int:
    req = urllib.request.Request(base + "/api/v1/public/lists",
                                 headers={"X-Forwarded-For": forwarded} if forwarded else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - loopback
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_forwarded_for_from_an_untrusted_peer_buys_no_fresh_limit(store: tuple[str, Path]) -> None:
    # No trusted proxy (uvicorn's own FORWARDED_ALLOW_IPS does not count either): three a
    # minute for this client, whatever address each request claims.
    with serve(store, CREDITGOV_TRUSTED_PROXIES="", FORWARDED_ALLOW_IPS="*") as base:
        got = [_public(base, f"203.0.113.{n}") for n in range(1, 6)]
        assert got == [200, 200, 200, 429, 429]
    # A proxy elsewhere is trusted, not the loopback peer: the same.
    with serve(store, "--trusted-proxies", "10.0.8.0/24") as base:
        assert [_public(base, f"198.51.100.{n}") for n in range(1, 5)] == [200, 200, 200, 429]


def test_a_trusted_proxy_tells_the_client_address(store: tuple[str, Path]) -> None:
    with serve(store, CREDITGOV_TRUSTED_PROXIES="127.0.0.1, ::1") as base:
        # Each client behind the proxy has its own limit...
        assert [_public(base, f"203.0.113.{n}") for n in range(1, 6)] == [200] * 5
        # ...and one client is limited, whatever it prepends to the header: the proxy
        # appends the address it saw, and the right-most untrusted one counts.
        assert [_public(base, f"10.9.9.{n}, 192.0.2.7") for n in range(1, 5)] == [200, 200, 200, 429]


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert parse(" 127.0.0.1, 10.0.8.0/24 ;::1,") == ["127.0.0.1", "10.0.8.0/24", "::1"]
    assert parse("10.0.8.7/24") == ["10.0.8.0/24"]
    assert parse(None) == [] and server_options([]) == {"proxy_headers": False, "forwarded_allow_ips": []}
    for bad in ("*", "proxy.local", "10.0.0.0/33"):
        with pytest.raises(ConfigError):
            parse(bad)


def test_a_wrong_trusted_proxy_is_a_one_line_error(store: tuple[str, Path]) -> None:
    url, key = store
    r = subprocess.run([str(EXE), "--db", url, "serve", "--trusted-proxies", "nginx.local"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "CREDITGOV_KEY_FILE": str(key)})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --trusted-proxies: 'nginx.local'"), r.stderr
