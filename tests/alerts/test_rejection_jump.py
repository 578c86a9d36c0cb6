"""The rejection-jump rule (issue 19: "alerts when a source is late or its rejection rate
jumps"): a file whose rejection rate jumps well above its source's own recent rate raises
one alert to the supplying department and the credit office, saying so in words in both
languages with the figures rounded; a source that is always as dirty, a first file and a
small jump raise nothing. The demo county, with its earlier deliveries ingested on their
days, shows on the data-quality page a late source and the court's rejection spike, with
the alert linked beside it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.alerts import rules
from creditgov.alerts import service as alerts
from creditgov.alerts.models import Alert
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.quality import service as quality
from creditgov.security import users
from creditgov.security.crypto import KeyRing
from creditgov.web import i18n
from tests.alerts.demo import Demo
from tests.alerts.test_source_rules import _batch, _cli, _recipients

JUMP = "source-rejection-jump"
FIGURES = {"factor": Decimal(3), "min_increase": Decimal("0.05"), "history": 6, "min_history": 2, "min_rows": 20}


def test_the_measure_holds_each_source_to_its_own_past() -> None:
    j = quality.rejection_jump(120, 30, [(100, 2), (140, 6)], **FIGURES)      # 25% after 8 of 240
    assert j is not None
    assert (j["rate"], j["recent_rate"], j["ratio"], j["history"]) == (0.25, 0.0333, 7.5, 2)
    assert j["words"]["zh"] == "拒收率 25%，是此前 2 批文件拒收率（3.3%）的 7.5 倍"
    assert j["words"]["en"] == "rejection rate 25%, 7.5 times the source's recent rate of 3.3% over its previous 2 files"
    clean = quality.rejection_jump(50, 4, [(50, 0), (50, 0)], **FIGURES)
    assert clean is not None and clean["ratio"] is None and "had none rejected" in clean["words"]["en"]
    assert quality.rejection_jump(100, 12, [(100, 12), (100, 11)], **FIGURES) is None   # always this dirty
    assert quality.rejection_jump(100, 4, [(100, 0), (100, 1)], **FIGURES) is None      # 4× but 3.5 points
    assert quality.rejection_jump(100, 30, [(100, 1)], **FIGURES) is None               # one file is no past
    assert quality.rejection_jump(19, 19, [(100, 0), (100, 0)], **FIGURES) is None      # too small to judge
    # Only the last `history` files with rows count, pooled by their rows.
    assert quality.rejection_jump(100, 30, [(100, 90), (0, 0), *[(100, 1)] * 6], **FIGURES)["recent_rate"] == 0.01


def _jumps(url: str) -> list[Alert]:
    with db.session_scope(url) as s:
        out = list(s.execute(select(Alert).where(Alert.rule_code == JUMP).order_by(Alert.id)).scalars())
        for a in out:
            s.expunge(a)
        return out


def test_a_jump_raises_one_alert_in_words_in_both_languages(store: str, keyring: KeyRing, tmp_path: Path) -> None:
    url = store
    d = dt.date
    with db.session_scope(url) as s:
        alerts.load_rules(s, actor="test")
        for day in (d(2026, 7, 29), d(2026, 8, 29), d(2026, 9, 29)):
            _batch(s, "court_cases", day, 100, 2)                 # 2% each time
        spike = _batch(s, "court_cases", d(2026, 10, 29), 120, 30).id   # 25%
        for day in (d(2026, 8, 5), d(2026, 9, 5), d(2026, 10, 5), d(2026, 10, 28)):
            _batch(s, "tax_grades", day, 100, 14)                 # always 14%: over the line, no jump
    out = rules.evaluate(url)
    [jump] = _jumps(url)
    assert jump.title == "拒收率突增：人民法院 执行信息" and jump.severity == "medium" and jump.subject_id is None
    assert "共 120 行，其中 30 行未通过校验被拒收，拒收率 25%，是此前 3 批文件拒收率（2%）的 12.5 倍" in jump.body
    assert "超过此前拒收率的 3 倍且至少高出 5 个百分点" in jump.body
    assert "主体未登记 30 行" in jump.body and "请人民法院核对统一社会信用代码或身份证号" in jump.body
    assert jump.dedup_key == f"{JUMP}:court_cases:2026-10"
    [ev] = jump.evidence
    assert (ev["source"], ev["batch"], ev["rejected"], ev["recent_rate"], ev["history"]) == \
        ("court_cases", spike, 30, "2%", 3)
    assert ev["summary_en"] == ("The file court_cases_20261029.csv from People's Court: credit records received on 2026-10-29 "
                                "had 30 of 120 rows rejected: rejection rate 25%, 12.5 times the source's recent "
                                "rate of 2% over its previous 3 files.")
    assert ev["summary_zh"].endswith("拒收率 25%，是此前 3 批文件拒收率（2%）的 12.5 倍。")
    assert _recipients(url, jump.id) == {("inbox", "department:court"), ("inbox", "department:credit")}
    # The steady source crosses the fixed line (its own rule) but did not jump.
    with db.session_scope(url) as s:
        fixed = s.execute(select(func.count()).select_from(Alert).where(Alert.rule_code == "source-rejection-rate")
                          ).scalar()
    assert out.raised == 1 + fixed and fixed >= 1
    assert (rules.evaluate(url, thorough=True).raised, len(_jumps(url))) == (0, 1)    # once per file
    # In English the alert's page says it in English above the message as sent.
    with db.session_scope(url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(url, tmp_path / "test.key"), base_url="https://testserver")   # the keyring's file
    c.cookies.set(i18n.LANG_COOKIE, "en")
    page = c.get(f"/alerts/{jump.id}", headers=head)
    assert page.status_code == 200 and "Rejection rate jump" in page.text
    assert "12.5 times the source&#39;s recent rate of 2% over its previous 3 files." in page.text
    c.cookies.set(i18n.LANG_COOKIE, "zh")
    assert 'data-testid="alert-summary"' not in c.get(f"/alerts/{jump.id}", headers=head).text


@pytest.mark.parametrize(("change", "error"), [
    ({"min_history": 7}, "cannot exceed history"),
    ({"min_increase": 1.5}, "min_increase"),
    ({"factor": 1}, "factor"),
    ({"recipients": [{"who": "bank"}]}, "no 'bank' to tell"),
])
def test_the_rule_is_checked_on_load(tmp_path: Path, change: dict, error: str) -> None:
    rule = {"code": "t-jump", "kind": "rejection_jump", "name_zh": "测试", "severity": "low", "citation": "测试口径",
            "factor": 3, "min_increase": 0.05, "recipients": [{"who": "department"}], **change}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"version": "t", "citation": "测试", "rules": [rule]}, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=error):
        alerts.read_rules(path)


def test_the_demo_county_shows_a_late_source_and_a_rejection_spike(demo_store: Demo,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """As `make demo` runs it: the earlier deliveries each on its day, then the scan."""
    for day in sorted(p.name for p in (demo_store.folder / "deliveries").iterdir()):
        monkeypatch.setenv("CREDITGOV_TODAY", day)
        _cli(demo_store, "ingest", str(demo_store.folder / "deliveries" / day), "--json")
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    _cli(demo_store, "alerts", "scan", "--json")
    with db.session_scope(demo_store.url) as s:
        files = list(s.execute(select(Batch.file_name, Batch.read, Batch.rejected, Batch.id).where(
            Batch.source == "court_lawsuits_monthly").order_by(Batch.started_at)).tuples())
        assert [r[1:3] for r in files[:2]] == [(24, 1), (24, 1)]            # one stranger a month
        last = files[-1]
        assert len(files) == 3 and last[2] == 7                            # then three in ten
        reasons = {quality.reason_code(r) for r in s.execute(select(QuarantinedRow.reason).where(
            QuarantinedRow.batch_id == last[3])).scalars()}
        assert reasons == {"unregistered", "bad_identifier"}               # quarantined with reasons
    [jump] = _jumps(demo_store.url)
    assert jump.evidence[0]["batch"] == last[3]
    assert "拒收率 29.2%，是此前 2 批文件拒收率（4.2%）的 7.0 倍" in jump.body
    assert "rejection rate 29.2%, 7.0 times the source's recent rate of 4.2%" in jump.evidence[0]["summary_en"]
    assert _recipients(demo_store.url, jump.id) == {("inbox", "department:court"), ("inbox", "department:credit")}
    with db.session_scope(demo_store.url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(demo_store.url, demo_store.key), base_url="https://testserver")
    for lang, late, spike in (("zh", "迟报", "拒收率突增"), ("en", "Late", "Rejection spike")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/quality", headers=head)
        assert page.status_code == 200
        row = page.text.split('data-source="grid_disputes_monthly"', 1)[1].split("</tr>", 1)[0]
        assert f'data-testid="late">{late}<' in row
        row = page.text.split('data-source="court_lawsuits_monthly"', 1)[1].split("</tr>", 1)[0]
        assert 'data-testid="rejection-spike"' in row and f">{spike}</strong>" in row
        assert f'href="/alerts/{jump.id}"' in row and f'data-rule="{JUMP}"' in row
        assert ("最近文件 29.2% · 此前 4.2%" if lang == "zh" else "Last file 29.2% · before 4.2%") in row
    data = c.get("/quality.json", headers=head).json()["sources"]
    grid = next(r for r in data if r["source"] == "grid_disputes_monthly")
    court = next(r for r in data if r["source"] == "court_lawsuits_monthly")
    assert grid["late"] and not grid["rejection_spike"]
    assert court["rejection_spike"]["rate"] == 0.2917 and court["rejection_spike"]["recent_rate"] == 0.0417
    assert court["rejection_spike"]["words"]["en"].startswith("rejection rate 29.2%, 7.0 times")
    assert court["last_file_rejection_rate"] == 0.2917 and not court["late"]
    assert JUMP in {a["rule"] for a in court["alerts"]}
    assert next(a for a in court["alerts"] if a["rule"] == JUMP)["labels"]["rule"]["en"] == "Rejection rate jump"
