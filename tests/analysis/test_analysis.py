"""Regional analysis on the demo county: the numbers add up to what the store holds,
and the charts are real PNGs with their Chinese text drawn."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from creditgov.alerts import colours
from creditgov.alerts.models import Alert, ColourCode
from creditgov.analysis import charts, service
from creditgov.core import db
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import Score
from creditgov.subjects.models import Region, Subject
from creditgov.supervision import draws as supervision
from tests.alerts.demo import Demo
from tests.supervision.helpers import grade_of, load_roster, publish_run

MODEL = "public-credit-enterprise"


@pytest.fixture
def county(demo_store: Demo) -> Demo:
    url = demo_store.url
    publish_run(url, MODEL, ("enterprise",), as_of=dt.date(2026, 7, 31),
                score_of=lambda k: grade_of(k[::-1]))  # an earlier run with other grades
    publish_run(url, MODEL, ("enterprise",))
    load_roster(url)
    with db.session_scope(url) as s:
        colours.regenerate(s, actor="test")
        supervision.draw(s, policy_name="lindian-enterprise", seed=1, as_of=dt.date(2026, 10, 31))
    return demo_store


def test_distributions_add_up(county: Demo) -> None:
    with db.session_scope(county.url) as s:
        run_id = s.execute(select(func.max(Score.run_id))).scalar_one()
        scored = s.execute(select(func.count()).where(Score.run_id == run_id)).scalar_one()
        g = service.distribution(s, what="grade", by="street", model=MODEL)
        assert g["run_id"] == run_id and g["total"] == scored
        assert set(g["categories"]) == {"A", "B", "C", "D"}
        assert sum(r["total"] for r in g["rows"]) == scored
        assert all(r["name"].endswith(("街道", "镇", "乡", "园区")) for r in g["rows"])
        c = service.distribution(s, what="colour", by="grid")
        assert c["total"] == s.execute(select(func.count(ColourCode.subject_id))).scalar_one()
        assert set(c["categories"]) == {"green", "yellow", "red"}
        a = service.distribution(s, what="alerts", by="street")
        assert a["total"] == s.execute(select(func.count(Alert.id)).where(Alert.subject_id.is_not(None))).scalar_one()
        i = service.distribution(s, what="inspections", by="industry")
        assert i["totals"]["pending"] == i["total"] > 0
        k = service.distribution(s, what="grade", by="kind", model=MODEL)
        assert [r["name"] for r in k["rows"]] == ["企业"]


def test_trend_over_runs(county: Demo) -> None:
    with db.session_scope(county.url) as s:
        tr = service.trend(s, model=MODEL, by="street")
    assert [p["as_of"] for p in tr["runs"]] == ["2026-07-31", "2026-10-31"]
    for p in tr["runs"]:
        assert abs(sum(p["shares"].values()) - 1) < 1e-3 and p["mean_score"] is not None
        assert p["groups"] and all(isinstance(v["mean_score"], float) for v in p["groups"].values())


def test_grid_risk_counts_match_the_records(county: Demo) -> None:
    on = dt.date(2026, 11, 1)
    with db.session_scope(county.url) as s:
        risk = service.grid_risk(s, months=12, on=on)
        top = risk["rows"][0]
        path = s.execute(select(Region.path).where(Region.code == top["grid"])).scalar_one()
        arrears = s.execute(select(func.count(func.distinct(CreditRecord.subject_id)))
                            .join(Subject, Subject.id == CreditRecord.subject_id)
                            .join(Region, Region.id == Subject.region_id)
                            .where(Region.path.startswith(path), CreditRecord.item_code == "utility.arrears",
                                   CreditRecord.is_current.is_(True), CreditRecord.status == "active",
                                   CreditRecord.occurred_on >= dt.date(2025, 11, 1))).scalar_one()
        subjects = s.execute(select(func.count(Subject.id)).join(Region, Region.id == Subject.region_id)
                             .where(Region.path.startswith(path))).scalar_one()
    assert (top["arrears_subjects"], top["subjects"]) == (arrears, subjects)
    assert all(0 <= r["risk_index"] <= 100 for r in risk["rows"])
    assert [r["risk_index"] for r in risk["rows"]] == sorted((r["risk_index"] for r in risk["rows"]), reverse=True)
    assert top["risk_index"] > 0


def test_charts_are_pngs_with_chinese_text(county: Demo, tmp_path: Path) -> None:
    with db.session_scope(county.url) as s:
        dist = service.distribution(s, what="colour", by="street")
        tr = service.trend(s, model=MODEL)
        risk = service.grid_risk(s)
    for p in (charts.distribution_chart(dist, tmp_path / "c.png"), charts.trend_chart(tr, tmp_path / "t.png"),
              charts.risk_chart(risk, tmp_path / "r.png")):
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 15_000


def test_a_font_without_chinese_is_refused(tmp_path: Path) -> None:
    """The glyph check can fail: with a Latin-only font the chart is refused, not boxed."""
    import matplotlib

    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    code = ("from pathlib import Path\nfrom creditgov.analysis import charts\n"
            "from creditgov.core.errors import ConfigError\n"
            "d = {'what': 'colour', 'by': 'street', 'categories': ['red'], "
            "'rows': [{'group': 'x', 'name': '城东街道', 'counts': {'red': 1}, 'total': 1}]}\n"
            f"try:\n    charts.distribution_chart(d, Path({str(tmp_path / 'x.png')!r}))\n"
            "except ConfigError as e:\n    print('refused:', e)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "CREDITGOV_CJK_FONT": str(latin)})
    assert "refused: the chart font lacks glyphs" in res.stdout, res.stdout + res.stderr


def test_analyse_command(county: Demo, tmp_path: Path) -> None:
    from creditgov.cli.main import app

    png = tmp_path / "grades.png"
    res = CliRunner().invoke(app, ["--db", county.url, "analyse", "grades", "--model", MODEL, "--by", "grid",
                                   "--chart", str(png), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["by"] == "grid" and out["chart"] == str(png) and png.stat().st_size > 15_000
    res = CliRunner().invoke(app, ["--db", county.url, "analyse", "risk", "--top", "5", "--json"])
    assert res.exit_code == 0 and len(json.loads(res.output)["rows"]) == 5
