"""The procedures' messages in the inbox, in the reader's language (SQLite and
PostgreSQL): an objection filed, extended, decided, reviewed; a repair application
refused and one received; a case gone overdue — each written by the real services in
Chinese (the record of what was sent) with its English beside it, shown on the English
inbox and given by the API, with no Chinese left but the data (the reasons people wrote,
names); each under its category in words. A message written before the English was
kept is said by its shape; one of no known shape is shown as stored, and hostile text
passes unharmed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from creditgov import bootstrap
from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import outbox
from creditgov.alerts.access import inbox_principals, inbox_view
from creditgov.alerts.models import InboxMessage
from creditgov.alerts.words import say_message
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.scopes import Principal, Role, authorize
from creditgov.web.i18n import LANG_COOKIE
from creditgov.workflows import flows
from creditgov.workflows.objection import extend_objection, file_objection, request_review
from creditgov.workflows.overdue import flag_overdue
from creditgov.workflows.repair import apply_repair
from tests.workflows.helpers import add_record, make_firm

HAN = re.compile(r"[\u3400-\u9fff]+")
REASONS = ("处罚金额登记错误", "需要调取执法记录", "经核实处罚信息无误", "仍有异议", "复核维持原处理")
FIRM = '长兴"><b>测试</b>企业 O\'Brien'


def _said(url: str, who: Principal, lang: str) -> list[tuple[str, str]]:
    """(topic, text) of the account's inbox as its page says them."""
    grant = authorize(who, "inbox.read")
    with db.session_scope(url) as s:
        rows = alert_inbox.inbox_of(s, inbox_principals(who), limit=200)
        view = inbox_view(s, grant, rows, lang)
    return [(m["topic"], m["said"]) for m in view["messages"]]


def _no_chinese_but_data(text: str) -> None:
    rest = text.replace(FIRM, "")
    for data in REASONS:
        rest = rest.replace(data, "")
    assert not HAN.search(rest), text


