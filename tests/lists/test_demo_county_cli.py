"""End to end through the real command line on the demo county: generate → init →
ingest → `evaluate` (two runs of public-credit-enterprise, one of yiwu-ecommerce) →
`lists run` → the procedure → populated lists → `check` per list and per scenario →
feedback and stats → a commitment breached → a key-attention proposal.

The evaluation engine stores runs unpublished and has no command yet to publish one;
the credit office's publication of a run is done here by setting its `published`
flag, the one step not yet behind a command (see docs/measures.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from creditgov.cli.main import app
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.scoring.models import EvaluationRun, Score

PCE = "public-credit-enterprise"
YIWU = "yiwu-ecommerce"


def _publish_and_read(url: str, run_ids: list[int]) -> dict[int, dict[int, str]]:
    """Publish the runs; return run id -> subject id -> grade."""
    out: dict[int, dict[int, str]] = {}
    with db.session_scope(url) as s:
        s.execute(update(EvaluationRun).where(EvaluationRun.id.in_(run_ids)).values(published=True))
        for rid in run_ids:
            out[rid] = dict(s.execute(select(Score.subject_id, Score.grade).where(Score.run_id == rid)).tuples().all())
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("demo-lists")
    url = f"sqlite:///{work / 'creditgov.db'}"
    runner = CliRunner()
    mp = pytest.MonkeyPatch()
    mp.setenv("CREDITGOV_TODAY", "2026-11-01")
    mp.delenv("CREDITGOV_KEY_FILE", raising=False)
    mp.chdir(work)

    def cg(*args: str) -> Any:
        res = runner.invoke(app, ["--db", url, *args], catch_exceptions=False)
        assert res.exit_code == 0, f"creditgov {' '.join(args)}: {res.output}"
        return json.loads(res.output) if "--json" in args else res.output

    try:
        cg("generate", "--out", "d", "--subjects", "2000", "--seed", "7", "--json")
        init = cg("init", "--json")
        cg("ingest", "d", "--json")
        runs = [cg("evaluate", "--model", m, "--as-of", d, "--engine", "sqlite", "--json")["run_id"]
                for m, d in ((PCE, "2026-06-30"), (PCE, "2026-09-30"), (YIWU, "2026-09-30"))]
        by_run = _publish_and_read(url, runs)
        grades = {PCE: by_run[runs[1]], YIWU: by_run[runs[2]], "pce_first": by_run[runs[0]]}
        # the credit office runs the criteria on 20 October and notifies at once …
        mp.setenv("CREDITGOV_TODAY", "2026-10-20")
        proposals = cg("lists", "run", "--notify", "--json")
        # … and on 1 November, after the 7-day window, the units decide and publish
        mp.setenv("CREDITGOV_TODAY", "2026-11-01")
        early = cg("lists", "publish", "--all", "--json")
        decided = {u: cg("lists", "approve", "--all", "--unit", u, "--json")
                   for u in ("court", "market", "safety", "credit")}
        approvals = {u: out["done"] for u, out in decided.items()}
        published = cg("lists", "publish", "--all", "--json")
        yield {"cg": cg, "url": url, "work": work, "mp": mp, "grades": grades, "init": init,
               "proposals": proposals, "early": early, "approvals": approvals, "decided": decided,
               "published": published}
    finally:
        mp.undo()


def test_a_proposal_whose_criterion_lapsed_is_refused_then_withdrawn(demo: dict[str, Any]) -> None:
    """The demo county holds one: a red-list proposal of 20 October whose firm has a
    negative record by 1 November. Approving it alone is refused, naming the record;
    the officer withdraws it (`lists withdraw`), the reason saying what changed."""
    cg = demo["cg"]
    pending = [e for e in cg("lists", "entries", "--list", "red", "--status", "notified", "--json")
               if e["criterion"] == "a-grade-three-clean-years"]
    assert len(pending) == 1
    entry = pending[0]["id"]
    with pytest.raises(Conflict, match="no negative record in 3 years") as refused:
        cg("lists", "approve", str(entry), "--unit", "credit")
    assert refused.value.code == "lists.entry.criterion_lapsed" and f"lists withdraw {entry}" in str(refused.value)
    out = cg("lists", "withdraw", str(entry), "--json")
    assert out["status"] == "withdrawn" and out["exit_reason"].startswith("拟列入依据已不成立：")
    assert "已不符合“3年内无不良信用记录”" in out["exit_reason"]


def _on_list(demo: dict[str, Any], code: str) -> list[int]:
    return [e["subject_id"] for e in demo["cg"]("lists", "entries", "--list", code, "--status", "published",
                                                "--limit", "5000", "--json")]


def test_shipped_criteria_populate_every_list(demo: dict[str, Any]) -> None:
    assert demo["init"]["lists"]["lists"] == 3 and demo["init"]["measures"]["measures"] >= 14
    by = demo["proposals"]["by_criterion"]
    assert by["serious-dishonesty/court-dishonest-debtor"] > 0
    assert by["key-attention/d-grade-twice"] > 0 and by["red/a-grade-three-clean-years"] > 0
    assert demo["proposals"]["notified"] == demo["proposals"]["proposed"]
    assert demo["early"]["done"] == 0  # nothing approved yet, so nothing published
    assert demo["approvals"]["court"] == by["serious-dishonesty/court-dishonest-debtor"]
    # What a proposal of 20 October rests on may no longer hold on 1 November (a record
    # that came in since): the unit's approval is refused for it, everything else is
    # approved and published.
    lapsed = sum(out["refused"].get("criterion no longer holds", 0) for out in demo["decided"].values())
    assert sum(demo["approvals"].values()) == demo["proposals"]["proposed"] - lapsed
    assert demo["published"]["done"] == demo["proposals"]["proposed"] - lapsed
    defs = {d["code"]: d["entries"] for d in demo["cg"]("lists", "defs", "--json")}
    for code in ("red", "serious-dishonesty", "key-attention"):
        assert defs[code].get("published", 0) > 0, code
    # the lists match the grades they came from
    g, first = demo["grades"][PCE], demo["grades"]["pce_first"]
    d_twice = {sid for sid, x in g.items() if x == "D" and first.get(sid) == "D"}
    assert set(_on_list(demo, "key-attention")) == d_twice
    assert {g[sid] for sid in _on_list(demo, "red")} == {"A"}


def _measures(demo: dict[str, Any], sid: int, scenario: str) -> tuple[dict[str, Any], set[str]]:
    out = demo["cg"]("check", str(sid), "--scenario", scenario, "--json")
    return out, {m["code"] for m in out["measures"]}


def test_check_per_list(demo: dict[str, Any]) -> None:
    sd = _on_list(demo, "serious-dishonesty")[0]
    out, got = _measures(demo, sd, "public-bidding")
    assert got == {"bidding-restriction"} and "serious-dishonesty" in [x["list"] for x in out["lists"]]
    assert _measures(demo, sd, "government-subsidy")[1] == {"subsidy-restriction"}
    assert "fast-track-approval" not in _measures(demo, sd, "administrative-approval")[1]
    red = _on_list(demo, "red")[0]
    out, got = _measures(demo, red, "export-tax-refund")
    assert got == {"paperless-export-tax-refund"} and out["grade"] == "A" and out["colour"] == "green"
    ka = _on_list(demo, "key-attention")[0]
    out, got = _measures(demo, ka, "inspection")
    assert got == {"heightened-inspection"} and out["grade"] == "D" and out["colour"] == "red"
    assert _measures(demo, ka, "export-tax-refund")[1] == set()


ALL_LISTS = ("serious-dishonesty", "key-attention", "red")


def _firm(demo: dict[str, Any], grade: str, model: str = PCE, avoid: tuple[str, ...] = ALL_LISTS,
          on: str | None = None) -> int:
    """The first firm with a grade in a model's latest run that is on none of `avoid`
    (and on list `on`, if given)."""
    listed = {sid for code in avoid for sid in _on_list(demo, code)}
    required = set(_on_list(demo, on)) if on else None
    return next(sid for sid, g in sorted(demo["grades"][model].items())
                if g == grade and sid not in listed and (required is None or sid in required))


SD = "serious-dishonesty"


# In the demo county every D-graded firm is a court debtor (the model's override), so
# the D cases are firms on the serious-dishonesty list.
@pytest.mark.parametrize(("scenario", "grade", "model", "avoid", "on", "expected"), [
    ("administrative-approval", "D", PCE, (), SD, {"heightened-inspection", "strict-approval-review"}),
    ("administrative-approval", "A", PCE, (SD, "key-attention"), None, {"fast-track-approval"}),
    ("export-tax-refund", "B", PCE, ALL_LISTS, None, {"paperless-export-tax-refund"}),
    ("bank-lending", "D", PCE, (), SD, {"prudent-credit"}),
    ("market-rent", "A", YIWU, (SD, "key-attention"), None, {"market-rent-coupon"}),
    ("public-services", "C", PCE, ALL_LISTS, None, set()),
    ("training", "B", PCE, ALL_LISTS, None, {"training-access"}),
    ("inspection", "C", PCE, ALL_LISTS, None, set()),
    ("government-subsidy", "B", PCE, ALL_LISTS, None, set()),
    ("public-bidding", "C", PCE, ALL_LISTS, None, set()),
])
def test_check_per_scenario(demo: dict[str, Any], scenario: str, grade: str, model: str, avoid: tuple[str, ...],
                            on: str | None, expected: set[str]) -> None:
    sid = _firm(demo, grade, model, avoid, on)
    out, got = _measures(demo, sid, scenario)
    assert got == expected and out["grade"] == grade and out["check_id"].startswith("CK20261101-")


def test_red_listed_firm_gets_incentives_in_every_incentive_scenario(demo: dict[str, Any]) -> None:
    red = _on_list(demo, "red")[0]
    assert _measures(demo, red, "administrative-approval")[1] == {"fast-track-approval"}
    assert _measures(demo, red, "bank-lending")[1] == {"credit-line-and-rate"}
    assert _measures(demo, red, "public-services")[1] == {"free-parking", "free-health-check"}
    assert _measures(demo, red, "inspection")[1] == {"reduced-inspection"}


def test_feedback_and_stats(demo: dict[str, Any]) -> None:
    cg = demo["cg"]
    red = _on_list(demo, "red")[0]
    chk = cg("check", str(red), "--scenario", "bank-lending", "--department", "agri_bank", "--json")
    cg("check", "feedback", chk["check_id"], "--measure", "credit-line-and-rate", "--not-applied",
       "--reason", "企业未提出贷款申请", "--json")
    st = cg("check", "stats", "--json")
    row = next(r for r in st["rows"] if r["department"] == "agri_bank")
    assert (row["checks"], row["not_applied"], row["applied"]) == (1, 1, 0)
    assert st["totals"]["checks"] >= 10
    shown = cg("check", "show", chk["check_id"], "--json")
    assert shown["feedback"][0]["reason"] == "企业未提出贷款申请"


def test_breached_commitment_leads_to_a_key_attention_proposal(demo: dict[str, Any]) -> None:
    cg = demo["cg"]
    firm = _firm(demo, "B")
    c = cg("commitment", "sign", str(firm), "--template", "tolerated-missing-documents", "--agree", "--signed-by", "法定代表人",
           "--scenario", "administrative-approval", "--json")
    chk = cg("check", str(firm), "--scenario", "administrative-approval", "--json")
    assert {m["code"] for m in chk["measures"]} == {"tolerated-missing-documents"}
    v = cg("commitment", "verify", str(c["id"]), "--outcome", "breached", "--department", "market",
           "--note", "逾期未补齐材料", "--json")
    assert v["status"] == "breached" and v["record"]["item"] == "commitment.breach"
    file = cg("subject", "show", str(firm), "--json")
    assert [r["id"] for r in file["records"] if r["item"] == "commitment.breach"] == [v["record"]["id"]]
    run = cg("lists", "run", "--list", "key-attention", "--json")
    assert run["by_criterion"] == {"key-attention/commitment-breach": 1}
    entry = cg("lists", "entries", "--subject", str(firm), "--json")
    assert entry[0]["criterion"] == "commitment-breach" and entry[0]["record_id"] == v["record"]["id"]
    # and the breach now shuts 容缺受理 and brings strict review
    after = cg("check", str(firm), "--scenario", "administrative-approval", "--json")
    assert {m["code"] for m in after["measures"]} == {"strict-approval-review"}


def test_serious_dishonesty_guard_through_the_cli(demo: dict[str, Any]) -> None:
    """A real process, so the one-line error and exit code are what a user sees."""
    cg, work = demo["cg"], demo["work"]
    firm = _firm(demo, "C")
    e = cg("lists", "propose", str(firm), "--list", "serious-dishonesty", "--basis", "拒不履行法定义务",
           "--decision-no", "长信认〔2026〕9号", "--json")
    cg("lists", "notify", str(e["id"]), "--json")
    env = {**os.environ, "CREDITGOV_TODAY": "2026-11-03", "CREDITGOV_DB": str(Path(work) / "creditgov.db")}
    env.pop("CREDITGOV_KEY_FILE", None)

    def raw(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "creditgov.cli", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=120)

    res = raw("lists", "publish", str(e["id"]))
    assert res.returncode == 2 and "without the identifying unit's approval" in res.stderr
    assert res.stderr.strip().count("\n") == 0
    runner = CliRunner()
    with pytest.raises(InvalidInput, match="may answer until 2026-11-06"):  # 5 working days after Sunday 1 November
        runner.invoke(app, ["--db", demo["url"], "lists", "approve", str(e["id"]), "--unit", "credit"],
                      catch_exceptions=False)
    with pytest.raises(InvalidInput, match="only the identifying unit 'credit'"):
        runner.invoke(app, ["--db", demo["url"], "lists", "approve", str(e["id"]), "--unit", "court"],
                      catch_exceptions=False)
    detail = cg("lists", "entry", str(e["id"]), "--json")
    assert detail["status"] == "notified" and [h["step"] for h in detail["history"]] == ["propose", "notify"]
