"""Data-quality warning rules (issue 19): a late source, a file whose volume jumps and a
file with too many rows rejected each raise one alert to the department that supplies
the source and to the credit office's desk, in plain words with the figures; a re-scan
raises nothing more, a repeat in the same period folds into the open alert, a healthy
source raises nothing (SQLite and PostgreSQL). The demo county, with its earlier
deliveries ingested on their days, shows a late source and a volume spike, linked from
the data-quality page."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from creditgov.alerts import queries as alert_queries
from creditgov.alerts import rules, source_rules
from creditgov.alerts import service as alerts
from creditgov.alerts.models import Alert
from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.core.errors import ConfigError
from creditgov.ingest.models import Batch, QuarantinedRow, SpecVersion
from creditgov.security import users
from creditgov.web import i18n
from tests.alerts.demo import Demo

TITLES = {"tax_grades": "税务局 纳税信用等级", "grid_reports": "社区网格办 调解月报",
          "utility_bills": "供水供电公司 水电缴费记录", "court_cases": "人民法院 执行信息"}
DEPARTMENTS = {"tax_grades": "tax", "grid_reports": "grid", "utility_bills": "utility", "court_cases": "court"}
QUALITY_RULES = ("source-late", "source-volume-change", "source-rejection-rate")


def _batch(s: Session, source: str, day: dt.date, read: int, rejected: int = 0) -> Batch:
    """A file batch of `source` received on `day` (10:00 in China), as ingestion writes one."""
    text = yaml.safe_dump({"name": source, "version": "1", "title": TITLES[source], "department": DEPARTMENTS[source],
                           "kind": "records"}, allow_unicode=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    sv = s.execute(select(SpecVersion).where(SpecVersion.name == source)).scalar_one_or_none()
    if sv is None:
        sv = SpecVersion(name=source, version="1", spec_hash=digest, text=text, registered_at=clock.now())
        s.add(sv)
        s.flush()
    b = Batch(source=source, spec_version_id=sv.id, file_name=f"{source}_{day:%Y%m%d}.csv", kind="file",
              started_at=dt.datetime.combine(day, dt.time(2, 0)), finished_at=dt.datetime.combine(day, dt.time(2, 1)),
              actor="test", read=read, accepted=read - rejected, rejected=rejected)
    s.add(b)
    s.flush()
    for n in range(rejected):
        s.add(QuarantinedRow(batch_id=b.id, source=source, file_name=b.file_name, line_no=n + 2, raw="{}",
                             raw_hash=f"{b.id:08d}{n:08d}", reason="subject not registered: credit code 91330127",
                             status="open", created_at=clock.now()))
    s.flush()
    return b


def _quality_alerts(url: str) -> dict[str, list[Alert]]:
    with db.session_scope(url) as s:
        out: dict[str, list[Alert]] = {}
        for a in s.execute(select(Alert).where(Alert.rule_code.in_(QUALITY_RULES)).order_by(Alert.id)).scalars():
            s.expunge(a)
            out.setdefault(a.evidence[0]["source"], []).append(a)
        return out


def _recipients(url: str, alert_id: int) -> set[tuple[str, str]]:
    with db.session_scope(url) as s:
        return {(n.channel, n.recipient) for n in alert_queries.notifications_of(s, alert_id)}


def test_each_condition_raises_one_alert_to_the_department_and_the_office(store: str) -> None:
    url = store
    d = dt.date
    with db.session_scope(url) as s:
        alerts.load_rules(s, actor="test")
        for day in (d(2026, 7, 5), d(2026, 8, 5), d(2026, 9, 5), d(2026, 10, 5), d(2026, 10, 28)):
            _batch(s, "tax_grades", day, 100, 2)             # healthy: monthly, steady, 2% rejected
        for day in (d(2026, 8, 3), d(2026, 9, 2)):
            _batch(s, "grid_reports", day, 50)               # nothing since 2 September: late
        for day, n in ((d(2026, 8, 1), 100), (d(2026, 9, 1), 110), (d(2026, 10, 1), 90), (d(2026, 10, 30), 1200)):
            _batch(s, "utility_bills", day, n)               # twelve times the median of the three before
        dirty = _batch(s, "court_cases", d(2026, 10, 29), 200, 60).id   # 30% rejected
    out = rules.evaluate(url)
    assert out.raised == 3
    found = _quality_alerts(url)
    assert set(found) == {"grid_reports", "utility_bills", "court_cases"}     # the healthy source: nothing
    [late], [spike], [rejected] = found["grid_reports"], found["utility_bills"], found["court_cases"]
    assert (late.rule_code, late.subject_id, late.severity) == ("source-late", None, "medium")
    assert late.title == "数据源迟报：社区网格办 调解月报"
    assert "已有60天没有报送新数据" in late.body and "最近一次：2026-09-02" in late.body
    assert "按每31天计" in late.body and "请社区网格办尽快报送本期数据" in late.body
    assert late.dedup_key == "source-late:grid_reports:2026-10-03"
    assert spike.rule_code == "source-volume-change" and spike.title == "数据量异常波动：供水供电公司 水电缴费记录"
    assert "共 1,200 行" in spike.body and "中位数（100 行）的 12.0 倍" in spike.body and "重复报送" in spike.body
    assert spike.dedup_key == "source-volume-change:utility_bills:2026-10"
    assert rejected.rule_code == "source-rejection-rate" and "拒收率 30%（预警线 10%）" in rejected.body
    assert "主体未登记 60 行" in rejected.body and "请人民法院核对统一社会信用代码或身份证号" in rejected.body
    assert rejected.evidence[0]["batch"] == dirty
    for a, dept in ((late, "grid"), (spike, "utility"), (rejected, "court")):
        assert _recipients(url, a.id) == {("inbox", f"department:{dept}"), ("inbox", "department:credit")}
    # A re-scan (even a thorough one) raises nothing and repeats nothing.
    again = rules.evaluate(url, thorough=True)
    assert (again.raised, again.repeated) == (0, 0)
    assert {k: [(a.id, a.occurrences) for a in v] for k, v in _quality_alerts(url).items()} == \
        {k: [(a.id, 1)] for k, [a] in found.items()}
    with db.session_scope(url) as s:   # paced: nothing new, same day, so the hot loop's pass only looks
        assert source_rules.scan(s).examined == 0
        _batch(s, "court_cases", d(2026, 10, 31), 100, 50)    # another dirty file in the same month
    folded = rules.evaluate(url)
    assert (folded.raised, folded.repeated) == (0, 1)
    [rejected2] = _quality_alerts(url)["court_cases"]
    assert rejected2.id == rejected.id and rejected2.occurrences == 2
    assert len(_recipients(url, rejected.id)) == 2                   # nobody was told twice


def test_a_late_source_is_one_alert_per_silence(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = store
    with db.session_scope(url) as s:
        alerts.load_rules(s, actor="test")
        _batch(s, "grid_reports", dt.date(2026, 10, 1), 50)
    assert rules.evaluate(url, thorough=True).raised == 0             # 31 days: due today, not late yet
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-02")
    assert rules.evaluate(url).raised == 1                            # the day changed: judged, and late
    for day in ("2026-11-09", "2026-12-20"):                          # still silent: the same alert
        monkeypatch.setenv("CREDITGOV_TODAY", day)
        assert rules.evaluate(url, thorough=True).raised == 0
    with db.session_scope(url) as s:
        _batch(s, "grid_reports", dt.date(2026, 12, 21), 50)
    monkeypatch.setenv("CREDITGOV_TODAY", "2027-01-25")                # silent again after the new file
    assert rules.evaluate(url).raised == 1
    late = _quality_alerts(url)["grid_reports"]
    assert [a.evidence[0]["key"].rsplit(":", 1)[0] for a in late] == ["late:grid_reports"] * 2
    assert late[0].dedup_key != late[1].dedup_key


def test_a_late_source_alert_closes_itself_when_the_file_arrives(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = store
    with db.session_scope(url) as s:
        alerts.load_rules(s, actor="test")
        _batch(s, "grid_reports", dt.date(2026, 9, 2), 50)
        _batch(s, "tax_grades", dt.date(2026, 9, 2), 50)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-02")
    assert rules.evaluate(url).raised == 2                            # both sources late
    found = _quality_alerts(url)
    [grid], [tax] = found["grid_reports"], found["tax_grades"]
    with db.session_scope(url) as s:
        alerts.acknowledge(s, alert_id=grid.id, note="催报中", actor="officer")
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-03")
    assert rules.evaluate(url, thorough=True).raised == 0
    assert {a.status for v in _quality_alerts(url).values() for a in v} == {"open", "acknowledged"}
    with db.session_scope(url) as s:
        arrived = _batch(s, "grid_reports", dt.date(2026, 11, 3), 50).id   # the late file comes in
    assert rules.evaluate(url).raised == 0                            # a new batch: the next pass judges
    found = _quality_alerts(url)
    [grid], [tax] = found["grid_reports"], found["tax_grades"]
    assert (grid.status, grid.resolved_by) == ("resolved", "rule:source-late")
    assert tax.status == "open"                                       # still silent: stays open
    with db.session_scope(url) as s:
        events = [(e.action, e.actor, e.note) for e in alert_queries.events_of(s, grid.id)]
        assert events[-1][:2] == ("resolved", "rule:source-late")
        assert "grid_reports_20261103.csv" in events[-1][2] and f"批次 {arrived}" in events[-1][2]
        assert "自动关闭" in (grid.resolution or "")
    assert rules.evaluate(url, thorough=True).raised == 0             # closing is once; nothing re-raised
    with db.session_scope(url) as s:
        assert len(alert_queries.events_of(s, grid.id)) == len(events)


@pytest.mark.parametrize(("change", "error"), [
    ({"recipients": [{"who": "grid_worker"}]}, "no 'grid_worker' to tell"),
    ({"subject_kinds": ["enterprise"]}, "takes no subject_kinds"),
    ({"kind": "volume_change", "factor": 3, "history": 2, "min_history": 3}, "cannot exceed history"),
    ({"kind": "rejection_rate", "threshold": 1.5}, "threshold"),
    ({"kind": "source_late", "interval_days": {"Bad Name": 7}}, "not a source name"),
])
def test_rules_about_sources_are_checked_on_load(tmp_path: Path, change: dict, error: str) -> None:
    rule = {"code": "t-quality", "kind": "source_late", "name_zh": "测试", "severity": "low", "citation": "测试口径",
            "recipients": [{"who": "department"}], **change}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"version": "t", "citation": "测试", "rules": [rule]}, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=error):
        alerts.read_rules(path)


def _cli(demo: Demo, *args: str) -> str:
    from creditgov.cli.main import app

    res = CliRunner().invoke(app, ["--db", demo.url, *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_the_demo_county_shows_a_late_source_and_a_spike(demo_store: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """As `make demo` runs it: the earlier deliveries each on its day, then the scan."""
    days = sorted(p.name for p in (demo_store.folder / "deliveries").iterdir())
    assert days and days == sorted(days)
    for day in days:
        monkeypatch.setenv("CREDITGOV_TODAY", day)
        _cli(demo_store, "ingest", str(demo_store.folder / "deliveries" / day), "--json")
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    _cli(demo_store, "alerts", "scan", "--json")
    found = _quality_alerts(demo_store.url)
    [late] = found["grid_disputes_monthly"]
    [spike] = found["utility_bills_firms"]
    assert late.rule_code == "source-late" and "社区网格办 矛盾纠纷调解月报" in late.title
    assert spike.rule_code == "source-volume-change" and spike.evidence[0]["direction"] == "spike"
    assert "明显偏多" in spike.body
    assert _recipients(demo_store.url, late.id) == {("inbox", "department:grid"), ("inbox", "department:credit")}
    assert _recipients(demo_store.url, spike.id) == {("inbox", "department:utility"), ("inbox", "department:credit")}
    assert all(a.rule_code != "source-late" for src, v in found.items() if src != "grid_disputes_monthly" for a in v)
    assert '"raised": 0' in _cli(demo_store, "alerts", "scan", "--json")     # a re-scan adds nothing
    with db.session_scope(demo_store.url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(demo_store.url, demo_store.key), base_url="https://testserver")
    for lang, word in (("zh", "迟报"), ("en", "Late")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/quality", headers=head)
        assert page.status_code == 200
        row = page.text.split('data-source="grid_disputes_monthly"', 1)[1].split("</tr>", 1)[0]
        assert f'data-testid="late">{word}<' in row and f'href="/alerts/{late.id}"' in row
        row = page.text.split('data-source="utility_bills_firms"', 1)[1].split("</tr>", 1)[0]
        assert f'href="/alerts/{spike.id}"' in row and 'data-rule="source-volume-change"' in row
    assert "Unusual batch volume" in page.text      # the rule's label in English
    data = c.get("/quality.json", headers=head).json()["sources"]
    grid = next(r for r in data if r["source"] == "grid_disputes_monthly")
    assert grid["late"] and grid["interval_days"] == 31 and [a["id"] for a in grid["alerts"]] == [late.id]
    assert grid["alerts"][0]["labels"]["rule"]["en"] == "Source late"
