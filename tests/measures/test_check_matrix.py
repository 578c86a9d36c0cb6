"""The credit check end to end, per list and per scenario: subjects put on each list
through the real procedure, grades from published runs, commitments signed and
breached through the commitments service — and, for every scenario, the measures
each subject gets, written out by hand from the measures catalogue."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.lists.helpers import add_run, make_subject, publish_manual_entry

from creditgov.commitments import service as commitments
from creditgov.core import db
from creditgov.core.errors import NotFound
from creditgov.measures import service as measures
from creditgov.measures.models import CreditCheck
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject

PCE = "public-credit-enterprise"

# subject -> scenario -> (measures that apply, measures offered on a signed commitment)
EXPECTED: dict[str, dict[str, tuple[set[str], set[str]]]] = {
    "red_c": {  # on the red list, grade C yellow
        "administrative-approval": ({"fast-track-approval"}, {"tolerated-missing-documents"}),
        "export-tax-refund": ({"paperless-export-tax-refund"}, set()),
        "bank-lending": ({"credit-line-and-rate"}, set()),
        "market-rent": (set(), set()),
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
        "public-services": (set(), set()),
        "training": (set(), set()),
        "inspection": ({"heightened-inspection"}, set()),
        "government-subsidy": ({"subsidy-restriction"}, set()),
        "public-bidding": ({"bidding-restriction"}, set()),
    },
    "ka_b": {  # on the key-attention list, grade B
        "administrative-approval": ({"heightened-inspection"}, set()),
        "export-tax-refund": (set(), set()),
        "bank-lending": (set(), set()),
        "market-rent": (set(), set()),
        "public-services": (set(), set()),
        "training": ({"training-access"}, set()),
        "inspection": ({"heightened-inspection"}, set()),
        "government-subsidy": (set(), set()),
        "public-bidding": (set(), set()),
    },
    "a": {
        "administrative-approval": ({"fast-track-approval"}, {"tolerated-missing-documents"}),
        "export-tax-refund": ({"paperless-export-tax-refund"}, set()),
        "bank-lending": ({"credit-line-and-rate"}, set()),
        "market-rent": (set(), set()),  # A in the county model, not graded by the Yiwu model
        "public-services": ({"free-parking", "free-health-check"}, set()),
        "training": ({"training-access"}, set()),
        "inspection": ({"reduced-inspection"}, set()),
        "government-subsidy": (set(), set()),
        "public-bidding": (set(), set()),
    },
    "b": {
        "administrative-approval": (set(), {"tolerated-missing-documents"}),
        "export-tax-refund": ({"paperless-export-tax-refund"}, set()),
        "bank-lending": (set(), set()),
        "market-rent": (set(), set()),
        "public-services": (set(), set()),
        "training": ({"training-access"}, set()),
        "inspection": (set(), set()),
        "government-subsidy": (set(), set()),
        "public-bidding": (set(), set()),
    },
    "c": {sc: (set(), set()) for sc in (
        "administrative-approval", "export-tax-refund", "bank-lending", "market-rent", "public-services",
        "training", "inspection", "government-subsidy", "public-bidding")},
    "d": {
        "administrative-approval": ({"heightened-inspection"}, set()),
        "export-tax-refund": (set(), set()),
        "bank-lending": ({"prudent-credit"}, set()),
        "market-rent": (set(), set()),
        "public-services": (set(), set()),
        "training": (set(), set()),
        "inspection": ({"heightened-inspection"}, set()),
        "government-subsidy": (set(), set()),
        "public-bidding": (set(), set()),
    },
    "yiwu_a": {  # B in the county model, A in the Yiwu model
        "market-rent": ({"market-rent-coupon"}, set()),
        "export-tax-refund": ({"paperless-export-tax-refund"}, set()),
    },
    "b_signed": {  # grade B with a signed 容缺受理 commitment
        "administrative-approval": ({"tolerated-missing-documents"}, set()),
    },
    "b_breached": {  # grade B, breached a commitment last month: strict review, no 容缺受理 offered
        "administrative-approval": ({"strict-approval-review"}, set()),
    },
}


@pytest.fixture
def matrix(county: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-09-01")
    with db.session_scope(county) as s:
        subj = {name: make_subject(s) for name in EXPECTED}
        # the latest published run decides; an older published one and a newer
        # unpublished one say otherwise and must be ignored
        add_run(s, PCE, dt.date(2026, 3, 31), [(x, "D", "red") for x in subj.values()])
        grades = {"red_c": ("C", "yellow"), "sd_a": ("A", "green"), "ka_b": ("B", "green"), "a": ("A", "green"),
                  "b": ("B", "green"), "c": ("C", "yellow"), "d": ("D", "red"), "yiwu_a": ("B", "green"),
                  "b_signed": ("B", "green"), "b_breached": ("B", "green")}
        add_run(s, PCE, dt.date(2026, 6, 30), [(subj[n], g, c) for n, (g, c) in grades.items()])
        add_run(s, PCE, dt.date(2026, 9, 30), [(x, "A", "green") for x in subj.values()], published=False)
        add_run(s, "yiwu-ecommerce", dt.date(2026, 6, 30), [(subj["yiwu_a"], "A", "green")])
        ids = {n: x.id for n, x in subj.items()}
        c = commitments.sign(s, subject_id=ids["b_breached"], template_code="notification-commitment")
        breach_id = c.id
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-01")
    with db.session_scope(county) as s:
        commitments.verify(s, commitment_id=breach_id, outcome="breached", department="market",
                           note="核查发现承诺不实")
    publish_manual_entry(county, monkeypatch, "red", ids["red_c"])
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", ids["sd_a"])
    publish_manual_entry(county, monkeypatch, "key-attention", ids["ka_b"])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s:
        commitments.sign(s, subject_id=ids["b_signed"], template_code="tolerated-missing-documents",
                         signed_by="法定代表人", scenario="administrative-approval")
    return ids


def test_check_returns_the_right_measures_per_list_and_scenario(county: str, matrix: dict[str, int]) -> None:
    seen_scenarios: set[str] = set()
    with db.session_scope(county) as s:
        for name, by_scenario in EXPECTED.items():
            for scenario, (want, offered) in by_scenario.items():
                r = measures.check(s, subject_id=matrix[name], scenario=scenario, actor="window:1").as_dict()
                got = {m["code"] for m in r["measures"]}
                assert got == want, f"{name} in {scenario}: {sorted(got)} != {sorted(want)}"
                assert {m["code"] for m in r["available_with_commitment"]} == offered, (name, scenario)
                assert all(m["legal_basis"] and m["kind"] in ("incentive", "punishment", "supervision")
                           for m in r["measures"])
                seen_scenarios.add(scenario)
    assert seen_scenarios == {sc.code for sc in _scenarios(county)}


def _scenarios(url: str) -> list:
    with db.session_scope(url) as s:
        return measures.scenarios(s)


def test_check_shape_storage_and_audit(county: str, matrix: dict[str, int]) -> None:
    with db.session_scope(county) as s:
        r = measures.check(s, subject_id=matrix["sd_a"], scenario="public-bidding", department="bidding",
                           purpose="招标资格审查", actor="officer:zhao")
        out = r.as_dict()
        assert {"grade", "colour", "lists", "measures", "check_id", "warnings"} <= set(out)
        assert (out["grade"], out["colour"], out["model"]) == ("A", "green", PCE)
        assert [x["list"] for x in out["lists"]] == ["serious-dishonesty"]
        assert out["lists"][0]["decision_no"] and out["warnings"] == []
        (m,) = out["measures"]
        assert m["code"] == "bidding-restriction" and "政府采购法" in m["legal_basis"]
        row = s.execute(select(CreditCheck).where(CreditCheck.check_id == r.check_id)).scalar_one()
        assert (row.department, row.scenario, row.grade, row.measures) == (
            "bidding", "public-bidding", "A", ["bidding-restriction"])
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "check")
                          .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert entry.subject_id == matrix["sd_a"] and entry.purpose == "招标资格审查"
        assert r.check_id in entry.detail and entry.actor == "officer:zhao"
        # the scenario's model: the Yiwu market reads the Yiwu grade
        yiwu = measures.check(s, subject_id=matrix["yiwu_a"], scenario="market-rent")
        assert (yiwu.model, yiwu.grade) == ("yiwu-ecommerce", "A")
        # a subject with no score in the latest run has no grade, and no grade-based measure
        none = measures.check(s, subject_id=matrix["a"], scenario="market-rent")
        assert none.grade is None and none.run_id is not None and none.measures == []
        # an explicit model overrides the scenario's for the grade shown, while a measure
        # that names its own model (the Yiwu coupon) still reads that model
        explicit = measures.check(s, subject_id=matrix["yiwu_a"], scenario="market-rent", model=PCE)
        assert explicit.grade == "B"
        assert [m["because"] for m in explicit.measures] == ["grade A (yiwu-ecommerce)"]
        # by credit code, as a window clerk types it; an unknown scenario is refused
        uscc = s.get(Subject, matrix["a"]).uscc  # type: ignore[union-attr]
        r = measures.check(s, key=uscc, scenario="bank-lending")
        assert r.subject["id"] == matrix["a"] and {m["code"] for m in r.measures} == {"credit-line-and-rate"}
        with pytest.raises(NotFound, match="unknown scenario 'nope'"):
            measures.check(s, key=uscc, scenario="nope")
