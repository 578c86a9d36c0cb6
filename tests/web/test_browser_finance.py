"""信易贷 in Debian's chromium against a real server: a bank officer sees the needs
matched to its products but opens only those whose subject consented to it for that
need; the subject posts a need on 我的融资, gives the bank its consent, applies (and sees
the application awaiting the bank), and revokes the consent — and the bank loses the
file at once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import NotFound
from creditgov.finance import loans, matching, service
from creditgov.finance.models import Bank, Loan, LoanApplication, Repayment
from creditgov.finance.schemas import BankIn, NeedIn, ProductIn
from creditgov.security.crypto import load_key_file
from creditgov.subjects.models import Subject
from tests.lists.helpers import add_record
from tests.web.conftest import SCREENSHOTS, Server, sign_in

PURPOSE = '采购"><script>alert(1)</script>原材料'
NOTE = '负债率"><img src=x onerror=alert(3)> O\'Brien \u202e右到左😀'


def _test_bank(s: Any) -> Bank:
    """The test county's bank officer works for `test-bank` (whichever test comes first registers it)."""
    try:
        return service.bank_by_code(s, "test-bank")
    except NotFound:
        return service.add_bank(s, BankIn(code="test-bank", name="测试农商银行"), actor="test")


def test_a_bank_officer_sees_only_consented_files(server: Server, browser: Any) -> None:
    ring = load_key_file(server.county.key_file)
    with db.session_scope(server.county.url) as s:
        bank = _test_bank(s)
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

        # No application before the consent: the row asks for the consent first.
        assert me.locator(f"[data-testid=apply-{need_id}-{p.id}]").count() == 0
        # The subject consents for its need to this bank, then applies; the row then
        # says the bank is deciding, and offers neither again.
        me.click(f"[data-testid=consent-{need_id}-test-bank]")
        me.wait_for_selector("[data-testid=flash]")
        me.click(f"[data-testid=apply-{need_id}-{p.id}]")
        me.wait_for_selector("[data-testid=flash]")
        assert me.inner_text(f"[data-testid=applied-{need_id}-{p.id}]") == "已申请，等待银行决定"
        assert me.locator(f"[data-testid=match-action-{need_id}-{p.id}] button").count() == 0
        assert "已申请，等待银行决定" in me.inner_text("[data-testid=my-apps]")
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
        chart = office.locator("[data-testid=chart-loans]")
        assert chart.get_attribute("role") == "img"
        assert re.search(r"^按信用档次统计的贷款: \d+ 个档次，共 [\d,]+ 笔，数据见下方的表格$",
                         chart.get_attribute("aria-label") or "")
    finally:
        firm.close()
        banker.close()


