"""A loan's dates hold, on a real store (SQLite and PostgreSQL): a bank's status report
falls between the grant and today and its overdue days start no earlier than the grant,
a repayment is paid between the grant and today — through the service, the API (422
with a code, said in the reader's language) and the bank's page (the typed values
kept); no default, so no claim, comes of a refused report; a loan's term stays within
its product's range; and the demonstration data's loans are granted months before
their default."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.finance import demo, fund, loans, service
from creditgov.finance.models import (
    Bank,
    FinancingNeed,
    FundClaim,
    Loan,
    LoanApplication,
    Repayment,
)
from creditgov.finance.schemas import DecisionIn, RepaymentIn, StatusIn
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from tests.finance.helpers import (
    GRANTED_ON,
    PASSWORD,
    a_bank,
    a_loan,
    a_need,
    a_product,
    csrf,
    graded,
    signed_in,
)

TODAY = dt.date(2026, 11, 1)  # the tests' pinned today


def test_reports_and_repayments_outside_the_loans_life_are_refused(county: str, keyring: KeyRing) -> None:
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm, other) = graded(s, [("enterprise", "A"), ("enterprise", "B")])
        p = a_product(s, bank)
        today_loan = a_loan(s, keyring, bank, firm, p, granted_on=None)  # granted today
        assert today_loan.granted_on == TODAY

        def refused(data: StatusIn) -> InvalidInput:
            with pytest.raises(InvalidInput) as exc:
                loans.report_status(s, bank=bank, loan_id=today_loan.id, data=data, actor="o")
            return exc.value

        e = refused(StatusIn(on=TODAY, overdue_days=120))  # the reviewer's: default on the grant day
        assert e.code == "finance.status.overdue_before_grant"
        assert e.params == {"id": today_loan.id, "days": 120, "on": "2026-11-01", "granted_on": "2026-11-01",
                            "most": 0}
        assert refused(StatusIn(on=dt.date(1990, 1, 1), overdue_days=0)).code == "finance.status.before_grant"
        assert refused(StatusIn(on=dt.date(2099, 1, 1), overdue_days=0)).code == "finance.status.in_future"
        for paid_on, code in ((dt.date(1990, 1, 1), "finance.repayment.before_grant"),
                              (dt.date(2099, 1, 1), "finance.repayment.in_future")):
            with pytest.raises(InvalidInput) as exc:
                loans.repay(s, bank=bank, loan_id=today_loan.id, source="api", actor="o",
                            data=RepaymentIn(ref=f"R-{paid_on.year}", paid_on=paid_on, amount=Decimal("1")))
            assert exc.value.code == code
        assert (today_loan.status, today_loan.overdue_days, today_loan.defaulted_on) == ("open", 0, None)
        assert s.scalar(select(func.count()).select_from(Repayment)) == 0
        # On the grant day itself a report of 0 days and a repayment stand.
        assert loans.report_status(s, bank=bank, loan_id=today_loan.id, data=StatusIn(on=TODAY, overdue_days=0),
                                   actor="o").status == "open"
        assert loans.repay(s, bank=bank, loan_id=today_loan.id, source="api", actor="o",
                           data=RepaymentIn(ref="R-ok", paid_on=TODAY, amount=Decimal("1")))[1]
        # A loan granted half a year ago: 184 days overdue today start on its grant day; 185 do not.
        old = a_loan(s, keyring, bank, other, p)
        most = (TODAY - GRANTED_ON).days
        with pytest.raises(InvalidInput, match=f"at most {most}"):
            loans.report_status(s, bank=bank, loan_id=old.id, data=StatusIn(on=TODAY, overdue_days=most + 1),
                                actor="o")
        loans.report_status(s, bank=bank, loan_id=old.id, data=StatusIn(on=TODAY, overdue_days=most), actor="o")
        assert (old.status, old.overdue_since, old.defaulted_on) == ("default", GRANTED_ON, TODAY)


def test_a_default_recorded_before_the_checks_is_not_claimed(county: str, keyring: KeyRing) -> None:
    """A store may hold a default reported before the dates were checked (the reviewer's
    loan in default on its grant day): the fund does not pay on it."""
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        loan = a_loan(s, keyring, bank, firm, a_product(s, bank), granted_on=None)
        loan.status, loan.overdue_days, loan.defaulted_on = "default", 120, TODAY  # written as the old rules let it
        loan.overdue_since = TODAY - dt.timedelta(days=120)
        fund.deposit(s, amount=Decimal("1000000"), ref="F-1", note="注资", actor="office")
        with pytest.raises(Conflict) as exc:
            fund.claim(s, bank=bank, loan_id=loan.id, actor="bank")
        assert exc.value.code == "finance.claim.default_dates"
        assert s.scalar(select(func.count()).select_from(FundClaim)) == 0


def test_a_default_dated_before_its_grant_is_dated_again_by_the_next_possible_report(county: str,
                                                                                     keyring: KeyRing) -> None:
    """The refusal above advises the bank to report again: a default stays a default, but
    one dated before its own grant takes the date of the bank's next report that is
    itself possible, and the claim can then be made."""
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        loan = a_loan(s, keyring, bank, firm, a_product(s, bank))
        early = GRANTED_ON - dt.timedelta(days=30)
        loan.status, loan.overdue_days, loan.defaulted_on, loan.overdue_since = "default", 120, early, early
        fund.deposit(s, amount=Decimal("1000000"), ref="F-2", note="注资", actor="office")
        with pytest.raises(Conflict) as exc:
            fund.claim(s, bank=bank, loan_id=loan.id, actor="bank")
        assert exc.value.code == "finance.claim.default_dates"
        loans.report_status(s, bank=bank, loan_id=loan.id, actor="bank", data=StatusIn(on=TODAY, overdue_days=95))
        assert (loan.status, loan.defaulted_on, loan.overdue_since) == ("default", TODAY,
                                                                        TODAY - dt.timedelta(days=95))
        loans.report_status(s, bank=bank, loan_id=loan.id, actor="bank", data=StatusIn(on=TODAY, overdue_days=96))
        assert loan.defaulted_on == TODAY  # a possible default keeps its date
        assert fund.claim(s, bank=bank, loan_id=loan.id, actor="bank").status == "submitted"


def test_a_deposit_is_in_yuan_and_fen(county: str) -> None:
    """An amount finer than a fen would be stored rounded, and its exact retry then read
    as another amount: it is refused before anything is kept."""
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput) as exc:
            fund.deposit(s, amount=Decimal("100.005"), ref="F-3", note="x", actor="office")
        assert exc.value.code == "finance.deposit.fen"
        first, made = fund.deposit(s, amount=Decimal("100.50"), ref="F-3", note="x", actor="office")
        again, made2 = fund.deposit(s, amount=Decimal("100.5"), ref="F-3", note="x", actor="office")
        assert (made, made2, again.id) == (True, False, first.id)


@pytest.fixture
def bank_side(county: str, tmp_path: Path):
    """A loan of bank A granted today, a submitted application to a 6–24-month product,
    an officer of bank A signed in on the page, and API tokens for the officer."""
    key = tmp_path / "f.key"
    ring = create_key_file(key)
    with db.session_scope(county) as s:
        bank = a_bank(s)
        firm, firm2 = graded(s, [("enterprise", "A"), ("merchant", "A")])
        p = a_product(s, bank)
        loan = a_loan(s, ring, bank, firm, p, granted_on=None)
        n = a_need(s, ring, firm2)
        service.grant_consent(s, need_id=n.id, subject_id=firm2.id, bank_code="bank-a", actor="firm")
        app = loans.apply(s, need_id=n.id, product_id=p.id, subject_id=firm2.id, actor="firm")
        u = users.create_user(s, username="officer-a", password=PASSWORD, role="bank_officer",
                              organisation="bank-a", actor="test")
        token = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
        ids = {"loan": loan.id, "app": app.id, "need": n.id}
    client = TestClient(create_app(county, key), base_url="https://testserver", follow_redirects=False)
    return county, signed_in(client, "officer-a"), token, ids


def test_the_api_refuses_a_status_report_before_the_loan_with_a_code(bank_side) -> None:
    url, c, token, ids = bank_side
    lid = ids["loan"]
    for lang, words in (("zh", "截至 2026-11-01 逾期 120 天，逾期开始日将早于贷款"),
                        ("en", "120 days overdue on 2026-11-01 would begin before loan")):
        r = c.post(f"/api/v1/finance/loans/{lid}/status", json={"on": "2026-11-01", "overdue_days": 120},
                   headers={"Authorization": f"Bearer {token}", "Accept-Language": lang})
        assert r.status_code == 422 and r.json()["code"] == "finance.status.overdue_before_grant", r.text
        assert words in r.json()["message"]
    for body, code in (({"on": "1990-01-01", "overdue_days": 0}, "finance.status.before_grant"),
                       ({"on": "2099-01-01", "overdue_days": 0}, "finance.status.in_future")):
        r = c.post(f"/api/v1/finance/loans/{lid}/status", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422 and r.json()["code"] == code
    r = c.post(f"/api/v1/finance/loans/{lid}/repayments", json={"ref": "R", "paid_on": "1990-01-01", "amount": "1"},
               headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.json()["code"] == "finance.repayment.before_grant"
    # No default, so nothing to claim.
    claim = c.post(f"/api/v1/finance/loans/{lid}/claim", headers={"Authorization": f"Bearer {token}"})
    assert claim.status_code == 409
    with db.session_scope(url) as s:
        loan = s.get(Loan, lid)
        assert loan is not None and (loan.status, loan.overdue_days) == ("open", 0)


def test_the_bank_page_refuses_the_report_and_keeps_what_was_typed(bank_side) -> None:
    url, c, _token, ids = bank_side
    lid = ids["loan"]
    token = csrf(c.get("/finance/bank").text)
    for lang, words in (("zh", f"截至 2026-11-01 逾期 120 天，逾期开始日将早于贷款 #{lid} 的放款日期 2026-11-01"),
                        ("en", f"120 days overdue on 2026-11-01 would begin before loan #{lid} was granted on "
                               "2026-11-01")):
        c.cookies.set("cg_lang", lang)
        r = c.post(f"/finance/bank/loans/{lid}/status",
                   data={"on": "2026-11-01", "overdue_days": "120", "outstanding": "250000", "csrf_token": token})
        assert r.status_code == 422 and words in r.text
        assert re.search(rf'value="120" data-testid="status-days-{lid}"', r.text)
        assert re.search(rf'value="250000" data-testid="status-outstanding-{lid}"', r.text)
        assert re.search(rf'value="2026-11-01" min="2026-11-01" max="2026-11-01" data-testid="status-on-{lid}"',
                         r.text)
    r = c.post(f"/finance/bank/loans/{lid}/repayments",
               data={"ref": "WEB-1", "paid_on": "2099-01-01", "amount": "1000", "csrf_token": token})
    assert r.status_code == 422 and "The payment date 2099-01-01 is after today (2026-11-01)." in r.text
    assert f'value="WEB-1" data-testid="repay-ref-{lid}"' in r.text
    assert f'value="2099-01-01" min="2026-11-01" max="2026-11-01" data-testid="repay-date-{lid}"' in r.text
    with db.session_scope(url) as s:
        loan = s.get(Loan, lid)
        assert loan is not None and (loan.status, loan.outstanding) == ("open", Decimal("300000"))
        assert s.scalar(select(func.count()).select_from(Repayment)) == 0


def test_an_approval_outside_the_products_term_is_refused(bank_side) -> None:
    url, c, token, ids = bank_side
    body = {"approve": True, "amount": "200000", "rate": "4.0", "term_months": 360}
    r = c.post(f"/api/v1/finance/applications/{ids['app']}/decision", json=body,
               headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert r.status_code == 422 and r.json()["code"] == "finance.term.out_of_range"
    assert "The term of 360 months is outside the product's range of 6–24 months." in r.json()["message"]
    with db.session_scope(url) as s:
        bank = s.execute(select(Bank).where(Bank.code == "bank-a")).scalar_one()
        with pytest.raises(InvalidInput) as exc:
            loans.decide(s, bank=bank, application_id=ids["app"], actor="o", data=DecisionIn(
                approve=True, amount=Decimal("200000"), rate=Decimal("4"), term_months=3))
        assert exc.value.code == "finance.term.out_of_range" and exc.value.params == {"value": 3, "low": 6,
                                                                                      "high": 24}
    token_page = csrf(c.get("/finance/bank").text)
    r = c.post(f"/finance/bank/applications/{ids['app']}/decision",
               data={"decision": "approve", "amount": "200000", "rate": "4.0", "term_months": "360",
                     "csrf_token": token_page})
    assert r.status_code == 422 and "期限 360 个月不在产品的期限范围 6–24 个月内。" in r.text
    assert f'value="360" data-testid="approve-term-{ids["app"]}"' in r.text  # what was typed stays
    with db.session_scope(url) as s:
        a = s.get(LoanApplication, ids["app"])
        assert a is not None and a.status == "submitted"
        assert s.scalar(select(func.count()).select_from(Loan)) == 1  # only the fixture's
        assert s.get(FinancingNeed, ids["need"]).status == "open"  # type: ignore[union-attr]


def test_the_demo_grants_its_loans_months_before_the_default(county: str, keyring: KeyRing) -> None:
    with db.session_scope(county) as s:
        graded(s, [("enterprise", "A")] * 3 + [("enterprise", "B")] * 3 + [("merchant", "A")])
        out = demo.seed(s, keyring, actor="demo")
        assert out["loans"] >= 2 and out["defaults"] == 1 and out["claims_paid"] == 1, out
        book = list(s.execute(select(Loan).order_by(Loan.id)).scalars())
        lent = dt.date(2026, 3, 1)
        assert {x.granted_on for x in book} == {lent}
        (bad,) = [x for x in book if x.status == "default"]
        assert bad.defaulted_on == TODAY - dt.timedelta(days=1) and bad.overdue_days == demo.OVERDUE_DAYS
        assert bad.overdue_since is not None and lent < bad.overdue_since < bad.defaulted_on
        for x in book:
            app = s.get(LoanApplication, x.application_id)
            need = s.get(FinancingNeed, app.need_id) if app else None
            assert app is not None and need is not None
            assert {clock.to_cst(t).date() for t in (need.created_at, app.created_at, x.created_at)} == {lent}
        claim = s.execute(select(FundClaim)).scalar_one()
        assert (claim.status, claim.filed_on) == ("paid", TODAY)
        led = fund.ledger(s)
        assert led["balance"] == led["ledger_sum"] and led["entries"][0]["ref"] == demo.FUND_REF
        # The loans' consents ran out; one open need is consented today to the first bank.
        first = s.execute(select(Bank).where(Bank.code == demo.BANKS[0][0])).scalar_one()
        live = [n for n in s.execute(select(FinancingNeed)).scalars()
                if loans.consented(s, need_id=n.id, bank_id=first.id)]
        assert [n.status for n in live] == ["open"]
        assert not any(loans.consented(s, need_id=s.get(LoanApplication, x.application_id).need_id,  # type: ignore[union-attr]
                                       bank_id=x.bank_id) for x in book)
        assert "skipped" in demo.seed(s, keyring, actor="demo")
