"""The supervision API against a real county (SQLite and PostgreSQL): a draw is
published with its seed and re-run by verify; a recorded result becomes a credit
record in the subject's file through ingestion; tasks, draws and patrols keep to the
caller's reach."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from creditgov.core import db
from creditgov.lists import service as lists_service
from creditgov.security import users as user_service
from creditgov.supervision import service as supervision_service
from creditgov.supervision.schemas import InspectorsFile
from tests.api.conftest import client_for
from tests.api.county import County
from tests.api.county_supervision import ROSTER, TEST_POLICY, fresh_county


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api_county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    yield from fresh_county(request, tmp_path_factory)


@pytest.fixture(scope="module")
def api(api_county: County) -> TestClient:
    return client_for(api_county)


def _call(api: TestClient, county: County, role: str, method: str, path: str, body: Any = None) -> Any:
    return api.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {county.tokens[role]}"},
                       json=body)


def _audit(api: TestClient, county: County, action: str) -> list[dict[str, Any]]:
    rows = _call(api, county, "admin", "GET", f"/audit/entries?action={action}&limit=200").json()
    return [{**e, "detail": json.loads(e["detail"])} for e in rows]


def test_a_draw_is_published_with_its_seed_and_reproducible(api: TestClient, api_county: County) -> None:
    policies = {p["name"]: p for p in _call(api, api_county, "inspector", "GET", "/supervision/policies").json()}
    assert {"lindian-enterprise", "changxing-homestay", TEST_POLICY} <= set(policies)
    assert len(policies["lindian-enterprise"]["content_hash"]) == 64

    r = _call(api, api_county, "credit_office", "POST", "/supervision/draws",
              {"policy": TEST_POLICY, "seed": "424242", "create_tasks": False})
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["seed"] == "424242" and d["policy_hash"] == policies[TEST_POLICY]["content_hash"]
    assert [i["subject_id"] for i in d["items"]] == [1]  # the county's one enterprise, every band at 100 %
    assert d["counts"]["candidates"] == 1 and d["counts"]["bands"]["B"] == {"candidates": 1, "ratio": "1",
                                                                           "drawn": 1}
    assert len(d["items"][0]["inspectors"]) == 2 and d["tasks"] is None  # create_tasks: false

    stored = _call(api, api_county, "inspector", "GET", f"/supervision/draws/{d['draw_id']}").json()
    assert (stored["seed"], stored["inputs_hash"], stored["result_hash"]) == (d["seed"], d["inputs_hash"],
                                                                            d["result_hash"])
    assert stored["items"] == d["items"] and stored["actor"] == "user:t-credit_office"
    v = _call(api, api_county, "grid_worker", "GET", f"/supervision/draws/{d['draw_id']}/verify").json()
    assert v == {"draw_id": d["draw_id"], "inputs_hash_ok": True, "result_hash_ok": True, "items_match": True,
                 "result_hash": d["result_hash"], "reproducible": True}

    # Without a seed a fresh one is drawn and published; a dry run records nothing.
    fresh = _call(api, api_county, "credit_office", "POST", "/supervision/draws",
                  {"policy": "lindian-enterprise", "scope": {"kind": ["enterprise"]}}).json()
    assert fresh["seed"].isdigit() and fresh["scope"] == {"kind": ["enterprise"]}
    before = len(_call(api, api_county, "credit_office", "GET", "/supervision/draws?limit=500").json())
    dry = _call(api, api_county, "credit_office", "POST", "/supervision/draws",
                {"policy": TEST_POLICY, "seed": "424242", "dry_run": True}).json()
    assert dry["draw_id"] is None and dry["inputs_hash"] == d["inputs_hash"]  # nothing changed since: same inputs
    assert len(_call(api, api_county, "credit_office", "GET", "/supervision/draws?limit=500").json()) == before
    listed = _call(api, api_county, "credit_office", "GET", f"/supervision/draws?policy={TEST_POLICY}").json()
    assert d["draw_id"] in {x["draw_id"] for x in listed} and all(x["items"] == [] for x in listed)

    draws = [e for e in _audit(api, api_county, "supervision.draw") if e["detail"]["draw"] == d["draw_id"]]
    assert [(e["actor"], e["detail"]["seed"]) for e in draws] == [("user:t-credit_office", "424242")]

    # A department draws under its own department's policies only; others do not draw.
    assert _call(api, api_county, "department_officer", "POST", "/supervision/draws",
                 {"policy": "lindian-enterprise", "create_tasks": False}).status_code == 201
    assert _call(api, api_county, "department_officer", "POST", "/supervision/draws",
                 {"policy": "changxing-homestay"}).status_code == 403  # tourism's policy
    assert _call(api, api_county, "inspector", "POST", "/supervision/draws", {"policy": TEST_POLICY}
                 ).status_code == 403
    bad = [({"policy": "no-such-policy"}, 404), ({"policy": TEST_POLICY, "seed": "12ab"}, 422),
           ({"policy": TEST_POLICY, "scope": {"region": "NOWHERE"}}, 404),
           ({"policy": TEST_POLICY, "scope": {"street": "x"}}, 422)]
    for body, want in bad:
        assert _call(api, api_county, "credit_office", "POST", "/supervision/draws", body).status_code == want, body


def test_a_recorded_result_becomes_a_credit_record_in_the_subjects_file(api: TestClient, api_county: County) -> None:
    tid = api_county.task_id
    mine = {t["id"] for t in _call(api, api_county, "inspector", "GET", "/supervision/tasks?status=assigned").json()}
    assert tid in mine
    # Refused before anything is written: a penalty needs its amount and decision number.
    r = _call(api, api_county, "inspector", "POST", f"/supervision/tasks/{tid}/result",
              {"outcome": "penalty", "decision_no": "长市监罚〔2026〕7号"})
    assert r.status_code == 422 and "amount" in r.json()["detail"]
    assert _call(api, api_county, "inspector", "GET", f"/supervision/tasks/{tid}").json()["status"] == "assigned"

    r = _call(api, api_county, "inspector", "POST", f"/supervision/tasks/{tid}/result",
              {"outcome": "penalty", "penalty_amount": "5000", "decision_no": "长市监罚〔2026〕7号",
               "finding": "未按规定公示年度报告"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["status"], t["outcome"], t["penalty_amount"]) == ("done", "penalty", "5000.00")
    rec = t["record"]
    assert rec["item"] == "market.penalty" and rec["document_no"] == f"MARKET-JC-{tid}" and rec["version"] == 1

    # The record is in the subject's credit file, with its provenance: an inspection batch.
    f = _call(api, api_county, "credit_office", "GET", "/subjects/1?purpose=inspection follow-up").json()
    found = [x for x in f["records"] if x["id"] == rec["id"]]
    assert found, [x.get("document_no") for x in f["records"]]
    assert found[0]["item"] == "market.penalty" and "长市监罚〔2026〕7号" in (found[0]["text"] or "")
    assert found[0]["value"] == "5000.00" and found[0]["document_no"] == f"MARKET-JC-{tid}"
    assert found[0]["provenance"]["source"] == "inspection_market"
    assert found[0]["provenance"]["batch"] == t["batch_id"]
    batches = _call(api, api_county, "admin", "GET", "/ingest/batches").json()
    batch = next(b for b in batches if b["id"] == t["batch_id"])
    assert (batch["source"], batch["kind"]) == ("inspection_market", "inspection")
    results = [e for e in _audit(api, api_county, "supervision.result") if e["detail"]["task"] == tid]
    assert [(e["actor"], e["detail"]["record"]) for e in results] == [("user:t-inspector", rec["id"])]

    # A changed result later is a correction: a new version of the same record.
    r = _call(api, api_county, "inspector", "POST", f"/supervision/tasks/{tid}/result",
              {"outcome": "problems", "finding": "复查：罚款已缴纳，年报已补报"})
    assert r.status_code == 200 and r.json()["record"]["version"] == 2
    assert r.json()["record"]["document_no"] == f"MARKET-JC-{tid}"
    f = _call(api, api_county, "credit_office", "GET", "/subjects/1?purpose=inspection follow-up").json()
    current = [x for x in f["records"] if x["id"] == r.json()["record"]["id"]]
    assert current and current[0]["item"] == "market.inspection_problem" and current[0]["version"] == 2


def test_tasks_keep_to_the_callers_reach(api: TestClient, api_county: County) -> None:
    d = _call(api, api_county, "credit_office", "POST", "/supervision/draws",
              {"policy": TEST_POLICY, "seed": "777"}).json()
    task = _call(api, api_county, "credit_office", "GET", f"/supervision/tasks?draw_id={d['draw_id']}").json()
    assert [t["subject_id"] for t in task] == [1]
    tid, team = task[0]["id"], task[0]["assignees"]
    assert len(team) == 2 and all(c.startswith("MKT-") for c in team)

    # The grid worker's grid (CX-S02-G01) does not hold subject 1: not found; banks and
    # firms have no supervision at all.
    assert tid not in {t["id"] for t in _call(api, api_county, "grid_worker", "GET", "/supervision/tasks").json()}
    assert _call(api, api_county, "grid_worker", "GET", f"/supervision/tasks/{tid}").status_code == 404
    assert _call(api, api_county, "grid_worker", "POST", f"/supervision/tasks/{tid}/result",
                 {"outcome": "passed"}).status_code == 404
    assert _call(api, api_county, "bank_officer", "GET", "/supervision/tasks").status_code == 403
    assert _call(api, api_county, "subject", "GET", f"/supervision/tasks/{tid}").status_code == 403
    assert api.get(f"/api/v1/supervision/tasks/{tid}").status_code == 401

    # A drawn inspector works outside the subject's street (here CX-S02), yet reaches the
    # tasks assigned to its code: an inspector account named by that code (its roster
    # row names no account of its own).
    with db.session_scope(api_county.url) as s:
        u = user_service.create_user(s, username=team[0], password=None, role="inspector", region_code="CX-S02",
                                     actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    own = {"Authorization": f"Bearer {token}"}
    assert tid in {t["id"] for t in api.get("/api/v1/supervision/tasks", headers=own).json()}
    assert api.get(f"/api/v1/supervision/tasks/{tid}", headers=own).status_code == 200

    # The draw: everyone who reads supervision sees its seed, hashes and counts, but the
    # drawn subjects only in their scope, assigned to them, or (a department) under its
    # own policy; the rest are counted, not named.
    def drawn(headers: dict[str, str]) -> tuple[list[int], int, str]:
        r = api.get(f"/api/v1/supervision/draws/{d['draw_id']}", headers=headers)
        assert r.status_code == 200, r.text
        return [i["subject_id"] for i in r.json()["items"]], r.json()["items_outside_scope"], r.json()["result_hash"]

    def bearer(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_county.tokens[role]}"}

    assert drawn(bearer("grid_worker")) == ([], 1, d["result_hash"])  # subject 1 is not in CX-S02-G01
    assert drawn(own)[:2] == ([1], 0)  # assigned, though outside the inspector's street
    assert drawn(bearer("inspector"))[:2] == ([1], 0)  # CX-S01 holds subject 1
    assert drawn(bearer("department_officer"))[:2] == ([1], 0)  # market's own policy
    with db.session_scope(api_county.url) as s:
        u = user_service.create_user(s, username="t-tourism", password=None, role="department_officer",
                                     department_code="tourism", actor="test")
        tourism, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    assert drawn({"Authorization": f"Bearer {tourism}"})[:2] == ([], 1)  # another department's draw

    # Cancelling is the planners' (office, the inspecting department); once cancelled a
    # task takes no result, and the cancellation is audited.
    assert _call(api, api_county, "inspector", "POST", f"/supervision/tasks/{tid}/cancel",
                 {"reason": "x"}).status_code == 403
    r = _call(api, api_county, "department_officer", "POST", f"/supervision/tasks/{tid}/cancel",
              {"reason": "企业已注销"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["note"]) == ("cancelled", "企业已注销")
    assert _call(api, api_county, "credit_office", "POST", f"/supervision/tasks/{tid}/cancel",
                 {"reason": "再次"}).status_code == 422
    r = api.post(f"/api/v1/supervision/tasks/{tid}/result", json={"outcome": "passed"}, headers=own)
    assert r.status_code == 422 and "cancelled" in r.json()["detail"]
    cancels = [e for e in _audit(api, api_county, "supervision.task.cancel") if e["detail"]["task"] == tid]
    assert [e["actor"] for e in cancels] == ["user:t-department_officer"]


def test_patrol_lists_and_patrol_tasks(api: TestClient, api_county: County,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Put subject 1 on the key-attention list through the whole procedure: notice, the
    # response window, approval by the credit office, publication.
    with db.session_scope(api_county.url) as s:
        lists_service.notify(s, entry_id=api_county.entry_id, actor="test")
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-20")
    with db.session_scope(api_county.url) as s:
        lists_service.approve(s, entry_id=api_county.entry_id, unit="credit", actor="test")
        lists_service.publish(s, entry_id=api_county.entry_id, actor="test")
        roster = {"inspectors": [*ROSTER["inspectors"],
                                 {"code": "WG-S01-G01", "name": "雉城一网格网格员", "kind": "grid_worker",
                                  "department": "grid", "pool": "grid", "region": "CX-S01-G01"}]}
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(roster), actor="test")

    # The inspector's street holds subject 1: its patrol list names it and why.
    street = _call(api, api_county, "inspector", "GET", "/supervision/patrols").json()
    assert [(p["subject_id"], p["reasons"]) for p in street] == [(1, ["列入重点关注对象名单"])]
    assert _call(api, api_county, "credit_office", "GET", "/supervision/patrols?grid=CX-S01-G01").json() == street
    # The grid worker of CX-S02-G01 has no target and cannot look into another grid.
    assert _call(api, api_county, "grid_worker", "GET", "/supervision/patrols").json() == []
    assert _call(api, api_county, "grid_worker", "GET", "/supervision/patrols?grid=CX-S01-G01").status_code == 404

    r = _call(api, api_county, "credit_office", "POST", "/supervision/patrols/assign", {"grid": "CX-S01-G01"})
    assert r.status_code == 201, r.text
    [t] = r.json()
    assert (t["kind"], t["subject_id"], t["assignees"], t["due_on"]) == ("patrol", 1, ["WG-S01-G01"], "2026-11-27")
    # An open patrol task is not assigned twice; grid workers do not assign.
    assert _call(api, api_county, "credit_office", "POST", "/supervision/patrols/assign",
                 {"grid": "CX-S01-G01"}).json() == []
    assert _call(api, api_county, "grid_worker", "POST", "/supervision/patrols/assign",
                 {"grid": "CX-S02-G01"}).status_code == 403
    assert t["id"] in {x["id"] for x in _call(api, api_county, "inspector", "GET", "/supervision/tasks").json()}
    assigned = [e for e in _audit(api, api_county, "supervision.patrol.assign") if t["id"] in e["detail"]["tasks"]]
    assert [e["actor"] for e in assigned] == ["user:t-credit_office"]