def test_a_bank_officer_decides_records_a_repayment_and_sees_a_warning(server: Server, browser: Any) -> None:
    ring = load_key_file(server.county.key_file)
    with db.session_scope(server.county.url) as s:
        bank = _test_bank(s)
        p = service.add_product(s, bank=bank, actor="test", data=ProductIn.model_validate({
            "code": "browser-decide", "name": "浏览器审批贷", "kinds": ["enterprise", "merchant"],
            "amount_min": "10000", "amount_max": "5000000", "term_min": 1, "term_max": 60,
            "rate_min": "3.5", "rate_max": "5"}))
        service.submit_product(s, bank=bank, product_id=p.id, actor="test")
        service.decide_product(s, product_id=p.id, approve=True, note=None, actor="office")
        apps = []
        for sid in (1, 2):
            n = service.post_need(s, ring, subject_id=sid, actor="test", data=NeedIn(
                amount=Decimal("300000"), term_months=12, purpose="流动资金", contact_name="王会计",
                contact_phone="13812345678"))
            service.grant_consent(s, need_id=n.id, subject_id=sid, bank_code="test-bank", actor="test")
            apps.append(loans.apply(s, need_id=n.id, product_id=p.id, subject_id=sid, actor="test").id)
    approve_id, decline_id = apps
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "bank_officer")
        page.goto(server.base + "/finance/bank")
        # Outside the product's range: the service refuses, the page says why in Chinese.
        page.fill(f"[data-testid=approve-amount-{approve_id}]", "9000000")
        page.click(f"[data-testid=approve-{approve_id}]")
        assert "批准金额 9,000,000.00 元不在产品的金额范围 10,000–5,000,000 元内" in page.inner_text("[data-testid=error]")
        page.fill(f"[data-testid=approve-amount-{approve_id}]", "300000")
        page.fill(f"[data-testid=approve-rate-{approve_id}]", "4.2")
        page.fill(f"[data-testid=approve-term-{approve_id}]", "12")
        page.click(f"[data-testid=approve-{approve_id}]")
        assert page.inner_text("[data-testid=flash]") == "已批准申请，贷款已记入台账。"
        assert page.inner_text(f"[data-testid=app-status-{approve_id}]") == "已通过"
        # The other is declined with a reason of the policy and a note that passes unharmed.
        page.select_option(f"[data-testid=decline-reason-{decline_id}]", "high_leverage")
        page.fill(f"[data-testid=decline-note-{decline_id}]", NOTE)
        page.click(f"[data-testid=decline-{decline_id}]")
        assert page.inner_text("[data-testid=flash]") == "已拒绝申请。"
        assert page.inner_text(f"[data-testid=app-reason-{decline_id}]") == "负债过高"
        assert NOTE in page.inner_text(f"[data-testid=app-{decline_id}]")
        assert page.locator(f"[data-testid=approve-form-{decline_id}]").count() == 0
        with db.session_scope(server.county.url) as s:
            loan = s.execute(select(Loan).where(Loan.application_id == approve_id)).scalar_one()
            declined = s.get(LoanApplication, decline_id)
            assert declined is not None and (declined.status, declined.decline_code) == ("declined", "high_leverage")
            assert (loan.principal, loan.rate, loan.term_months) == (Decimal("300000"), Decimal("4.2"), 12)
            loan_id = loan.id
            # Granted a month ago, so ten days overdue today is a possible report (one that
            # starts before the grant is refused: tests/finance/test_dates.py).
            loan.granted_on = dt.date(2026, 10, 1)

        # A repayment, then a report of 10 days overdue.
        page.fill(f"[data-testid=repay-ref-{loan_id}]", "WEB-0001")
        page.fill(f"[data-testid=repay-amount-{loan_id}]", "100000")
        page.click(f"[data-testid=repay-{loan_id}]")
        assert page.inner_text("[data-testid=flash]") == "已登记还款。"
        assert Decimal(page.inner_text(f"[data-testid=loan-outstanding-{loan_id}]").replace(",", "")) == Decimal("200000")
        page.fill(f"[data-testid=status-days-{loan_id}]", "10")
        page.click(f"[data-testid=status-{loan_id}]")
        assert page.inner_text("[data-testid=flash]") == "已报告贷款状态。"
        assert page.inner_text(f"[data-testid=loan-status-{loan_id}]") == "逾期"
        with db.session_scope(server.county.url) as s:
            r = s.execute(select(Repayment).where(Repayment.loan_id == loan_id)).scalar_one()
            assert (r.ref, r.amount, r.source, r.actor) == ("WEB-0001", Decimal("100000"), "web",
                                                            "user:t-bank_officer")

        # The borrower's new court record: post-loan monitoring warns this bank.
        with db.session_scope(server.county.url) as s:
            firm = s.get(Subject, 1)
            assert firm is not None
            add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 11, 1), department="court")
            assert loans.monitor(s)["raised"] >= 1
        page.goto(server.base + "/finance/bank")
        row = page.locator("[data-testid=bank-warnings] tr[data-testid^=warning-]").filter(has_text=f"#{loan_id}")
        assert row.count() == 1
        text = row.inner_text()
        assert "贷后预警" in text and "待签收" in text and "北京时间" in text and "失信被执行人" in text
        page.goto(server.base + "/lang/en?next=/finance/bank")
        text = page.locator("[data-testid=bank-warnings] tr[data-testid^=warning-]").filter(
            has_text=f"#{loan_id}").inner_text()
        assert "Post-loan warning" in text and "Open" in text and "CST" in text and "贷后预警" not in text
        assert page.inner_text(f"[data-testid=loan-status-{loan_id}]") == "Overdue"
    finally:
        ctx.close()
