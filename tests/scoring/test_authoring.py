"""Writing a model as a new data administrator would (issue 19): a points model whose
scale cannot hold its base is refused by `model validate`, every error is shown, a
draft-only model gets a helpful error, the Spark hint keeps its `[spark]` in the
terminal, and `explain` names the list entry and its record behind a list deduction."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import ConfigError, NotFound
from creditgov.ingest import service as ingest_service
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.scoring import service
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from tests import store_template
from tests.scoring.synth import ensure_lists

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIRM = "91330522MA2B00010N"
DECISION = "长信黑〔2026〕<1>号 \"x\""

MODEL = """\
name: office-trial
version: "1"
title: 试行模型
scope: {kinds: [enterprise]}
aggregation: {mode: points, base: 100, max: 100}
grades:
  - {label: A, min: 80, colour: green}
  - {label: B, min: 60, colour: yellow}
  - {label: C, colour: red}
indicators:
  - {code: pen, name: 行政处罚, item: {kind: records, match: {items: [market.penalty]}, points: -5}}
  - {code: lst, name: 严重失信名单, item: {kind: list, lists: [serious-dishonesty], points: -50, absent: 0}}
"""


def _cg(work: Path, *args: str, pre: str = "") -> subprocess.CompletedProcess[str]:
    """The real command, as the console script runs it (`creditgov.cli.main.run`), with
    its Rich output to a terminal of fixed width."""
    env = {**os.environ, "CREDITGOV_TODAY": "2026-11-01", "CREDITGOV_DB": str(work / "creditgov.db"),
           "COLUMNS": "300"}
    env.pop("CREDITGOV_KEY_FILE", None)
    code = f"import sys\n{pre}\nsys.argv = ['creditgov', *{list(args)!r}]\nfrom creditgov.cli.main import run\nrun()"
    return subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised SQLite store with the small county ingested, a list entry resting
    on one of the firm's records, and the trial model stored as a draft only."""
    w = tmp_path_factory.mktemp("authoring")
    shutil.copytree(FIXTURES / "mini", w / "mini")
    (w / "trial.yaml").write_text(MODEL, "utf-8")
    for args in (("init",), ("ingest", "mini", "--json"), ("model", "draft", "trial.yaml")):
        res = _cg(w, *args)
        assert res.returncode == 0, (args, res.stderr)
    _list_entry(f"sqlite:///{w / 'creditgov.db'}")
    return w


def _list_entry(url: str) -> tuple[int, int]:
    ensure_lists(url)
    with db.session_scope(url) as s:
        firm = s.execute(select(Subject).where(Subject.uscc == FIRM)).scalar_one()
        rec = s.execute(select(CreditRecord).where(CreditRecord.subject_id == firm.id,
                                                   CreditRecord.item_code == "market.penalty")
                        .order_by(CreditRecord.id)).scalars().first()
        assert rec is not None
        e = ListEntry(list_code="serious-dishonesty", subject_id=firm.id, status="published",
                      published_on=dt.date(2026, 3, 1), decision_no=DECISION, record_id=rec.id,
                      created_at=dt.datetime(2026, 3, 1))
        s.add(e)
        s.flush()
        return e.id, rec.id


def _points_model(aggregation: str) -> str:
    return MODEL.replace("aggregation: {mode: points, base: 100, max: 100}", f"aggregation: {aggregation}")


