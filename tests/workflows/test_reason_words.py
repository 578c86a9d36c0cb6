"""An objection's status changes keep their reason as written (the status history's
record) and are said in the page's language: every reason an objection gives a
record's status change — received, decided, review requested, reviewed, withdrawn —
has a known shape, in Chinese without English words and in English; the subject's own
words inside a reason are kept as they were written (hostile text included, for the
page to escape); any other reason is shown as stored."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.lists.pages import part, site
from tests.workflows.helpers import add_record, make_firm, put_on_serious_list

from creditgov import bootstrap
from creditgov.commitments import service as commitments_service
from creditgov.core import db
from creditgov.lists.models import ListEntry
from creditgov.records.models import RecordStatusChange
from creditgov.workflows import flows
from creditgov.workflows.eligibility import record_condition
from creditgov.workflows.objection import (
    REASON_SHAPES,
    file_objection,
    request_review,
    say_reason,
    withdraw_objection,
)
from creditgov.workflows.repair import apply_repair, forward_repair

HOSTILE = "<b>O'Brien</b> “引号” \u202e😀 {0} %s"


def _reasons(url: str, *record_ids: int) -> list[str]:
    with db.session_scope(url) as s:
        return list(s.execute(select(RecordStatusChange.reason).where(RecordStatusChange.record_id.in_(record_ids))
                              .order_by(RecordStatusChange.id)).scalars())


def test_every_reason_an_objection_writes_is_said_in_both_languages(county: str, today) -> None:
    bootstrap.wire()
    today("2026-09-14")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        decided = add_record(s, firm, "market.penalty", published=dt.date(2026, 5, 10))
        withdrawn = add_record(s, firm, "market.penalty", published=dt.date(2026, 5, 11))
        ids = (decided.id, withdrawn.id)
        first = file_objection(s, subject_id=firm.id, record_ids=[decided.id], reason=HOSTILE, actor="user:firm")[0]
        second = file_objection(s, subject_id=firm.id, record_ids=[withdrawn.id], reason="x", actor="user:firm")[0]
    with db.session_scope(county) as s:
        flows.decide_objection(s, objection_id=first.id, outcome="upheld", reason=HOSTILE, department="market")
        withdraw_objection(s, objection_id=second.id, reason="", actor="user:firm")
    with db.session_scope(county) as s:
        request_review(s, objection_id=first.id, reason="复核", actor="user:firm")
    with db.session_scope(county) as s:
        flows.decide_review(s, objection_id=first.id, outcome="deleted", reason="处罚已撤销", unit="credit")
    reasons = _reasons(county, *ids)
    assert len(reasons) == 6, reasons
    for r in reasons:
        assert any(rx.match(r) for rx, _zh, _en in REASON_SHAPES), f"a reason of no known shape: {r!r}"
        zh, en = say_reason(r, "zh"), say_reason(r, "en")
        assert zh != r and en != r
        # Chinese without English words, but for the subject's own words and a filing number
        left = re.sub(r"YY-\d{8}-[0-9a-f]{8}", "", zh.replace(HOSTILE, ""))
        assert not re.search(r"[A-Za-z]{3,}", left), zh
        assert not re.search(r"[\u4e00-\u9fff]", en.replace(HOSTILE, "").replace("处罚已撤销", "").replace("复核", "")), en
    zh = [say_reason(r, "zh") for r in reasons]
    assert zh[0].startswith(f"异议 #{first.id} 已受理（受理编号 YY-")
    assert f"异议 #{first.id} 处理决定：维持——{HOSTILE}" in zh
    assert f"异议 #{second.id} 已撤回：未说明理由" in zh
    assert f"异议 #{first.id} 已申请复核" in zh
    assert f"异议 #{first.id} 复核决定：删除——处罚已撤销" in zh
    en = [say_reason(r, "en") for r in reasons]
    assert f"Objection #{first.id} decided: Upheld — {HOSTILE}" in en
    assert f"Objection #{second.id} withdrawn: no reason given" in en
    assert f"Objection #{first.id} review decided: Deleted — 处罚已撤销" in en


def test_a_repair_and_an_ended_publication_are_said_in_both_languages() -> None:
    """The two other status changes the workflows write (flows.approve_repair,
    flows.end_publications) are said with their department and severity by label."""
    bootstrap.wire()
    repair = "credit repair application 3 approved by market"
    ended = "publication ended on 2026-10-31 (36 months, serious); obligations fulfilled"
    assert say_reason(repair, "zh") == "信用修复申请 #3 经市场监督管理局批准"
    assert say_reason(repair, "en") == "Credit repair application #3 approved by Market Supervision Administration"
    assert say_reason(ended, "zh") == "公示期已于 2026-10-31 届满（36 个月，严重失信），义务已履行"
    assert say_reason(ended, "en") == "Publication ended on 2026-10-31 (36 months, Serious); obligations fulfilled"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_other_reasons_are_shown_as_stored(lang: str) -> None:
    bootstrap.wire()
    for r in (HOSTILE, "credit repair application x approved by market", "", "objection x received (y)"):
        assert say_reason(r, lang) == r
    assert say_reason(None, lang) == ""


def test_the_list_exits_a_repair_and_an_objection_make_read_in_the_pages_language(county: str, today,
                                                                                   tmp_path: Path) -> None:
    """The reasons the lists keep when a repair or a deleting objection takes an entry off
    (written by `flows`) are said on the entry's page in its language."""
    bootstrap.wire()
    today("2026-03-02")
    with db.session_scope(county) as s:
        repaired_firm, deleted_firm = make_firm(s), make_firm(s)
        repaired = add_record(s, repaired_firm, "market.penalty_serious", published=dt.date(2025, 3, 1))
        deleted = add_record(s, deleted_firm, "market.penalty_serious", published=dt.date(2025, 3, 2))
        ids = (repaired_firm.id, repaired.id, deleted_firm.id, deleted.id)
    first = put_on_serious_list(county, today, ids[0], ids[1], "2026-03-02")
    second = put_on_serious_list(county, today, ids[2], ids[3], "2026-03-02")
    today("2026-09-18")
    with db.session_scope(county) as s:
        record_condition(s, kind="obligations-fulfilled", subject_id=ids[0], record_id=ids[1], department="market",
                         note="罚款已缴清")
        commitments_service.sign(s, subject_id=ids[0], template_code="credit-repair", signed_by="法定代表人")
        application = apply_repair(s, subject_id=ids[0], record_id=ids[1], applicant="法定代表人").id
        objection = file_objection(s, subject_id=ids[2], record_ids=[ids[3]], reason="处罚已撤销", actor="user:firm")[0].id
    today("2026-09-30")
    with db.session_scope(county) as s:
        forward_repair(s, application_id=application, unit="credit")
        flows.decide_objection(s, objection_id=objection, outcome="deleted", reason=HOSTILE, department="market")
    today("2026-10-08")
    with db.session_scope(county) as s:
        flows.approve_repair(s, application_id=application, department="market")
    with db.session_scope(county) as s:
        exits = {e.id: e.exit_reason for e in s.execute(select(ListEntry).where(ListEntry.id.in_((first, second))))
                 .scalars()}
    assert all(any(rx.match(r or "") for rx, _zh, _en in REASON_SHAPES) for r in exits.values()), exits
    said = {"zh": (f"记录 #{ids[1]} 已修复（信用修复申请 #{application}）", f"异议 #{objection} 处理后记录已删除：{HOSTILE}"),
            "en": (f"Record #{ids[1]} repaired (credit repair application #{application})",
                   f"Record deleted after objection #{objection}: {HOSTILE}")}
    pages = site(county, tmp_path)
    for lang, (repair_words, objection_words) in said.items():
        assert part(pages.get(f"/lists/entries/{first}", lang), "note-exit") == repair_words
        page = pages.get(f"/lists/entries/{second}", lang)
        assert part(page, "note-exit") == " ".join(objection_words.split()) and HOSTILE not in page
