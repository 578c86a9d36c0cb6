"""A record's value is said in words a person reads, with its catalogue item's unit, in
Chinese and English: an amount in yuan to the fen with thousands separators, a count,
a number of days and a score as the number they are (not the store's two decimals).
One formatter (`subjects.service.value_words`) behind the credit file's page and API,
the subject's own view and the credit report; the API keeps the stored value beside
it. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from tests.lists.helpers import add_record, make_subject

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.reports import service as report_service
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.subjects import service

ON = dt.date(2026, 10, 1)

# item, department, stored value, Chinese, English
FIRM_VALUES = [
    ("court.dishonest_debtor", "court", "168720.42", "168,720.42 元", "168,720.42 yuan"),
    ("utility.bill", "utility", "0.00", "0 天", "0 days"),
    ("social.insured_staff", "social", "96.00", "96 人", "96 people"),
    ("city_credit.score", "city_credit", "655.00", "655 分", "655 points"),
    ("tourism.homestay_check", "tourism", "87.50", "87.5 分", "87.5 points"),
]
OWN_VALUES = [
    ("civility.volunteer", "civility", "1.00", "1 小时", "1 hour"),
    ("utility.arrears", "utility", "1234567.80", "1,234,567.80 元", "1,234,567.80 yuan"),
    ("utility.bill", "utility", "3.00", "3 天", "3 days"),
]


def test_value_words_by_kind_and_unit() -> None:
    say = service.value_words
    assert say(Decimal("168720.42"), "amount", "元") == {"zh": "168,720.42 元", "en": "168,720.42 yuan"}
    assert say("5", "amount", "元") == {"zh": "5.00 元", "en": "5.00 yuan"}  # an amount keeps its fen
    assert say("-0.00", "amount", "元") == {"zh": "0.00 元", "en": "0.00 yuan"}
    assert say("0.00", "days", "天") == {"zh": "0 天", "en": "0 days"}
    assert say("1.00", "days", "天") == {"zh": "1 天", "en": "1 day"}
    assert say("96.00", "number", "人") == {"zh": "96 人", "en": "96 people"}
    assert say("1.00", "number", "人") == {"zh": "1 人", "en": "1 person"}
    assert say("2.50", "number", "小时") == {"zh": "2.5 小时", "en": "2.5 hours"}
    assert say("655.00", "score", "分") == {"zh": "655 分", "en": "655 points"}
    assert say("1350.00", "score", None) == {"zh": "1,350", "en": "1,350"}  # no unit: the number alone
    assert say("12.00", "number", "吨") == {"zh": "12 吨", "en": "12 吨"}  # a unit no label names: as written
    assert say(None, "amount", "元") is None and say("", "amount", "元") is None


@pytest.fixture
def site(store: str, tmp_path: Path):
    """A firm with a record of each value kind (one without a value) and a resident who
    reads its own view; the credit office's and the resident's tokens."""
    key = tmp_path / "values.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        firm = make_subject(s, kind="enterprise", name="数值测试有限公司")
        own = make_subject(s, kind="individual", name="王五")
        ids: dict[str, int] = {"firm": firm.id, "own": own.id}
        for subject, rows in ((firm, FIRM_VALUES), (own, OWN_VALUES)):
            for item, department, value, _zh, _en in rows:
                rec = add_record(s, subject, item, occurred_on=ON, department=department)
                rec.value, rec.document_no = Decimal(value), None  # the report prints the value then
                ids[f"{subject.id}:{item}"] = rec.id
        ids["bare"] = add_record(s, firm, "market.penalty", occurred_on=ON).id
        tokens = {}
        for name, role, scope in (("office", "credit_office", {}), ("resident", "subject", {"subject_id": own.id})):
            u = users.create_user(s, username=name, password=None, role=role, actor="test", **scope)
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
    return store, key, TestClient(create_app(store, key), base_url="https://testserver"), tokens, ids


def _get(c: TestClient, path: str, token: str, lang: str = "zh"):
    c.cookies.set("cg_lang", lang)
    r = c.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r


def _pills(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'data-testid="record-value">([^<]*)<', page)]


def test_the_credit_file_keeps_the_stored_value_and_says_it_in_both_languages(site) -> None:
    store, key, _c, _tok, ids = site
    from creditgov.security.crypto import load_key_file

    with db.session_scope(store) as s:
        records = {r["item"]: r for r in service.credit_file(s, load_key_file(key), str(ids["firm"])).records}
    for item, _dep, value, zh, en in FIRM_VALUES:
        assert records[item]["value"] == value
        assert records[item]["value_display"] == {"zh": zh, "en": en}
    assert records["market.penalty"]["value"] is None and records["market.penalty"]["value_display"] is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_file_page_and_the_own_view_say_values_with_units(site, lang: str) -> None:
    _store, _key, c, tok, ids = site
    shown = _pills(_get(c, f"/subjects/{ids['firm']}", tok["office"], lang).text)
    want = [zh if lang == "zh" else en for _i, _d, _v, zh, en in FIRM_VALUES]
    assert sorted(shown) == sorted(want)
    own = _pills(_get(c, "/me/credit", tok["resident"], lang).text)
    assert sorted(own) == sorted(zh if lang == "zh" else en for _i, _d, _v, zh, en in OWN_VALUES)
    for page in (shown, own):
        assert not any(re.search(r"\d\.00\b", v) and "元" not in v and "yuan" not in v for v in page), page
        if lang == "en":
            assert not any(re.search(r"[\u4e00-\u9fff]", v) for v in page), page


def test_the_api_keeps_the_value_and_adds_its_words(site) -> None:
    _store, _key, c, tok, ids = site
    body = _get(c, f"/api/v1/subjects/{ids['firm']}", tok["office"]).json()
    by_item = {r["item"]: r for r in body["records"]}
    for item, _dep, value, zh, en in FIRM_VALUES:
        assert by_item[item]["value"] == value
        assert by_item[item]["value_display"] == {"zh": zh, "en": en}
    assert by_item["market.penalty"]["value_display"] is None
    own = _get(c, "/api/v1/me/credit", tok["resident"]).json()
    said = {r["item"]: r["value_display"] for r in own["file"]["records"]}
    assert said["civility.volunteer"] == {"zh": "1 小时", "en": "1 hour"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_prints_the_value_in_its_language(site, lang: str) -> None:
    store, key, _c, _tok, ids = site
    from creditgov.security.crypto import load_key_file

    with db.session_scope(store) as s:
        pdf, _row = report_service.issue(s, load_key_file(key), subject_id=ids["firm"], actor="test", purpose="test",
                                         verify_base="https://example.test/verify", lang=lang)
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))
    # the public and shared records a report prints: the judgement debt, the city score, the homestay check
    for item in ("court.dishonest_debtor", "city_credit.score", "tourism.homestay_check"):
        zh, en = next((z, e) for i, _d, _v, z, e in FIRM_VALUES if i == item)
        assert (zh if lang == "zh" else en).replace(" ", "") in text, (item, text[:2000])
    assert "168720.42" not in text
