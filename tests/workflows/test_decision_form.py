"""The objection decision form (`/objections/{id}`) as the supplying department uses it,
on a real store (SQLite and PostgreSQL): a refused decision comes back with what was
typed — the outcome, the reason, every correction field — and says why in the page's
language (`workflows.correction.*`); a valid one then corrects the record. The review
decision form keeps what was typed the same way."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from tests.workflows.helpers import add_record, make_firm

from creditgov import bootstrap
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.records.models import CreditRecord
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web import i18n
from creditgov.workflows.objection import file_objection, request_review
from creditgov.workflows.outcomes import parse_corrections

HOSTILE = '"><b>理由</b> O\'Brien “引号” \u202e😀 {0} %s'
SAID = {
    "zh": {"not_number": "金额“abc”不是数字，请只填写数字，如 2000 或 2000.50。",
           "empty": "处理结果为“更正”时，请在“更正内容”中填写需要改变的字段，如事实描述或金额。",
           "not_date": "“决定日期”填写的“2026-13-01”不是有效的日期，请按 2026-12-05 的格式填写。"},
    "en": {"not_number": "The amount “abc” is not a number: write digits only, like 2000 or 2000.50.",
           "empty": "A correction names what changes: fill in at least one field under “Correction”, such as the "
                    "facts or the amount.",
           "not_date": "“Decided on”: “2026-13-01” is not a date; write it like 2026-12-05."},
}


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One key for the module's store (the store records the first key it meets)."""
    path = tmp_path_factory.mktemp("decide") / "decide.key"
    create_key_file(path)
    return path


@pytest.fixture
def case(county: str, today, key: Path) -> tuple[TestClient, dict[str, str], int, int]:
    """A market penalty under objection, and the market officer who decides it."""
    today("2026-09-14")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=dt.date(2026, 5, 10))
        o = file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="金额有误", actor="user:firm")[0]
        name = f"market-{o.id}"
        u = users.create_user(s, username=name, password=None, role="department_officer", department_code="market",
                              actor="test")
        token = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
        ids = (o.id, rec.id)
    return TestClient(create_app(county, key), base_url="https://testserver"), {"Authorization": f"Bearer {token}"}, *ids


def _decide(c: TestClient, headers: dict[str, str], objection: int, lang: str, **form: str) -> tuple[int, str]:
    c.cookies.set("cg_lang", lang)
    r = c.post(f"/objections/{objection}/decide", data=form, headers=headers, follow_redirects=False)
    return r.status_code, r.text


def _error(page: str) -> str:
    m = re.search(r'data-testid="error">(.*?)</div>', page, re.S)
    assert m, "no refusal on the page"
    return html.unescape(m.group(1))


def _field(page: str, name: str) -> str:
    form = page.split('data-testid="decide-form"', 1)[1].split("</form>", 1)[0]
    m = re.search(rf'<input name="{name}"[^>]*value="([^"]*)"', form)
    assert m, f"no {name} field"
    return html.unescape(m.group(1))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_decision_keeps_what_was_typed_and_says_why_in_the_pages_language(case, lang: str) -> None:
    c, headers, objection, record = case
    status, page = _decide(c, headers, objection, lang, outcome="corrected", reason=HOSTILE, value="abc",
                           text="罚款金额应为 2000 元", document_no="长市监罚〔2026〕9号")
    assert status == 422
    assert _error(page) == SAID[lang]["not_number"]
    assert f'data-testid="decide-reason">{escape(HOSTILE)}</textarea>' in page and HOSTILE not in page
    assert _field(page, "value") == "abc" and _field(page, "text") == "罚款金额应为 2000 元"
    assert _field(page, "document_no") == "长市监罚〔2026〕9号"
    assert '<option value="corrected" selected>' in page and "<details open>" in page
    # Corrected with nothing to correct; a date no calendar has.
    status, page = _decide(c, headers, objection, lang, outcome="corrected", reason="核实")
    assert (status, _error(page)) == (422, SAID[lang]["empty"])
    assert 'data-testid="decide-reason">核实</textarea>' in page
    status, page = _decide(c, headers, objection, lang, outcome="corrected", reason="核实", decided_on="2026-13-01")
    assert (status, _error(page)) == (422, SAID[lang]["not_date"])
    assert _field(page, "decided_on") == "2026-13-01"
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{3,}", _error(page))


def test_then_a_valid_correction_is_made(case, county: str) -> None:
    c, headers, objection, record = case
    status, _page = _decide(c, headers, objection, "zh", outcome="corrected", reason="金额更正", value="2000.50")
    assert status == 303
    with db.session_scope(county) as s:
        new = s.execute(select(CreditRecord).where(CreditRecord.supersedes_id == record)).scalar_one()
        assert new.value == Decimal("2000.50") and new.is_current
    c.cookies.set("cg_lang", "zh")
    page = c.get(f"/objections/{objection}", headers=headers).text
    assert 'data-testid="decide-form"' not in page  # decided: the form is gone


def test_the_review_decision_form_keeps_what_was_typed_too(case, county: str, key: Path) -> None:
    c, headers, objection, _record = case
    assert _decide(c, headers, objection, "zh", outcome="upheld", reason="处罚无误")[0] == 303
    with db.session_scope(county) as s:
        request_review(s, objection_id=objection, reason="不服", actor="user:firm")
        u = users.create_user(s, username=f"office-{objection}", password=None, role="credit_office", actor="test")
        office = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c.cookies.set("cg_lang", "en")
    r = c.post(f"/objections/{objection}/review-decide", headers=office,
               data={"outcome": "corrected", "reason": HOSTILE, "value": "12 元", "grade": "B"})
    assert r.status_code == 422
    assert _error(r.text) == "The amount “12 元” is not a number: write digits only, like 2000 or 2000.50."
    form = r.text.split('data-testid="review-decide-form"', 1)[1].split("</form>", 1)[0]
    assert f">{escape(HOSTILE)}</textarea>" in form and 'value="12 元"' in form and 'value="B"' in form
    assert '<option value="corrected" selected>' in form


def test_the_service_refuses_with_codes() -> None:
    bootstrap.wire()
    for corrections, code in (({}, "workflows.correction.empty"), ({"value": "NaN"}, "workflows.correction.value_range"),
                              ({"value": "1e20"}, "workflows.correction.value_range"),
                              ({"status": "x"}, "workflows.correction.unknown"),
                              ({"occurred_on": ""}, "workflows.correction.no_occurred_on")):
        with pytest.raises(InvalidInput) as err:
            parse_corrections(corrections)
        assert err.value.code == code, corrections
        assert i18n.refusal(err.value, "zh") != i18n.refusal(err.value, "en")
    assert parse_corrections({"value": "-12.5", "occurred_on": "2026-05-01"}) == {
        "value": Decimal("-12.5"), "occurred_on": dt.date(2026, 5, 1)}
