"""Warning rules as data, evaluated by the scanners: each kind fires when it should,
only then, and never twice for the same cause."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from creditgov.alerts import queries as alert_queries
from creditgov.alerts import rules
from creditgov.alerts import service as alerts
from creditgov.alerts.models import Alert, ScanCursor
from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.ingest.values import short_hash
from creditgov.lists import service as lists_service
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from tests.alerts.helpers import GRID, MICRO, add_record, add_run, make_regions, make_subject

TODAY = dt.date(2026, 11, 1)


def _setup(url: str) -> dict[str, int]:
    with db.session_scope(url) as s:
        regions = make_regions(s)
        ids = {k: make_subject(s, region=regions[MICRO], name=f"企业{k}").id for k in "abcde"}
        lists_service.load_lists(s, actor="test")
        alerts.load_rules(s, actor="test")
    return ids


def _alerts(url: str, rule: str | None = None) -> list[Alert]:
    with db.session_scope(url) as s:
        q = select(Alert).order_by(Alert.id)
        if rule:
            q = q.where(Alert.rule_code == rule)
        rows = list(s.execute(q).scalars())
        for r in rows:
            s.expunge(r)
        return rows


def test_new_record_rule_fires_once_for_fresh_news_only(sqlite_store: str) -> None:
    url = sqlite_store
    ids = _setup(url)
    with db.session_scope(url) as s:
        from creditgov.subjects.models import Subject

        a = s.get(Subject, ids["a"])
        fresh = add_record(s, a, "court.dishonest_debtor", on=TODAY - dt.timedelta(days=5))
        add_record(s, s.get(Subject, ids["b"]), "court.dishonest_debtor", on=TODAY - dt.timedelta(days=400))
        add_record(s, s.get(Subject, ids["c"]), "market.complaint", on=TODAY)  # no rule on a single complaint
    out = rules.evaluate(url)
    assert out.raised == 1
    [alert] = _alerts(url)
    assert (alert.rule_code, alert.subject_id, alert.severity) == ("court-dishonest-debtor", ids["a"], "high")
    assert alert.title == "新增失信被执行人：企业a" and "失信被执行人" in alert.body and fresh.document_no in alert.body
    assert rules.evaluate(url).raised == 0  # the cursor moved on
    # A correction of the same record (a new version, same natural key) is not news.
    with db.session_scope(url) as s:
        old = s.get(CreditRecord, fresh.id)
        s.execute(update(CreditRecord).where(CreditRecord.id == fresh.id).values(is_current=False))
        s.add(CreditRecord(**{c.name: getattr(old, c.name) for c in CreditRecord.__table__.columns
                              if c.name not in ("id", "version", "is_current", "content_hash", "text")},
                           version=2, is_current=True, content_hash=short_hash("v2"), text="更正"))
    assert rules.evaluate(url).raised == 0
    with db.session_scope(url) as s:
        notes = alert_queries.notifications_of(s, alert.id)
        assert {(n.channel, n.recipient) for n in notes} == {("inbox", f"grid:{GRID}"), ("inbox", "department:credit")}


def test_count_and_consecutive_month_rules(sqlite_store: str) -> None:
    url = sqlite_store
    ids = _setup(url)
    from creditgov.subjects.models import Subject

    with db.session_scope(url) as s:
        a, b, c = (s.get(Subject, ids[k]) for k in "abc")
        add_record(s, a, "court.judgement", on=TODAY - dt.timedelta(days=200))
        add_record(s, a, "court.judgement", on=TODAY - dt.timedelta(days=100))
        for m in (8, 9, 10):  # three months of arrears in a row
            add_record(s, b, "utility.arrears", on=dt.date(2026, m, 1), department="utility")
        for m in (7, 9, 10):  # a gap in August
            add_record(s, c, "utility.arrears", on=dt.date(2026, m, 1), department="utility")
    rules.evaluate(url)
    assert [x.subject_id for x in _alerts(url, "litigation-count")] == []  # two is not three
    assert [x.subject_id for x in _alerts(url, "utility-arrears-months")] == [ids["b"]]
    with db.session_scope(url) as s:
        add_record(s, s.get(Subject, ids["a"]), "court.judgement", on=TODAY - dt.timedelta(days=3))
    rules.evaluate(url)
    [lit] = _alerts(url, "litigation-count")
    assert lit.subject_id == ids["a"] and "已有3条" in lit.body


def test_run_rules_score_drop_and_grade_change(store: str) -> None:
    url = store  # both databases: the scores are read with the driver's own cursor
    ids = _setup(url)
    from creditgov.subjects.models import Subject

    with db.session_scope(url) as s:
        a, b, c = (s.get(Subject, ids[k]) for k in "abc")
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 1),
                [(a, "90", "A", "green"), (b, "80", "B", "green"), (c, "70", "C", "yellow")])
    rules.evaluate(url)
    assert _alerts(url) == []  # a first run compares with nothing
    with db.session_scope(url) as s:
        a, b, c = (s.get(Subject, ids[k]) for k in "abc")
        add_run(s, "public-credit-enterprise", dt.date(2026, 10, 1),
                [(a, "40", "D", "red"), (b, "79", "B", "green"), (c, "69", "C", "yellow")], published=False)
    rules.evaluate(url)
    assert _alerts(url) == []  # not published: nobody is warned about a draft
    with db.session_scope(url) as s:
        a, b, c = (s.get(Subject, ids[k]) for k in "abc")
        add_run(s, "public-credit-enterprise", dt.date(2026, 11, 1),
                [(a, "60", "D", "red"), (b, "77", "C", "yellow"), (c, "69", "C", "yellow")])
    out = rules.evaluate(url)
    drop = _alerts(url, "enterprise-score-drop")
    grade = _alerts(url, "grade-to-c-or-d")
    assert [x.subject_id for x in drop] == [ids["a"]]  # 90 → 60; b fell 3 only
    assert "由 90.00 降至 60.00" in drop[0].body
    assert sorted(x.subject_id for x in grade) == sorted([ids["a"], ids["b"]])  # c was C already
    assert out.raised == 3
    assert rules.evaluate(url).raised == 0
    with db.session_scope(url) as s:
        a = s.get(Subject, ids["a"])
        add_run(s, "public-credit-enterprise", dt.date(2026, 11, 2), [(a, "45", "D", "red")])
    rules.evaluate(url)
    again = _alerts(url, "enterprise-score-drop")
    assert len(again) == 1 and again[0].occurrences == 2  # folded into the open alert (dedup window)


def test_list_entry_rule(sqlite_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_store
    ids = _setup(url)
    from tests.lists.helpers import publish_manual_entry

    entry = publish_manual_entry(url, monkeypatch, "serious-dishonesty", ids["d"])
    rules.evaluate(url)
    [a] = _alerts(url, "listed-serious-dishonesty")
    assert a.subject_id == ids["d"] and a.severity == "critical" and "严重失信主体名单" in a.body
    assert a.evidence[0]["list_entry"] == entry


def test_rules_watch_only_what_arrives_after_they_are_loaded(sqlite_store: str) -> None:
    url = sqlite_store
    with db.session_scope(url) as s:
        regions = make_regions(s)
        x = make_subject(s, region=regions[MICRO])
        add_record(s, x, "court.dishonest_debtor", on=TODAY)  # before any rule exists
        lists_service.load_lists(s, actor="test")
        alerts.load_rules(s, actor="test")
        pos = s.get(ScanCursor, "records").position
        assert pos == s.execute(select(CreditRecord.id).order_by(CreditRecord.id.desc())).scalars().first()
    assert rules.evaluate(url).raised == 0


def test_disputed_records_do_not_warn(sqlite_store: str) -> None:
    url = sqlite_store
    ids = _setup(url)
    from creditgov.subjects.models import Subject

    with db.session_scope(url) as s:
        rec = add_record(s, s.get(Subject, ids["e"]), "court.dishonest_debtor", on=TODAY)
        records_service.change_status(s, record_id=rec.id, to_status="disputed", reason="异议", actor="test")
    assert rules.evaluate(url).raised == 0


def test_a_bad_rules_file_names_file_line_and_field(sqlite_store: str, tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: '1'\ncitation: test\nrules:\n  - code: x\n    kind: record_count\n"
                   "    name_zh: 测试\n    severity: high\n    citation: cc\n    items: [court.lawsuit]\n"
                   "    threshold: 1\n    window_days: 30\n    recipients: [{who: grid_worker}]\n", encoding="utf-8")
    with db.session_scope(sqlite_store) as s, pytest.raises(ConfigError, match=r"rules.yaml:4: rules.0.record_count.threshold: Input should be greater than or equal to 2"):
        alerts.load_rules(s, path=bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("threshold: 1", "threshold: 2")
                   .replace("court.lawsuit", "court.nope"), encoding="utf-8")
    with db.session_scope(sqlite_store) as s, pytest.raises(ConfigError, match="unknown catalogue item 'court.nope'"):
        alerts.load_rules(s, path=bad)


def test_postgres_rows_committed_out_of_id_order_are_not_missed(pg_store: str) -> None:
    """A long transaction takes an id, a later one commits first and is scanned; the
    earlier id is remembered as a hole and picked up once it commits."""
    url = pg_store
    ids = _setup(url)
    from creditgov.subjects.models import Subject

    slow = db.session_factory(url)()
    try:
        early = add_record(slow, slow.get(Subject, ids["a"]), "court.dishonest_debtor", on=TODAY)  # not committed
        with db.session_scope(url) as s:
            late = add_record(s, s.get(Subject, ids["b"]), "court.dishonest_debtor", on=TODAY)
        assert late.id > early.id
        assert rules.evaluate(url).raised == 1
        with db.session_scope(url) as s:
            holes = s.get(ScanCursor, "records").state["holes"]
            assert any(lo <= early.id <= hi for lo, hi, _ in holes)
        slow.commit()
    finally:
        slow.close()
    assert rules.evaluate(url).raised == 1
    assert sorted(a.subject_id for a in _alerts(url, "court-dishonest-debtor")) == sorted([ids["a"], ids["b"]])
    with db.session_scope(url) as s:
        assert s.get(ScanCursor, "records").state["holes"] == []


def test_every_shipped_rule_is_named_and_cited_in_both_languages() -> None:
    """An alert's English heading is its rule's English name (web/render.alert_heading)
    and its English message's "Basis:" its rule's `citation_en`: a shipped rule without
    them would say them in Chinese on English pages. The Chinese citations use full-width
    punctuation, and no line break of the file puts a space between Chinese words."""
    from creditgov.core import labels

    def han(text: str) -> bool:
        return any("\u3400" <= ch <= "\u9fff" for ch in text)

    shipped = alerts.WARNING_RULES.shipped().rules
    assert len(shipped) >= 17
    for r in shipped:
        assert r.name_en and not han(r.name_en), r.code
        assert labels.label("warning_rule", r.code, "en") == r.name_en
        assert r.citation_en and not han(r.citation_en), r.code
        assert not re.search(r"[():;,]", r.citation), r.citation
        # (a document's number and its section stay apart: 国办发〔2019〕35号 二（五）)
        assert not re.search(r"(?<=[\u3400-\u9fff，；：（）])(?<!号) (?=[\u3400-\u9fff，；：（）])", r.citation), r.citation
    figures = {r.code: r.citation_en for r in shipped}  # the county's own thresholds, figures unchanged
    assert "a drop of 10 points between two evaluations (on a 100-point scale)" in figures["enterprise-score-drop"]
    assert "a drop of 60 points between two evaluations (on a 950-point scale)" in figures["resident-score-drop"]
    assert "more than 3 times the combined rejection rate of the source's previous 6 files and at least 5 " \
           "percentage points above it (at least 20 rows, at least 2 earlier batches)" in figures["source-rejection-jump"]
    assert "(Guobanfa [2019] No. 35), II(5)" in figures["court-dishonest-debtor"]
