"""Published draw inputs check themselves: the file carries the recorded inputs and
result hashes, `creditgov supervise replay` compares a re-run with them and fails
(exit code 2) on any difference, and the recipe docs/supervision.md gives — written
again with the standard library alone (`recipe.py`) — reproduces recorded draws on
SQLite and PostgreSQL and the document's own worked example. Also `supervise
inspectors`, the pools with the regions the conflict rule reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from creditgov.core import db
from creditgov.supervision import draw as drawing
from creditgov.supervision import draws, service
from creditgov.supervision.schemas import InspectorsFile
from tests.alerts.demo import Demo
from tests.supervision import recipe
from tests.supervision.helpers import AS_OF, load_roster, publish_run

POLICY = "lindian-enterprise"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "supervision.md"


def _cli(*args: str) -> Any:
    from creditgov.cli.main import app

    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def _replay(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The real command, as a citizen runs it: its own process, no database."""
    env = {k: v for k, v in os.environ.items() if k not in ("CREDITGOV_DB", "CREDITGOV_KEY_FILE")}
    return subprocess.run([sys.executable, "-m", "creditgov.cli", "supervise", "replay", str(path), *extra],
                          cwd=path.parent, env={**env, "COLUMNS": "200"}, capture_output=True, text=True,
                          timeout=120)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def replay_here(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The same entry point (`creditgov.cli.main.run`: its error line and exit code)
    in this process, which is quicker than a new one for each file."""
    from creditgov.cli.main import run

    def replay(path: Path, *extra: str) -> Ran:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["creditgov", "supervise", "replay", str(path), *extra])
        code: int | str | None = 0
        try:
            run()
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return Ran(int(code or 0), out.out, out.err)

    return replay


def _record(url: str, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A draw over the demo county's enterprises, recorded through the command line,
    and its inputs as `supervise inputs` publishes them."""
    publish_run(url, "public-credit-enterprise", ("enterprise",))
    load_roster(url)
    out = json.loads(_cli("--db", url, "supervise", "draw", "--policy", POLICY, "--scope", "kind=enterprise",
                          "--seed", "20261110", "--as-of", AS_OF.isoformat(), "--json").output)
    published = tmp_path / f"draw-{out['draw_id']}.json"
    _cli("--db", url, "supervise", "inputs", str(out["draw_id"]), "--out", str(published))
    with db.session_scope(url) as s:
        row = draws.get_draw(s, out["draw_id"])
        assert (row.inputs_hash, row.result_hash) == (out["inputs_hash"], out["result_hash"])
    return out, published


@pytest.fixture(params=["sqlite", "postgres"])
def recorded(request: pytest.FixtureRequest, demo_store: Demo, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    url = demo_store.url if request.param == "sqlite" else request.getfixturevalue("pg_demo")
    return _record(url, tmp_path)


@pytest.fixture
def published(demo_store: Demo, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """The same on SQLite: `replay` reads a file, not a database."""
    return _record(demo_store.url, tmp_path)


def test_the_documented_recipe_reproduces_a_recorded_draw(recorded: tuple[dict[str, Any], Path]) -> None:
    out, published = recorded
    doc = json.loads(published.read_text(encoding="utf-8"))
    assert (doc["inputs_hash"], doc["result_hash"]) == (out["inputs_hash"], out["result_hash"])
    # Standard library only, from the document's recipe.
    assert recipe.inputs_hash(doc) == out["inputs_hash"]
    assert recipe.draw(doc) == [[i["key"], i["band"], i["inspectors"]] for i in out["items"]]
    assert recipe.result_hash(doc) == out["result_hash"]
    # A draw with something to get wrong: several bands, two people each, a load cap.
    assert out["counts"]["drawn"] > 20 and len({i["band"] for i in out["items"]}) >= 3
    assert doc["params"]["max_load"] is not None and doc["params"]["own_region"]
    # The published file is the canonical form (so its bytes hash the same anywhere).
    assert published.read_bytes() == recipe.canonical(doc)


def _tampered(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Changes a forger might make; all but the last two change who is drawn."""
    key = recipe.draw(doc)[0][0]  # a subject the draw picked
    rest = [c for c in doc["candidates"] if c[0] != key]
    mine = next(c for c in doc["candidates"] if c[0] == key)
    return {
        "a drawn candidate left out": {**doc, "candidates": rest},
        "a drawn candidate moved to another band": {
            **doc, "candidates": sorted([*rest, [key, "D" if mine[1] != "D" else "A", *mine[2:]]])},
        "another seed": {**doc, "seed": str(int(doc["seed"]) + 1)},
        "every inspector moved to the county": {**doc, "pool": [[code, "330127"] for code, _ in doc["pool"]]},
        "the as-of date changed (same result)": {**doc, "as_of": "2026-10-30"},
        "another result hash": {**doc, "result_hash": recipe.sha256_hex([])},
    }


def test_replay_of_a_tampered_inputs_file_fails(published: tuple[dict[str, Any], Path], tmp_path: Path,
                                                replay_here) -> None:  # type: ignore[no-untyped-def]
    _, path = published
    doc = json.loads(path.read_text(encoding="utf-8"))
    ok = replay_here(path)
    assert ok.returncode == 0, ok.stderr
    assert " ".join(ok.stdout.split()).count("(matches the published one)") == 2
    for n, (what, bad) in enumerate(_tampered(doc).items()):
        forged = tmp_path / f"tampered-{n}.json"
        forged.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
        res = replay_here(forged)
        assert res.returncode == 2, (what, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "does not check out" in lines[0], (what, res.stderr)
        inputs_changed = what != "another result hash"
        assert ("inputs hash recomputed " + recipe.inputs_hash(bad)[:16] in lines[0]) == inputs_changed, what
        if what.endswith("(same result)"):
            assert "result hash" not in lines[0]  # the draw itself still gives the published result
        else:
            assert f"result hash recomputed {recipe.result_hash(bad)[:16]}" in lines[0], what
            assert f"published {bad['result_hash'][:16]}" in lines[0], what
    # And once in a process of its own, as a citizen runs it.
    assert _replay(path).returncode == 0
    res = _replay(tmp_path / "tampered-0.json")
    assert res.returncode == 2 and res.stderr.startswith("error: ") and "does not check out" in res.stderr


def test_replay_of_a_file_without_hashes_and_of_a_file_that_is_not_one(
        published: tuple[dict[str, Any], Path], tmp_path: Path, replay_here) -> None:  # type: ignore[no-untyped-def]
    out, path = published
    doc = json.loads(path.read_text(encoding="utf-8"))
    bare = tmp_path / "before-hashes.json"
    bare.write_text(json.dumps(drawing.inputs_of(doc)), encoding="utf-8")
    res = replay_here(bare)
    said = " ".join(res.stdout.split())
    assert res.returncode == 0 and said.count("carries none to compare") == 2
    assert f"result hash {out['result_hash']}" in said
    assert replay_here(bare, "--result-hash", out["result_hash"]).returncode == 0
    wrong = replay_here(bare, "--result-hash", "0" * 64)
    assert wrong.returncode == 2 and f"result hash recomputed {out['result_hash'][:16]}" in wrong.stderr
    for name, text in (("empty.json", "{}"), ("list.json", "[1, 2]"), ("broken.json", '{"seed": ')):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        res = replay_here(path)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert res.stderr.startswith(f"error: {path}")
        assert "not a draw's published inputs" in res.stderr or "not a readable JSON file" in res.stderr
        assert "Traceback" not in res.stderr


def test_the_worked_example_in_the_docs_is_a_true_draw() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### A worked example"):]
    block = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert block is not None
    doc = json.loads(block.group(1))
    seed = doc["seed"]
    # Every number the example quotes is what the recipe computes.
    inputs = {k: v for k, v in doc.items() if k not in ("inputs_hash", "result_hash")}
    assert f"{len(recipe.canonical(inputs)):,} bytes" in section
    assert f"`inputs_hash` = `{recipe.inputs_hash(doc)}`" in section and recipe.inputs_hash(doc) == doc["inputs_hash"]
    assert f"`result_hash` = `{recipe.result_hash(doc)}`" in section and recipe.result_hash(doc) == doc["result_hash"]
    assert f"`{recipe.canonical(recipe.draw(doc)).decode()}`" in section
    for band, drawn in (("A", 1), ("B", 0), ("C", 1)):
        n, _, u = recipe.quota(seed, band, doc["params"]["ratios"][band], sum(c[1] == band for c in doc["candidates"]))
        assert n == drawn
        assert recipe.rank(seed, f"quota|{band}", "")[:15] in section
        assert f"≈ {float(u):.4f}" in section
    for key, band, team in recipe.draw(doc):
        assert f"`{key}` `{recipe.rank(seed, 'subject|' + band, key)[:8]}…`" in section \
            or f"(`{recipe.rank(seed, 'subject|' + band, key)[:8]}…`" in section
        for code in team:
            assert f"`{code}` `{recipe.rank(seed, 'inspector|' + key, code)[:8]}…`" in section
    # And the product agrees with the document.
    check = drawing.check_published(doc)
    assert check.ok and check.inputs_ok and check.result_ok


def test_inspectors_lists_the_pools_with_their_regions(demo_store: Demo) -> None:
    url = demo_store.url
    load_roster(url)
    pools = {p["pool"]: p for p in json.loads(_cli("--db", url, "supervise", "inspectors", "--json").output)}
    assert set(pools) == {"market", "tourism"}
    market = pools["market"]
    assert {p["name"] for p in market["policies"]} >= {"lindian-enterprise", "bayannur-enterprise"}
    assert len(market["inspectors"]) == 18
    for i in market["inspectors"]:
        street = re.fullmatch(r"SJ-(S\d\d)-[12]", i["code"])
        assert street and i["region"] == f"330127-{street.group(1)}" and i["region_name"], i
        assert i["kind_label"] == "执法检查人员 law-enforcement inspector" and i["active"]
    assert any(i["kind_label"] == "网格员 grid worker" for i in pools["tourism"]["inspectors"])
    # The demo's `inspector` account (`users demo`: the street with the most subjects) acts
    # for that street's first inspector, and nobody else's account is named.
    from creditgov.security.demo import _busiest_region

    with db.session_scope(url) as s:
        street = _busiest_region(s, 1)
    assert street is not None
    assert [(i["code"], i["account"]) for p in pools.values() for i in p["inspectors"] if i["account"]] == \
        [(f"SJ-{street[-3:]}-1", "inspector")]
    # What the list shows is what a draw's conflict rule reads.
    with db.session_scope(url) as s:
        _, policy = service.policy(s, POLICY)
        members = service.pool_members(s, policy)
    assert [[m.code, m.region] for m in members] == [[i["code"], i["region"]] for i in market["inspectors"]]
    table = _cli("--db", url, "supervise", "inspectors", "--pool", "market").output
    assert "SJ-S01-1" in table and "城东街道" in table and "WL-01" not in table
    # Someone who left is hidden, and shown with --all as inactive.
    with db.session_scope(url) as s:
        roster = service.demo_roster(s)
        service.load_inspectors(s, roster=InspectorsFile(inspectors=[i for i in roster.inspectors
                                                                     if i.code != "SJ-S01-1"]), actor="test")
    now = json.loads(_cli("--db", url, "supervise", "inspectors", "--pool", "market", "--json").output)
    assert [p["pool"] for p in now] == ["market"] and "SJ-S01-1" not in {i["code"] for i in now[0]["inspectors"]}
    everyone = json.loads(_cli("--db", url, "supervise", "inspectors", "--pool", "market", "--all", "--json").output)
    gone = [i for i in everyone[0]["inspectors"] if i["code"] == "SJ-S01-1"]
    assert len(gone) == 1 and gone[0]["active"] is False
