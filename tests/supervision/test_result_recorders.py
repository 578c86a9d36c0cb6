"""Who records an inspection's result (SQLite and PostgreSQL): the inspectors drawn for
the task, its own department's officers and the credit office — not everyone whose
region holds the subject.

The reviewer's cases: the demo's grid worker recorded a tourism task assigned to
["WL-04", "WL-03"] (200, a credit record made), and the `inspector` account, not one of
the two drawn for a market task, recorded a 5,000-yuan penalty through the page's form.
Both are refused now, in words (403 on the API, the page's refusal; the page offers
no form to them), and the task page names its inspectors with their codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.ingest.models import Batch
from creditgov.security import users as user_service
from creditgov.supervision import campaigns
from creditgov.supervision import service as supervision_service
from creditgov.supervision.models import InspectionTask, Inspector
from creditgov.supervision.schemas import InspectorsFile
from creditgov.web import i18n
from tests.api.conftest import client_for
from tests.api.county import County
from tests.api.county_supervision import INSPECTOR_ACCOUNT, ROSTER, TEST_POLICY, fresh_county


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    yield from fresh_county(request, tmp_path_factory)


@pytest.fixture(scope="module")
def api(county: County) -> TestClient:
    return client_for(county)


def _bearer(county: County, username: str, role: str, **scope: Any) -> dict[str, str]:
    with db.session_scope(county.url) as s:
        u = user_service.create_user(s, username=username, password=None, role=role, actor="test", **scope)
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    return {"Authorization": f"Bearer {token}"}


def _role(county: County, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {county.tokens[role]}"}


def _task(county: County) -> InspectionTask:
    with db.session_scope(county.url) as s:
        t = s.get(InspectionTask, county.task_id)
        assert t is not None
        s.expunge(t)
        return t


def _batches(county: County) -> int:
    with db.session_scope(county.url) as s:
        return s.execute(select(func.count()).select_from(Batch).where(Batch.kind == "inspection")).scalar_one()


def test_only_the_drawn_inspectors_their_department_and_the_office_record(api: TestClient, county: County) -> None:
    t = _task(county)
    tid, team = t.id, list(t.assignees)
    names = {i["code"]: i["name"] for i in ROSTER["inspectors"]}
    said = ", ".join(f"{names[c]} ({c})" for c in team)
    before = _batches(county)
    # The grid worker of the firm's own grid reaches the task (the firm is in its grid),
    # and an inspector of the firm's street not drawn for it; neither records.
    grid = _bearer(county, "g-cx-s01-g01", "grid_worker", region_code="CX-S01-G01")
    other = _bearer(county, "i-not-drawn", "inspector", region_code="CX-S01")
    body = {"outcome": "penalty", "penalty_amount": "5000", "decision_no": "长市监罚〔2026〕9号", "finding": "x"}
    for who in (grid, other):
        assert api.get(f"/api/v1/supervision/tasks/{tid}", headers=who).status_code == 200
        r = api.post(f"/api/v1/supervision/tasks/{tid}/result", json=body, headers=who)
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert said in r.json()["detail"]
    # The administrator records no inspection's result.
    assert api.post(f"/api/v1/supervision/tasks/{tid}/result", json=body,
                    headers=_role(county, "admin")).status_code == 403
    # An account named by a drawn inspector's code, but a grid worker's: a grid worker is
    # no market inspector, so the code does not make it one (it does not even reach the task).
    posing = _bearer(county, team[1], "grid_worker", region_code="CX-S02-G01")
    assert api.post(f"/api/v1/supervision/tasks/{tid}/result", json=body, headers=posing).status_code == 404
    assert _task(county).status == "assigned" and _batches(county) == before  # nothing written

    # The county's inspector account acts for team[0] (the roster names it): it records.
    r = api.post(f"/api/v1/supervision/tasks/{tid}/result", json={"outcome": "passed"},
                 headers=_role(county, "inspector"))
    assert r.status_code == 200, r.text
    assert r.json()["team"] == [{"code": c, "name": names[c]} for c in team]
    # The second inspector drawn, once the roster names its account, corrects it.
    with db.session_scope(county.url) as s:
        roster = {"inspectors": [{**i, "account": {team[0]: INSPECTOR_ACCOUNT, team[1]: "mkt-second"}[i["code"]]}
                                 if i["code"] in team else i for i in ROSTER["inspectors"]]}
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(roster), actor="test")
    second = _bearer(county, "mkt-second", "inspector", region_code="CX-S02")
    r = api.post(f"/api/v1/supervision/tasks/{tid}/result", json={"outcome": "problems", "finding": "台账缺失"},
                 headers=second)
    assert r.status_code == 200 and r.json()["record"]["version"] == 2
    # The task's own department and the credit office record too.
    for role in ("department_officer", "credit_office"):
        r = api.post(f"/api/v1/supervision/tasks/{tid}/result", json={"outcome": "passed"},
                     headers=_role(county, role))
        assert r.status_code == 200, (role, r.text)
    audit = api.get("/api/v1/audit/entries?action=supervision.result&limit=50", headers=_role(county, "admin")).json()
    actors = [e["actor"] for e in audit if json.loads(e["detail"])["task"] == tid]
    assert sorted(actors) == sorted(["user:t-inspector", "user:mkt-second", "user:t-department_officer",
                                     "user:t-credit_office"])


def test_the_page_offers_the_form_only_to_who_may_record(api: TestClient, county: County) -> None:
    with db.session_scope(county.url) as s:  # a fresh task of the county's firm
        from creditgov.supervision import draws as supervision_draws

        out = supervision_draws.draw(s, policy_name=TEST_POLICY, seed="5150", actor="test")
        t = s.execute(select(InspectionTask).where(InspectionTask.draw_id == out["draw_id"])).scalar_one()
        tid, team = t.id, list(t.assignees)
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(
            {"inspectors": [{**i, "account": "mkt-page"} if i["code"] == team[0] else i
                            for i in ROSTER["inspectors"]]}), actor="test")
    names = {i["code"]: i["name"] for i in ROSTER["inspectors"]}
    drawn = _bearer(county, "mkt-page", "inspector", region_code="CX-S02")
    grid = _bearer(county, "g-page", "grid_worker", region_code="CX-S01-G01")
    for lang in ("zh", "en"):
        api.cookies.set(i18n.LANG_COOKIE, lang)
        page = api.get(f"/supervision/tasks/{tid}", headers=grid)
        assert page.status_code == 200
        assert 'data-testid="result-form"' not in page.text and 'data-testid="no-result"' in page.text
        words = ("只有指派给检查任务" if lang == "zh" else "Only the inspectors assigned to task")
        assert words in page.text
        # Its inspectors by name, with their codes.
        shown = ("、".join(f"{names[c]}（{c}）" for c in team) if lang == "zh"
                 else ", ".join(f"{names[c]} ({c})" for c in team))
        assert f'data-testid="task-team">{shown}</dd>' in page.text
        assert 'data-testid="result-form"' in api.get(f"/supervision/tasks/{tid}", headers=drawn).text
    api.cookies.set(i18n.LANG_COOKIE, "zh")
    # The form posted all the same is refused in words, and nothing is recorded.
    r = api.post(f"/supervision/tasks/{tid}/result", headers=grid, follow_redirects=False,
                 data={"outcome": "penalty", "penalty_amount": "5000", "decision_no": "长市监罚〔2026〕9号"})
    assert r.status_code == 403 and 'data-testid="error"' in r.text
    assert f"只有指派给检查任务 #{tid} 的检查人员" in r.text and 'data-testid="result-form"' not in r.text
    assert _task_status(county, tid) == "assigned"
    r = api.post(f"/supervision/tasks/{tid}/result", headers=drawn, follow_redirects=False,
                 data={"outcome": "passed"})
    assert r.status_code == 303 and _task_status(county, tid) == "done"
    # The supervision page's task list and the draw's page name them too.
    listing = api.get("/supervision?tasks=all", headers=_role(county, "credit_office")).text
    assert "、".join(f"{names[c]}（{c}）" for c in team) in listing
    drawn_page = api.get(f"/supervision/draws/{out['draw_id']}", headers=_role(county, "credit_office")).text
    assert "、".join(f"{names[c]}（{c}）" for c in team) in drawn_page


def _task_status(county: County, tid: int) -> str:
    with db.session_scope(county.url) as s:
        t = s.get(InspectionTask, tid)
        assert t is not None
        return t.status


def test_a_task_left_with_its_department_is_recorded_by_its_department(county: County) -> None:
    """A campaign's task given to nobody yet: its department or the office record it;
    and a campaign's inspectors come from its policy's pool and kinds."""
    from creditgov.security.scopes import Principal, Role, authorize
    from creditgov.supervision.access import result_refusal

    with db.session_scope(county.url) as s:
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate({"inspectors": [
            *ROSTER["inspectors"],
            {"code": "WG-T1", "name": "网格员甲", "kind": "grid_worker", "department": "grid", "pool": "market",
             "region": "CX-S01-G01"},
            {"code": "WL-T1", "name": "文旅检查员甲", "kind": "inspector", "department": "tourism",
             "pool": "tourism", "region": "CX-S02"}]}), actor="test")
        import datetime as dt

        c = campaigns.create(s, code="ZX-REC", title="专项整治", policy_name=TEST_POLICY, basis="通知",
                             starts_on=dt.date(2026, 10, 1), ends_on=dt.date(2026, 12, 31), actor="office")
        campaigns.add_targets(s, campaign_id=c.id, source="query", kinds=["enterprise"], actor="office")
        for outsider in ("WG-T1", "WL-T1"):  # a grid worker, another pool's inspector
            with pytest.raises(InvalidInput) as refused:
                campaigns.assign_tasks(s, campaign_id=c.id, assignees=["MKT-01", outsider], actor="office")
            assert refused.value.code == "supervision.task.not_in_pool"
            assert refused.value.params == {"inspectors": outsider, "policy": TEST_POLICY}
            assert i18n.refusal(refused.value, "zh").startswith(f"检查人员“{outsider}”不在监管方案“")
        [t] = campaigns.assign_tasks(s, campaign_id=c.id, actor="office")
        grid = Principal(role=Role.GRID, user_id=1, username="WG-T1", region_code="CX-S01-G01",
                         region_path="/CX/CX-S01/CX-S01-G01/")
        refused = result_refusal(s, authorize(grid, "inspections.record"), t)
        assert refused is not None and refused.code == "supervision.task.not_yours_unassigned"
        assert i18n.refusal(refused, "zh") == (f"检查任务 #{t.id} 尚未指派检查人员：只有实施部门（市场监督管理局）"
                                              "或信用办可以登记这项检查的结果。")
        officer = Principal(role=Role.DEPARTMENT, user_id=2, username="m", department_code="market")
        assert result_refusal(s, authorize(officer, "inspections.record"), t) is None
        tourism = Principal(role=Role.DEPARTMENT, user_id=3, username="t", department_code="tourism")
        other = result_refusal(s, authorize(tourism, "inspections.record"), t)
        assert other is not None and other.code == "supervision.other_department"


def test_the_roster_names_each_account_once_and_of_the_persons_kind(county: County) -> None:
    people = ROSTER["inspectors"]
    with pytest.raises(ValidationError, match="an account acts for one person only: dup"):
        InspectorsFile.model_validate({"inspectors": [{**people[0], "account": "dup"}, {**people[1], "account": "dup"}]})
    with db.session_scope(county.url) as s:
        user_service.create_user(s, username="a-grid-worker", password=None, role="grid_worker",
                                 region_code="CX-S01-G01", actor="test")
        with pytest.raises(ConfigError, match="account 'a-grid-worker' has the role grid_worker, not inspector"):
            supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(
                {"inspectors": [{**people[0], "account": "a-grid-worker"}, *people[1:]]}), actor="test")
        # Another pool's row keeps the account: it acts for one person only.
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate({"inspectors": [
            {"code": "WL-ACC", "name": "文旅检查员乙", "kind": "inspector", "department": "tourism", "pool": "tourism",
             "account": "acct-x"}]}), actor="test")
        with pytest.raises(ConfigError, match="already acts for WL-ACC"):
            supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(
                {"inspectors": [{**people[0], "account": "acct-x"}, *people[1:]]}), actor="test")
    with db.session_scope(county.url) as s:
        # An account moves from one person to another in one reload.
        for holder in (people[0], people[1]):
            supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate({"inspectors": [
                {**p, "account": "mover"} if p is holder else p for p in people]}), actor="test")
            assert supervision_service.acting_codes(s, username="mover", role="inspector") == [holder["code"]]
        rows = dict(s.execute(select(Inspector.code, Inspector.account).where(
            Inspector.code.in_([p["code"] for p in people]))).tuples().all())
        assert list(rows.values()).count("mover") == 1
        # The rule before rows named accounts: an inspector's account bearing the code.
        code = people[2]["code"]
        supervision_service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        assert supervision_service.acting_codes(s, username=code, role="inspector") == [code]
        assert supervision_service.acting_codes(s, username=code, role="grid_worker") == []
        assert supervision_service.acting_codes(s, username=code, role="department_officer") == []
