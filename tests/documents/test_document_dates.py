"""Every printed document is dated by its own act, not by the moment it was printed
(SQLite and PostgreSQL): a list notice by the day the entry was notified — so the date
it is signed with comes before its own reply deadline — a list decision by the day it
was decided, objection and repair decisions by their decision days and an inspection
notice by the day its task was assigned. The print time appears apart, labelled as the
print time. The reviewer's case: a notice of 2026-10-20 printed on 2026-11-01 16:52."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.documents import casework, inspections, service
from creditgov.lists import service as lists_service
from creditgov.reports.pdftext import printable
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision.schemas import InspectorsFile
from creditgov.workflows.objection import decide_objection, file_objection
from creditgov.workflows.repair import apply_repair
from tests.documents.test_inspection_notices import POLICY, ROSTER
from tests.lists.helpers import add_record, make_subject

# (no emoji: the PDF's text layer of an emoji does not read back through pypdf)
HOSTILE = '"><script>alert(1)</script> O\'Brien & <b>Sons</b> \u202e有限公司'
BASE = "https://credit.example.gov.cn/verify"
PRINTED = "2026-11-01T08:52:00"          # UTC: 16:52 on 1 November in China
PRINT_TIME = "打印时间：2026年11月1日16:52（北京时间）"


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


def _signed(text: str) -> list[str]:
    """The date each document is signed with: the one on the signature line, just above
    the verification line (every date of a Chinese document is written this way)."""
    return re.findall(r"(\d{4}年\d{1,2}月\d{1,2}日)(?:（样章[^）]*）)?扫码或访问", text)


def _office(url: str, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    key = tmp_path / "dates.key"
    create_key_file(key)
    with db.session_scope(url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(url, key), base_url="https://testserver"), head


def test_a_notice_is_dated_its_notice_day_before_its_deadline(county: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-20")
    with db.session_scope(county) as s:
        subj = make_subject(s, name=HOSTILE)
        e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=subj.id, criterion="manual",
                                  basis="拒不履行 " + HOSTILE, decision_no=f"T-{subj.id}")
        lists_service.notify(s, entry_id=e.id)
        due = e.response_due
    assert due is not None and due > dt.date(2026, 10, 20)
    c, head = _office(county, tmp_path)
    monkeypatch.setenv("CREDITGOV_NOW", PRINTED)                # printed after the deadline
    r = c.get("/documents/lists.pdf", params={"list": "serious-dishonesty", "kind": "notice", "on": "2026-10-20"},
              headers=head)
    assert r.status_code == 200, r.text
    text = _text(r.content)
    assert f"有权在{due.year}年{due.month}月{due.day}日（含当日）前" in text   # the deadline, a Chinese date
    assert re.sub(r"\s+", "", printable(HOSTILE)) in text
    assert _signed(text) == ["2026年10月20日"]                   # signed on the notice day, not the print day
    assert PRINT_TIME in text                                    # the print time, said to be one
    assert text.count("2026年11月1日") == 1                      # and nowhere else
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)             # no date written the ISO way


def test_a_list_decision_is_dated_its_decision_day(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-01")
    with db.session_scope(county) as s:
        sid = make_subject(s, name=HOSTILE).id
        e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=sid, criterion="manual",
                                  basis="测试认定", decision_no=f"T-{sid}")
        lists_service.notify(s, entry_id=e.id)
        entry, due = e.id, e.response_due
    assert due is not None
    decided = due + dt.timedelta(days=1)
    monkeypatch.setenv("CREDITGOV_TODAY", decided.isoformat())
    with db.session_scope(county) as s:
        lists_service.approve(s, entry_id=entry, unit="credit")
    monkeypatch.setenv("CREDITGOV_NOW", PRINTED)
    with db.session_scope(county) as s:
        text = _text(service.print_batch(s, list_code="serious-dishonesty", kind="decision", verify_base=BASE,
                                         entry_ids=[entry]).pdf)
    assert "信用名单认定决定书" in text and _signed(text) == [f"{decided.year}年{decided.month}月{decided.day}日"]
    assert PRINT_TIME in text


def test_objection_and_repair_decisions_are_dated_their_decision_days(county: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-09")
    with db.session_scope(county) as s:
        firm = make_subject(s, name=HOSTILE)
        rec = add_record(s, firm, "market.penalty", occurred_on=dt.date(2026, 9, 1))
        o = file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="金额有误 " + HOSTILE)[0]
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-12")
    with db.session_scope(county) as s:
        decide_objection(s, objection_id=o.id, outcome="upheld", reason="经核实无误", department=o.department_code)
        # A penalty of September is far inside its minimum publication: refused at once, decided today.
        a = apply_repair(s, subject_id=firm.id, record_id=rec.id, applicant="法定代表人")
        assert a.status == "refused" and a.decided_on == dt.date(2026, 10, 12)
        oid, aid = o.id, a.id
    monkeypatch.setenv("CREDITGOV_NOW", PRINTED)
    for kind, ref, title in (("objection", oid, "异议处理决定书"), ("repair", aid, "信用修复决定书")):
        with db.session_scope(county) as s:
            text = _text(casework.print_cases(s, kind=kind, verify_base=BASE, ids=[ref]).pdf)
        assert title in text and _signed(text) == ["2026年10月12日"], (kind, text[-400:])
        assert PRINT_TIME in text
        assert "2026年9月1日" in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)   # every date the Chinese way


def test_an_inspection_notice_is_dated_the_day_its_task_was_assigned(county: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CREDITGOV_NOW", "2026-10-14T17:30:00")   # 01:30 on 15 October in China
    with db.session_scope(county) as s:
        supervision_service.load_policies(s, path=policy_file, actor="test")
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        make_subject(s, name=HOSTILE)
        make_subject(s)
    with db.session_scope(county) as s:
        draw_id = int(supervision_draws.draw(s, policy_name="notice-test", seed="20261015", actor="test")["draw_id"])
    monkeypatch.setenv("CREDITGOV_NOW", PRINTED)
    with db.session_scope(county) as s:
        text = _text(inspections.print_notices(s, verify_base=BASE, draw_id=draw_id).pdf)
    assert "检查通知书" in text and re.sub(r"\s+", "", printable(HOSTILE)) in text
    assert _signed(text) == ["2026年10月15日", "2026年10月15日"]      # China's day of the assignment, each
    assert text.count(PRINT_TIME) == 2
    assert "抽取日期2026年10月15日" in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_a_reassigned_tasks_notice_is_dated_its_latest_assignment(county: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Assigned on 15 October, re-assigned to two other inspectors on 28 October (China's
    day: 00:30 there, still the 27th in UTC): the task's notice is signed on the 28th and
    names the new inspectors; the task left alone keeps the 15th."""
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("CREDITGOV_NOW", "2026-10-15T02:00:00")
    with db.session_scope(county) as s:
        supervision_service.load_policies(s, path=policy_file, actor="test")
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        firm = make_subject(s, name=HOSTILE)
        make_subject(s)
    with db.session_scope(county) as s:
        draw_id = int(supervision_draws.draw(s, policy_name="notice-test", seed="20261015", actor="test")["draw_id"])
        teams = {t.subject_id: (t.id, list(t.assignees)) for t in inspections.tasks_for(s, draw_id=draw_id)}
    task_id, first_team = teams[firm.id]
    other = sorted({i["code"] for i in ROSTER["inspectors"]} - set(first_team))
    c, head = _office(county, tmp_path)
    monkeypatch.setenv("CREDITGOV_NOW", "2026-10-27T16:30:00")      # 00:30 on 28 October in China
    r = c.post(f"/api/v1/supervision/tasks/{task_id}/reassign", headers=head,
               json={"assignees": other, "reason": "原检查人员回避 " + HOSTILE})
    assert r.status_code == 200, r.text
    assert r.json()["assignees"] == other and r.json()["assigned_at"] == "2026-10-27T16:30:00"
    monkeypatch.setenv("CREDITGOV_NOW", PRINTED)
    r = c.get("/documents/inspections.pdf", params={"draw": draw_id}, headers=head)
    assert r.status_code == 200, r.text
    pages = {tid: re.sub(r"\s+", "", p.extract_text() or "")
             for (tid, _sid), p in zip(sorted((t, sid) for sid, (t, _) in teams.items()),
                                       PdfReader(io.BytesIO(r.content)).pages, strict=True)}
    assert _signed(pages[task_id]) == ["2026年10月28日"]              # the re-assignment's day
    assert all(_signed(p) == ["2026年10月15日"] for tid, p in pages.items() if tid != task_id)
    names = {i["code"]: re.sub(r"\s+", "", i["name"]) for i in ROSTER["inspectors"]}
    assert all(names[code] in pages[task_id] for code in other)          # the inspectors it names now
    assert not any(names[code] in pages[task_id] for code in first_team)
    assert all(PRINT_TIME in p for p in pages.values())
