"""A proposal is approved and published only while what it was proposed on still holds
(SQLite and PostgreSQL).

The reviewer's case: a firm proposed for the red list on 20 October for "grade A and no
bad credit record in three years" had a loan in default (a `finance.overdue` record of
28 July that came in after the proposal); its entry was approved and published on 1
November. Now the identifying unit's approval and the publication re-check the
criterion as of their day and are refused, naming the record that breaks it; the
officer withdraws the proposal (or the unit rejects it); `lists run` withdraws such
proposals itself, with the reason, and names published entries whose criterion lapsed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.lists.helpers import add_record, add_run, make_subject

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.lists import criteria as list_criteria
from creditgov.lists import exits as list_exits
from creditgov.lists import service as lists
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.records.models import CreditRecord
from creditgov.subjects.models import Subject
from creditgov.web import i18n

MODEL = "public-credit-enterprise"
OVERDUE_ZH = "2026年7月28日有贷款逾期记录（金融服务中心，记录 #{id}），已不符合“3年内无不良信用记录”"
OVERDUE_EN = ("a record of Overdue loan dated 28 July 2026 (Finance Service Centre, record #{id}): no longer "
              "“no negative record in 3 years”")


def _red_proposal(url: str, monkeypatch: pytest.MonkeyPatch, firms: int = 1) -> list[tuple[int, int]]:
    """Grade-A firms proposed for the red list on 20 October and notified (7 calendar days
    to answer): (subject id, entry id) each."""
    with db.session_scope(url) as s:
        subjects = [make_subject(s) for _ in range(firms)]
        add_run(s, MODEL, dt.date(2026, 9, 30), [(f, "A", "green") for f in subjects])
        ids = [f.id for f in subjects]
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-20")
    with db.session_scope(url) as s:
        res = list_criteria.run_criteria(s, list_code="red", notify_now=True, actor="office")
        entries = {e.subject_id: e.id for e in s.execute(select(ListEntry).where(
            ListEntry.id.in_(res.entry_ids))).scalars()}
    assert set(entries) == set(ids)
    return [(sid, entries[sid]) for sid in ids]


def _overdue(url: str, subject_id: int) -> int:
    """The borrower's loan in default: a finance.overdue record of 28 July, come in later."""
    with db.session_scope(url) as s:
        firm = s.get(Subject, subject_id)
        assert firm is not None
        return add_record(s, firm, "finance.overdue", occurred_on=dt.date(2026, 7, 28), department="finance").id


