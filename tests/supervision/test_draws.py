"""Random draws (双随机一公开) on the demo county: reproducible from the published seed,
the same on PostgreSQL as on SQLite, at the policy's ratios, without conflicts of
interest."""

from __future__ import annotations

import json
import math
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from creditgov.core import db
from creditgov.supervision import draw as drawing
from creditgov.supervision import draws, service
from creditgov.supervision.models import InspectionTask
from tests.alerts.demo import Demo
from tests.supervision.helpers import AS_OF, load_roster, publish_run

POLICY = "lindian-enterprise"


def _prepare(url: str) -> None:
    publish_run(url, "public-credit-enterprise", ("enterprise",))
    load_roster(url)


def _picks(out: dict) -> list[tuple[str, str, tuple[str, ...]]]:  # type: ignore[type-arg]
    return [(i["key"], i["band"], tuple(i["inspectors"])) for i in out["items"]]


def test_fixed_seed_gives_the_same_draw_every_time_and_on_postgres(demo_store: Demo, pg_demo: str) -> None:
    outs = {}
    for name, url in (("sqlite", demo_store.url), ("postgres", pg_demo)):
        _prepare(url)
        with db.session_scope(url) as s:
            first = draws.draw(s, policy_name=POLICY, scope={"kind": ["enterprise"]}, seed=20261101, as_of=AS_OF,
                               dry_run=True)
            again = draws.draw(s, policy_name=POLICY, scope={"kind": ["enterprise"]}, seed=20261101, as_of=AS_OF)
            other = draws.draw(s, policy_name=POLICY, scope={"kind": ["enterprise"]}, seed=1, as_of=AS_OF,
                               dry_run=True)
            assert _picks(first) == _picks(again) and first["result_hash"] == again["result_hash"]
            assert _picks(other) != _picks(first)
            check = draws.verify(s, draw_id=again["draw_id"])
            assert check["inputs_hash_ok"] and check["result_hash_ok"] and check["items_match"]
        outs[name] = again
    a, b = outs["sqlite"], outs["postgres"]
    assert _picks(a) == _picks(b)
    assert (a["inputs_hash"], a["result_hash"]) == (b["inputs_hash"], b["result_hash"])
    assert a["counts"]["drawn"] > 20 and a["counts"]["understaffed"] == 0
    assert all(len(i["inspectors"]) == 2 and len(set(i["inspectors"])) == 2 for i in a["items"])


def test_published_inputs_are_enough_to_rerun_the_draw(demo_store: Demo, tmp_path: Path) -> None:
    url = demo_store.url
    _prepare(url)
    with db.session_scope(url) as s:
        out = draws.draw(s, policy_name=POLICY, seed=77, as_of=AS_OF)
        published = tmp_path / "draw-inputs.json"
        published.write_text(draws.get_draw(s, out["draw_id"]).inputs, encoding="utf-8")
    # A citizen's re-run: only the published file and the documented algorithm.
    doc = json.loads(published.read_text(encoding="utf-8"))
    picks, result_hash = drawing.replay(doc)
    assert result_hash == out["result_hash"]
    assert [(x.key, x.band, x.inspectors) for x in picks] == _picks(out)
    assert doc["seed"] == "77" and doc["policy"] == POLICY
    assert all(len(c[0]) == 18 for c in doc["candidates"])  # credit codes, never ID numbers


def test_each_band_is_drawn_at_its_ratio_over_many_draws(demo_store: Demo) -> None:
    """Over 300 seeds, the share of each band drawn matches its ratio (within four
    standard errors), and within band D no subject is favoured. (Inspectors play no
    part in who is drawn, so the pool is left empty here.)"""
    url = demo_store.url
    _prepare(url)
    with db.session_scope(url) as s:
        _, p = service.policy(s, POLICY)
        c = draws.candidates(s, p, {}, AS_OF)
    params = draws._params(p)
    sizes = Counter(x.band for x in c.items)
    assert sizes["D"] >= 10 and sizes["A"] >= 50
    drawn: Counter[str] = Counter()
    per_subject: Counter[str] = Counter()
    seeds = 300
    for seed in range(seeds):
        for pick in drawing.run(str(seed), c.items, [], params):
            drawn[pick.band] += 1
            if pick.band == "D":
                per_subject[pick.key] += 1
    for band, n in sizes.items():
        ratio = float(p.band(band).ratio)
        share = drawn[band] / (n * seeds)
        se = math.sqrt(ratio * (1 - ratio) / (n * seeds)) if 0 < ratio < 1 else 0.0
        assert abs(share - ratio) <= 4 * se + 1e-9, (band, share, ratio)
    # Every D subject's own frequency is near 0.8 (binomial, 300 trials: sd 0.023).
    d_keys = [x.key for x in c.items if x.band == "D"]
    freqs = [per_subject[k] / seeds for k in d_keys]
    assert all(abs(f - 0.8) < 0.1 for f in freqs), freqs
    assert abs(sum(freqs) / len(freqs) - 0.8) < 0.02


