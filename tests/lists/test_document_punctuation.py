"""The list notice (告知书) and decision (认定决定书) in Chinese punctuation and dates
(SQLite and PostgreSQL): their own sentences with ，；：。（）, every date as
2026年10月27日 — in the text kept with the procedure step and in the printed PDF, whatever
the page's language — while the English reading keeps its English dates. A text kept
before (ASCII punctuation, ISO dates) still reads as faithful, and a decision's
officer's note after it is still kept apart. The reviewer's case: "五、救济：对认定决定不服的,
可依法申请行政复议或者提起行政诉讼; …" and a deadline "2026-10-27" beside "2026年10月20日"."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from tests.lists.helpers import add_record, make_subject

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.lists import documents
from creditgov.lists import queries as list_queries
from creditgov.lists import service as lists
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web import i18n

FIRM = "长兴标点测试有限公司"
ASCII_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def decided(county: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """A record-based serious-dishonesty entry notified on 2026-10-20 and decided after."""
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-20")
    with db.session_scope(county) as s:
        firm = make_subject(s, name=FIRM)
        rec = add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 9, 1), department="court")
        e = lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="court-dishonest-debtor",
                          record_id=rec.id)
        lists.notify(s, entry_id=e.id)
        entry_id, due = e.id, e.response_due
    assert due is not None
    monkeypatch.setenv("CREDITGOV_TODAY", (due + dt.timedelta(days=1)).isoformat())
    with db.session_scope(county) as s:
        lists.approve(s, entry_id=entry_id, unit="court", decision_no="县法失惩〔2026〕9号", publication_months=24)
    return county, entry_id


def _notes(url: str, entry_id: int) -> dict[str, str]:
    with db.session_scope(url) as s:
        return {step: note for step, note in s.execute(select(ListEntryEvent.step, ListEntryEvent.note)
                                                       .where(ListEntryEvent.entry_id == entry_id)) if note}


def test_the_kept_texts_use_chinese_punctuation_and_dates(decided: tuple[str, int]) -> None:
    url, entry_id = decided
    notes = _notes(url, entry_id)
    with db.session_scope(url) as s:
        due = s.get(ListEntry, entry_id).response_due  # type: ignore[union-attr]
    notice, decision = notes["notify"], notes["approve"]
    assert notice.startswith(f"【告知书】{FIRM}（") and "）：拟将您列入《严重失信主体名单》。事实：2026年9月1日 " in notice
    assert f"您有权在{due.year}年{due.month}月{due.day}日前（含当日）提出陈述申辩（" in notice and notice.endswith("）。")
    assert "。依据：" in notice and "。认定单位：人民法院。" in notice
    assert decision.startswith("【认定决定书 县法失惩〔2026〕9号】人民法院决定将" + FIRM + "（")
    assert "当事人未在期限内陈述申辩。公示期限：自公示之日起 24 个月（本案在 12–36 个月范围内确定）。移出：" in decision
    assert decision.endswith(documents.REMEDIES)
    assert documents.REMEDIES == "对认定决定不服的，可依法申请行政复议或者提起行政诉讼；符合条件的，可依法申请信用修复。"
    for text in (notice, decision):
        assert not ASCII_DATE.search(text), text            # every date the Chinese way
        for mine in ("事实: ", "依据: ", ". 依据", "前(含当日)", "; 法定代表人", "陈述申辩: "):
            assert mine not in text, (mine, text)


def test_the_printed_list_documents_read_so_in_either_language(decided: tuple[str, int], tmp_path: Path) -> None:
    url, entry_id = decided
    key = tmp_path / "punct.key"
    create_key_file(key)
    with db.session_scope(url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        due = s.get(ListEntry, entry_id).response_due  # type: ignore[union-attr]
    c = TestClient(create_app(url, key), base_url="https://testserver")
    for lang in ("zh", "en"):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        for kind in ("notice", "decision"):
            r = c.get("/documents/lists.pdf", params={"list": "serious-dishonesty", "kind": kind}, headers=head)
            assert r.status_code == 200, r.text
            text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(r.content)).pages))
            assert "救济：对认定决定不服的，可依法申请行政复议或者提起行政诉讼；符合条件的，可依法申请信用修复。" in text
            assert "一、事实：2026年9月1日失信被执行人（人民法院，文书" in text
            if kind == "notice":
                assert f"有权在{due.year}年{due.month}月{due.day}日（含当日）前" in text
            assert not ASCII_DATE.search(text.replace("WS2026", "")), (lang, kind)


LEGACY_REMEDIES = "对认定决定不服的, 可依法申请行政复议或者提起行政诉讼; 符合条件的, 可依法申请信用修复."


def _legacy_facts(doc: dict[str, Any], day: str) -> str:
    """The facts as kept before: "2026-09-01 item (unit, 文书 N): text; basis"."""
    head, _, basis = doc["facts"].partition("；")
    what, _, rest = head.partition("（")
    unit_doc, _, told = rest.partition("）")
    what = what.split(" ", 1)[1]
    return f"{day} {what} ({unit_doc.replace('，', ', ')}){(': ' + told[1:]) if told else ''}; {basis}"


def _legacy_notice(doc: dict[str, Any], facts: str) -> str:
    """The notice as kept before (ASCII punctuation, ISO dates), word for word."""
    p = doc["party"]
    rep = f"; 法定代表人(负责人) {p['legal_representative']}" if p["legal_representative"] else ""
    return (f"【告知书】{p['name']} ({p['code'] or '—'}){rep}: 拟将您列入《{doc['list']}》. "
            f"事实: {facts}. 依据: {doc['basis']}. 认定单位: {doc['identifying_unit']}. "
            f"您有权在 {doc['deadline']} 前(含当日)提出陈述申辩（{doc['window']['days']}个工作日）.")


def _legacy_decision(doc: dict[str, Any], facts: str) -> str:
    """The decision as kept before, word for word."""
    p = doc["party"]
    rep = f"; 法定代表人(负责人) {p['legal_representative']}" if p["legal_representative"] else ""
    heard = f" 当事人陈述申辩: {doc['representation']}." if doc["representation"] else " 当事人未在期限内陈述申辩."
    rng = doc["publication_range"]
    period = (f" 公示期限: 自公示之日起 {doc['publication_months']} 个月"
              + (f" (本案在 {rng['min_months']}–{rng['max_months']} 个月范围内确定)" if rng else "") + "."
              if doc["publication_months"] else " 不设公示期限.")
    return (f"【认定决定书 {doc['decision_no'] or '—'}】{doc['identifying_unit']} 决定将 {p['name']} "
            f"({p['code'] or '—'}){rep} 列入《{doc['list']}》. 事实: {facts}. 依据: {doc['basis']}."
            f"{heard}{period} 移出: {'; '.join(doc['exit'])}. {LEGACY_REMEDIES}")


def test_a_text_kept_before_still_reads_as_faithful(decided: tuple[str, int]) -> None:
    url, entry_id = decided
    with db.session_scope(url) as s:
        e = s.get(ListEntry, entry_id)
        assert e is not None
        d = list_queries.definition(s, e.list_code)
        notice_doc = documents.notice(s, e, d)
        facts = _legacy_facts(notice_doc, "2026-09-01")
        assert facts.startswith("2026-09-01 ") and " (人民法院, 文书 " in facts
        legacy = _legacy_notice(notice_doc, facts)
        legacy_decision = _legacy_decision(documents.decision(s, e, d, e.publication_months), facts) \
            + "\n合议庭意见：维持认定"
        for ev in s.execute(select(ListEntryEvent).where(ListEntryEvent.entry_id == entry_id)).scalars():
            ev.note = {"notify": legacy, "approve": legacy_decision}.get(ev.step, ev.note)
    with db.session_scope(url) as s:
        e = s.get(ListEntry, entry_id)
        assert e is not None
        d = list_queries.definition(s, e.list_code)
        notice = documents.reading(s, e, d, "notify", legacy, "en")
        decision = documents.reading(s, e, d, "approve", legacy_decision, "en")
        changed = documents.reading(s, e, d, "notify", legacy.replace(FIRM, "另一家公司"), "en")
    assert notice is not None and notice["faithful"] and notice["sent"] == legacy
    assert notice["text"].startswith("[Notice]") and "2026-09-01" in notice["text"]   # English keeps its dates
    assert decision is not None and decision["faithful"] and decision["text"].endswith("\n合议庭意见：维持认定")
    assert changed is not None and not changed["faithful"]                          # changed data still said
