"""A list entry's page in the reader's language (SQLite and PostgreSQL), through the app:
the notice (告知书) and the decision (认定决定书) are kept as sent, in Chinese, and a
Chinese page shows them so; an English page reads them rendered in English from the
entry's data — the list, the facts, the basis, the unit, the exits and the remedies in
English, the subject's and the record's own words as recorded (hostile text escaped) —
with the Chinese original beside them, and says so when the data has changed since the
notice was sent. The stated basis reads in English where it is a criterion's own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.lists.helpers import add_record, make_subject
from tests.lists.pages import HAN, escaped, part, site
from tests.lists.test_lists_upper import HEADER, SPEC

from creditgov.catalog.models import CatalogItem
from creditgov.core import db
from creditgov.lists import documents, exits
from creditgov.lists import queries as list_queries
from creditgov.lists import service as lists
from creditgov.lists import upper as list_upper
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject

HOSTILE = "<b>有履行能力而拒不履行</b> “引号” O'Brien \u202e😀 {0} %s"
FIRM = "长兴示例制衣有限公司"
DECISION_NO = "县法失惩〔2026〕7号"


def _notes(url: str, entry_id: int) -> dict[str, str]:
    with db.session_scope(url) as s:
        return {step: note for step, note in s.execute(
            select(ListEntryEvent.step, ListEntryEvent.note).where(ListEntryEvent.entry_id == entry_id)
            .order_by(ListEntryEvent.id)) if note}


@pytest.fixture
def entry(county: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, int]:
    """A court's record-based serious-dishonesty entry through the whole procedure:
    proposed, notified, decided for 24 months and published."""
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-09-29")
    with db.session_scope(county) as s:
        firm = make_subject(s, name=FIRM)
        rec = add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 9, 1), department="court")
        rec.text = HOSTILE
        e = lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="court-dishonest-debtor",
                          record_id=rec.id)
        lists.notify(s, entry_id=e.id, actor="cli:root")
        entry_id, firm_id, due = e.id, firm.id, e.response_due
    assert due is not None
    monkeypatch.setenv("CREDITGOV_TODAY", (due + dt.timedelta(days=1)).isoformat())
    with db.session_scope(county) as s:
        lists.approve(s, entry_id=entry_id, unit="court", decision_no=DECISION_NO, publication_months=24)
        lists.publish(s, entry_id=entry_id)
    return county, entry_id, firm_id


def test_the_notice_and_decision_read_in_the_pages_language(entry: tuple[str, int, int], tmp_path: Path) -> None:
    url, entry_id, _firm = entry
    sent = _notes(url, entry_id)
    with db.session_scope(url) as s:
        d = list_queries.definition(s, "serious-dishonesty")
        item = s.get(CatalogItem, "court.dishonest_debtor")
        assert item is not None
        item_en = item.name_en
    crit = d.criterion("court-dishonest-debtor")
    assert crit is not None and crit.basis_en and d.legal_basis_en
    # What was sent: the Chinese notice and decision, the list by its Chinese name only.
    assert sent["notify"].startswith(f"【告知书】{FIRM}（") and "《严重失信主体名单》" in sent["notify"]
    assert "Serious-dishonesty" not in sent["notify"] and HOSTILE in sent["notify"]
    assert sent["approve"].startswith(f"【认定决定书 {DECISION_NO}】")
    pages = site(url, tmp_path)

    zh = pages.get(f"/lists/entries/{entry_id}", "zh")
    assert part(zh, "note-notify") == " ".join(sent["notify"].split())
    assert part(zh, "note-approve") == " ".join(sent["approve"].split())
    assert part(zh, "entry-basis") == crit.basis
    assert 'data-testid="sent-notify"' not in zh and "[Notice]" not in zh and "Facts:" not in zh
    assert HOSTILE not in zh and escaped(HOSTILE) in zh

    en = pages.get(f"/lists/entries/{entry_id}", "en")
    notice = part(en, "note-notify")
    assert notice.startswith(f"[Notice] {FIRM} (") and "you are to be placed on the Serious-dishonesty list." in notice
    assert f"Facts: 2026-09-01 {item_en} (People's Court, document T-" in notice
    assert f"{HOSTILE}; {crit.basis_en}." in notice
    assert f"Basis: {d.legal_basis_en}." in notice and "Identifying unit: People's Court." in notice
    assert "(5 working days)" in notice
    decision = part(en, "note-approve")
    assert decision.startswith(f"[Decision {DECISION_NO}] People's Court decides to place {FIRM} (")
    assert "The party made no representation within the time allowed." in decision
    assert "Publication period: 24 months from publication (chosen for this case within 12–36 months)." in decision
    assert "Exit: Removed when the publication period (1 to 3 years) ends" in decision
    assert decision.endswith(documents.REMEDIES_EN)
    for text in (notice, decision):  # English but for the subject's name, the record's words, the number
        assert not HAN.findall(text.replace(FIRM, "").replace(HOSTILE, "").replace(DECISION_NO, "")), text
    assert part(en, "entry-basis") == crit.basis_en
    # The Chinese as sent, beside the reading; the reading made from the same data says nothing more.
    assert part(en, "sent-notify").endswith(" ".join(sent["notify"].split()))
    assert part(en, "sent-approve").endswith(" ".join(sent["approve"].split()))
    assert 'data-testid="reading-changed"' not in en
    assert HOSTILE not in en and escaped(HOSTILE) in en
    assert _notes(url, entry_id) == sent  # reading changed nothing stored


def test_a_notice_whose_data_changed_is_read_with_a_warning(entry: tuple[str, int, int], tmp_path: Path) -> None:
    url, entry_id, firm_id = entry
    sent = _notes(url, entry_id)
    with db.session_scope(url) as s:
        firm = s.get(Subject, firm_id)
        assert firm is not None
        firm.name = "长兴新名称制衣有限公司"
    en = site(url, tmp_path).get(f"/lists/entries/{entry_id}", "en")
    assert "[Notice] 长兴新名称制衣有限公司" in part(en, "note-notify")  # made from the data as it is now
    assert part(en, "reading-changed").startswith("This English is rendered from the entry's data as it is today")
    assert part(en, "sent-notify").endswith(" ".join(sent["notify"].split()))  # what was sent, unchanged
    assert _notes(url, entry_id) == sent


def test_an_officers_own_basis_is_shown_as_written(county: str, tmp_path: Path) -> None:
    with db.session_scope(county) as s:
        firm = make_subject(s)
        e = lists.propose(s, list_code="key-attention", subject_id=firm.id, criterion="manual", basis=HOSTILE,
                          decision_no="T-1")
        entry_id = e.id
    pages = site(county, tmp_path)
    for lang in ("zh", "en"):
        page = pages.get(f"/lists/entries/{entry_id}", lang)
        assert part(page, "entry-basis") == HOSTILE and part(page, "note-propose") == HOSTILE
        assert escaped(HOSTILE) in page and HOSTILE not in page


def test_an_expiry_and_an_upper_platforms_entry_read_in_the_pages_language(
        county: str, tmp_path: Path, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notes the lists write themselves — an entry that left when its period ended
    (`exits.expire`), an upper platform's entry imported from its file and taken off
    without a reason (`upper`) — are said in the page's language."""
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-01")
    with db.session_scope(county) as s:
        firm, other = make_subject(s), make_subject(s)
        e = lists.propose(s, list_code="key-attention", subject_id=firm.id, criterion="manual", basis="测试认定",
                          decision_no="T-2")
        lists.notify(s, entry_id=e.id)
        expired, due, uscc = e.id, e.response_due, str(other.uscc)
    assert due is not None
    monkeypatch.setenv("CREDITGOV_TODAY", (due + dt.timedelta(days=1)).isoformat())
    with db.session_scope(county) as s:
        lists.approve(s, entry_id=expired, unit="credit")
        until = lists.publish(s, entry_id=expired).expires_on
    assert until is not None
    monkeypatch.setenv("CREDITGOV_TODAY", until.isoformat())
    spec, data = tmp_path / "upper.yaml", tmp_path / "浙江下发.csv"
    spec.write_text(SPEC, "utf-8")
    data.write_text(HEADER + f"严重失信主体名单,{uscc},浙发改认〔2026〕1号,拖欠工资,省人社厅,2026-09-01,2029-09-01,2027-10-01\n",
                    "utf-8")
    with db.session_scope(county) as s:
        assert exits.expire(s) == [expired]
        list_upper.import_upper(s, keyring, spec_path=spec, file=data, actor="test")
        upper = s.execute(select(ListEntry.id).where(ListEntry.origin == "upper")).scalar_one()
    said = {"zh": ("公示期届满", "从 xinyong-zhejiang 导入（文件 浙江下发.csv）", "已由 xinyong-zhejiang 移出"),
            "en": ("Publication period ended", "Imported from xinyong-zhejiang (file 浙江下发.csv)",
                   "Removed by xinyong-zhejiang")}
    assert _notes(county, expired)["exit"] == exits.EXPIRY_REASON  # kept as written
    assert _notes(county, upper) == {"import": "from xinyong-zhejiang (浙江下发.csv)",
                                     "exit": "removed by xinyong-zhejiang"}
    pages = site(county, tmp_path)
    for lang, (ended, imported, removed) in said.items():
        assert part(pages.get(f"/lists/entries/{expired}", lang), "note-exit") == ended
        page = pages.get(f"/lists/entries/{upper}", lang)
        assert (part(page, "note-import"), part(page, "note-exit")) == (imported, removed)
