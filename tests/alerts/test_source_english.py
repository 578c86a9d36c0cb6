"""The data-quality warnings in English (SQLite and PostgreSQL): a late source, a volume
jump and a file with too many rows rejected are raised with their message in English
too — the source and the department by their English names, the interval, the change,
the reasons and the advice in English — kept with each notification and said on the
English inbox; their evidence names the source and its file in the reader's language,
linked to the data-quality page for the office and to the file's batch for the
department that sent it."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from creditgov.alerts import outbox, rules
from creditgov.alerts import service as alerts
from creditgov.alerts.access import alert_detail, inbox_view
from creditgov.alerts.inbox import inbox_of
from creditgov.alerts.models import Alert
from creditgov.core import db
from creditgov.security.scopes import Principal, Role, authorize
from tests.alerts.test_source_rules import QUALITY_RULES, _batch

HAN = re.compile(r"[\u3400-\u9fff]+")


def test_quality_warnings_are_said_in_english(store: str) -> None:
    url, d = store, dt.date
    with db.session_scope(url) as s:
        alerts.load_rules(s, actor="test")
        for day in (d(2026, 8, 3), d(2026, 9, 2)):
            _batch(s, "grid_reports", day, 50)
        for day, n in ((d(2026, 8, 1), 100), (d(2026, 9, 1), 110), (d(2026, 10, 1), 90), (d(2026, 10, 30), 1200)):
            _batch(s, "utility_bills", day, n)
        _batch(s, "court_cases", d(2026, 10, 29), 200, 60)
    assert rules.evaluate(url).raised == 3
    outbox.drain(url)
    with db.session_scope(url) as s:
        found = {a.evidence[0]["source"]: a for a in s.execute(
            select(Alert).where(Alert.rule_code.in_(QUALITY_RULES))).scalars()}
        english = {src: alerts.raised_english(s, a.id) for src, a in found.items()}
        office = authorize(Principal(role=Role.CREDIT_OFFICE, user_id=1, username="office"), "alerts.read")
        said = {lang: alert_detail(s, office, found["court_cases"], lang)["evidence_said"] for lang in ("zh", "en")}
        court = authorize(Principal(role=Role.DEPARTMENT, user_id=3, username="c", department_code="court"),
                          "alerts.read")
        court_said = alert_detail(s, court, found["court_cases"], "en")["evidence_said"]
        grid_desk = Principal(role=Role.DEPARTMENT, user_id=2, username="g", department_code="grid")
        inbox = inbox_view(s, authorize(grid_desk, "inbox.read"), inbox_of(s, ["department:grid"]), "en")
    for src, en in english.items():
        assert en is not None, src
        text = en["title"] + "\n" + en["body"]  # the rule's basis in English too (`citation_en`)
        assert not HAN.search(text), text
        assert "\nBasis: The whole-process data management mechanism" in en["body"] or \
            "\nBasis: Transparent, traceable rules" in en["body"]
    late, spike, rejected = english["grid_reports"]["body"], english["utility_bills"]["body"], english[
        "court_cases"]["body"]
    assert "has sent no new data for 60 days" in late and "every 31 days (the data request agreed no frequency)" in late
    assert "12.0 times the median of the previous 3 files (100 rows), clearly more" in spike
    assert "a rejection rate of 30% (warning line 10%)" in rejected and "Main reasons: Subject not registered: 60 rows." \
        in rejected
    assert "please check their credit codes or ID numbers" in rejected
    # Its evidence: the source by its name and the file, the data-quality page linked for the office.
    batch = found["court_cases"].evidence[0]["batch"]
    assert {k: v for k, v in said["zh"][0].items() if k != "at"} == {"text": f"数据源：人民法院 执行信息（批次 {batch}），文件", "code": "court_cases_20261029.csv",
                             "href": "/quality"}
    assert said["en"][0]["text"].startswith("Source: ") and said["en"][0]["text"].endswith(f" (batch {batch}), file")
    assert not HAN.search(said["en"][0]["text"]) and said["en"][0]["href"] == "/quality"
    # The department, which may not open the data-quality page, is linked to its file's batch.
    assert court_said[0]["href"] == f"/ingest/batches/{batch}" and court_said[0]["text"] == said["en"][0]["text"]
    # The grid office's desk reads its late-source warning in English, under its rule's name.
    [message] = [m for m in inbox["messages"] if m["subject_id"] is None]
    assert message["said"] == english["grid_reports"]["title"] + "\n" + english["grid_reports"]["body"]
    assert message["category"] == "Alert: Source late"
