"""The credit code in the browser (issue 17): a code issued by one real server
verifies in another server's page with the network to the issuer blocked and the
page offline after loading; it is refused once revoked (after the verifying region
imports the issuer's signed revocation list) and refused when its issuer is not in the
trust list. Also the subject's own page shows its code as a QR and refreshes it."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from creditgov.catalog import service as catalog_service
from creditgov.codes import service as code_service
from creditgov.codes import trust
from creditgov.core import db, schema
from creditgov.security import users as user_service
from creditgov.security.crypto import KeyRing, create_key_file
from tests.codes.helpers import graded_firm, region_key, share_trust
from tests.lists.helpers import load_domain_data
from tests.web.conftest import Server, serving, sign_in

ISSUER_NAME = "长兴县<b>\"'&"  # hostile text in the region's name passes through as text


@dataclass
class Region:
    url: str
    key_file: Path
    ring: KeyRing
    base: str = ""


def _store(tmp: Path, name: str, issuer: str, issuer_name: str) -> Region:
    url = f"sqlite:///{tmp / (name + '.db')}"
    schema.upgrade(url)
    with db.session_scope(url) as s:
        catalog_service.load_catalog(s, actor="test")
        load_domain_data(s)
    r = Region(url, tmp / f"{name}.key", create_key_file(tmp / f"{name}.key"))
    region_key(url, r.ring, issuer, issuer_name)
    return r


@contextmanager
def _serve(r: Region, tmp: Path, name: str) -> Iterator[str]:
    """`creditgov serve` on its own store, with the real clock (codes are checked
    against the browser's clock)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CREDITGOV_TODAY", "CREDITGOV_NOW")}
    env.update({"CREDITGOV_KEY_FILE": str(r.key_file), "CREDITGOV_PUBLIC_RATE": "100000/60"})
    with serving(r.url, env, tmp / f"{name}.log", ready="/codes/verify") as base:
        yield base


@dataclass
class Pair:
    issuer: Region
    verifier: Region
    stranger: Region
    subject_id: int
    token: str


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    saved = {k: os.environ.pop(k) for k in ("CREDITGOV_TODAY", "CREDITGOV_NOW") if k in os.environ}
    tmp = tmp_path_factory.mktemp("codes-two-servers")
    a = _store(tmp, "county-a", "330522", ISSUER_NAME)
    b = _store(tmp, "county-b", "330501", "吴兴区")
    c = _store(tmp, "county-c", "330900", "未受信任地区")  # never in the province's list
    sid, _ = graded_firm(a.url, "A", name="诚信<i>企业</i>有限公司")
    with db.session_scope(a.url) as s:
        u = user_service.create_user(s, username="office", password=None, role="credit_office", actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    trust.root_create(tmp / "root.key")
    share_trust(tmp / "root.key", [a.url, b.url], [a.url, b.url])
    try:
        with _serve(a, tmp, "a") as a.base, _serve(b, tmp, "b") as b.base:
            yield Pair(a, b, c, sid, token)
    finally:
        os.environ.update(saved)


def _post(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out: dict[str, Any] = json.loads(r.read())
    return out


def _verify_in_page(browser: Any, base: str, blocked: str, text: str) -> tuple[str, dict[str, str], list[str]]:
    """Open the verification page with every request to `blocked` refused, go offline
    once the bundle is loaded, paste `text`: (status, fields shown, requests after load)."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.route(f"{blocked}/**", lambda route: route.abort())
        page.goto(base + "/codes/verify")
        page.wait_for_selector("[data-testid=bundle-state][data-ready='1']", timeout=15000)
        later: list[str] = []
        page.on("request", lambda r: later.append(r.url))
        ctx.set_offline(True)
        page.fill("[data-testid=code-input]", text)
        page.click("[data-testid=verify-button]")
        status = page.wait_for_selector("[data-testid=verify-status][data-status]", timeout=15000)
        assert status is not None
        fields = {el.get_attribute("data-field") or "": el.inner_text()
                  for el in page.query_selector_all("[data-testid=verify-states] dd")}
        return str(status.get_attribute("data-status")), fields, later
    finally:
        ctx.close()


def test_code_verifies_offline_in_another_region(pair: Pair, browser: Any) -> None:
    issued = _post(f"{pair.issuer.base}/api/v1/codes", pair.token, {"subject_id": pair.subject_id})
    text = issued["code"]
    assert text.startswith("CGV1:") and "<svg" in issued["svg"]
    status, fields, later = _verify_in_page(browser, pair.verifier.base, pair.issuer.base, text)
    assert status == "valid", fields
    assert later == []  # nothing fetched after loading: verified in the browser
    assert fields["grade"] == "A" and fields["name"] == "诚信<i>企业</i>有限公司"
    assert fields["issuer"] == f"{ISSUER_NAME} (330522)" and fields["code_id"] == issued["code_id"]
    assert fields["band"] == "优秀(守信)" and fields["expires_at"].endswith("(UTC+8)")

    # An issuer outside the verifier's trust list: refused.
    with db.session_scope(pair.stranger.url) as s:
        sid = graded_firm(pair.stranger.url, "A")[0]
        foreign = code_service.issue(s, pair.stranger.ring, subject_id=sid, actor="test").text
    status, _fields, _ = _verify_in_page(browser, pair.verifier.base, pair.issuer.base, foreign)
    assert status == "unknown_issuer"

    # Revoked at the issuer; the verifier imports the issuer's signed list from its
    # public URL; the page (still cut off from the issuer) refuses the code.
    _post(f"{pair.issuer.base}/api/v1/codes/{issued['code_id']}/revoke", pair.token, {"reason": "manual"})
    from typer.testing import CliRunner

    from creditgov.cli.main import app

    run = CliRunner().invoke(app, ["--db", pair.verifier.url, "--key-file", str(pair.verifier.key_file), "code",
                                   "revocations", "--import", f"{pair.issuer.base}/codes/revocations.json", "--json"],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["revoked"] == 1
    status, _fields, later = _verify_in_page(browser, pair.verifier.base, pair.issuer.base, text)
    assert status == "revoked" and later == []
    # The page in English says the same in English.
    ctx = browser.new_context()
    try:
        ctx.add_cookies([{"name": "cg_lang", "value": "en", "url": pair.verifier.base}])
        page = ctx.new_page()
        page.goto(pair.verifier.base + "/codes/verify")
        assert page.inner_text("h1") == "Verify a credit code"
        page.wait_for_selector("[data-testid=bundle-state][data-ready='1']")
        page.fill("[data-testid=code-input]", text)
        page.click("[data-testid=verify-button]")
        el = page.wait_for_selector("[data-testid=verify-status][data-status]")
        assert el is not None and el.inner_text() == "revoked"
        assert page.inner_text("[data-testid=verify-states] dd[data-field=band]") == "excellent"
    finally:
        ctx.close()


def test_my_code_page_shows_and_refreshes_the_qr(server: Server, browser: Any) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "subject")
        page.goto(server.base + "/me/code")
        assert page.locator("a[href='/me/code']").count() >= 1  # the menu entry
        page.click("[data-testid=refresh-code]")
        page.wait_for_selector("[data-testid=code-text]")
        first = page.inner_text("[data-testid=code-text]")
        assert first.startswith("CGV1:") and page.locator("[data-testid=my-code] .qr svg").count() == 1
        assert page.inner_text("[data-testid=code-status]") in ("有效", "valid")
        page.click("[data-testid=refresh-code]")
        page.wait_for_selector("[data-testid=flash]")
        assert page.inner_text("[data-testid=code-text]") != first
    finally:
        ctx.close()