@pytest.mark.parametrize(("aggregation", "why"), [
    ("{mode: points, base: 700}", r"base 700 lies outside the score range \[min 0, scale 100"),
    ("{mode: points, base: 700, min: 350, max: 650}", r"base 700 lies outside the score range \[min 350, max 650\]"),
    ("{mode: points, base: 100, min: 200, max: 950}", r"base 100 lies outside"),
])
def test_a_points_model_whose_scale_cannot_hold_its_base_is_refused(aggregation: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        service.validate_text(_points_model(aggregation), "m.yaml", service.shipped_catalog())


def test_a_grade_above_the_top_is_refused_and_a_fitting_model_passes() -> None:
    service.validate_text(_points_model("{mode: points, base: 700, max: 950}").replace("min: 80", "min: 800")
                          .replace("min: 60", "min: 600"), "m.yaml", service.shipped_catalog())
    with pytest.raises(ConfigError, match=r"grade 'A' starts at 800, above the highest score 100"):
        service.validate_text(MODEL.replace("min: 80", "min: 800"), "m.yaml", service.shipped_catalog())


def test_model_validate_on_the_command_line(work: Path) -> None:
    bad = work / "bad.yaml"
    bad.write_text(_points_model("{mode: points, base: 700}"), "utf-8")
    res = _cg(work, "model", "validate", str(bad))
    assert res.returncode == 2 and "base 700 lies outside the score range" in res.stderr and "valid" not in res.stdout
    # every error, each on its line: two unknown catalogue items and nothing hidden
    two = work / "two.yaml"
    two.write_text(MODEL.replace("items: [market.penalty]", "items: [market.nope]")
                   .replace("lists: [serious-dishonesty]", "lists: [serious-dishonesty]")
                   + "  - {code: x2, name: 另一项, item: {kind: records, match: {items: [court.nope]}, points: -1}}\n",
                   "utf-8")
    res = _cg(work, "model", "validate", str(two))
    assert res.returncode == 2 and "more)" not in res.stderr
    assert "market.nope" in res.stderr and "court.nope" in res.stderr, res.stderr
    res = _cg(work, "model", "validate", str(work / "trial.yaml"), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["valid"] is True


def test_evaluate_with_only_a_draft_says_what_to_do(work: Path) -> None:
    res = _cg(work, "evaluate", "-m", "office-trial")
    assert res.returncode == 2
    err = " ".join(res.stderr.split())
    assert "office-trial has no published version yet, only the draft(s) 1" in err
    assert "give office-trial@1 to use the draft" in err and "creditgov model publish office-trial@1" in err
    with db.session_scope(f"sqlite:///{work / 'creditgov.db'}") as s, pytest.raises(NotFound, match="no published"):
        service.get(s, "office-trial")


def test_the_spark_hint_keeps_its_brackets(work: Path) -> None:
    """Without the optional extra (pyspark not importable), the hint names it as typed."""
    res = _cg(work, "evaluate", "-m", "office-trial@1", "--engine", "spark", pre="sys.modules['pyspark'] = None")
    assert res.returncode == 2, res.stderr
    assert "pip install 'creditgov[spark]'" in res.stderr, res.stderr


def test_explain_names_the_entry_and_record_behind_a_list_deduction(work: Path) -> None:
    url = f"sqlite:///{work / 'creditgov.db'}"
    with db.session_scope(url) as s:
        entry_id, rec_id = s.execute(select(ListEntry.id, ListEntry.record_id)
                                     .where(ListEntry.decision_no == DECISION)).one()
    res = _cg(work, "explain", FIRM, "--model", "office-trial@1", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    lst = next(i for i in out["items"] if i["code"] == "lst")
    assert lst["points"] == "-50.000" or float(lst["points"]) == -50
    [en] = lst["input"]["entries"]
    assert (en["list"], en["entry_id"], en["decision_no"], en["record_id"]) == (
        "serious-dishonesty", entry_id, DECISION, rec_id)
    assert en["record"]["item"] == "market.penalty"
    res = _cg(work, "explain", FIRM, "--model", "office-trial@1")
    assert res.returncode == 0, res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("lst: "))
    assert f"list serious-dishonesty entry #{entry_id}, decision {DECISION}" in line
    assert f"record #{rec_id} (market.penalty, " in line


def test_explain_evidence_on_postgres_too(pg_url: str, keyring: KeyRing) -> None:
    store_template.fill(pg_url)
    mini = Path(pg_url.split("search_path%3D")[-1])  # only a unique name; the copy goes to a temp folder
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"mini-{mini.name}"
    shutil.copytree(FIXTURES / "mini", tmp, dirs_exist_ok=True)
    try:
        ingest_service.ingest_paths(pg_url, keyring, [tmp], actor="test")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    entry_id, rec_id = _list_entry(pg_url)
    with db.session_scope(pg_url) as s:
        service.draft(s, text=MODEL, source="trial.yaml", actor="test")
        e = service.explain_subject(s, keyring, FIRM, ref="office-trial@1", as_of=dt.date(2026, 11, 1))
    lst = next(i for i in e.items if i.code == "lst")
    assert [(x["entry_id"], x["record_id"], x["decision_no"]) for x in lst.input["entries"]] == [
        (entry_id, rec_id, DECISION)]