def test_a_red_entry_is_not_approved_once_a_negative_record_came_in(county: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap.wire()
    [(firm, entry)] = _red_proposal(county, monkeypatch)
    rec = _overdue(county, firm)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s, pytest.raises(Conflict) as refused:
        lists.approve(s, entry_id=entry, unit="credit", decision_no="县信用办〔2026〕1号", actor="office")
    err = refused.value
    assert err.code == "lists.entry.criterion_lapsed" and err.params["step"] == "approve"
    assert f"record #{rec}" in str(err) and "lists withdraw" in str(err)
    assert i18n.refusal(err, "zh") == (f"名单条目 #{entry}（“守信激励对象名单（红名单）”）不能认定：拟列入的依据已不成立——"
                                       + OVERDUE_ZH.format(id=rec) + "。可撤回该拟列入，或由认定单位决定不予列入。")
    assert i18n.refusal(err, "en") == (f"Entry #{entry} (“Red list (honest subjects)”) cannot go ahead: what it was "
                                       "proposed on no longer holds — " + OVERDUE_EN.format(id=rec)
                                       + ". Withdraw the proposal, or the identifying unit decides not to list it.")
    with db.session_scope(county) as s:
        e = s.get(ListEntry, entry)
        assert e is not None and e.status == "notified" and e.approved_on is None
        # The bulk approval of the unit counts it as refused, and approves nothing.
        out = lists.bulk_step(s, step="approve", list_code="red", unit="credit", actor="office")
        assert (out["done"], out["refused"]) == (0, {"criterion no longer holds": 1})
        # The officer withdraws it: the reason says what changed, the restricted record
        # by its department only (the entry's history is read by every officer in scope).
        list_exits.withdraw_lapsed(s, entry_id=entry, actor="office")
    with db.session_scope(county) as s:
        e = s.get(ListEntry, entry)
        assert e is not None and e.status == "withdrawn"
        said = f"拟列入依据已不成立：2026年7月28日有不良记录（金融服务中心，记录 #{rec}），已不符合“3年内无不良信用记录”"
        assert e.exit_reason == said
        steps = [(x.step, x.note) for x in s.execute(select(ListEntryEvent).where(
            ListEntryEvent.entry_id == entry).order_by(ListEntryEvent.id)).scalars()]
        assert [x for x, _ in steps] == ["propose", "notify", "withdraw"] and steps[-1][1] == said
        with pytest.raises(InvalidInput) as again:
            list_exits.withdraw_lapsed(s, entry_id=entry, actor="office")
        assert again.value.code == "lists.entry.not_pending"


def test_publication_checks_again_and_a_holding_proposal_is_not_withdrawn(county: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap.wire()
    [(firm, entry)] = _red_proposal(county, monkeypatch)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-28")  # the window (7 days) has passed
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput) as holds:  # nothing changed: withdrawing is not for this
            list_exits.withdraw_lapsed(s, entry_id=entry, actor="office")
        assert holds.value.code == "lists.entry.criterion_holds"
        assert i18n.refusal(holds.value, "zh") == f"名单条目 #{entry} 的拟列入依据仍然成立，不能撤回：是否列入由认定单位决定。"
        lists.approve(s, entry_id=entry, unit="credit", decision_no="县信用办〔2026〕2号", actor="office")
    rec = _overdue(county, firm)  # approved, then the default comes in
    with db.session_scope(county) as s, pytest.raises(Conflict) as refused:
        lists.publish(s, entry_id=entry, actor="office")
    assert refused.value.params["step"] == "publish"
    assert i18n.refusal(refused.value, "zh").startswith(f"名单条目 #{entry}（“守信激励对象名单（红名单）”）不能公示：")
    assert OVERDUE_ZH.format(id=rec) in i18n.refusal(refused.value, "zh")
    with db.session_scope(county) as s:
        e = s.get(ListEntry, entry)
        assert e is not None and (e.status, e.published_on) == ("approved", None)
        # The approved entry is withdrawn too (the unit's decision did not publish it).
        assert list_exits.withdraw_lapsed(s, entry_id=entry, actor="office").status == "withdrawn"


def test_lists_run_withdraws_lapsed_proposals_and_names_lapsed_published_entries(
        county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap.wire()
    (dirty, dirty_entry), (clean, clean_entry), (late, late_entry) = _red_proposal(county, monkeypatch, firms=3)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-28")
    with db.session_scope(county) as s:
        lists.approve(s, entry_id=late_entry, unit="credit", decision_no="县信用办〔2026〕3号", actor="office")
        lists.publish(s, entry_id=late_entry, actor="office")
    rec = _overdue(county, dirty)
    late_rec = _overdue(county, late)  # on the list already when its default came in
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s:
        res = list_criteria.run_criteria(s, actor="office").as_dict()
    assert [(x["entry"], x["why"]) for x in res["withdrawn"]] == [(dirty_entry, "negative_record")]
    assert res["withdrawn"][0]["said_zh"] == OVERDUE_ZH.format(id=rec)
    assert res["withdrawn"][0]["said_en"] == OVERDUE_EN.format(id=rec)
    assert [(x["entry"], x["said_zh"]) for x in res["lapsed_published"]] == [(late_entry,
                                                                              OVERDUE_ZH.format(id=late_rec))]
    with db.session_scope(county) as s:
        status = {i: s.get(ListEntry, i).status for i in (dirty_entry, clean_entry, late_entry)}  # type: ignore[union-attr]
        # published entries stay: taking one off is the identifying unit's decision
        assert status == {dirty_entry: "withdrawn", clean_entry: "notified", late_entry: "published"}
        # the clean firm's proposal goes ahead
        assert lists.approve(s, entry_id=clean_entry, unit="credit", decision_no="县信用办〔2026〕4号",
                             actor="office").status == "approved"
    with db.session_scope(county) as s:  # a second run finds nothing more to withdraw
        again = list_criteria.run_criteria(s, actor="office").as_dict()
        assert again["withdrawn"] == [] and [x["entry"] for x in again["lapsed_published"]] == [late_entry]
    # A run as of another day proposes by that day's evidence and withdraws nothing.
    with db.session_scope(county) as s:
        past = list_criteria.run_criteria(s, as_of=dt.date(2026, 10, 1), actor="office").as_dict()
        assert past["withdrawn"] == [] and past["lapsed_published"] == []


def test_a_lower_grade_and_a_revoked_record_stop_the_procedure(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap.wire()
    [(firm, entry)] = _red_proposal(county, monkeypatch)
    with db.session_scope(county) as s:
        debtor = make_subject(s)
        rec = add_record(s, debtor, "court.dishonest_debtor", occurred_on=dt.date(2026, 10, 1), department="court")
        sd = lists.propose(s, list_code="serious-dishonesty", subject_id=debtor.id, criterion="court-dishonest-debtor",
                           record_id=rec.id, actor="court")
        lists.notify(s, entry_id=sd.id, actor="court")
        manual = lists.propose(s, list_code="red", subject_id=make_subject(s).id, criterion="manual",
                               basis="诚信典型", decision_no="县信用办〔2026〕5号", actor="office")
        lists.notify(s, entry_id=manual.id, actor="office")
        sd_id, rec_id, manual_id = sd.id, rec.id, manual.id
        # A newer published run grades the red firm B; the court revokes its record.
        firm_row = s.get(Subject, firm)
        assert firm_row is not None
        add_run(s, MODEL, dt.date(2026, 10, 25), [(firm_row, "B", "green")])
        s.execute(select(CreditRecord).where(CreditRecord.id == rec_id)).scalar_one().status = "revoked"
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-20")
    with db.session_scope(county) as s, pytest.raises(Conflict) as graded:
        lists.approve(s, entry_id=entry, unit="credit", decision_no="县信用办〔2026〕6号", actor="office")
    assert graded.value.params["facts_zh"] == "2026年10月25日的企业公共信用综合评价中评价等级为 B（须为 A）"
    assert graded.value.params["facts_en"] == ("graded B in the Enterprise public credit evaluation of 25 October 2026 "
                                               "(it must be A)")
    with db.session_scope(county) as s, pytest.raises(Conflict) as revoked:
        lists.approve(s, entry_id=sd_id, unit="court", decision_no="县法失惩〔2026〕1号", actor="court")
    assert revoked.value.params["facts_zh"] == f"所依据的记录 #{rec_id}（失信被执行人）现为“已撤销”"
    assert revoked.value.params["facts_en"] == (f"the record it rests on (#{rec_id}, Dishonest judgement debtor) "
                                                "is now “Revoked”")
    with db.session_scope(county) as s:  # a manual identification rests on its decision: not re-checked
        assert lists.approve(s, entry_id=manual_id, unit="credit", actor="office").status == "approved"
