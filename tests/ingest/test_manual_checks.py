"""A manual entry is checked when it is entered, as ingestion checks it when approved
(SQLite and PostgreSQL): a date in the future, a date or an amount that cannot be read,
an item its department was never granted, an amount below zero, a subject not
registered — each refused to the one entering it, in words, on the page and through the
API, and nothing kept. An entry made before these checks is still refused at approval
(a negative amount there was once approved and stored)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov import bootstrap
from creditgov.api.app import create_app
from creditgov.catalog.models import DataRequest
from creditgov.core import clock, db, labels
from creditgov.core.errors import InvalidInput
from creditgov.ingest import manual
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import ManualEntry
from creditgov.records.models import CreditRecord
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.web import i18n

FIRM = "91330522MA2B00010N"       # registered by the mini county
NEWCOMER = "91330522MA2B00770L"   # not registered
ARREARS = {"zh": "水电费逾期缴纳", "en": "Late utility payment"}


def _ready(store: str, keyring: KeyRing, mini: Path) -> None:
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with db.session_scope(store) as s:
        s.add(DataRequest(item_code="utility.arrears", department_code="utility", status="approved"))


def _arrears(**extra: str) -> dict[str, str | None]:
    return {"identifier": FIRM, "name": "长兴绿源纺织有限公司", "item": "utility.arrears", "occurred_on": "2026-08-01",
            "decided_on": "2026-09-15", "value": "1234.5", **extra}


def _entries(store: str) -> int:
    with db.session_scope(store) as s:
        return s.execute(select(func.count()).select_from(ManualEntry)).scalar_one()


# field -> what was typed, and the refusal's words in Chinese and in English
BAD = {
    "future": ({"occurred_on": "2027-01-01"}, "“发生日期”为 2027-01-01，晚于今天", "“Occurred on” is 2027-01-01, after today"),
    "date": ({"occurred_on": "11/09/2026"}, "“发生日期”：无法识别日期“11/09/2026”",
             "“Occurred on”: “11/09/2026” is not a date in a known form"),
    "amount": ({"value": "1百"}, "“金额或数值”：“1百”不是数字", "“Amount or value”: “1百” is not a number"),
    "negative": ({"value": "-5"}, f"“{ARREARS['zh']}”的数值不能小于零，本行为 -5.00",
                 f"a value of “{ARREARS['en']}” is never below zero; the row gives -5.00"),
    "other_department": ({"item": "market.penalty"}, None, None),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_what_approval_would_refuse_is_refused_when_entered(store: str, keyring: KeyRing, mini: Path,
                                                           case: str) -> None:
    bootstrap.wire()
    _ready(store, keyring, mini)
    typed, zh, en = BAD[case]
    with db.session_scope(store) as s, pytest.raises(InvalidInput) as refused:
        manual.propose(s, keyring, kind="record", department="utility", fields=_arrears(**typed), reason="补录",
                       actor="utility-a")
    assert refused.value.code == "ingest.manual.invalid"
    if case == "other_department":  # the market's item, never requested from the utility
        item, dept = labels.label("item", "market.penalty", "en"), labels.label("department", "utility", "en")
        zh = f"尚未向{labels.label('department', 'utility', 'zh')}申请“{labels.label('item', 'market.penalty', 'zh')}”"
        en = f"“{item}” was never requested from {dept}"
    assert i18n.refusal(refused.value, "zh") == f"这条录入未通过归集检查：{zh}。请改正后重新提交。"
    assert i18n.refusal(refused.value, "en") == f"The entry does not pass ingestion's checks: {en}. Correct it and " \
                                                "submit it again."
    assert _entries(store) == 0


def test_a_subject_not_registered_waits_for_its_registration(store: str, keyring: KeyRing, mini: Path) -> None:
    bootstrap.wire()
    _ready(store, keyring, mini)
    with db.session_scope(store) as s:
        with pytest.raises(InvalidInput, match="not registered") as refused:
            manual.propose(s, keyring, kind="record", department="utility", fields=_arrears(identifier=NEWCOMER),
                           reason="补录", actor="utility-a")
        assert i18n.refusal(refused.value, "zh").startswith("该主体尚未登记。请先登记该主体")
        assert i18n.refusal(refused.value, "en").startswith("The subject is not registered. Register it first")
        # A registration entered by hand and waiting: the record may be entered beside it.
        reg = manual.propose(s, keyring, kind="registration", department="market", reason="新设立",
                             fields={"identifier": NEWCOMER, "kind": "enterprise", "name": "新设公司",
                                     "region": "CX-S01-G01-M01"}, actor="market-a")
        rec = manual.propose(s, keyring, kind="record", department="utility", fields=_arrears(identifier=NEWCOMER),
                             reason="补录", actor="utility-a")
        # A registration is checked as its file's row would be: a region that does not exist.
        with pytest.raises(InvalidInput) as region:
            manual.propose(s, keyring, kind="registration", department="market", reason="新设立",
                           fields={"identifier": "91330522MA2B00090Y", "kind": "enterprise", "name": "坏网格公司",
                                   "region": "CX-S09"}, actor="market-a")
        assert i18n.refusal(region.value, "en") == ("The entry does not pass ingestion's checks: there is no region "
                                                    "with the code “CX-S09”. Correct it and submit it again.")
        manual.decide(s, keyring, reg.id, approve=True, actor="office-b")
        done = manual.decide(s, keyring, rec.id, approve=True, actor="office-b")
        record = s.get(CreditRecord, done.record_id)
        assert record is not None and str(record.value) == "1234.50"


def test_an_entry_made_before_the_checks_is_refused_at_approval(store: str, keyring: KeyRing, mini: Path) -> None:
    """An entry of −5 arrears waiting from before entry was checked: approval refuses it."""
    bootstrap.wire()
    _ready(store, keyring, mini)
    vals = {k: v or "" for k, v in {**dict.fromkeys(manual.RECORD_FIELDS, ""), **_arrears(value="-5")}.items()}
    with db.session_scope(store) as s:
        e = ManualEntry(kind="record", department_code="utility", reason="补录",
                        payload=keyring.encrypt(json.dumps(vals, ensure_ascii=False)), evidence=[], status="proposed",
                        proposed_by="utility-a", proposed_at=clock.now())
        s.add(e)
        s.flush()
        eid = e.id
    with pytest.raises(InvalidInput, match="below zero") as refused, db.session_scope(store) as s:
        manual.decide(s, keyring, eid, approve=True, actor="office-b")
    assert i18n.refusal(refused.value, "en") == (
        f"The entry could not go through ingestion: a value of “{ARREARS['en']}” is never below "
        "zero; the row gives -5.00. It stays awaiting approval: reject it, saying why in the note.")
    with db.session_scope(store) as s:
        assert s.execute(select(func.count()).select_from(CreditRecord).where(
            CreditRecord.source == "manual_utility")).scalar_one() == 0
        assert s.get(ManualEntry, eid).status == "proposed"  # type: ignore[union-attr]  # added above


@pytest.fixture
def client(store: str, tmp_path: Path, mini: Path) -> tuple[TestClient, dict[str, str]]:
    key = tmp_path / "checks.key"
    _ready(store, create_key_file(key), mini)
    with db.session_scope(store) as s:
        u = users.create_user(s, username="utility", password=None, role="department_officer",
                              department_code="utility", actor="test")
        token = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), token


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_and_the_api_say_why_in_words(client: tuple[TestClient, dict[str, str]], store: str,
                                              lang: str) -> None:
    c, token = client
    c.cookies.set("cg_lang", lang)
    typed, zh, en = BAD["negative"]
    said = f"这条录入未通过归集检查：{zh}。请改正后重新提交。" if lang == "zh" else \
        f"The entry does not pass ingestion's checks: {en}. Correct it and submit it again."
    form = {"department": "utility", "reason": "补录", **{k: v or "" for k, v in _arrears(**typed).items()}}
    r = c.post("/entries", data=form, headers=token)
    assert r.status_code == 422 and said in html.unescape(r.text), r.text[:2000]
    assert 'value="-5"' in r.text  # the form comes back as typed
    body = {"department": "utility", "reason": "补录", "fields": {k: v for k, v in _arrears(**typed).items() if v}}
    r = c.post("/api/v1/manual-entries", json=body, headers={**token, "Accept-Language": lang})
    assert r.status_code == 422 and r.json()["code"] == "ingest.manual.invalid" and r.json()["message"] == said
    assert _entries(store) == 0
