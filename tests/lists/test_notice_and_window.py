"""The 49号 procedure held exactly: the response window counts working days on the
objection procedure's own calendar (National Day, adjusted working weekends, a local
closure), the notice names the subject, its legal representative, the facts, the
basis, the rights and the deadline, and the written decision sets the publication
period for the case within 1 to 3 years."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.lists.helpers import add_record, make_subject

from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput
from creditgov.lists import queries as list_queries
from creditgov.lists import service as lists
from creditgov.subjects.models import Subject, SubjectLink
from creditgov.workflows import calendar


def _proposal(url: str, list_code: str = "serious-dishonesty") -> tuple[int, int]:
    with db.session_scope(url) as s:
        firm = make_subject(s, name="长兴示例制衣有限公司")
        rep = Subject(kind="individual", name="王建国", status="confirmed", attributes={},
                      created_at=clock.now(), updated_at=clock.now())
        s.add(rep)
        s.flush()
        s.add(SubjectLink(firm_id=firm.id, person_id=rep.id, role="legal_representative"))
        if list_code == "serious-dishonesty":
            rec = add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 9, 1), department="court")
            rec.document_no, rec.text = "(2026)浙0522执123号", "有履行能力而拒不履行生效判决"
            e = lists.propose(s, list_code=list_code, subject_id=firm.id, criterion="court-dishonest-debtor",
                              record_id=rec.id)
        else:
            e = lists.propose(s, list_code=list_code, subject_id=firm.id, criterion="manual", basis="诚信典型",
                              decision_no="长信红〔2026〕1号")
        return e.id, firm.id


@pytest.mark.parametrize(("notified", "due"), [
    ("2026-09-28", "2026-10-10"),  # Mon: Sep 29, 30, Oct 8, 9 and the adjusted working Saturday 10 October
    ("2026-09-29", "2026-10-12"),  # Tue: the fifth working day is Monday 12 October
    ("2026-09-30", "2026-10-13"),
    ("2026-10-03", "2026-10-13"),  # a notice inside the holiday: Oct 8, 9, 10 (Sat, working), 12, 13
])
def test_response_deadlines_fall_on_the_right_working_day_around_national_day(
        county: str, monkeypatch: pytest.MonkeyPatch, notified: str, due: str) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", notified)
    entry_id, _ = _proposal(county)
    with db.session_scope(county) as s:
        e = lists.notify(s, entry_id=entry_id)
        assert e.response_due == dt.date.fromisoformat(due)
        # the same answer as the objection procedure's calendar gives
        assert e.response_due == calendar.add_working_days(s, dt.date.fromisoformat(notified), 5)
    monkeypatch.setenv("CREDITGOV_TODAY", due)
    with db.session_scope(county) as s:  # the last day is still open
        lists.represent(s, entry_id=entry_id, text="请求不予列入")


def test_a_local_closure_on_the_calendar_moves_the_list_deadline(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(county) as s:
        calendar.set_day(s, day=dt.date(2026, 10, 12), working=False, name="县域停电闭馆", source="县政府通知",
                         force=True)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-09-29")
    entry_id, _ = _proposal(county)
    with db.session_scope(county) as s:
        assert lists.notify(s, entry_id=entry_id).response_due == dt.date(2026, 10, 13)


def test_a_calendar_day_window_stays_in_calendar_days(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-09-28")
    entry_id, _ = _proposal(county, "red")  # 红名单公示期 7 calendar days (local practice, as cited)
    with db.session_scope(county) as s:
        assert lists.notify(s, entry_id=entry_id).response_due == dt.date(2026, 10, 5)


def test_notice_and_decision_name_the_legal_representative_and_the_period(
        county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-02")
    entry_id, firm_id = _proposal(county)
    with db.session_scope(county) as s:
        lists.notify(s, entry_id=entry_id)
        notice = list_queries.entry_detail(s, entry_id)["history"][1]["note"]
    for part in ("长兴示例制衣有限公司", "法定代表人（负责人）：王建国", "失信被执行人", "(2026)浙0522执123号",
                 "有履行能力而拒不履行生效判决", "国办发〔2020〕49号", "人民法院", "陈述申辩",
                 "您有权在2026年11月9日前（含当日）", "（5个工作日）。"):
        assert part in notice, part
    assert "2026-11-09" not in notice                   # the deadline as a Chinese document writes a date
    assert "(court)" not in notice and "working" not in notice  # the unit by its name; the notice in Chinese
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-10")
    with db.session_scope(county) as s:
        for bad in (6, 40):
            with pytest.raises(InvalidInput, match="chosen between 12 and 36 months"):
                lists.approve(s, entry_id=entry_id, unit="court", decision_no="D-1", publication_months=bad)
        e = lists.approve(s, entry_id=entry_id, unit="court", decision_no="(2026)浙0522认1号",
                          publication_months=18)
        assert e.publication_months == 18
        e = lists.publish(s, entry_id=entry_id)
        assert (e.published_on, e.expires_on) == (dt.date(2026, 11, 10), dt.date(2028, 5, 10))
        decision = list_queries.entry_detail(s, entry_id)["history"][2]["note"]
    for part in ("认定决定书 (2026)浙0522认1号", "长兴示例制衣有限公司", "王建国", "自公示之日起 18 个月",
                 "12–36", "行政复议", "信用修复"):
        assert part in decision, part


def test_a_decision_without_a_period_states_the_default_and_a_fixed_list_refuses_one(
        county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-02")
    sd, _ = _proposal(county)
    red, _ = _proposal(county, "red")
    with db.session_scope(county) as s:
        lists.notify(s, entry_id=sd)
        lists.notify(s, entry_id=red)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-20")
    with db.session_scope(county) as s:
        e = lists.approve(s, entry_id=sd, unit="court", decision_no="D-2")
        assert e.publication_months == 36
        assert "自公示之日起 36 个月" in list_queries.entry_detail(s, sd)["history"][2]["note"]
        with pytest.raises(InvalidInput, match="fixed publication period"):
            lists.approve(s, entry_id=red, unit="credit", publication_months=12)
