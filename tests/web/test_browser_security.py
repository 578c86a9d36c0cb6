"""The pages and the API's docs in Debian's chromium under the Content-Security-Policy:
nothing is blocked (no inline script or style left anywhere, htmx configured to add
none), no request leaves the platform's origin, and what depends on scripts still
works — the charts draw, the live search answers, Swagger UI lists the API."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Server, sign_in

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  function (e) { window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile); });
"""


def test_pages_and_docs_run_under_the_csp_with_nothing_from_elsewhere(server: Server, browser: Any) -> None:
    base, c = server.base, server.county
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    ctx.add_init_script(WATCH)  # runs before the page's own scripts, outside the page's CSP
    outside: list[str] = []

    def only_ours(route: Any) -> None:
        url = route.request.url
        if url.startswith(base + "/") or url.startswith("data:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    ctx.route("**/*", only_ours)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_in(page, base, "credit_office")
        problems = []
        for path in ("/", "/subjects", "/subjects/1", "/analysis", "/supervision", f"/supervision/draws/{c.draw_id}",
                     f"/alerts/{c.alert_id}", "/bigscreen", "/commitments", f"/verify/{c.report_serial}",
                     "/public", "/api/v1/docs"):
            page.goto(base + path, wait_until="networkidle")
            if path == "/api/v1/docs":
                page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
            violations = page.evaluate("window.__csp")
            if violations:
                problems.append(f"{path}: {violations}")
        assert not problems, "\n".join(problems)
        assert not outside, outside
        assert not [e for e in errors if "Content Security Policy" in e], errors

        # Swagger UI, from the package, lists the API's operations.
        assert "CreditGov API" in page.inner_text(".swagger-ui .info .title")
        # Swagger UI renders a long list of operations lazily, a screenful at a time:
        # ask it how many operations it loaded rather than counting drawn blocks.
        assert page.locator(".swagger-ui .opblock").count() >= 1
        assert page.evaluate("window.ui.specSelectors.operations().size") > 150
        # The dashboard's charts draw (ECharts from the package, data from JSON blocks).
        page.goto(base + "/", wait_until="networkidle")
        assert page.locator("[data-chart][data-drawn='1'] canvas").count() >= 1
        # The live search (htmx) answers as one types, and the page names what it found.
        page.goto(base + "/subjects", wait_until="networkidle")
        page.fill("#q", "长兴")
        page.wait_for_selector("#results a[href='/subjects/1']", timeout=10_000)
        assert page.evaluate("window.__csp") == []
        # The watch itself works: an inline script added now is blocked and reported.
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                      " document.body.appendChild(s); }")
        page.wait_for_function("() => window.__csp.length > 0", timeout=5_000)  # a function: see test_browser
        assert page.evaluate("window.__ran") is None and "script-src" in page.evaluate("window.__csp")[0]
    finally:
        ctx.close()
