"""The data-quality page in Debian's chromium against a real server: the office sees
every source of the county and the monthly trend chart drawn by the static script
(no inline script: the Content-Security-Policy would refuse it), with no errors."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Server, sign_in


def test_the_quality_page_draws_its_trend(server: Server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        sign_in(page, server.base, "credit_office")
        page.goto(server.base + "/quality")
        assert page.locator("[data-testid=quality-rows] tbody tr").count() >= 1
        page.wait_for_selector("#quality-chart canvas")
    finally:
        ctx.close()
    assert [e for e in errors if "/favicon.ico" not in e] == []   # the product ships no favicon
