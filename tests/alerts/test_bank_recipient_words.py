"""A bank an alert reaches is named on the alert's page by its registered name (the
finance domain's banks), not by its code, in both languages (SQLite and PostgreSQL): in
the delivery table and in the notes of who could not be reached on a channel. A bank
the platform does not know is still said in words with its code; a hostile bank name is
escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from creditgov.alerts import service as alerts_service
from creditgov.alerts.recipients import say_note
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.finance import service as finance_service
from creditgov.finance.schemas import BankIn
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web.i18n import LANG_COOKIE
from tests.alerts.helpers import make_subject, setup_alerting

BANK = '"><b>湖州</b> O\'Brien 农商银行 \u202e😀'


@pytest.fixture
def alert_page(store: str, tmp_path: Path):
    """An alert about a firm two banks watch: one registered on the platform (with a
    hostile name), one it does not know; neither left a phone for the SMS channel."""
    key = tmp_path / "banks.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        firm = make_subject(s)
        finance_service.add_bank(s, BankIn(code="huzhou-rcb", name=BANK), actor="test")
        setup_alerting(s, tmp_path, http_url="http://127.0.0.1:9", contacts=[
            {"kind": "bank", "key": "huzhou-rcb", "name": "湖州农商行联系人", "watch": [str(firm.uscc)]},
            {"kind": "bank", "key": "ghost-bank", "name": "未登记银行", "watch": [str(firm.uscc)]}])
        alerts_service.ensure_inbox_channel(s)
        raised = alerts_service.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=firm.id,
                                            severity="high", title="测试预警：银行收件人", body="测试用预警。",
                                            recipients=[{"who": "bank", "channels": ["inbox", "sms"]}],
                                            evidence_key="banks:1", actor="test")
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        aid = raised.alert.id
    return TestClient(create_app(store, key), base_url="https://testserver"), head, aid


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_alert_page_names_a_bank_by_its_name(alert_page, lang: str) -> None:
    client, head, aid = alert_page
    client.cookies.set(LANG_COOKIE, lang)
    page = client.get(f"/alerts/{aid}", headers=head)
    assert page.status_code == 200
    table = re.search(r'<table data-testid="notifications">(.*?)</table>', page.text, re.S)
    notes = re.search(r'<div class="muted" data-testid="event-notes">(.*?)</div>', page.text, re.S)
    assert table and notes, page.text[-2000:]
    name = str(escape(BANK))
    assert name in table.group(1) and name in notes.group(1)           # the registered bank, by its name
    assert "<b>湖州</b>" not in page.text                                # escaped
    assert "huzhou-rcb" not in page.text                                 # its code nowhere
    word = "银行" if lang == "zh" else "Bank"
    assert f"{word} ghost-bank" in table.group(1)                        # an unknown bank: its code, in words
    if lang == "zh":
        assert f"{name}没有登记“短信”渠道的手机号码" in notes.group(1)
        assert "银行 ghost-bank没有登记“短信”渠道的手机号码" in notes.group(1)
    else:
        assert f"{name} has no phone number for channel" in notes.group(1)
        assert "bank ghost-bank has no phone number for channel" in notes.group(1)


def test_a_note_without_a_store_falls_back_to_the_code() -> None:
    """With no store bound, a bank's name cannot be read: the note says the code in words."""
    for lang, said in (("zh", "银行 nowhere-bank没有登记"), ("en", "bank nowhere-bank has no")):
        assert say_note("bank:nowhere-bank: no phone for channel 'sms'", lang).startswith(said)