@pytest.fixture
def cases(county: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-06-01")
    with db.session_scope(county) as s:
        firm = make_firm(s, name=FIRM)
        rec = add_record(s, firm, "market.penalty", published=dt.date(2026, 5, 10))
        serious = add_record(s, firm, "market.penalty_serious", published=dt.date(2026, 5, 10))
        minor = add_record(s, firm, "market.penalty_minor", published=dt.date(2025, 1, 10))
        fid, rid, sid, mid = firm.id, rec.id, serious.id, minor.id
    with db.session_scope(county) as s:
        o = file_objection(s, subject_id=fid, record_ids=[rid], reason=REASONS[0], actor="subject:test")[0]
        extend_objection(s, objection_id=o.id, reason=REASONS[1], department="market", actor="officer:market")
        flows.decide_objection(s, objection_id=o.id, outcome="upheld", reason=REASONS[2], department="market",
                               actor="officer:market")
        request_review(s, objection_id=o.id, reason=REASONS[3], actor="subject:test")
        flows.decide_review(s, objection_id=o.id, outcome="upheld", reason=REASONS[4], unit="credit",
                            actor="officer:credit")
        apply_repair(s, subject_id=fid, record_id=sid, actor="subject:test")  # conditions unmet: refused
        file_objection(s, subject_id=fid, record_ids=[mid], reason=REASONS[0], actor="subject:test")  # left open
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-09-30")
    with db.session_scope(county) as s:
        flag_overdue(s, actor="test")  # the open objection is past its deadline
    outbox.drain(county)
    return {"url": county, "firm": fid}


def test_every_procedure_message_is_said_in_english(cases: dict[str, Any]) -> None:
    url, fid = cases["url"], cases["firm"]
    subject = Principal(role=Role.SUBJECT, user_id=1, username="firm", subject_id=fid)
    market = Principal(role=Role.DEPARTMENT, user_id=2, username="mkt", department_code="market")
    office = Principal(role=Role.CREDIT_OFFICE, user_id=3, username="office", department_code="credit")
    seen: dict[str, str] = {}
    for who in (subject, market, office):
        zh, en = _said(url, who, "zh"), _said(url, who, "en")
        assert len(zh) == len(en) and zh
        for (topic, text_zh), (_t, text_en) in zip(zh, en, strict=True):
            assert HAN.search(text_zh.replace(FIRM, "")), text_zh  # as stored, in Chinese
            _no_chinese_but_data(text_en)
            seen.setdefault(topic, text_en)
    assert seen["objection.received"].startswith("Objection ") and "is marked as disputed" in seen["objection.received"]
    assert re.search(r"record \d+ \(Market supervision \w+\) is contested; decide by ", seen["objection.assigned"])
    assert f"Reason: {REASONS[1]}" in seen["objection.extended"]
    assert seen["objection.upheld"].endswith("If you disagree, you may ask for a review after receiving this "
                                             "decision (once).")
    assert "decided: upheld. Reason: " + REASONS[2] in seen["objection.upheld"]
    assert seen["objection.review.upheld"].endswith("The review is final.")
    assert "does not meet the conditions: the minimum publication" in seen["repair.refused"]
    assert "no record that the obligations are fulfilled" in seen["repair.refused"]
    assert seen["objection.overdue"].startswith("Objection ") and "is overdue (due " in seen["objection.overdue"]
    assert "responsible: Market" in seen["objection.overdue"]
    # Each message's category in words, in the reader's language.
    with db.session_scope(url) as s:
        rows = alert_inbox.inbox_of(s, inbox_principals(market), limit=200)
        cats = {lang: {m["topic"]: m["category"] for m in inbox_view(s, authorize(market, "inbox.read"), rows,
                                                                      lang)["messages"]} for lang in ("zh", "en")}
    assert (cats["en"]["objection.overdue"], cats["en"]["objection.assigned"]) == ("Objection overdue",
                                                                                   "Objection to check")
    assert (cats["zh"]["objection.overdue"], cats["zh"]["objection.assigned"]) == ("异议超期未办结", "异议待核查")
    # A department's alerts are those delivered to its desk: the outbox is indexed for it.
    found = {i["name"]: i["column_names"] for i in sa.inspect(db.engine_for(url)).get_indexes("notifications")}
    assert found["ix_notifications_recipient_alert"] == ["recipient", "alert_id"]


def test_the_english_inbox_page_and_unknown_shapes(cases: dict[str, Any], tmp_path: Path) -> None:
    url, fid = cases["url"], cases["firm"]
    key = tmp_path / "p.key"
    create_key_file(key)
    odd = '尚未约定格式的通知 <script>alert(1)</script> O\'Brien'
    # A message written before revision 0034: its Chinese only, said in English by its shape.
    old = "信用修复申请 5 (记录 7) 已转送, 请在 2026-06-30 前作出决定。"
    old_en = "Repair application 5 (record 7) is forwarded to you: decide by 2026-06-30."
    with db.session_scope(url) as s:
        alert_inbox.deliver(s, recipient_kind="subject", recipient=str(fid), subject_id=fid, topic="notice.other",
                            body=odd)
        alert_inbox.deliver(s, recipient_kind="subject", recipient=str(fid), subject_id=fid, topic="repair.decide",
                            body=old)
        u = users.create_user(s, username="firm-user", password=None, role="subject", subject_id=fid,
                              display_name=FIRM, actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}",
                "accept": "text/html"}
        ids = {m.topic: m.id for m in s.execute(select(InboxMessage).where(
            InboxMessage.recipient_kind == "subject", InboxMessage.recipient == str(fid))).scalars()}
    client = TestClient(create_app(url, key), base_url="https://testserver")
    client.cookies.set(LANG_COOKIE, "en")
    page = client.get("/inbox", headers=head).text
    body = re.search(rf'data-testid="message-body-{ids["objection.upheld"]}">(.*?)</td>', page, re.S)
    assert body and body.group(1).startswith("Objection ") and "decided: upheld" in body.group(1)
    other = re.search(rf'data-testid="message-body-{ids["notice.other"]}">(.*?)</td>', page, re.S)
    assert other and other.group(1) == str(escape(odd))  # as stored, escaped
    before = re.search(rf'data-testid="message-body-{ids["repair.decide"]}">(.*?)</td>', page, re.S)
    assert before and before.group(1) == old_en
    # A procedure step reads in English from the English its producer stored beside the
    # Chinese; the Chinese is kept as it was sent.
    with db.session_scope(url) as s:
        rows = {m.topic: m for m in s.execute(select(InboxMessage).where(InboxMessage.id.in_(ids.values()))).scalars()}
        decided, refused = rows["objection.upheld"], rows["repair.refused"]
        decided_en, refused_en = (f"Objection {decided.ref_id} decided: upheld. Reason: {REASONS[2]}. If you disagree, "
                                  "you may ask for a review after receiving this decision (once).",
                                  f"Repair application {refused.ref_id} does not meet the conditions: the minimum "
                                  "publication of 12 months (serious) ends on 2027-05-10: repair can be applied for "
                                  "from 2027-05-10; no record that the obligations are fulfilled (Market Supervision "
                                  "Administration records it); no signed Credit repair commitment.")
        assert (decided.body_en, refused.body_en, rows["repair.decide"].body_en) == (decided_en, refused_en, None)
        assert decided.body == f"异议 {decided.ref_id} 处理结果: 维持。理由: {REASONS[2]}。 如不服, 可在收到本决定后申请复核(限 1 次)。"
        assert refused.body.startswith(f"信用修复申请 {refused.ref_id} 不符合条件：严重失信记录最短公示期 12 个月，将于 2027-05-10 届满")
    for topic, english in (("objection.upheld", decided_en), ("repair.refused", refused_en)):
        cell = re.search(rf'data-testid="message-body-{ids[topic]}">(.*?)</td>', page, re.S)
        assert cell and cell.group(1) == str(escape(english)), topic
    # The API gives the English kept with each message, and says each in the language asked.
    bearer = {"Authorization": head["Authorization"]}
    api = {lang: {m["id"]: m for m in client.get("/api/v1/inbox", params={"lang": lang}, headers=bearer).json()}
           for lang in ("zh", "en")}
    upheld, earlier = ids["objection.upheld"], ids["repair.decide"]
    assert api["en"][upheld]["said"] == api["zh"][upheld]["body_en"] == decided_en
    assert api["zh"][upheld]["said"] == api["en"][upheld]["body"] == decided.body
    assert (api["en"][earlier]["said"], api["en"][earlier]["body_en"], api["en"][earlier]["body"]) == (old_en, None, old)
    assert "<script>alert(1)" not in page
    head_line = re.search(r'data-testid="inbox-to">(.*?)</p>', page, re.S)
    assert head_line and head_line.group(1).startswith(f"To: {escape(FIRM)}")
    # Its own name is never masked to a subject; the column links its own file.
    cell = re.search(rf'data-testid="message-subject-{ids["objection.upheld"]}">(.*?)</td>', page, re.S)
    assert cell and cell.group(1) == f'<a href="/subjects/{fid}">{escape(FIRM)}</a>'


