"""The credit check end to end.

1. What every grade earns: for every shipped model, every kind it grades and every
   grade it can give, one subject graded by that model alone, checked in every
   scenario, must get exactly the measures `matrix.yaml` (written by hand, shown in
   docs/measures.md) says — or be refused where the table says the scenario does not
   check its kind.
2. Lists and commitments: subjects put on each list through the real procedure,
   commitments signed and breached through the commitments service.
3. The three subjects the issue names — an AA resident, a 优 homestay, a B Yiwu
   merchant — through `creditgov check` and `POST /api/v1/checks`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lists.helpers import add_run, make_subject, publish_manual_entry
from tests.measures import matrix as table

from creditgov.commitments import service as commitments
from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.measures import service as measures
from creditgov.measures.models import CreditCheck
from creditgov.scoring import service as scoring_service
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject

PCE = "public-credit-enterprise"
OFFERED = table.OFFERED
MATRIX = table.load()


# ----------------------------------------------------------------------------- 1. every grade


def test_the_table_covers_every_pack_kind_grade_and_scenario() -> None:
    packs = scoring_service.shipped_models()
    assert set(MATRIX) == set(packs) and len(packs) == 8 and "combined-supervision" in MATRIX
    for name, m in packs.items():
        assert set(MATRIX[name]) == set(m.scope.kinds), name
        for kind, spec in MATRIX[name].items():
            assert list(spec["grades"]) == [g.label for g in m.grades], (name, kind)
    codes = set(table.scenario_codes())
    for by_kind in MATRIX.values():
        for spec in by_kind.values():
            assert set(spec["not_checked"]) <= codes
            for row in spec["grades"].values():
                assert set(row) <= codes - set(spec["not_checked"])


def test_docs_show_the_table() -> None:
    assert table.section(table.DOCS.read_text("utf-8")) == table.render(MATRIX, table.scenario_codes())


@pytest.fixture
def graded(county: str) -> dict[tuple[str, str, str], int]:
    """(model, kind, grade) -> a subject of that kind graded so by that model alone."""
    out: dict[tuple[str, str, str], int] = {}
    with db.session_scope(county) as s:
        for model, by_kind in MATRIX.items():
            rows = []
            for kind, spec in by_kind.items():
                for grade in spec["grades"]:
                    subj = make_subject(s, kind=kind)
                    out[(model, kind, grade)] = subj.id
                    rows.append((subj, grade, "green"))
            packs = scoring_service.shipped_models()
            colour = {g.label: g.colour for g in packs[model].grades}
            add_run(s, model, dt.date(2026, 9, 30), [(x, g, colour[g]) for x, g, _ in rows])
    return out


def test_every_grade_of_every_pack_earns_what_the_table_says(county: str,
                                                             graded: dict[tuple[str, str, str], int]) -> None:
    packs = scoring_service.shipped_models()
    scenarios = table.scenario_codes()
    cells = 0
    with db.session_scope(county) as s:
        for (model, kind, grade), sid in graded.items():
            spec = MATRIX[model][kind]
            for sc in scenarios:
                if sc in spec["not_checked"]:
                    with pytest.raises(InvalidInput, match=f"does not check a {kind}"):
                        measures.check(s, subject_id=sid, scenario=sc, actor="matrix")
                    continue
                want = spec["grades"][grade].get(sc, [])
                r = measures.check(s, subject_id=sid, scenario=sc, actor="matrix").as_dict()
                got = sorted(m["code"] for m in r["measures"])
                got += [m["code"] + OFFERED for m in r["available_with_commitment"]]
                assert sorted(got) == sorted(want), f"{model} {kind} {grade} in {sc}: {got} != {want}"
                if r["model"] == model:  # the scenario reads this model for the kind: grade and band shown
                    assert (r["grade"], r["band"]) == (grade, packs[model].bands()[grade])
                cells += 1
    assert cells > 500


def test_a_measure_naming_a_grade_its_model_lacks_is_refused_with_file_and_line(county_sqlite: str,
                                                                                  tmp_path: Path) -> None:
    text = measures.shipped_text("measures.yaml").replace("{model: yiwu-ecommerce, grades: [A]}",
                                                         "{model: yiwu-ecommerce, grades: [AA]}")
    path = tmp_path / "measures.yaml"
    path.write_text(text, "utf-8")
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "- {model: yiwu-ecommerce, grades: [AA]}" in ln)
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError) as exc:
        measures.load_measures(s, path=path)
    assert str(exc.value).startswith(f"{path}:{line}: measures.")
    assert "'AA' is not a grade of yiwu-ecommerce" in str(exc.value)
    bare = measures.shipped_text("measures.yaml").replace("{band: {at_least: excellent}}", "{grades: [A]}", 1)
    path.write_text(bare, "utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match="grades name their model"):
        measures.load_measures(s, path=path)


def test_a_scenario_silent_on_a_kind_or_naming_a_model_that_cannot_grade_it_is_refused(
        county_sqlite: str, tmp_path: Path) -> None:
    text = measures.shipped_text("scenarios.yaml")
    path = tmp_path / "scenarios.yaml"
    path.write_text(text.replace("  social_org: >-\n", "  nobody: >-\n", 1), "utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match=r"says nothing of kind\(s\) \['social_org'\]"):
        measures.load_measures(s, scenarios_path=path)
    path.write_text(text.replace("      enterprise: [yiwu-ecommerce]\n      merchant: [yiwu-ecommerce]",
                                 "      enterprise: [yiwu-ecommerce]\n      merchant: [community-resident]", 1), "utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match="does not grade a merchant"):
        measures.load_measures(s, scenarios_path=path)


# ----------------------------------------------------------------------------- 2. lists and commitments

# subject -> scenario -> (measures that apply, measures offered on a signed commitment)
EXPECTED: dict[str, dict[str, tuple[set[str], set[str]]]] = {
    "red_c": {  # on the red list, grade C (fair)
        "administrative-approval": ({"fast-track-approval"}, {"tolerated-missing-documents"}),
        "export-tax-refund": ({"paperless-export-tax-refund"}, set()),
        "bank-lending": ({"credit-line-and-rate"}, set()),
        "market-rent": (set(), set()),
        "yiwu-admission": ({"admission-priority", "admission-strict-review"}, set()),
        "public-services": ({"free-parking", "free-health-check"}, set()),
        "training": ({"training-access"}, set()),
        "inspection": ({"reduced-inspection"}, set()),
        "government-subsidy": (set(), set()),
        "public-bidding": (set(), set()),
    },
    "sd_a": {  # on the serious-dishonesty list although graded A: incentives are blocked
        "administrative-approval": ({"heightened-inspection", "strict-approval-review"}, set()),
        "export-tax-refund": (set(), set()),
        "bank-lending": ({"prudent-credit"}, set()),
        "market-rent": (set(), set()),
        "yiwu-admission": ({"admission-restriction"}, set()),
        "public-services": (set(), set()),
        "training": (set(), set()),
        "inspection": ({"heightened-inspection"}, set()),
        "government-subsidy": ({"subsidy-restriction"}, set()),
        "public-bidding": ({"bidding-restriction"}, set()),
    },
    "ka_b": {  # on the key-attention list, grade B (good)
        "administrative-approval": ({"heightened-inspection"}, set()),
        "export-tax-refund": (set(), set()),
        "bank-lending": (set(), set()),
        "market-rent": (set(), set()),
        "yiwu-admission": ({"admission-strict-review"}, set()),
        "public-services": ({"free-parking", "free-health-check"}, set()),
        "training": ({"training-access"}, set()),
        "inspection": ({"heightened-inspection"}, set()),
        "government-subsidy": (set(), set()),
        "public-bidding": (set(), set()),
    },
    "yiwu_a": {  # B in the county model, A in the Yiwu model
        "market-rent": ({"market-rent-coupon"}, set()),
        "export-tax-refund": ({"paperless-export-tax-refund"}, set()),
        "yiwu-admission": ({"admission-priority"}, set()),
    },
    "b_signed": {  # grade B with a signed 容缺受理 commitment
        "administrative-approval": ({"tolerated-missing-documents"}, set()),
    },
    "b_breached": {  # grade B, breached a commitment last month: strict review, no 容缺受理 offered
        "administrative-approval": ({"strict-approval-review"}, set()),
    },
    "sd_org": {  # a social organisation (no model grades it) on the serious-dishonesty list
        "government-subsidy": ({"subsidy-restriction"}, set()),
        "public-bidding": ({"bidding-restriction"}, set()),
        "training": (set(), set()),
    },
}


@pytest.fixture
def listed(county: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-09-01")
    with db.session_scope(county) as s:
        subj = {name: make_subject(s, kind="social_org" if name == "sd_org" else "enterprise") for name in EXPECTED}
        subj["a"] = make_subject(s)
        firms = {n: x for n, x in subj.items() if n != "sd_org"}
        # the latest published run decides; an older published one and a newer
        # unpublished one say otherwise and must be ignored
        add_run(s, PCE, dt.date(2026, 3, 31), [(x, "D", "red") for x in firms.values()])
        grades = {"red_c": ("C", "yellow"), "sd_a": ("A", "green"), "ka_b": ("B", "green"), "a": ("A", "green"),
                  "yiwu_a": ("B", "green"), "b_signed": ("B", "green"), "b_breached": ("B", "green")}
        add_run(s, PCE, dt.date(2026, 6, 30), [(subj[n], g, c) for n, (g, c) in grades.items()])
        add_run(s, PCE, dt.date(2026, 9, 30), [(x, "A", "green") for x in firms.values()], published=False)
        add_run(s, "yiwu-ecommerce", dt.date(2026, 6, 30), [(subj["yiwu_a"], "A", "green")])
        ids = {n: x.id for n, x in subj.items()}
        breach_id = commitments.sign(s, subject_id=ids["b_breached"], template_code="notification-commitment").id
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-01")
    with db.session_scope(county) as s:
        commitments.verify(s, commitment_id=breach_id, outcome="breached", department="market",
                           note="核查发现承诺不实")
    publish_manual_entry(county, monkeypatch, "red", ids["red_c"])
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", ids["sd_a"])
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", ids["sd_org"])
    publish_manual_entry(county, monkeypatch, "key-attention", ids["ka_b"])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s:
        commitments.sign(s, subject_id=ids["b_signed"], template_code="tolerated-missing-documents",
                         signed_by="法定代表人", scenario="administrative-approval")
    return ids


def test_check_returns_the_right_measures_per_list_and_commitment(county: str, listed: dict[str, int]) -> None:
    with db.session_scope(county) as s:
        for name, by_scenario in EXPECTED.items():
            for scenario, (want, offered) in by_scenario.items():
                r = measures.check(s, subject_id=listed[name], scenario=scenario, actor="window:1").as_dict()
                got = {m["code"] for m in r["measures"]}
                assert got == want, f"{name} in {scenario}: {sorted(got)} != {sorted(want)}"
                assert {m["code"] for m in r["available_with_commitment"]} == offered, (name, scenario)
                assert all(m["legal_basis"] and m["kind"] in ("incentive", "punishment", "supervision")
                           for m in r["measures"])
        org = measures.check(s, subject_id=listed["sd_org"], scenario="training")
        assert (org.model, org.grade, org.band) == (None, None, None)  # ungraded kind: lists only


def test_check_shape_storage_and_audit(county: str, listed: dict[str, int]) -> None:
    with db.session_scope(county) as s:
        r = measures.check(s, subject_id=listed["sd_a"], scenario="public-bidding", department="bidding",
                           purpose="招标资格审查", actor="officer:zhao")
        out = r.as_dict()
        assert {"grade", "band", "colour", "lists", "measures", "check_id", "warnings"} <= set(out)
        assert (out["grade"], out["band"], out["colour"], out["model"]) == ("A", "excellent", "green", PCE)
        assert [x["list"] for x in out["lists"]] == ["serious-dishonesty"]
        assert out["lists"][0]["decision_no"] and out["warnings"] == []
        (m,) = out["measures"]
        assert m["code"] == "bidding-restriction" and "政府采购法" in m["legal_basis"]
        row = s.execute(select(CreditCheck).where(CreditCheck.check_id == r.check_id)).scalar_one()
        assert (row.department, row.scenario, row.grade, row.measures) == (
            "bidding", "public-bidding", "A", ["bidding-restriction"])
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "check")
                          .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert entry.subject_id == listed["sd_a"] and entry.purpose == "招标资格审查"
        assert r.check_id in entry.detail and entry.actor == "officer:zhao"
        # the scenario's model: the Yiwu market reads the Yiwu grade
        yiwu = measures.check(s, subject_id=listed["yiwu_a"], scenario="market-rent")
        assert (yiwu.model, yiwu.grade, yiwu.band) == ("yiwu-ecommerce", "A", "excellent")
        # a subject with no score in the latest run has no grade, and no grade-based measure
        none = measures.check(s, subject_id=listed["a"], scenario="market-rent")
        assert none.grade is None and none.run_id is not None and none.measures == []
        # an explicit model overrides the scenario's for the grade shown, while a measure
        # that names its own model (the Yiwu coupon) still reads that model
        explicit = measures.check(s, subject_id=listed["yiwu_a"], scenario="market-rent", model=PCE)
        assert (explicit.grade, explicit.band) == ("B", "good")
        assert [m["because"] for m in explicit.measures] == ["grade A (yiwu-ecommerce)"]
        # the first of a scenario's models that graded the subject counts: the park model
        # has no run, so lending reads the county's evaluation
        uscc = s.get(Subject, listed["a"]).uscc  # type: ignore[union-attr]
        r = measures.check(s, key=uscc, scenario="bank-lending")
        assert r.subject["id"] == listed["a"] and r.model == PCE
        assert {m["code"] for m in r.measures} == {"credit-line-and-rate"}
        assert r.measures[0]["because"] == "band ≥ excellent"
        with pytest.raises(NotFound, match="unknown scenario 'nope'"):
            measures.check(s, key=uscc, scenario="nope")


# ----------------------------------------------------------------------------- 3. CLI and API


@pytest.fixture
def three(county: str) -> dict[str, int]:
    """An AA resident, a 优 homestay and a B Yiwu merchant, graded by published runs."""
    with db.session_scope(county) as s:
        resident = make_subject(s, kind="individual", name="张三")
        homestay = make_subject(s, kind="homestay", name="竹溪山居民宿")
        merchant = make_subject(s, kind="merchant", name="陆港小商户")
        add_run(s, "community-resident", dt.date(2026, 9, 30), [(resident, "AA", "green")])
        add_run(s, "changxing-homestay", dt.date(2026, 9, 30), [(homestay, "优", "green")])
        add_run(s, "yiwu-ecommerce", dt.date(2026, 9, 30), [(merchant, "B", "green")])
        return {"resident": resident.id, "homestay": homestay.id, "merchant": merchant.id}


CASES = [("resident", "community-resident", "community-resident", "individual", "AA"),
         ("homestay", "changxing-homestay", "changxing-homestay", "homestay", "优"),
         ("merchant", "yiwu-ecommerce", "yiwu-ecommerce", "merchant", "B")]


def _want(model: str, kind: str, grade: str, scenario: str) -> list[str]:
    return sorted(c for c in MATRIX[model][kind]["grades"][grade].get(scenario, []) if not c.endswith(OFFERED))


def test_the_three_subjects_through_the_command(county: str, three: dict[str, int], cli, tmp_path: Path) -> None:
    from creditgov.security.crypto import create_key_file

    key = tmp_path / "cli.key"
    create_key_file(key)
    for who, model, shown, kind, grade in CASES:
        for scenario in ("public-services", "training", "bank-lending", "inspection", "market-rent"):
            if scenario in MATRIX[model][kind]["not_checked"]:
                continue
            res = cli("--db", county, "--key-file", str(key), "check", str(three[who]), "--scenario", scenario,
                      "--json")
            assert res.exit_code == 0, res.output
            out = json.loads(res.output)
            assert (out["model"], out["grade"]) == (shown, grade), (who, scenario)
            assert sorted(m["code"] for m in out["measures"]) == _want(model, kind, grade, scenario), (who, scenario)
    # the issue's three gaps, closed
    res = cli("--db", county, "--key-file", str(key), "check", str(three["resident"]), "--scenario",
              "public-services", "--json")
    assert {m["code"] for m in json.loads(res.output)["measures"]} == {"free-parking", "free-health-check"}
    res = cli("--db", county, "--key-file", str(key), "check", str(three["homestay"]), "--scenario",
              "bank-lending", "--json")
    assert [m["code"] for m in json.loads(res.output)["measures"]] == ["credit-line-and-rate"]
    res = cli("--db", county, "--key-file", str(key), "check", str(three["merchant"]), "--scenario", "training",
              "--json")
    out = json.loads(res.output)
    assert (out["grade"], out["band"], [m["code"] for m in out["measures"]]) == ("B", "good", ["training-access"])
    with pytest.raises(InvalidInput, match="does not check a homestay"):  # the command prints it, exit code 2
        cli("--db", county, "--key-file", str(key), "check", str(three["homestay"]), "--scenario", "market-rent")


def test_the_three_subjects_through_the_api(county: str, three: dict[str, int], tmp_path: Path) -> None:
    from creditgov.api.app import create_app
    from creditgov.security import users as user_service
    from creditgov.security.crypto import create_key_file

    key = tmp_path / "api.key"
    create_key_file(key)
    with db.session_scope(county) as s:
        u = user_service.create_user(s, username="window-clerk", password="correct horse battery",
                                     role="credit_office", display_name="窗口", actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    client = TestClient(create_app(county, key), base_url="https://testserver")
    auth = {"Authorization": f"Bearer {token}"}
    for who, model, shown, kind, grade in CASES:
        for scenario in table.scenario_codes():
            r = client.post("/api/v1/checks", json={"scenario": scenario, "subject_id": three[who]}, headers=auth)
            if scenario in MATRIX[model][kind]["not_checked"]:
                assert r.status_code == 422 and "does not check" in r.json()["detail"], r.text
                continue
            assert r.status_code == 201, r.text
            body = r.json()
            assert sorted(m["code"] for m in body["measures"]) == _want(model, kind, grade, scenario), (who, scenario)
            if body["model"] == shown:
                assert body["grade"] == grade
