"""Model lifecycle, and the commands as an operator runs them: evaluate, explain (with
its audit entry), model list/show/draft/publish/compare/backtest."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.scoring import cli as scoring_cli
from creditgov.scoring import service
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject

TRIAL = (service.shipped_texts()["qujiang-park"].replace("name: qujiang-park", "name: qujiang-trial")
         .replace('version: "2"', 'version: "1"'))


def test_draft_publish_and_immutability(store: str) -> None:
    with db.session_scope(store) as s:
        assert {m.name for m in service.versions(s)} >= {"qujiang-park", "community-resident"}
        assert all(m.status == "published" for m in service.versions(s))
        row = service.draft(s, text=TRIAL, source="trial.yaml", actor="test")
        assert (row.name, row.version, row.status) == ("qujiang-trial", "1", "draft")
        with pytest.raises(NotFound):
            service.get(s, "qujiang-trial")  # no published version yet
        assert service.get(s, "qujiang-trial@1")[0].status == "draft"
        # a draft may be replaced
        service.draft(s, text=TRIAL.replace("weight: 10\n", "weight: 11\n", 1), source="trial.yaml", actor="test")
        service.publish(s, ref="qujiang-trial@1", actor="test")
        assert service.get(s, "qujiang-trial")[0].version == "1"
        with pytest.raises(InvalidInput, match="immutable"):
            service.draft(s, text=TRIAL, source="trial.yaml", actor="test")
        with pytest.raises(InvalidInput, match="already published"):
            service.publish(s, ref="qujiang-trial@1", actor="test")
        v2 = TRIAL.replace('version: "1"', 'version: "2"')
        service.draft(s, text=v2, source="trial-v2.yaml", actor="test")
        assert service.get(s, "qujiang-trial")[0].version == "1"  # latest *published*
        service.publish(s, ref="qujiang-trial@2", actor="test")
        assert service.get(s, "qujiang-trial")[0].version == "2"
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
        assert actions.count("model.publish") == 2 and "model.register_shipped" in actions


def test_evaluate_and_explain_from_the_command_line(cli, county: str) -> None:
    res = cli("--db", county, "evaluate", "--model", "community-resident", "--as-of", "2026-11-01", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"run_id", "subjects", "grades", "seconds"} <= set(out)
    assert out["subjects"] == sum(out["grades"].values()) > 0
    assert list(out["grades"]) == ["AAA", "AA", "A", "B", "C"]
    with db.session_scope(county) as s:
        person = s.execute(select(Subject).where(Subject.kind == "individual").order_by(Subject.id)).scalars().first()
        assert person is not None
        before = s.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc())).scalars().first()
        scores = service.run_scores(s, out["run_id"])
    res = cli("--db", county, "evaluate", "--model", "community-resident", "--as-of", "2026-11-01")
    assert res.exit_code == 0, res.output
    line = " ".join(res.stdout.split("timings: ", 1)[1].split())  # the last line, as the console wrapped it
    for entry in line.split(", "):
        name, value = entry.split(" ", 1)  # counts read as counts, seconds as seconds
        assert re.fullmatch(r"[\d,]+", value) if name.endswith(("_rows", "_files", "_partitions")) \
            else re.fullmatch(r"\d+\.\d\d s", value), entry
    assert scoring_cli._timings({"evaluate": 1.234, "segment_rows": 366598, "fresh_rows": 0}) \
        == "evaluate 1.23 s, segment_rows 366,598, fresh_rows 0"
    res = cli("--db", county, "explain", str(person.id), "--model", "community-resident", "--as-of", "2026-11-01",
              "--purpose", "self-service", "--json")
    assert res.exit_code == 0, res.output
    e = json.loads(res.stdout)
    assert {"score", "grade", "colour", "items"} <= set(e)
    assert (e["score"], e["grade"], e["colour"]) == (str(scores[person.id].score), scores[person.id].grade,
                                                   scores[person.id].colour)
    assert {i["code"] for i in e["items"]} >= {"utility_on_time", "volunteering", "model_family"}
    with db.session_scope(county) as s:
        new = list(s.execute(select(AuditEntry).where(AuditEntry.id > before)).scalars())
    reads = [a for a in new if a.action == "subject.read"]
    assert [(a.subject_id, a.purpose) for a in reads] == [(person.id, "self-service")]
    with pytest.raises(InvalidInput, match="outside the scope of model qujiang-park"):
        cli("--db", county, "explain", str(person.id), "--model", "qujiang-park")


def test_model_list_show_and_runs(cli, county: str) -> None:
    res = cli("--db", county, "model", "list", "--json")
    assert {m["name"] for m in json.loads(res.stdout)} >= {"qujiang-park", "zhili-childrenswear", "changxing-homestay",
                                                           "yiwu-ecommerce", "community-resident",
                                                           "public-credit-enterprise"}
    res = cli("--db", county, "model", "show", "zhili-childrenswear", "--json")
    shown = json.loads(res.stdout)
    assert shown["levels"] == {"1": 5, "2": 11} and shown["status"] == "published"
    res = cli("--db", county, "model", "show", "qujiang-park")
    assert res.exit_code == 0 and "levels 6 / 25 / 42" in res.stdout


def test_compare_shows_migration_changes_and_movers(county: str) -> None:
    with db.session_scope(county) as s:
        changed = TRIAL.replace("  - code: public_credit\n    name: 公共信用\n    name_en: Public credit\n    weight: 20",
                                "  - code: public_credit\n    name: 公共信用\n    name_en: Public credit\n    weight: 60")
        assert changed != TRIAL
        service.draft(s, text=changed, source="trial.yaml", actor="test")
    out = service.compare(county, ref_a="qujiang-park", ref_b="qujiang-trial@1", top=5)
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="preview and cannot be published"):
            service.publish_run(s, run_id=out["b"]["run_id"])
        assert service.publish_run(s, run_id=out["a"]["run_id"]).published
    n = out["subjects_compared"]
    assert n > 20 and out["only_in_a"] == out["only_in_b"] == 0
    assert sum(sum(row.values()) for row in out["migration"].values()) == n
    dist = out["score_change"]
    assert dist["up"] + dist["down"] + dist["same"] == n and dist["up"] + dist["down"] > 0
    assert len(out["movers"]) == 5
    top = out["movers"][0]
    assert abs(float(top["delta"])) >= abs(float(out["movers"][-1]["delta"]))
    # only the weights moved, so every mover's item points are the same: the score moved by weight
    assert all(m["items"] == [] for m in out["movers"])


def test_backtest_reports_auc_ks_rates_and_psi(cli, county: str) -> None:
    res = cli("--db", county, "model", "backtest", "public-credit-enterprise", "--as-of", "2025-11-01",
              "--months", "12", "--severity", "general,serious", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["subjects"] > 50 and 0 < out["outcomes"] < out["subjects"]
    assert 0 <= out["auc"] <= 1 and 0 <= out["ks"] <= 1
    assert sum(g["subjects"] for g in out["by_grade"]) == out["subjects"]
    assert sum(g["outcomes"] for g in out["by_grade"]) == out["outcomes"]
    assert out["psi"]["value"] is not None and out["psi"]["value"] >= 0
    # the grades separate: the worst populated grade has a higher outcome rate than the best
    rates = [g["rate"] for g in out["by_grade"] if g["rate"] is not None]
    assert rates[-1] > rates[0]


def test_auc_ks_and_psi_by_hand() -> None:
    # perfect separation: good scores all above bad ones
    assert service.auc_ks([90, 80, 30, 20], [False, False, True, True]) == (1.0, 1.0)
    # ties count one half
    assert service.auc_ks([50, 50], [False, True]) == (0.5, 0.0)
    assert service.auc_ks([1, 2], [False, False]) == (None, None)
    assert service.psi({"A": 50, "B": 50}, {"A": 50, "B": 50}) == 0.0
    assert service.psi({"A": 90, "B": 10}, {"A": 10, "B": 90}) > 1
