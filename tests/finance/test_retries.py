"""Retried requests of 信易贷 answer the first instead of making a second, on a real store
(SQLite and PostgreSQL), through the services, the API, the pages and the command: a
fund deposit by its reference (another amount under it is a Conflict with a code), a
consent while one for the same bank and need is in force, an identical open need. And
the subject's own view names a consent's bank and purpose in the page's language."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.core import clock, db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.finance import access, fund, loans, service
from creditgov.finance.models import FinancingNeed, FundEntry, LoanProduct, NeedConsent, NeedMatch
from creditgov.finance.schemas import NeedIn
from creditgov.security import users
from creditgov.security.accounts import AccessConsent
from creditgov.security.crypto import KeyRing
from tests.concurrency import at_once
from tests.finance.helpers import (
    PASSWORD,
    a_bank,
    a_need,
    a_product,
    csrf,
    firm_and_two_banks,
    graded,
    signed_in,
)

HOSTILE = '"><script>alert(1)</script> O\'Brien “引号” \u202e右到左😀'


def _h(token: str, lang: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **({"Accept-Language": lang} if lang else {})}


@pytest.fixture
def api(county: str, tmp_path: Path):
    """A firm graded A, two banks with a product each, a subject user, a bank officer and
    the credit office (tokens and passwords), and the application."""
    client, tokens, firm_id = firm_and_two_banks(county, tmp_path, password=PASSWORD, follow_redirects=False)
    return county, client, tokens, firm_id


# ----------------------------------------------------------------------------- 1. deposits


def test_a_deposit_retried_with_its_reference_counts_once(store: str) -> None:
    with db.session_scope(store) as s:
        first, made = fund.deposit(s, amount=Decimal("100000.00"), ref=HOSTILE, note=HOSTILE, actor="office")
        again, made2 = fund.deposit(s, amount=Decimal("100000"), ref=f"  {HOSTILE} ", note="重试", actor="office")
        assert (made, made2) == (True, False) and again.id == first.id
        with pytest.raises(Conflict) as refused:
            fund.deposit(s, amount=Decimal("100001"), ref=HOSTILE, note="另一笔", actor="office")
        assert refused.value.code == "finance.deposit.other_amount"
        assert refused.value.params == {"ref": HOSTILE, "amount": "100,000.00"}  # said with separators
        with pytest.raises(InvalidInput) as blank:
            fund.deposit(s, amount=Decimal("1"), ref="  ", note="x", actor="office")
        assert blank.value.code == "finance.deposit.no_ref"
        fund.deposit(s, amount=Decimal("50000"), ref="县财〔2026〕89号", note="第二笔", actor="office")
        led = fund.ledger(s)
        assert led["balance"] == led["ledger_sum"] == "150000.00"
        assert [(e["ref"], e["amount"]) for e in led["entries"]] == [(HOSTILE, "100000.00"),
                                                                      ("县财〔2026〕89号", "50000.00")]


def test_concurrent_deposits_of_one_reference_add_once(store: str) -> None:
    def one(i: int) -> str:
        with db.session_scope(store) as s:
            return "added" if fund.deposit(s, amount=Decimal("1000"), ref="县财〔2026〕88号", note=f"#{i}",
                                           actor="office")[1] else "answered"

    # A Conflict is not expected (the same amount answers the first): counted, and shown.
    out = [f"refused: {o}" if isinstance(o, Conflict) else o for o in at_once(one, 6, returning=(Conflict,))]
    assert out.count("added") == 1 and out.count("answered") == 5, out
    with db.session_scope(store) as s:
        assert s.scalar(select(func.count()).select_from(FundEntry)) == 1
        assert fund.balance(s) == Decimal("1000")


def test_a_deposit_through_the_api_and_the_command_is_idempotent(api, cli, monkeypatch, tmp_path: Path) -> None:
    url, c, tok, _ = api
    body = {"amount": "100000.00", "note": "县财〔2026〕88号 注资", "ref": "县财〔2026〕88号"}
    first = c.post("/api/v1/finance/fund/deposits", json=body, headers=_h(tok["office"]))
    again = c.post("/api/v1/finance/fund/deposits", json=body, headers=_h(tok["office"]))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert first.json()["deposit"] == again.json()["deposit"] and again.json()["created"] is False
    assert again.json()["balance"] == "100000.00"
    other = c.post("/api/v1/finance/fund/deposits", json={**body, "amount": "200000"},
                   headers=_h(tok["office"], "zh"))
    assert other.status_code == 409 and other.json()["code"] == "finance.deposit.other_amount"
    assert "已按 100,000.00 元登记" in other.json()["message"]
    en = c.post("/api/v1/finance/fund/deposits", json={**body, "amount": "200000"}, headers=_h(tok["office"], "en"))
    assert "already recorded at 100,000.00 yuan" in en.json()["message"]
    no_ref = {k: v for k, v in body.items() if k != "ref"}
    assert c.post("/api/v1/finance/fund/deposits", json=no_ref, headers=_h(tok["office"])).status_code == 422
    # The command: the same reference again adds nothing.
    monkeypatch.setenv("CREDITGOV_DB", url)
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(tmp_path / "f.key"))
    args = ("finance", "fund-deposit", "5000", "--ref", "CLI-1", "--note", "命令行注资", "--json")
    one, two = cli(*args), cli(*args)
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert (json.loads(one.output)["created"], json.loads(two.output)["created"]) == (True, False)
    led = c.get("/api/v1/finance/fund", headers=_h(tok["office"])).json()
    assert led["balance"] == led["ledger_sum"] == "105000.00" and len(led["entries"]) == 2


# ----------------------------------------------------------------------------- 3. consents


def test_a_second_consent_grant_answers_the_one_in_force(county: str, keyring: KeyRing) -> None:
    with db.session_scope(county) as s:
        bank = a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        a_product(s, bank)
        n = a_need(s, keyring, firm)
        first, made = service.grant_consent_once(s, need_id=n.id, subject_id=firm.id, bank_code="bank-a",
                                                 actor="firm")
        again, made2 = service.grant_consent_once(s, need_id=n.id, subject_id=firm.id, bank_code="bank-a",
                                                  days=30, actor="firm")
        assert (made, made2) == (True, False) and again.id == first.id
        assert s.scalar(select(func.count()).select_from(AccessConsent)
                        .where(AccessConsent.organisation == "bank-a")) == 1
        # Revoking the one consent ends the bank's reading: no second one keeps it open.
        service.revoke_consent(s, consent_id=first.consent_id, subject_id=firm.id, actor="firm")
        assert not loans.consented(s, need_id=n.id, bank_id=bank.id)
        # After the revocation a new grant is a new consent.
        third, made3 = service.grant_consent_once(s, need_id=n.id, subject_id=firm.id, bank_code="bank-a",
                                                  actor="firm")
        assert made3 and third.consent_id != first.consent_id
        assert loans.consented(s, need_id=n.id, bank_id=bank.id)


def test_a_retried_consent_through_the_api_is_200_with_the_same_consent(api) -> None:
    _url, c, tok, _firm = api
    need = {"amount": "500000", "term_months": 12, "purpose": "采购", "contact_name": "王会计",
            "contact_phone": "13812345678"}
    nid = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"])).json()["id"]
    first = c.post(f"/api/v1/finance/needs/{nid}/consents", json={"bank": "bank-a"}, headers=_h(tok["firm"]))
    again = c.post(f"/api/v1/finance/needs/{nid}/consents", json={"bank": "bank-a"}, headers=_h(tok["firm"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["consent_id"] == again.json()["consent_id"] and again.json()["created"] is False
    assert c.get(f"/api/v1/finance/needs/{nid}/file", headers=_h(tok["bank_a"])).status_code == 200
    assert c.delete(f"/api/v1/finance/consents/{first.json()['consent_id']}",
                    headers=_h(tok["firm"])).status_code == 204
    assert c.get(f"/api/v1/finance/needs/{nid}/file", headers=_h(tok["bank_a"])).status_code == 404
    mine = c.get("/api/v1/finance/needs", headers=_h(tok["firm"])).json()
    assert len(mine[0]["consents"]) == 1


# ----------------------------------------------------------------------------- 4. needs


def test_an_identical_open_need_is_answered_a_different_one_is_posted(county: str, keyring: KeyRing) -> None:
    with db.session_scope(county) as s:
        (firm,) = graded(s, [("enterprise", "A")])
        base = {"amount": "500000", "term_months": 12, "purpose": HOSTILE, "contact_name": "王会计",
                "contact_phone": "13812345678"}
        data = NeedIn.model_validate(base)
        first, made = service.post_need_once(s, keyring, subject_id=firm.id, data=data, actor="firm")
        again, made2 = service.post_need_once(s, keyring, subject_id=firm.id, data=data, actor="firm")
        assert (made, made2) == (True, False) and again.id == first.id
        # Any term different: a deliberate second need.
        for change in ({"amount": "600000"}, {"term_months": 24}, {"purpose": "另一用途"}, {"collateral": True},
                       {"contact_phone": "13900000000"}):
            other, made3 = service.post_need_once(s, keyring, subject_id=firm.id, actor="firm",
                                                  data=NeedIn.model_validate({**base, **change}))
            assert made3 and other.id != first.id, change
        # Withdrawn, the same need posted again is a new one.
        service.withdraw_need(s, need_id=first.id, subject_id=firm.id, actor="firm")
        fresh, made4 = service.post_need_once(s, keyring, subject_id=firm.id, data=data, actor="firm")
        assert made4 and fresh.id != first.id
        assert s.scalar(select(func.count()).select_from(FinancingNeed)) == 7


def test_concurrent_retries_of_a_need_and_of_a_consent_make_one_each(county: str, keyring: KeyRing) -> None:
    with db.session_scope(county) as s:
        a_bank(s)
        (firm,) = graded(s, [("enterprise", "A")])
        firm_id = firm.id
    data = NeedIn.model_validate({"amount": "500000", "term_months": 12, "purpose": "采购原材料",
                                  "contact_name": "王会计", "contact_phone": "13812345678"})

    def race(call) -> list[int]:
        def one(_i: int) -> int:
            with db.session_scope(county) as s:
                return call(s)

        return at_once(one, 5)

    needs = race(lambda s: service.post_need(s, keyring, subject_id=firm_id, data=data, actor="firm").id)
    assert len(set(needs)) == 1, needs
    consents = race(lambda s: service.grant_consent(s, need_id=needs[0], subject_id=firm_id, bank_code="bank-a",
                                                    actor="firm").consent_id)
    assert len(set(consents)) == 1, consents
    with db.session_scope(county) as s:
        assert s.scalar(select(func.count()).select_from(FinancingNeed)) == 1
        assert s.scalar(select(func.count()).select_from(NeedConsent)) == 1


def test_a_retried_need_through_the_api_and_the_page_is_the_first(api) -> None:
    url, c, tok, firm_id = api
    need = {"amount": "500000", "term_months": 12, "purpose": HOSTILE, "contact_name": "王会计",
            "contact_phone": "13812345678"}
    first = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"]))
    again = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["created"] is False
    assert again.json()["purpose"] == HOSTILE and len(again.json()["matches"]) == 2
    seen = c.get("/api/v1/finance/matches", headers=_h(tok["bank_a"])).json()
    assert [m["need"]["id"] for m in seen] == [first.json()["id"]]  # shown to the bank once
    # The firm's page: the same form twice is one need.
    page = signed_in(TestClient(c.app, base_url="https://testserver", follow_redirects=False), "firm",
                      "/me/finance")
    token = csrf(page.get("/me/finance").text)
    form = {"amount": "300000", "term_months": "6", "purpose": "备货", "contact_name": "王会计",
            "contact_phone": "13812345678", "csrf_token": token}
    r1, r2 = page.post("/me/finance/needs", data=form), page.post("/me/finance/needs", data=form)
    assert r1.headers["location"].startswith("/me/finance?done=posted#need-")
    assert r2.headers["location"] == r1.headers["location"].replace("posted", "same")
    assert "相同的融资需求已在发布中，未重复发布。" in page.get("/me/finance?done=same").text
    with db.session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(FinancingNeed)
                        .where(FinancingNeed.subject_id == firm_id)) == 2


# ----------------------------------------------------------------------------- 6. the own view


def test_the_own_view_names_the_bank_and_the_purpose_in_the_pages_language(api) -> None:
    url, c, tok, firm_id = api
    need = {"amount": "500000", "term_months": 12, "purpose": "采购", "contact_name": "王会计",
            "contact_phone": "13812345678"}
    nid = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"])).json()["id"]
    with db.session_scope(url) as s:
        a_bank(s, "bank-x", HOSTILE)
        new = service.grant_consent(s, need_id=nid, subject_id=firm_id, bank_code="bank-a", actor="firm")
        marked = service.grant_consent(s, need_id=nid, subject_id=firm_id, bank_code="bank-x", actor="firm")
        # A consent written before the purpose had its code (one text in both languages).
        old = users.grant_consent(s, subject_id=firm_id, organisation="bank-b",
                                  purpose=f"信易贷 need {nid} / credit-based lending, need {nid}", actor="firm")
        s.add(NeedConsent(need_id=nid, bank_id=service.bank_by_code(s, "bank-b").id, consent_id=old.id,
                          created_at=clock.now()))
        old.granted_on, old.expires_on = dt.date(2026, 3, 1), dt.date(2026, 5, 30)  # ran out before today
        ids = {"new": new.consent_id, "marked": marked.consent_id, "old": old.id}
        stored = s.get(AccessConsent, new.consent_id)
        assert stored is not None and stored.purpose == f"信易贷 need / credit-based lending need@{nid}"
    page = signed_in(TestClient(c.app, base_url="https://testserver", follow_redirects=False), "firm", "/me/credit")

    def rows(lang: str) -> dict[str, str]:
        page.cookies.set("cg_lang", lang)
        text = page.get("/me/credit").text
        out = {}
        for k, cid in ids.items():
            row = text[text.index(f'data-testid="own-consent-{cid}"'):]
            out[k] = row[:row.index("</tr>")]
        return out

    zh, en = rows("zh"), rows("en")
    assert "甲银行" in zh["new"] and "bank-a" not in zh["new"]
    assert f"信易贷融资需求 #{nid}" in zh["new"] and "credit-based" not in zh["new"]
    assert f"Credit-based lending, need #{nid}" in en["new"] and "信易贷" not in en["new"]
    assert "乙银行" in zh["old"] and f"信易贷融资需求 #{nid}" in zh["old"] and "credit-based" not in zh["old"]
    assert f"Credit-based lending, need #{nid}" in en["old"] and "信易贷" not in en["old"]
    assert "<script>alert(1)</script>" not in zh["marked"] and "&lt;script&gt;" in zh["marked"]
    # A consent whose last day has passed is said to have run out, with nothing to revoke.
    assert "已到期" in zh["old"] and "有效" not in zh["old"] and "consent-revoke" not in zh["old"]
    assert "Expired" in en["old"] and "In force" not in en["old"]
    assert "有效" in zh["new"] and "In force" in en["new"] and "consent-revoke" in zh["new"]


def test_amounts_read_with_separators_and_an_ungraded_subject_is_said_once(api) -> None:
    url, c, tok, firm_id = api
    need = {"amount": "500000", "term_months": 12, "purpose": "备货", "contact_name": "王会计",
            "contact_phone": "13812345678"}
    nid = c.post("/api/v1/finance/needs", json=need, headers=_h(tok["firm"])).json()["id"]
    page = signed_in(TestClient(c.app, base_url="https://testserver", follow_redirects=False), "firm", "/me/finance")
    text = page.get("/me/finance").text
    assert f"#{nid} · 500,000.00 元" in text and "500000.00" not in text
    assert "金额 100,000–1,000,000 元" in text
    with db.session_scope(url) as s:  # a subject the bands know nothing of: "未评价" once, not twice
        match = s.execute(select(NeedMatch).where(NeedMatch.need_id == nid)).scalars().first()
        assert match is not None
        match.band_ok, match.band_got, match.band_model = False, None, None
        product = s.get(LoanProduct, match.product_id)
        assert product is not None
        (band, *_rest) = access.reasons(match, product)
        assert (band["got_zh"], band["gap_zh"], band["got_en"], band["gap_en"]) == ("未评价", "", "not graded", "")
        assert band["gap_text"] == "not graded / 未评价"  # the API's text keeps saying why it does not hold
        s.rollback()


def test_the_own_score_line_reads_in_the_pages_language(api) -> None:
    url, c, tok, firm_id = api
    page = signed_in(TestClient(c.app, base_url="https://testserver", follow_redirects=False), "firm", "/me/credit")
    for lang, sep, words in (("zh", "，", "等级"), ("en", ", ", "Grade")):
        page.cookies.set("cg_lang", lang)
        text = page.get("/me/credit").text
        line = text[text.index('data-testid="own-score"'):]
        line = line[:line.index("</p>")]
        assert f"{sep}{words}" in line, line
        assert lang == "zh" or "，" not in line
