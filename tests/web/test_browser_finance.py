"""信易贷 in Debian's chromium against a real server: a bank officer sees the needs
matched to its products but opens only those whose subject consented to it for that
need; the subject posts a need on 我的融资, gives the bank its consent, and revokes it —
and the bank loses the file at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from creditgov.core import db
from creditgov.finance import matching, service
from creditgov.finance.schemas import BankIn, NeedIn, ProductIn
from creditgov.security.crypto import load_key_file
from tests.web.conftest import SCREENSHOTS, Server, sign_in

PURPOSE = '采购"><script>alert(1)</script>原材料'


def test_a_bank_officer_sees_only_consented_files(server: Server, browser: Any) -> None:
    ring = load_key_file(server.county.key_file)
    with db.session_scope(server.county.url) as s:
        bank = service.add_bank(s, BankIn(code="test-bank", name="测试农商银行"), actor="test")
        p = service.add_product(s, bank=bank, actor="test", data=ProductIn.model_validate({
            "code": "browser-loan", "name": "浏览器信用贷", "kinds": ["enterprise", "merchant"],
            "amount_min": "10000", "amount_max": "5000000", "term_min": 1, "term_max": 60,
            "rate_min": "3.5", "rate_max": "5"}))
        service.submit_product(s, bank=bank, product_id=p.id, actor="test")
        service.decide_product(s, product_id=p.id, approve=True, note=None, actor="office")
        # Subject 2 posts a need and never consents: the bank must never open it.
        other = service.post_need(s, ring, subject_id=2, actor="test", data=NeedIn(
            amount=Decimal("200000"), term_months=12, purpose="扩大经营", contact_name="李出纳",
            contact_phone="13900001111"))
        matching.recompute(s)
        other_id = other.id
    firm = browser.new_context(viewport={"width": 1200, "height": 900})
    banker = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        me = firm.new_page()
        sign_in(me, server.base, "subject")
        me.goto(server.base + "/me/finance")
        me.fill("[data-testid=need-amount]", "500000")
        me.fill("[data-testid=need-term]", "12")
        me.fill("[data-testid=need-purpose]", PURPOSE)
        me.fill("[data-testid=need-contact]", "王会计")
        me.fill("[data-testid=need-phone]", "13812345678")
        me.click("[data-testid=need-submit]")
        me.wait_for_selector("[data-testid=flash]")
        need_id = int(me.locator("[data-testid^=need-]").filter(has_text=PURPOSE).first
                      .get_attribute("data-testid").removeprefix("need-"))
        assert PURPOSE in me.inner_text(f"[data-testid=need-{need_id}]")  # unharmed, shown as text
        assert me.locator(f"[data-testid=match-{need_id}-{p.id}]").count() == 1

        bank_page = banker.new_page()
        sign_in(bank_page, server.base, "bank_officer")
        bank_page.goto(server.base + "/finance/bank")
        # Both needs are matched; neither shows who posted it.
        assert bank_page.locator(f"[data-testid=hidden-{need_id}]").count() == 1
        assert bank_page.locator(f"[data-testid=hidden-{other_id}]").count() == 1
        assert "13812345678" not in bank_page.content()
        for n in (need_id, other_id):
            r = bank_page.goto(f"{server.base}/finance/bank/needs/{n}")
            assert r is not None and r.status == 404

        # The subject consents for its need to this bank.
        me.click(f"[data-testid=consent-{need_id}-test-bank]")
        me.wait_for_selector("[data-testid=flash]")
        bank_page.goto(server.base + "/finance/bank")
        bank_page.click(f"[data-testid=open-need-{need_id}]")
        bank_page.wait_for_selector("[data-testid=need-file]")
        assert bank_page.inner_text("[data-testid=need-phone]") == "13812345678"
        assert bank_page.locator(f"[data-testid=hidden-{other_id}]").count() == 0  # not on this page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        bank_page.screenshot(path=str(SCREENSHOTS / "finance-bank-need.png"), full_page=True)
        bank_page.goto(server.base + "/finance/bank")
        assert bank_page.locator(f"[data-testid=hidden-{other_id}]").count() == 1

        # Revoked on the subject's page: the bank's next request is refused.
        me.goto(server.base + "/me/finance")
        me.locator(f"[data-testid=consents-{need_id}] [data-testid^=revoke-]").first.click()
        me.wait_for_selector("[data-testid=flash]")
        r = bank_page.goto(f"{server.base}/finance/bank/needs/{need_id}")
        assert r is not None and r.status == 404
        bank_page.goto(server.base + "/finance/bank")
        assert bank_page.locator(f"[data-testid=hidden-{need_id}]").count() == 1
        # The credit office's page: products, the fund and the statistics chart draw.
        office = banker.new_page()
        office.context.clear_cookies()
        sign_in(office, server.base, "credit_office")
        office.goto(server.base + "/finance/office")
        office.wait_for_selector("[data-testid=chart-loans][data-drawn='1']", state="attached")
        assert office.locator("[data-testid=fund-balance]").count() == 1
    finally:
        firm.close()
        banker.close()
