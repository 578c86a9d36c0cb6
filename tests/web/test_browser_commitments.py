"""Credit commitments and regional analysis in Debian's chromium against a real server:
the credit office opens 区域信用分析 and sees ECharts draw its charts; a firm signs a
commitment on 我的信用 after reading its text, and the market department finds it on its
work list with the form to record the outcome (recording a breach, which would change
the shared county's subject for the other browser tests, is tested through the pages in
tests/commitments/test_views.py).
The analysis page's screenshot goes to docs/screenshots/ for docs/analysis.md."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from creditgov.commitments.models import Commitment
from creditgov.core import db
from tests.web.conftest import SCREENSHOTS, Server, sign_in


def test_the_office_sees_the_analysis_charts(server: Server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "credit_office")
        page.click("nav.main a[href='/analysis']")
        page.wait_for_selector("[data-testid=chart-distribution] canvas")
        page.wait_for_selector("[data-testid=chart-risk] canvas")
        assert page.locator("[data-testid=chart-distribution]").get_attribute("data-drawn") == "1"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "analysis.png"), full_page=True)
        # filters: colour codes by grid over six months
        page.select_option("[data-testid=filter-what]", "colour")
        page.select_option("[data-testid=filter-by]", "grid")
        page.fill("[data-testid=filter-months]", "6")
        page.click("[data-testid=analysis-filters] button[type=submit]")
        page.wait_for_selector("[data-testid=chart-distribution] canvas")
        assert "what=colour" in page.url and "by=grid" in page.url and "months=6" in page.url
        assert "近6个月" in page.inner_text("body")
        assert page.locator("[data-testid=risk-table] tr[data-testid^=risk-]").count() > 1
    finally:
        ctx.close()


def test_a_firm_signs_a_commitment_on_its_own_view(server: Server, browser: Any) -> None:
    url = server.county.url
    firm = browser.new_context(viewport={"width": 1366, "height": 900})
    desk = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = firm.new_page()
        sign_in(page, server.base, "subject")
        assert page.url == server.base + "/me/credit"
        page.click("[data-testid=sign-notification-commitment] summary")
        form = page.locator("[data-testid=sign-form-notification-commitment]")
        text = form.locator("[data-testid=sign-text]").inner_text()
        assert "承诺符合条件" in text and "2026-12-31" in text  # sixty days from today, filled in
        form.locator("[data-testid=sign-signer]").fill("法定代表人")
        form.locator("[data-testid=sign-submit]").click()
        assert "done=" not in page.url  # the browser held it back: agreeing is required
        form.locator("[data-testid=sign-agree]").check()
        form.locator("[data-testid=sign-submit]").click()
        page.wait_for_selector("[data-testid=flash]")
        assert "信用承诺书已签署" in page.inner_text("[data-testid=flash]")
        with db.session_scope(url) as s:
            (c,) = s.execute(select(Commitment).where(Commitment.subject_id == 1,
                                                      Commitment.template_code == "notification-commitment")).scalars()
            assert (c.signed_by, c.status, c.actor, c.text) == ("法定代表人", "signed", "user:t-subject", text)
            cid = c.id
        assert "已签署待核查" in page.inner_text(f"[data-testid=own-commitment-{cid}]")

        # the market department finds it on its work list, with the form to record the outcome
        officer = desk.new_page()
        sign_in(officer, server.base, "department_officer")
        officer.click("nav.main a[href='/commitments']")
        assert "已签署待核查" in officer.inner_text(f"[data-testid=commitment-{cid}] [data-testid=commitment-status]")
        assert officer.locator(f"[data-testid=verify-form-{cid}] [data-testid=verify-outcome] option").count() == 2
    finally:
        firm.close()
        desk.close()
