"""Browser journeys in Debian's chromium against a real server: sign in as each role,
the page matrix of roles and scopes, the office's main journey (find a firm, open
its file, read the explanation, check it, download its report), the public query,
the language switch. Screenshots go to docs/screenshots/ for docs/web.md."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.points import boards
from creditgov.security.scopes import PERMISSIONS, Role, Scope
from creditgov.subjects.models import Subject
from tests.api.county import ACCOUNTS, ROLES
from tests.web.conftest import SCREENSHOTS, Server, sign_in

# (path, permission, subject it concerns or None)
PAGES = [
    ("/", "dashboard.view", None),
    ("/bigscreen", "bigscreen.view", None),
    ("/subjects", "subjects.search", None),
    ("/subjects/1", "subjects.read", 1),
    ("/subjects/7", "subjects.read", 7),
    ("/models", "models.read", None),
    ("/models/public-credit-enterprise", "models.read", None),
    ("/runs", "runs.read", None),
    ("/lists", "lists.read", None),
    ("/measures", "measures.read", None),
    ("/check", "check.run", None),
    ("/ingest", "ingest.read", None),
    ("/ingest/quarantine", "quarantine.read", None),
    ("/catalog", "catalog.read", None),
    ("/audit", "audit.read", None),
    ("/admin/users", "users.manage", None),
    ("/public", "public.query", None),
    ("/public/boards", "public.query", None),
    ("/me/finance", "finance.need", None),
    ("/finance/bank", "finance.bank", None),
    ("/finance/office", "finance.approve", None),
]
SCOPE = {"department_officer": {1, 2}, "grid_worker": {3, 4, 7}, "inspector": {1, 2, 5, 6},
         "bank_officer": {1, 2}, "subject": {1}}


def _expected(role: str, path: str, permission: str, subject: int | None) -> int:
    r = Role(role)
    if r not in PERMISSIONS[permission]:
        return 303 if path == "/" else 403  # the start page sends banks and subjects to their own home
    if subject is not None and PERMISSIONS[permission][r] is not Scope.ALL and subject not in SCOPE[role]:
        return 404
    return 200


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_each_role_signs_in_and_sees_exactly_its_pages(server: Server, browser: Any, role: str) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        sign_in(page, server.base, role)
        cookie = next(c for c in ctx.cookies() if c["name"] == "cg_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
        failures = []
        for path, permission, subject in PAGES:
            # The browser context's own request client: its cookies, without painting each page.
            resp = ctx.request.get(server.base + path, max_redirects=0)
            want = _expected(role, path, permission, subject)
            if resp.status != want:
                failures.append(f"{path}: want {want}, got {resp.status}")
        assert not failures, f"{role}:\n" + "\n".join(failures)
        # Navigation offers exactly the permitted pages.
        page.goto(server.base + "/public", wait_until="domcontentloaded")
        links = set(page.eval_on_selector_all("nav.main a", "els => els.map(e => e.getAttribute('href'))"))
        assert ("/admin/users" in links) == (role == "admin")
        assert ("/audit" in links) == (Role(role) in PERMISSIONS["audit.read"])
    finally:
        ctx.close()


def test_anonymous_visitors_are_sent_to_sign_in(server: Server, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(server.base + "/subjects/1")
        assert page.url.startswith(server.base + "/login?next=/subjects/1")
    finally:
        page.close()


def test_office_journey_find_open_explain_check_download(server: Server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    try:
        sign_in(page, server.base, "credit_office")
        page.wait_for_selector("[data-chart=regions] canvas")
        assert page.inner_text("[data-testid=stat-subjects]") == "8"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
        # Find a firm with the live (htmx) search.
        page.click("nav.main a[href='/subjects']")
        page.fill("[data-testid=search-q]", "绿源")
        page.press("[data-testid=search-q]", "Enter")
        # A function, not an expression: Playwright evals the text once inside its own call and
        # keeps the function; an expression is eval'd on every poll, which the page's CSP
        # (no 'unsafe-eval') refuses whenever the answer is not there at the first look.
        page.wait_for_function("() => document.querySelector('[data-testid=result-count]')"
                               ".textContent.includes('1')")
        page.click("text=长兴绿源纺织有限公司")
        page.wait_for_selector("[data-testid=file-name]")
        assert "雉城一网格" in page.inner_text("[data-testid=file-grid]")
        # Its explanation: every item with its points, and the waterfall chart.
        page.wait_for_selector("[data-testid=waterfall] canvas")
        assert "73.78" in page.inner_text("[data-testid=explain-summary]")
        rows = page.locator("[data-testid=explain-items] tr")
        assert rows.count() > 10
        assert "长市监罚〔2025〕1号" in page.inner_text("[data-testid=records]")
        page.screenshot(path=str(SCREENSHOTS / "credit-file.png"), full_page=True)
        # Check it for a scenario (htmx form with the CSRF header).
        page.select_option("[data-testid=check-scenario]", "administrative-approval")
        page.click("[data-testid=check-form] button")
        result = page.wait_for_selector("[data-testid=check-result]")
        assert "CK20261101-" in result.inner_text()
        # Download its report.
        with page.expect_download() as dl:
            page.click("[data-testid=report-link]")
        path = dl.value.path()
        with open(path, "rb") as fh:
            assert fh.read(5) == b"%PDF-"
        assert dl.value.suggested_filename.startswith("CR20261101-")
    finally:
        ctx.close()


def test_public_query_without_signing_in(server: Server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    page = ctx.new_page()
    try:
        page.goto(server.base + "/public")
        page.fill("[data-testid=public-q]", "长兴")
        page.click("[data-testid=public-form] button")
        page.wait_for_selector("[data-testid=public-results] a")
        names = page.eval_on_selector_all("[data-testid=public-results] a", "els => els.map(e => e.textContent)")
        assert "长兴绿源纺织有限公司" in names and not any("王建国" in n for n in names)
        page.screenshot(path=str(SCREENSHOTS / "public-query.png"), full_page=True)
        page.click("text=长兴绿源纺织有限公司")
        page.wait_for_selector("[data-testid=public-records]")
        assert "市场监管" in page.inner_text("[data-testid=public-records]")
        # Residents appear on a board only once they opted in, and then masked.
        with db.session_scope(server.county.url) as s:
            for sid in s.execute(select(Subject.id).where(Subject.kind == "individual")).scalars().all():
                boards.set_opt_in(s, subject_id=sid, opted_in=True, actor="test")
        page.goto(server.base + "/public/boards?region=CX-S01&model=community-resident&kind=individual")
        board = page.inner_text("[data-testid=board]")
        assert "王*国" in board and "王建国" not in board
    finally:
        ctx.close()


def test_language_switch_to_english_and_back(server: Server, browser: Any) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        sign_in(page, server.base, "admin")
        assert page.inner_text("nav.main a[href='/']") == "工作台"
        page.click("[data-testid=lang-switch]")
        page.wait_for_load_state("domcontentloaded")
        assert page.inner_text("nav.main a[href='/']") == "Dashboard"
        page.click("[data-testid=lang-switch]")
        page.wait_for_load_state("domcontentloaded")
        assert page.inner_text("nav.main a[href='/']") == "工作台"
    finally:
        ctx.close()


# The office's pages with wide tables and long selects (a model's full title), at a phone's width.
PHONE_PAGES = ("/statistics", "/quality", "/complaints", "/models", "/analysis", "/supervision", "/documents",
               "/alerts", "/public/lists", "/public/boards")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_small_screens_get_the_same_pages(server: Server, browser: Any, lang: str) -> None:
    """At 390 px no page scrolls sideways: wide tables scroll inside their own box,
    selects are never wider than the screen."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    ctx.add_cookies([{"name": "cg_lang", "value": lang, "url": server.base}])
    page = ctx.new_page()
    try:
        sign_in(page, server.base, "grid_worker")
        page.goto(server.base + "/subjects/7")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 420, f"page overflows a phone screen: {width}px"
        sign_in(page, server.base, "credit_office")
        wide = {}
        for path in PHONE_PAGES:
            page.goto(server.base + path, wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 392:
                wide[path] = width
        assert not wide, f"pages overflow a phone screen: {wide}"
    finally:
        ctx.close()


def test_tabs_mark_the_chosen_one_and_legends_keep_off_the_axes(server: Server, browser: Any) -> None:
    """The public boards' and lists' tabs look like tabs, the chosen one marked
    (aria-current and its look); the charts' legends sit above the plot, whose grid
    holds the axis labels."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(server.base + "/public/boards")
        assert page.locator('nav.tabs a[aria-current="page"]').count() == 1
        page.goto(server.base + "/public/lists?list=red")
        tabs = page.locator("nav.tabs a")
        assert tabs.count() >= 2
        look = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderTopColor]"
        chosen = page.locator('nav.tabs a[aria-current="page"]')
        other = page.locator('nav.tabs a:not([aria-current])').first
        assert chosen.count() == 1 and chosen.evaluate(look) != other.evaluate(look)
        sign_in(page, server.base, "credit_office")
        page.wait_for_selector("[data-chart=regions] canvas")
        page.wait_for_selector("[data-chart=trend] canvas")
        for kind in ("regions", "trend"):
            opt = page.locator(f"[data-chart={kind}]").first.evaluate(
                "el => { const o = window.echarts.getInstanceByDom(el).getOption();"
                " return [o.legend[0].top, o.grid[0].containLabel, o.grid[0].top]; }")
            assert opt[0] == 0 and opt[1] is True and opt[2] >= 30, (kind, opt)
    finally:
        ctx.close()


assert set(ROLES) == {*ACCOUNTS, "public"}
