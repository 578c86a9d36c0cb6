"""The points supermarket and the public screen in Debian's chromium against a real
server: a resident signs in, redeems an offer on 我的积分 and reads its code, and the
shop's own account signs in and confirms that code; the public big screen draws its
ECharts charts without anyone signed in (static script, no inline one)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditgov.core import db
from creditgov.points import ledger, shop
from creditgov.points.schemas import OfferIn, ShopIn
from creditgov.security import users
from tests.web.conftest import SCREENSHOTS, Server

PASSWORD = "redeem horse battery staple"


def _login(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    # Only until the landing page is reached: what it shows is another page's business.
    page.click("button[type=submit]", no_wait_after=True)
    page.wait_for_url(lambda u: "/login" not in u, wait_until="commit", timeout=60_000)


def test_a_resident_redeems_and_the_shop_confirms(server: Server, browser: Any) -> None:
    with db.session_scope(server.county.url) as s:
        # Subject 5 of the mini county is a resident, subject 2 a merchant (tests/api/county.py).
        users.create_user(s, username="pts-resident", password=PASSWORD, role="subject", subject_id=5, actor="test")
        users.create_user(s, username="pts-shop", password=PASSWORD, role="subject", subject_id=2, actor="test")
        ledger.post(s, subject_id=5, amount=400, kind="award", cause="award", ref_type="award", ref_id=None,
                    cause_key="test:browser:points", actor="test", expires_on=dt.date(2028, 11, 1))
        shop.add_shop(s, ShopIn(code="browser-shop", name="浏览器测试诚信店", subject_id=2), actor="test")
        offer = shop.add_offer(s, OfferIn.model_validate({
            "shop": "browser-shop", "title": "测试大米 5kg", "price": 150, "stock": 2,
            "valid_from": dt.date(2026, 10, 1), "valid_until": dt.date(2026, 12, 31)}), actor="test").id
    resident = browser.new_context(viewport={"width": 1200, "height": 900})
    keeper = browser.new_context()
    try:
        page = resident.new_page()
        _login(page, server.base, "pts-resident")
        page.goto(server.base + "/me/points")
        assert page.inner_text("[data-testid=balance]") == "400"
        page.click(f"[data-testid=redeem-{offer}]")
        page.wait_for_selector("[data-testid=flash]")
        assert page.inner_text("[data-testid=balance]") == "250"
        code = page.inner_text("[data-testid=redemption-code]").strip()
        assert code.startswith("JF-")
        assert page.locator(".qr svg").count() >= 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "points-redeem.png"), full_page=True)

        other = keeper.new_page()
        _login(other, server.base, "pts-shop")
        other.goto(server.base + "/points/confirm")
        other.fill("[data-testid=confirm-code]", code)
        other.click("[data-testid=confirm-form] button[type=submit]")
        other.wait_for_selector("[data-testid=confirm-done]")
        assert code in other.inner_text("[data-testid=confirm-done]")

        page.reload()
        assert "已核销" in page.inner_text("[data-testid=my-redemptions]")
    finally:
        resident.close()
        keeper.close()


def test_the_public_screen_draws_without_signing_in(server: Server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1600, "height": 900})
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.base + "/public/screen")
        assert "/login" not in page.url
        page.wait_for_selector("[data-testid=chart-bands] canvas")
        page.wait_for_selector("[data-testid=chart-redemptions] canvas")
        assert page.locator("[data-testid=chart-bands]").get_attribute("data-drawn") == "1"
        assert not [e for e in errors if "Content Security Policy" in e], errors
        page.screenshot(path=str(SCREENSHOTS / "public-screen.png"), full_page=True)
    finally:
        ctx.close()
