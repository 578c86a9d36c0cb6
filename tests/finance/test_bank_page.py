"""The bank officer's page `/finance/bank` against the real application over a real store
(SQLite and PostgreSQL): its forms go through the same services as the API, so an
officer of bank A can neither decide bank B's application nor record a repayment or a
status on bank B's loan (404, nothing written); the forms need the session's CSRF
token; errors are said in the reader's language; and the post-loan warnings section
shows this bank's warnings only, though the borrower also owes bank B."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.finance import loans, service
from creditgov.finance.models import FinancingNeed, Loan, LoanApplication, Repayment
from creditgov.finance.schemas import DecisionIn
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import Subject
from tests.finance.helpers import PASSWORD, a_bank, a_need, a_product, csrf, graded, signed_in
from tests.lists.helpers import add_record

HOSTILE = '"><script>alert(1)</script> O\'Brien “引号” \u202e右到左😀'


@pytest.fixture
def two_banks(county: str, tmp_path: Path):
    """A firm with two needs applied to bank A's product and two to bank B's; bank B has
    already approved one of its applications, so the firm owes bank B."""
    key = tmp_path / "f.key"
    ring = create_key_file(key)
    with db.session_scope(county) as s:
        bank_a, bank_b = a_bank(s), a_bank(s, "bank-b", "乙银行")
        (firm,) = graded(s, [("enterprise", "A")])
        pa, pb = a_product(s, bank_a), a_product(s, bank_b, "pb")
        apps = {}
        for name, bank, product in (("a", bank_a, pa), ("b", bank_b, pb)):
            n = a_need(s, ring, firm, amount=f"5{len(apps)}0000")  # four distinct needs (the same one twice is one)
            service.grant_consent(s, need_id=n.id, subject_id=firm.id, bank_code=bank.code, actor="firm")
            apps[name] = loans.apply(s, need_id=n.id, product_id=product.id, subject_id=firm.id, actor="firm").id
        for name, bank, product in (("a2", bank_a, pa), ("b2", bank_b, pb)):
            n = a_need(s, ring, firm, amount=f"5{len(apps)}0000")
            service.grant_consent(s, need_id=n.id, subject_id=firm.id, bank_code=bank.code, actor="firm")
            apps[name] = loans.apply(s, need_id=n.id, product_id=product.id, subject_id=firm.id, actor="firm").id
        _, loan_b = loans.decide(s, bank=bank_b, application_id=apps["b"], actor="officer-b", data=DecisionIn(
            approve=True, amount=Decimal("400000"), rate=Decimal("4"), term_months=12))
        assert loan_b is not None
        for name, org in (("officer-a", "bank-a"), ("officer-b", "bank-b")):
            users.create_user(s, username=name, password=PASSWORD, role="bank_officer", organisation=org,
                              actor="test")
        ids = {**apps, "loan_b": loan_b.id, "firm": firm.id}
    client = TestClient(create_app(county, key), base_url="https://testserver", follow_redirects=False)
    return county, signed_in(client, "officer-a"), ids


def test_bank_a_cannot_act_on_bank_b_from_the_page(two_banks) -> None:
    url, c, ids = two_banks
    page = c.get("/finance/bank")
    assert page.status_code == 200
    assert f'data-testid="approve-form-{ids["a"]}"' in page.text
    for foreign in ("b", "b2"):
        assert f'data-testid="app-{ids[foreign]}"' not in page.text
    assert f'data-testid="loan-{ids["loan_b"]}"' not in page.text
    token = csrf(page.text)

    # Bank B's open application, through bank A's form: not found, nothing decided.
    for form in ({"decision": "approve", "amount": "300000", "rate": "4", "term_months": "12"},
                 {"decision": "decline", "decline_code": "high_leverage"}):
        r = c.post(f"/finance/bank/applications/{ids['b2']}/decision", data={**form, "csrf_token": token})
        assert r.status_code == 404
        assert f"未找到申请 #{ids['b2']}。" in r.text  # said in the reader's language (Chinese by default)
    # Bank B's loan: no repayment, no status.
    r = c.post(f"/finance/bank/loans/{ids['loan_b']}/repayments",
               data={"ref": "X1", "paid_on": "2026-11-01", "amount": "1000", "csrf_token": token})
    assert r.status_code == 404 and f"未找到贷款 #{ids['loan_b']}。" in r.text
    r = c.post(f"/finance/bank/loans/{ids['loan_b']}/status",
               data={"on": "2026-11-01", "overdue_days": "120", "csrf_token": token})
    assert r.status_code == 404
    # In English the same refusal is in English.
    assert c.get("/lang/en?next=/finance/bank").status_code in (302, 303, 307)
    r = c.post(f"/finance/bank/applications/{ids['b2']}/decision",
               data={"decision": "decline", "decline_code": "high_leverage", "csrf_token": token})
    assert r.status_code == 404 and f"Application #{ids['b2']} was not found." in r.text
    with db.session_scope(url) as s:
        b2 = s.get(LoanApplication, ids["b2"])
        assert b2 is not None and (b2.status, b2.decided_at) == ("submitted", None)
        loan_b = s.get(Loan, ids["loan_b"])
        assert loan_b is not None and (loan_b.status, loan_b.outstanding) == ("open", Decimal("400000"))
        assert s.execute(select(func.count()).select_from(Repayment)).scalar() == 0

    # Its own application, without the CSRF token: refused; with it: decided by `loans.decide`.
    form = {"decision": "approve", "amount": "300000", "rate": "4.2", "term_months": "12"}
    assert c.post(f"/finance/bank/applications/{ids['a']}/decision", data=form).status_code == 403
    r = c.post(f"/finance/bank/applications/{ids['a']}/decision", data={**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/finance/bank?done=approved#app-{ids['a']}"
    with db.session_scope(url) as s:
        a = s.get(LoanApplication, ids["a"])
        assert a is not None and (a.status, a.decided_by) == ("approved", "user:officer-a")
        loan_a = s.execute(select(Loan).where(Loan.application_id == ids["a"])).scalar_one()
        assert (loan_a.principal, loan_a.rate, loan_a.term_months) == (Decimal("300000"), Decimal("4.2"), 12)
    # Deciding it again is a conflict, said in English to this reader.
    r = c.post(f"/finance/bank/applications/{ids['a']}/decision", data={**form, "csrf_token": token})
    assert r.status_code == 409 and "cannot be decided again" in r.text


def test_errors_in_the_readers_language_and_warnings_of_this_bank_only(two_banks) -> None:
    url, c, ids = two_banks
    token = csrf(c.get("/finance/bank").text)
    # Out of the product's range (100000–1000000): the service's rule, said in Chinese.
    r = c.post(f"/finance/bank/applications/{ids['a']}/decision",
               data={"decision": "approve", "amount": "2000000", "rate": "4", "term_months": "12",
                     "csrf_token": token})
    assert r.status_code == 422 and "批准金额 2,000,000.00 元不在产品的金额范围" in r.text
    r = c.post(f"/finance/bank/applications/{ids['a']}/decision", data={"decision": "decline", "csrf_token": token})
    assert r.status_code == 422 and "请选择拒绝原因。" in r.text
    r = c.post(f"/finance/bank/applications/{ids['a']}/decision",
               data={"decision": "decline", "decline_code": "no-such-reason", "csrf_token": token})
    assert r.status_code == 422 and "请从所列的拒绝原因中选择一项。" in r.text
    # Declined with a reason of the policy and a hostile note: the note comes back as text.
    r = c.post(f"/finance/bank/applications/{ids['a']}/decision",
               data={"decision": "decline", "decline_code": "high_leverage", "note": HOSTILE, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/finance/bank?done=declined#app-{ids['a']}"
    page = c.get("/finance/bank?done=declined")
    assert "已拒绝申请。" in page.text and "负债过高" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    with db.session_scope(url) as s:
        a = s.get(LoanApplication, ids["a"])
        assert a is not None and (a.status, a.decline_code, a.decision_note) == ("declined", "high_leverage", HOSTILE)

    # Approved on the page: the firm now owes both banks. A new court record warns each
    # bank of its own loan, and each page shows its own warning only.
    r = c.post(f"/finance/bank/applications/{ids['a2']}/decision",
               data={"decision": "approve", "amount": "200000", "rate": "3.9", "term_months": "6", "csrf_token": token})
    assert r.status_code == 303
    with db.session_scope(url) as s:
        loan_a = s.execute(select(Loan).where(Loan.application_id == ids["a2"])).scalar_one()
        firm = s.get(Subject, ids["firm"])
        assert firm is not None
        add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 11, 1), department="court")
        assert loans.monitor(s)["raised"] == 2
        loan_a_id = loan_a.id
    b = signed_in(TestClient(c.app, base_url="https://testserver", follow_redirects=False), "officer-b")
    seen = {}
    for officer, own, other in ((c, loan_a_id, ids["loan_b"]), (b, ids["loan_b"], loan_a_id)):
        page = officer.get("/finance/bank").text
        rows = re.findall(r'data-testid="warning-(\d+)"', page)
        assert len(rows) == 1
        row = page[page.index(f'data-testid="warning-{rows[0]}"'):]
        row = row[:row.index("</tr>")]
        assert "贷后预警" in row and "待签收" in row and "北京时间" in row
        assert f"#{own}<" in row and f"#{other}<" not in row
        assert "失信被执行人" in row  # the cause: the record's catalogue item by its label
        assert "finance.post_loan" not in page  # the rule is shown by its label, never its code
        seen[own] = rows[0]
    assert len(set(seen.values())) == 2


def test_refusals_are_said_from_their_code_in_both_languages(two_banks) -> None:
    """Decline, approve and repayment refusals, in Chinese then in English: the words come
    from the catalogue by the error's code, never from the service's English message."""
    url, c, ids = two_banks
    token = csrf(c.get("/finance/bank").text)
    app_id = ids["a"]

    def refusals() -> list[str]:
        out = []
        r = c.post(f"/finance/bank/applications/{app_id}/decision",
                   data={"decision": "decline", "decline_code": "no-such-reason", "csrf_token": token})
        assert r.status_code == 422
        out.append(r.text)
        r = c.post(f"/finance/bank/applications/{app_id}/decision",
                   data={"decision": "approve", "amount": "2000000", "rate": "4", "term_months": "12",
                         "csrf_token": token})
        assert r.status_code == 422
        out.append(r.text)
        r = c.post(f"/finance/bank/loans/{loan_id}/repayments",
                   data={"ref": "R1", "paid_on": "2026-11-01", "amount": "999999", "csrf_token": token})
        assert r.status_code == 422
        out.append(r.text)
        return out

    r = c.post(f"/finance/bank/applications/{ids['a2']}/decision",
               data={"decision": "approve", "amount": "200000", "rate": "3.9", "term_months": "6",
                     "csrf_token": token})
    assert r.status_code == 303
    with db.session_scope(url) as s:
        loan_id = s.execute(select(Loan.id).where(Loan.application_id == ids["a2"])).scalar_one()
    zh = refusals()
    assert "请从所列的拒绝原因中选择一项。" in zh[0]
    assert "批准金额 2,000,000.00 元不在产品的金额范围 100,000–1,000,000 元内。" in zh[1]
    assert "还款金额 999,999.00 元超过贷款余额 200,000.00 元。" in zh[2]
    assert c.get("/lang/en?next=/finance/bank").status_code in (302, 303, 307)
    en = refusals()
    english = ("Choose one of the listed reasons for declining.",
               "The approved amount of 2,000,000.00 yuan is outside the product's range of 100,000–1,000,000 yuan.",
               "The repayment of 999,999.00 yuan is more than the outstanding 200,000.00 yuan.")
    for page, words in zip(en, english, strict=True):
        assert words.replace("'", "&#39;") in page
        assert "unknown decline_code" not in page and "is outside the product's range 1" not in page
        assert "repayment 999999 is more" not in page  # the service's own English is not shown
    with db.session_scope(url) as s:
        assert s.execute(select(func.count()).select_from(Repayment)).scalar() == 0


def test_a_reworded_service_message_does_not_change_the_page() -> None:
    from creditgov.core.errors import Conflict, InvalidInput
    from creditgov.web.i18n import current
    from creditgov.web.i18n import refusal as says

    reworded = [Conflict("that one was settled already, sorry", code="finance.application.decided",
                         params={"id": 7, "status": "approved"}),
                InvalidInput("nope", code="finance.repayment.above_outstanding",
                             params={"value": Decimal("5"), "outstanding": Decimal("3.00")})]
    for lang, want in (("zh", ["申请 #7 已是“已通过”状态，不能再作决定。", "还款金额 5 元超过贷款余额 3.00 元。"]),
                       ("en", ["Application #7 is already “Approved”; it cannot be decided again.",
                               "The repayment of 5 yuan is more than the outstanding 3.00 yuan."])):
        token = current.set(lang)
        try:
            assert [says(e) for e in reworded] == want
        finally:
            current.reset(token)


def test_a_firms_need_form_is_refused_field_by_field_in_its_words(two_banks) -> None:
    """The schema checks the whole need (not the form parser, whose English the firm
    would read on an error page), and the page names each field by its label."""
    url, _c, ids = two_banks
    with db.session_scope(url) as s:
        users.create_user(s, username="t-need-firm", password=PASSWORD, role="subject", subject_id=ids["firm"],
                          actor="test")
    firm = TestClient(_c.app, base_url="https://testserver", follow_redirects=False)
    page = firm.get("/login")
    firm.post("/login", data={"username": "t-need-firm", "password": PASSWORD, "csrf_token": csrf(page.text),
                              "next": "/me/finance"})
    token = csrf(firm.get("/me/finance").text)
    bad = {"amount": "十万", "term_months": "400", "purpose": HOSTILE, "contact_name": "", "contact_phone": "1234",
           "csrf_token": token}
    with db.session_scope(url) as s:
        before = s.scalar(select(func.count()).select_from(FinancingNeed))
    for lang, said in (("zh", "“金额（元）”应填写数字。 “期限（月）”不能大于 360。 请填写“联系人”。 “联系电话”至少要有 5 个字符。"),
                       ("en", "“Amount (yuan)” must be a number. “Term (months)” cannot be more than 360. "
                              "Please fill in “Contact”. “Contact phone” needs at least 5 characters.")):
        firm.cookies.set("cg_lang", lang)
        r = firm.post("/me/finance/needs", data=bad)
        shown = re.search(r'data-testid="error"[^>]*>([^<]*)<', r.text)
        assert r.status_code == 422 and shown is not None, r.text[-1500:]
        assert shown.group(1) == said, shown.group(1)
        kept = re.search(r'name="purpose"[^>]*value="([^"]*)"', r.text)  # what was typed stays, escaped
        assert kept is not None and html.unescape(kept.group(1)) == HOSTILE.strip() and "<script>" not in r.text
    with db.session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(FinancingNeed)) == before  # nothing half-made
    ok = firm.post("/me/finance/needs", data={**bad, "amount": "100000", "term_months": "12", "contact_name": "王",
                                              "contact_phone": "13800000000"})
    assert ok.status_code == 303, ok.text[-1500:]
