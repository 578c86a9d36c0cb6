"""A borrower follows its application on 我的融资 from filing to the bank's decision, on a
real store (SQLite and PostgreSQL) through the real pages: a product row offers the
consent before the application and the application's state after it; the refusals say
what to do in the reader's language; the decision reaches the borrower's inbox once,
with the bank's note; every consent that lets a bank read the file is listed; and a
borrower with a loan in default is matched to nothing, cannot apply, and the bank
deciding an earlier application of it is warned."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.alerts import inbox as alert_inbox
from creditgov.core import db
from creditgov.core.errors import Conflict
from creditgov.finance import access, loans, service
from creditgov.finance.models import FinancingNeed, LoanApplication, LoanProduct, NeedMatch
from creditgov.finance.schemas import DecisionIn, RepaymentIn, StatusIn
from creditgov.security import users
from creditgov.security.accounts import AccessConsent
from creditgov.security.crypto import load_key_file
from creditgov.subjects.models import Subject
from tests.finance.helpers import PASSWORD, a_loan, a_need, csrf, firm_and_two_banks, signed_in
from tests.lists.helpers import add_record

NOTE = '请补充"><script>alert(1)</script>流水 O\'Brien 😀'


@pytest.fixture
def world(county: str, tmp_path: Path):
    """The firm (graded A) signed in on its page, bank A's officer on the bank's page,
    the store, the key ring, the firm's id and the two banks' products."""
    client, _tokens, firm_id = firm_and_two_banks(county, tmp_path, password=PASSWORD, follow_redirects=False)
    with db.session_scope(county) as s:
        products = {code: pid for code, pid in s.execute(select(LoanProduct.code, LoanProduct.id))}
    me = signed_in(TestClient(client.app, base_url="https://testserver", follow_redirects=False), "firm",
                   "/me/finance")
    bank = signed_in(TestClient(client.app, base_url="https://testserver", follow_redirects=False), "bank_a")
    return {"url": county, "ring": load_key_file(tmp_path / "f.key"), "me": me, "bank": bank, "firm": firm_id,
            "pa": products["p1"], "pb": products["pb"]}


def _row(text: str, testid: str) -> str:
    at = text.index(f'data-testid="{testid}"')
    return text[at:text.index("</tr>", at)]


def _table(text: str, testid: str) -> str:
    at = text.index(f'data-testid="{testid}"')
    return text[at:text.index("</table>", at)]


def _page(c: TestClient, lang: str, path: str = "/me/finance") -> str:
    c.cookies.set("cg_lang", lang)
    return c.get(path).text


def _post_need(me: TestClient, amount: str, term: str = "12") -> int:
    token = csrf(me.get("/me/finance").text)
    r = me.post("/me/finance/needs", data={"amount": amount, "term_months": term, "purpose": "采购原材料",
                                           "contact_name": "王会计", "contact_phone": "13812345678",
                                           "csrf_token": token})
    assert r.status_code == 303, r.text
    m = re.search(r"#need-(\d+)$", r.headers["location"])
    assert m is not None
    return int(m.group(1))


def test_a_borrower_follows_its_application_to_the_banks_decision(world) -> None:
    me, bank, pa, pb = world["me"], world["bank"], world["pa"], world["pb"]
    nid = _post_need(me, "500000")
    text = _page(me, "zh")
    row = _row(text, f"match-{nid}-{pa}")
    # Before the consent: the bank is to be authorised first, and no application is offered.
    assert f'data-testid="consent-{nid}-bank-a"' in row and "授权后即可申请" in row and "apply-" not in row
    token = csrf(text)

    # Applying anyway is refused in words that say what to do, in the reader's language.
    r = me.post(f"/me/finance/needs/{nid}/apply", data={"product_id": pa, "csrf_token": token})
    assert r.status_code == 409
    assert f"请先授权“甲银行”就融资需求 #{nid} 查询您的信用档案，再向其申请贷款。" in r.text
    assert "该操作与对象当前的状态冲突" not in r.text and "no consent, no application" not in r.text
    me.cookies.set("cg_lang", "en")
    r = me.post(f"/me/finance/needs/{nid}/apply", data={"product_id": pa, "csrf_token": token})
    assert r.status_code == 409
    assert f"Authorise 甲银行 to read your credit file for financing need #{nid} first; then you can apply." in r.text
    me.cookies.set("cg_lang", "zh")

    # Consent, then the row offers the application.
    r = me.post(f"/me/finance/needs/{nid}/consents", data={"bank": "bank-a", "csrf_token": token})
    assert r.status_code == 303
    row = _row(_page(me, "zh"), f"match-{nid}-{pa}")
    assert f'data-testid="apply-{nid}-{pa}"' in row and "已授权该银行查询" in row and "consent-" not in row
    r = me.post(f"/me/finance/needs/{nid}/apply", data={"product_id": pa, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/me/finance?done=applied#need-{nid}"
    with db.session_scope(world["url"]) as s:
        app_id = s.execute(select(LoanApplication.id).where(LoanApplication.need_id == nid)).scalar_one()

    # Awaiting the decision: the row says so instead of offering anything; the other
    # bank's product still asks for its consent first.
    text = _page(me, "zh")
    row = _row(text, f"match-{nid}-{pa}")
    assert "已申请，等待银行决定" in row and "apply-" not in row and "consent-" not in row
    assert f'data-testid="consent-{nid}-bank-b"' in _row(text, f"match-{nid}-{pb}")
    mine = _row(text, f"my-app-{app_id}")
    assert "小微信用贷" in mine and "甲银行" in mine and "500,000.00" in mine and "已申请，等待银行决定" in mine
    assert "北京时间" in mine and f"#{nid}" in mine
    assert "Applied: awaiting the bank's decision" in html.unescape(_row(_page(me, "en"), f"my-app-{app_id}"))
    # Applying again is refused with the product's name, not the developer's English.
    me.cookies.set("cg_lang", "zh")
    r = me.post(f"/me/finance/needs/{nid}/apply", data={"product_id": pa, "csrf_token": token})
    assert r.status_code == 409 and f"您已用融资需求 #{nid} 申请过“小微信用贷”，不能重复申请" in r.text

    # The bank approves with a note on its page.
    bank_token = csrf(bank.get("/finance/bank").text)
    form = {"decision": "approve", "amount": "450000", "rate": "3.8", "term_months": "12", "note": NOTE,
            "csrf_token": bank_token}
    assert bank.post(f"/finance/bank/applications/{app_id}/decision", data=form).status_code == 303
    # Deciding again is refused, and tells the borrower nothing more.
    assert bank.post(f"/finance/bank/applications/{app_id}/decision", data=form).status_code == 409
    with db.session_scope(world["url"]) as s:
        box = alert_inbox.inbox(s, f"subject:{world['firm']}")
        assert len(box) == 1, [m.body for m in box]
        m = box[0]
        assert (m.topic, m.ref_kind, m.ref_id) == ("finance.application.approved", "finance_application", app_id)
        assert f"您的贷款申请 #{app_id}（甲银行 · 小微信用贷，融资需求 #{nid}）已获批准" in m.body
        assert "金额 450,000.00 元，年利率 3.8%，期限 12 个月，到期日 2027-11-01。" in m.body
        assert m.body.endswith(f"银行意见：{NOTE}")
        assert m.body_en is not None and "was approved: 450,000.00 yuan at 3.8% a year for 12 months" in m.body_en
        assert m.body_en.endswith(f" The bank's note: {NOTE}")
        a = s.get(LoanApplication, app_id)
        assert a is not None
        bank_row = service.bank_by_code(s, "bank-a")
        product = s.get(LoanProduct, pa)
        assert product is not None
        assert loans.tell_decision(s, a, bank_row, product, None) is False  # told once only
        assert len(alert_inbox.inbox(s, f"subject:{world['firm']}")) == 1

    text = _page(me, "zh")
    mine = _row(text, f"my-app-{app_id}")
    assert "已获批准" in mine and "450,000.00" in mine and "申请金额 500,000.00" in mine and "年利率 3.8%" in mine
    assert NOTE in html.unescape(mine) and "<script>" not in mine
    assert mine.count("北京时间") == 2  # submitted and decided, China time
    assert "已获批准" in _row(text, f"match-{nid}-{pa}")
    # The message is on the borrower's own page, in its language.
    assert "已获批准" in _page(me, "zh", "/me/credit")
    assert f"Your loan application #{app_id} (甲银行, 小微信用贷, financing need #{nid}) was approved" in html.unescape(
        _page(me, "en", "/me/credit"))

    # The financed need takes no further application: said in words.
    me.cookies.set("cg_lang", "zh")
    r = me.post(f"/me/finance/needs/{nid}/apply", data={"product_id": pb, "csrf_token": token})
    assert r.status_code == 409 and f"融资需求 #{nid} 已是“已获贷”状态，不能再用它申请贷款。" in r.text
    assert f"need {nid} is financed" not in r.text


def test_a_declined_application_shows_the_reason_and_the_note(world) -> None:
    me, bank, pa = world["me"], world["bank"], world["pa"]
    nid = _post_need(me, "300000")
    token = csrf(me.get("/me/finance").text)
    assert me.post(f"/me/finance/needs/{nid}/consents", data={"bank": "bank-a", "csrf_token": token}).status_code == 303
    assert me.post(f"/me/finance/needs/{nid}/apply", data={"product_id": pa, "csrf_token": token}).status_code == 303
    with db.session_scope(world["url"]) as s:
        app_id = s.execute(select(LoanApplication.id).where(LoanApplication.need_id == nid)).scalar_one()
    r = bank.post(f"/finance/bank/applications/{app_id}/decision",
                  data={"decision": "decline", "decline_code": "high_leverage", "note": NOTE,
                        "csrf_token": csrf(bank.get("/finance/bank").text)})
    assert r.status_code == 303
    zh = _row(_page(me, "zh"), f"my-app-{app_id}")
    assert "未获批准" in zh and "原因: 负债过高" in zh and NOTE in html.unescape(zh) and "<script>" not in zh
    en = _row(_page(me, "en"), f"my-app-{app_id}")
    assert "Declined" in en and "Reason: Debt too high" in en and "负债过高" not in en
    with db.session_scope(world["url"]) as s:
        (m,) = alert_inbox.inbox(s, f"subject:{world['firm']}")
        assert m.topic == "finance.application.declined"
        assert f"融资需求 #{nid}）未获批准，原因：负债过高。银行意见：{NOTE}" in m.body
        assert m.body_en is not None and "was declined: Debt too high. The bank's note: " in m.body_en
        assert s.get(FinancingNeed, nid).status == "open"  # type: ignore[union-attr]


def test_every_consent_that_lets_a_bank_read_the_file_is_listed(world) -> None:
    me = world["me"]
    nid = _post_need(me, "200000")
    with db.session_scope(world["url"]) as s:
        # Given on the credit file's page, not for a need: the bank reads the file all the same.
        other = users.grant_consent(s, subject_id=world["firm"], organisation="bank-b", purpose="信易贷融资申请（演示）",
                                    actor="firm")
        elsewhere = users.grant_consent(s, subject_id=world["firm"], organisation="bureau:x", purpose="征信",
                                        actor="firm")  # not a bank: the credit page lists it, not this one
        other_id, elsewhere_id = other.id, elsewhere.id
    text = _page(me, "zh")
    assert "尚未为此需求授权任何银行；其他授权见下方“可以查阅我信用档案的银行”。" in _table(text, f"consents-{nid}")
    row = _row(text, f"bank-consent-{other_id}")
    assert "乙银行" in row and "信易贷融资申请（演示）" in row and f"bank-revoke-{other_id}" in row
    assert f"bank-consent-{elsewhere_id}" not in text and "尚未授权任何银行。" not in text
    assert 'href="/me/credit#consents"' in text
    # The readers' section is named as the credit page names it, and linked to it.
    assert "“谁查阅了我的档案”" in text and "查询记录" not in text
    assert 'href="/me/credit#readers"' in text
    en = _page(me, "en")
    assert "“Who read my file”" in en and 'href="/me/credit#readers"' in en
    credit = _page(me, "zh", "/me/credit")
    assert 'id="consents"' in credit and '<div class="card" id="readers"><h2>谁查阅了我的档案</h2>' in credit
    # Revoked here: the bank's reading ends.
    r = me.post(f"/me/finance/consents/{other_id}/revoke", data={"csrf_token": csrf(text)})
    assert r.status_code == 303
    with db.session_scope(world["url"]) as s:
        assert s.get(AccessConsent, other_id).revoked_on is not None  # type: ignore[union-attr]
        assert not service.consent_in_force(s, subject_id=world["firm"], bank_code="bank-b")
    assert "目前没有银行可以查阅您的信用档案。" in _page(me, "zh")


def test_a_borrower_in_default_is_matched_to_nothing_and_the_bank_is_warned(world) -> None:
    url, ring, pa = world["url"], world["ring"], world["pa"]
    with db.session_scope(url) as s:
        firm = s.get(Subject, world["firm"])
        bank = service.bank_by_code(s, "bank-a")
        product = s.get(LoanProduct, pa)
        assert firm is not None and product is not None
        loan = a_loan(s, ring, bank, firm, product, amount="809000")  # granted 2026-05-01
        # An application filed while the loan was still performing.
        earlier = a_need(s, ring, firm, amount="500000")
        service.grant_consent(s, need_id=earlier.id, subject_id=firm.id, bank_code="bank-a", actor="firm")
        app_id = loans.apply(s, need_id=earlier.id, product_id=pa, subject_id=firm.id, actor="firm").id
        rec = add_record(s, firm, "finance.overdue", occurred_on=dt.date(2026, 8, 1), department="finance")
        rec.value = Decimal("809000")
        loans.report_status(s, bank=bank, loan_id=loan.id, actor="officer",
                            data=StatusIn(on=dt.date(2026, 10, 31), overdue_days=95))
        # Matched again at once: the open need fails the policy's rule.
        m = s.execute(select(NeedMatch).where(NeedMatch.need_id == earlier.id, NeedMatch.product_id == pa)).scalar_one()
        assert not m.eligible and m.band_ok and m.amount_ok
        reasons = {r["criterion"]: r for r in access.matches_for_need(s, earlier.id)[0]["reasons"]}
        assert not reasons["default"]["holds"] and reasons["default"]["got_zh"] == "存在违约贷款"
        # A need posted now matches nothing, and the firm cannot apply with it.
        later = a_need(s, ring, firm, amount="300000")
        service.grant_consent(s, need_id=later.id, subject_id=firm.id, bank_code="bank-a", actor="firm")
        with pytest.raises(Conflict) as refused:
            loans.apply(s, need_id=later.id, product_id=pa, subject_id=firm.id, actor="firm")
        assert (refused.value.code, refused.value.params) == ("finance.apply.in_default", {"loan": loan.id})
        ids = {"loan": loan.id, "record": rec.id, "later": later.id, "earlier": earlier.id}

    row = _row(_page(world["me"], "zh"), f"match-{ids['later']}-{pa}")
    assert "✗ 无违约贷款 <span class=\"muted\">(存在违约贷款)</span>" in row and "不符合" in row and "apply-" not in row
    assert "✗ No loan in default <span class=\"muted\">(one is in default)</span>" in _row(
        _page(world["me"], "en"), f"match-{ids['later']}-{pa}")

    # The bank deciding the earlier application sees the default, in words and figures.
    text = _page(world["bank"], "zh", "/finance/bank")
    warning = text[text.index(f'data-testid="app-warning-{app_id}"'):]
    warning = warning[:warning.index("</div>")]
    loan_line = _li(warning, f"app-warning-loan-{ids['loan']}")
    assert "甲银行" in loan_line and "违约" in loan_line and "余额 809,000.00 元" in loan_line
    assert "逾期 95 天" in loan_line and "自 2026-07-28 起" in loan_line and "2026-10-31 认定违约" in loan_line
    assert "贷款逾期 · 2026-08-01 · 809,000.00 元" in _li(warning, f"app-warning-record-{ids['record']}")
    en = _page(world["bank"], "en", "/finance/bank")
    loan_line = _li(en, f"app-warning-loan-{ids['loan']}")
    assert "In default" in loan_line and "95 days overdue" in loan_line and "in default since 2026-10-31" in loan_line
    assert "Overdue loan" in _li(en, f"app-warning-record-{ids['record']}")

    # Repaid: the firm is matched again.
    with db.session_scope(url) as s:
        bank = service.bank_by_code(s, "bank-a")
        loans.repay(s, bank=bank, loan_id=ids["loan"], source="api", actor="officer",
                    data=RepaymentIn(ref="ALL", paid_on=dt.date(2026, 11, 1), amount=Decimal("809000")))
        m = s.execute(select(NeedMatch).where(NeedMatch.need_id == ids["later"], NeedMatch.product_id == pa)
                      ).scalar_one()
        assert m.eligible
        assert loans.apply(s, need_id=ids["later"], product_id=pa, subject_id=world["firm"], actor="firm").id


def _li(text: str, testid: str) -> str:
    at = text.index(f'data-testid="{testid}"')
    return text[at:text.index("</li>", at)]


def test_the_bank_decides_without_a_warning_about_a_clean_applicant(world) -> None:
    url, ring, pa = world["url"], world["ring"], world["pa"]
    with db.session_scope(url) as s:
        firm = s.get(Subject, world["firm"])
        assert firm is not None
        n = a_need(s, ring, firm)
        service.grant_consent(s, need_id=n.id, subject_id=firm.id, bank_code="bank-a", actor="firm")
        app_id = loans.apply(s, need_id=n.id, product_id=pa, subject_id=firm.id, actor="firm").id
        assert access.applicant_standing(s, firm.id) == {"loans": [], "records": [], "warn": False}
    text = _page(world["bank"], "zh", "/finance/bank")
    assert f'data-testid="approve-form-{app_id}"' in text and f"app-warning-{app_id}" not in text
    # Once the consent is revoked, the bank is told it cannot see the applicant's standing.
    with db.session_scope(url) as s:
        (c,) = service.need_consents(s, need_id=n.id)
        service.revoke_consent(s, consent_id=c["consent_id"], subject_id=None, actor="firm")
    assert f'data-testid="app-no-consent-{app_id}"' in _page(world["bank"], "zh", "/finance/bank")
    with db.session_scope(url) as s:
        _, loan = loans.decide(s, bank=service.bank_by_code(s, "bank-a"), application_id=app_id, actor="o",
                               data=DecisionIn(approve=True, amount=Decimal("100000"), rate=Decimal("4"),
                                               term_months=12))
        assert loan is not None