@pytest.mark.parametrize(("stored", "english"), [
    ("收到投诉 TS2026-0001（长兴某某超市），请于 2026-11-05 前分派。",
     "Complaint TS2026-0001 (长兴某某超市) received: assign it by 2026-11-05."),
    ("投诉 TS2026-0001（长兴某某超市）已分派给本部门，请于 2026-11-20 前答复。",
     "Complaint TS2026-0001 (长兴某某超市) is assigned to your department: answer by 2026-11-20."),
    ("信用修复申请 3 不予修复。理由: 未履行", "Repair application 3 is rejected. Reason: 未履行"),
    ("信用修复申请 3 已通过: 记录 9 已修复, 停止公示和共享; 移出名单 1 项。",
     "Repair application 3 is approved: record 9 is repaired, no longer published or shared; taken off 1 list."),
    ("异议 4 补充了材料: a.pdf, b.pdf。", "Objection 4: materials added: a.pdf, b.pdf."),
    ("信用修复申请 5 已受理, 信用办在 2026-06-12 前转送或答复。",
     "Repair application 5 received; Credit Office forwards or answers it by 2026-06-12."),
    ("信用修复申请 5 (记录 7, 一般失信) 待转送市场监督管理局, 期限 2026-06-12。",
     "Repair application 5 (record 7, general) to forward to Market Supervision Administration, by 2026-06-12."),
    ("信用修复申请 5 (记录 7) 已转送, 请在 2026-06-30 前作出决定。",
     "Repair application 5 (record 7) is forwarded to you: decide by 2026-06-30."),
    ("信用修复申请 5 已转送认定单位市场监督管理局, 2026-06-30 前作出决定。",
     "Repair application 5 is forwarded to the identifying unit, Market Supervision Administration, which decides "
     "by 2026-06-30."),
])
def test_shapes_without_a_store(stored: str, english: str) -> None:
    """Shapes no flow above writes, said from their stored text; Chinese pages as stored.
    (The department names come from the shipped catalogue's labels.)"""
    bootstrap.wire()
    assert say_message(stored, "en") == english
    assert say_message(stored, "zh") == stored
