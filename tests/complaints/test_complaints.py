"""Complaints (issue 19) on a real store (SQLite and PostgreSQL): intake with deadlines
in working days from the policy, assignment, the reply reaching the complainant's own
address through the alerts outbox, a substantiated complaint becoming a credit record
only after a second person approves its manual entry (and then `ingest trace` shows
it), statistics by department with the on-time rate, and the public API with its
number and query code. Personal data stays encrypted and masked; hostile text passes
unharmed."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.alerts.models import ChannelConfig, InboxMessage, Notification
from creditgov.api.app import create_app
from creditgov.catalog import requests
from creditgov.catalog.models import DataRequest
from creditgov.complaints import access, service
from creditgov.complaints.models import Complaint
from creditgov.complaints.schemas import ComplaintIn
from creditgov.core import clock
from creditgov.core.db import session_scope
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.ingest import manual
from creditgov.ingest import service as ingest_service
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.web import i18n
from creditgov.workflows import calendar

API = "/api/v1"
FIRM = "91330522MA2B00010N"
HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 ‮'


def _in(**kw: str | None) -> ComplaintIn:
    base: dict[str, str | None] = {"category": "quality", "respondent_name": HOSTILE, "respondent_code": FIRM,
                                   "content": "买到的商品与宣传不符 " + HOSTILE, "complainant_name": "张三丰",
                                   "contact": "complainant@example.org"}
    return ComplaintIn.model_validate({**base, **kw})


def test_deadlines_count_working_days_from_the_cst_day(store: str, keyring: KeyRing,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pol = service.policy()
    # 17:30 UTC on Sunday 1 November is 01:30 on Monday 2 November in China.
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-01T17:30:00")
    with session_scope(store) as s:
        c, code = service.file_complaint(s, keyring, _in(), channel="public", actor="public")
        assert c.received_on == dt.date(2026, 11, 2)
        cal = calendar.load(s)
        assert c.due_on == cal.add_working_days(dt.date(2026, 11, 2), pol.reply_days)
        assert c.accept_due == cal.add_working_days(dt.date(2026, 11, 2), pol.accept_days)
        assert c.number.startswith("TS20261102-") and len(code) == 8
    # Filed the day before the National Day holiday: the week off does not count.
    monkeypatch.setenv("CREDITGOV_NOW", "2026-09-30T02:00:00")
    with session_scope(store) as s:
        c, _code = service.file_complaint(s, keyring, _in(contact=None), channel="counter", actor="office-a")
        assert c.received_on == dt.date(2026, 9, 30)
        assert c.accept_due > dt.date(2026, 10, 7) + dt.timedelta(days=pol.accept_days - 1)


def test_a_complaint_from_intake_to_a_record(store: str, keyring: KeyRing, mini: Path) -> None:
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:   # the department's data request for complaint records, approved
        requests.file_request(s, department="market", items=["market.complaint"], legal_basis="《市场监督管理投诉举报处理暂行办法》",
                              purpose="投诉查实记录", frequency="monthly", actor="office-a")
        req = s.execute(select(DataRequest).where(DataRequest.item_code == "market.complaint")).scalar_one()
        requests.decide(s, req.id, decision="approved", reason="同意", unit="market", actor="market-head")
        s.add(ChannelConfig(name="email", plugin="email", settings={}, enabled=True, loaded_at=clock.now()))
    with session_scope(store) as s:
        c, code = service.file_complaint(s, keyring, _in(), channel="public", actor="public")
        cid, number = c.id, c.number
        assert c.subject_id is not None and c.status == "received"
        assert "张三丰" not in (c.complainant_name or "") and "example.org" not in (c.contact or "")  # encrypted
        shown = access.as_dict(keyring, c)
        assert shown["complainant_name"] == "张*丰" and shown["contact"] == "c***@example.org"
        assert shown["respondent_name"] == HOSTILE
        with pytest.raises(Conflict, match="assign"):
            service.reply(s, keyring, cid, outcome="substantiated", text="查实", actor="office-a")
    with session_scope(store) as s:
        service.assign(s, cid, department="market", actor="office-a")
        told = s.execute(select(InboxMessage).where(InboxMessage.recipient == "market",
                                                    InboxMessage.ref_id == cid)).scalars().all()
        assert len(told) == 1 and number in told[0].body
        # Told in both languages, from the same values: its English kept beside the Chinese.
        due = s.get(Complaint, cid).due_on.isoformat()  # type: ignore[union-attr]
        assert told[0].body == f"投诉 {number}（{HOSTILE}）已分派给本部门，请于 {due} 前答复。"
        assert told[0].body_en == f"Complaint {number} ({HOSTILE}) is assigned to your department: answer by {due}."
        c = service.reply(s, keyring, cid, outcome="substantiated", text="经查属实，已责令整改。" + HOSTILE,
                          actor="market-b")
        assert c.on_time is True and c.manual_entry_id is not None
        eid = c.manual_entry_id
        with pytest.raises(Conflict, match="already answered"):
            service.reply(s, keyring, cid, outcome="unsubstantiated", text="x!", actor="office-a")
        sent = s.execute(select(Notification).where(Notification.recipient == f"complaint:{cid}")).scalars().all()
        assert [(n.channel, n.address) for n in sent] == [("email", "complainant@example.org")]
        assert HOSTILE in sent[0].body and sent[0].payload["en"] == {
            "title": f"The answer to complaint {number}",
            "body": f"Your complaint {number} is closed: substantiated. 经查属实，已责令整改。{HOSTILE}"}
        # Nothing counts before a second person approves the entry.
        assert s.execute(select(CreditRecord).where(CreditRecord.document_no == number)).first() is None
    with session_scope(store) as s:
        with pytest.raises(Conflict, match="second person"):
            manual.decide(s, keyring, eid, approve=True, actor="market-b")
        e = manual.decide(s, keyring, eid, approve=True, actor="office-c")
        rec = s.get(CreditRecord, e.record_id)
        assert rec is not None and rec.item_code == "market.complaint" and rec.document_no == number
        assert rec.subject_id == c.subject_id and HOSTILE in (rec.text or "")
        assert ingest_service.trace(s, keyring, rec.id, actor="test").spec_version.name == "manual_market"
    with session_scope(store) as s:
        status = access.public_status(service.by_number(s, number, code.lower()))
        assert status["outcome"]["code"] == "substantiated" and status["on_time"] is True
        with pytest.raises(NotFound):
            service.by_number(s, number, "00000000")
        assert audit.verify(s).ok


def test_statistics_count_late_answers_and_overdue_ones(store: str, keyring: KeyRing,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-02T02:00:00")
    with session_scope(store) as s:
        ids = [service.file_complaint(s, keyring, _in(respondent_code=None, contact=None), channel="api",
                                      actor="office-a")[0].id for _ in range(3)]
        for i in ids:
            service.assign(s, i, department="market" if i != ids[2] else "tax", actor="office-a")
        service.reply(s, keyring, ids[0], outcome="unsubstantiated", text="经查不属实", actor="market-b")
        second = s.get(Complaint, ids[1])
        assert second is not None
        due = second.due_on
    monkeypatch.setenv("CREDITGOV_NOW", f"{due + dt.timedelta(days=1)}T02:00:00")
    monkeypatch.setenv("CREDITGOV_TODAY", f"{due + dt.timedelta(days=1)}")
    with session_scope(store) as s:
        late = service.reply(s, keyring, ids[1], outcome="not_accepted", text="不属于信用投诉范围", actor="market-b")
        assert late.on_time is False
        by = {r["department"]: r for r in service.stats(s)}
    assert by["market"] == {"department": "market", "received": 2, "answered": 2, "on_time": 1, "open": 0,
                            "overdue": 0, "on_time_rate": 0.5}
    assert by["tax"]["open"] == 1 and by["tax"]["overdue"] == 1 and by["tax"]["on_time_rate"] is None


def test_intake_refuses_bad_input(store: str, keyring: KeyRing) -> None:
    with session_scope(store) as s:
        for bad, match in (({"contact": "not a contact"}, "mobile number"), ({"category": "nope"}, "category"),
                           ({"respondent_code": "123"}, "credit code")):
            with pytest.raises(InvalidInput, match=match):
                service.file_complaint(s, keyring, _in(**bad), channel="public")
        with pytest.raises(InvalidInput, match="channel"):
            service.file_complaint(s, keyring, _in(), channel="fax")
        c, _code = service.file_complaint(s, keyring, _in(), channel="public")
        with pytest.raises(InvalidInput, match="department"):
            service.assign(s, c.id, department="no-such")
        # One extension, by the policy's working days, with a reason; a second is refused.
        before = c.due_on
        with pytest.raises(InvalidInput, match="reason"):
            service.extend(s, c.id, reason=" ")
        service.extend(s, c.id, reason="需现场核查", actor="office-a")
        assert c.due_on == calendar.load(s).add_working_days(before, service.policy().extension_days)
        with pytest.raises(Conflict, match="already extended"):
            service.extend(s, c.id, reason="再次延期", actor="office-a")


@pytest.fixture
def api(store: str, tmp_path: Path):
    key = tmp_path / "api.key"
    create_key_file(key)
    with session_scope(store) as s:
        tokens = {}
        for name, role, dept in (("office", "credit_office", None), ("market", "department_officer", "market"),
                                 ("tax", "department_officer", "tax")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="test")
            tokens[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), tokens


def test_the_api_from_the_public_to_the_department(api) -> None:
    c, tok = api
    body = {"category": "price", "respondent_name": HOSTILE, "content": "乱收费 " + HOSTILE, "contact": "13800138000"}
    r = c.post(f"{API}/public/complaints", json=body)
    assert r.status_code == 201, r.text
    number, code = r.json()["number"], r.json()["query_code"]
    assert c.post(f"{API}/public/complaints", json={**body, "extra": 1}).status_code == 422
    listed = c.get(f"{API}/complaints", headers=tok["office"]).json()
    assert listed[0]["respondent_name"] == HOSTILE and listed[0]["contact"] == "138****8000"
    cid = listed[0]["id"]
    assert c.get(f"{API}/complaints", headers=tok["market"]).json() == []          # not assigned to it yet
    assert c.post(f"{API}/complaints/{cid}/assign", json={"department": "market"}, headers=tok["market"]).status_code == 403
    assert c.post(f"{API}/complaints/{cid}/assign", json={"department": "market"}, headers=tok["office"]).status_code == 200
    assert c.get(f"{API}/complaints/{cid}", headers=tok["tax"]).status_code == 404
    full = c.get(f"{API}/complaints/{cid}", headers=tok["market"]).json()
    assert full["contact"] == "13800138000"
    r = c.post(f"{API}/complaints/{cid}/reply", json={"outcome": "unsubstantiated", "reply": "经核查，收费符合公示标准。"},
               headers=tok["market"])
    assert r.status_code == 200 and r.json()["on_time"] is True
    st = c.get(f"{API}/public/complaints/{number}", params={"code": code})
    assert st.status_code == 200 and st.json()["outcome"]["label_en"] == "Unsubstantiated"
    assert "contact" not in st.json()
    assert c.get(f"{API}/public/complaints/{number}", params={"code": "WRONG123"}).status_code == 404
    stats = c.get(f"{API}/complaints/stats", headers=tok["market"]).json()
    assert stats == [{"department": "market", "received": 1, "answered": 1, "on_time": 1, "open": 0, "overdue": 0,
                      "on_time_rate": 1.0}]
    assert c.get(f"{API}/complaints/stats", headers=tok["tax"]).json() == []


def test_the_pages_in_both_languages(api) -> None:
    c, tok = api
    form = {"category": "quality", "respondent_name": HOSTILE, "content": "内容 " + HOSTILE, "contact": ""}
    r = c.post("/public/complaints/new", data=form)
    assert [h.status_code for h in r.history] == [303] and r.status_code == 200   # posted, redirected, shown
    assert "<script>alert(1)" not in r.text
    bad = c.post("/public/complaints/new", data={**form, "contact": "nope"})
    assert bad.status_code == 422 and "&lt;script&gt;" in bad.text           # the form keeps what was typed, escaped
    # a fault of the form is said in the reader's words, naming the field by its label
    for lang, said in (("zh", "“投诉内容”至少要有 5 个字符。"), ("en", "“Complaint” needs at least 5 characters.")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        short = c.post("/public/complaints/new", data={**form, "content": "太短"})
        assert short.status_code == 422 and html.escape(said, quote=False) in short.text, short.text[-1500:]
        assert "String should" not in short.text
    for lang, words in (("zh", "投诉处理"), ("en", "Handling by department")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/complaints", headers=tok["office"])
        assert page.status_code == 200 and words in page.text and "&lt;script&gt;" in page.text
    assert c.get("/public/complaints/new").text.count("Submit complaint") == 1


def test_the_cli_answers_with_json(cli, store: str, tmp_path: Path) -> None:
    base = ("--db", store, "--key-file", str(tmp_path / "cli.key"))
    create_key_file(tmp_path / "cli.key")
    r = cli(*base, "complaints", "file", "--category", "other", "--respondent", HOSTILE, "--content",
            "窗口登记的投诉内容", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["channel"]["code"] == "counter" and out["respondent_name"] == HOSTILE and out["query_code"]
    r = cli(*base, "complaints", "assign", str(out["id"]), "--department", "market", "--json")
    assert json.loads(r.output)["department"] == "market"
    r = cli(*base, "complaints", "reply", str(out["id"]), "--outcome", "unsubstantiated", "--text", "不属实", "--json")
    assert json.loads(r.output)["on_time"] is True
    r = cli(*base, "complaints", "stats", "--json")
    assert json.loads(r.output)[0]["on_time_rate"] == 1.0
    r = cli(*base, "complaints", "list", "--json")
    assert [x["number"] for x in json.loads(r.output)] == [out["number"]]