def test_no_inspector_from_the_subjects_own_area_or_last_inspection(demo_store: Demo, tmp_path: Path) -> None:
    url = demo_store.url
    _prepare(url)
    with db.session_scope(url) as s:
        first = draws.draw(s, policy_name=POLICY, seed=5, as_of=AS_OF)
        inputs = json.loads(draws.get_draw(s, first["draw_id"]).inputs)
        regions = {code: region for code, region in inputs["pool"]}
        chains = {k: set(chain) for k, _, chain, _ in inputs["candidates"]}
        for i in first["items"]:
            assert not any(regions[x] in chains[i["key"]] for x in i["inspectors"]), i
        last = {t.subject_id: set(t.assignees) for t in s.execute(
            select(InspectionTask).where(InspectionTask.draw_id == first["draw_id"])).scalars()}
        # A draw over only the subjects drawn last time (everyone at 100 %): new teams.
        again = draws.draw(s, policy_name="bayannur-enterprise", seed=5, as_of=AS_OF, dry_run=True)
        overlap = [i for i in again["items"] if i["subject_id"] in last]
        assert overlap
        for i in overlap:
            assert not set(i["inspectors"]) & last[i["subject_id"]], i
    # Configurable: a county that switches both exclusions off gets its own-area inspectors back.
    doc = yaml.safe_load(Path(service.__file__).with_name("data").joinpath("policies.yaml").read_text("utf-8"))
    lax = dict(doc["policies"][0], name="lax", exclusions={"own_region": False, "previous_inspectors": False},
               plan=None)
    path = tmp_path / "lax.yaml"
    path.write_text(yaml.safe_dump({**doc, "policies": [lax]}, allow_unicode=True), encoding="utf-8")
    with db.session_scope(url) as s:
        service.load_policies(s, path=path, actor="test")
        out = draws.draw(s, policy_name="lax", seed=5, as_of=AS_OF, dry_run=True)
    same_area = [i for i in out["items"] if any(regions[x] in chains[i["key"]] for x in i["inspectors"])]
    assert same_area


def test_frequency_caps_and_the_unrated_band(demo_store: Demo) -> None:
    url = demo_store.url
    load_roster(url)  # no published run at all: every enterprise is unrated, hence band B
    with db.session_scope(url) as s:
        out = draws.draw(s, policy_name=POLICY, seed=9, as_of=AS_OF)
        bands = out["counts"]["bands"]
        assert bands["B"]["candidates"] > 0 and bands["A"]["candidates"] == 0
        n = bands["B"]["candidates"]
        # B allows one inspection a year: those just drawn are not candidates again.
        again = draws.draw(s, policy_name=POLICY, seed=10, as_of=AS_OF, dry_run=True)
        assert again["counts"]["excluded"]["frequency_cap"] == out["counts"]["drawn"]
        assert again["counts"]["bands"]["B"]["candidates"] == n - out["counts"]["drawn"]


def test_changxing_85_point_line(demo_store: Demo) -> None:
    url = demo_store.url
    load_roster(url)

    def score(uscc: str) -> tuple[str, str, str]:
        from tests.supervision.helpers import bucket

        v = 60 + bucket(uscc) * 0.4
        return (f"{v:.2f}", "优" if v >= 85 else "良" if v >= 70 else "差",
                "green" if v >= 85 else "yellow" if v >= 70 else "red")

    publish_run(url, "changxing-homestay", ("homestay",), score_of=score)
    with db.session_scope(url) as s:
        out = draws.draw(s, policy_name="changxing-homestay", seed=3, as_of=AS_OF, dry_run=True)
        inputs_scores = {}
        from creditgov.scoring.models import Score

        for sid, sc in s.execute(select(Score.subject_id, Score.score)):
            inputs_scores[sid] = Decimal(sc)
    bands = out["counts"]["bands"]
    assert bands["at-least-85"]["candidates"] > 0 and bands["below-85"]["candidates"] > 0
    for i in out["items"]:
        assert (inputs_scores[i["subject_id"]] >= 85) == (i["band"] == "at-least-85")
    # Fewer checks above the line: 10 % against 50 % below it.
    high = bands["at-least-85"]["drawn"] / bands["at-least-85"]["candidates"]
    low = bands["below-85"]["drawn"] / bands["below-85"]["candidates"]
    assert high < low


def test_supervise_draw_command_json(demo_store: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    from creditgov.cli.main import app

    _prepare(demo_store.url)
    runner = CliRunner()
    args = ["--db", demo_store.url, "supervise", "draw", "--policy", POLICY, "--scope", "kind=enterprise",
            "--scope", "region=330127-S01", "--seed", "42", "--as-of", AS_OF.isoformat(), "--json"]
    preview = runner.invoke(app, [*args[:-1], "--dry-run", "--json"], catch_exceptions=False)
    res = runner.invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["seed"] == "42" and out["scope"] == {"kind": ["enterprise"], "region": "330127-S01"}
    assert out["draw_id"] and out["tasks"] == out["counts"]["drawn"] > 0
    assert json.loads(preview.output)["result_hash"] == out["result_hash"]
    # Once drawn, A and B subjects have had their once a year (C twice, D uncapped).
    after = runner.invoke(app, [*args[:-1], "--dry-run", "--json"], catch_exceptions=False)
    capped = sum(1 for i in out["items"] if i["band"] in ("A", "B"))
    assert json.loads(after.output)["counts"]["excluded"]["frequency_cap"] == capped
    res3 = runner.invoke(app, ["--db", demo_store.url, "supervise", "verify", str(out["draw_id"])])
    assert res3.exit_code == 0 and "reproduced" in res3.output
