"""Re-assigning an inspection task to other inspectors (SQLite and PostgreSQL): the
moment of the assignment is kept (the inspection notice is dated by it), the team
before and after and the reason are on the audit chain; the service refuses what a
re-assignment must not do — no reason, nobody named, the same team, an inspector not
on duty, one who works in the subject's own region under a policy that keeps them out
(回避), a task no longer open — through the API, the command and the service alike, and
says so in the reader's language. The new team keeps every rule the draw keeps: not the
subject's last inspectors, the policy's pool and kinds, its load cap within the draw and
its number per task; the task page offers the office only those it may choose, and its
form refuses the others in words, as ticked. Tasks made before migration 0032 keep their
creation as their assignment."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from creditgov import bootstrap
from creditgov.api.app import create_app
from creditgov.core import clock, db, schema
from creditgov.core.errors import CreditGovError, InvalidInput, NotFound
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.supervision import draws, service, tasks
from creditgov.supervision.models import InspectionTask
from creditgov.supervision.schemas import InspectorsFile
from creditgov.web import i18n
from tests.alerts.helpers import GRID, MICRO, make_regions, make_subject
from tests.api.county import PASSWORD

HOSTILE = '"><script>alert(1)</script> O\'Brien 回避 \u202e😀'
POLICY = """
version: "test-reassign"
citation: "tests only"
policies:
  - name: reassign-test
    title: 改派测试方案
    department: market
    citation: "tests only"
    basis: grade
    model: public-credit-enterprise
    subject_kinds: [enterprise]
    unrated: B
    bands:
      - {label: B, grades: [B], ratio: 1, citation: "测试 B 类全抽"}
    inspector_pool: market
    inspectors_per_task: 2
    max_tasks_per_inspector: 1
    exclusions: {own_region: true, previous_inspectors: true}
    due_days: 30
    results: {passed: market.inspection_result, problems: market.inspection_problem, penalty: market.penalty}
"""
ROSTER = {"inspectors": [
    *({"code": f"MKT-0{n}", "name": f"检查员{n}号", "department": "market", "pool": "market"} for n in range(1, 7)),
    {"code": "TOUR-01", "name": "文旅检查员", "department": "tourism", "pool": "tourism"},
    {"code": "MKT-NEAR", "name": "本地检查员", "department": "market", "pool": "market", "region": GRID},
    {"code": "MKT-OFF", "name": "离岗检查员", "department": "market", "pool": "market", "active": False}]}
DRAWN_AT = "2026-10-15T02:00:00"
LATER = "2026-10-28T03:00:00"
LAST_TEAM = ["MKT-05", "MKT-06"]   # who inspected the firm last time, in May


@pytest.fixture
def task(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, list[str]]:
    """One firm in a micro-grid, inspected in May by MKT-05 and MKT-06 and drawn on 15
    October: its task and the team drawn (two of MKT-01…04: the draw kept the last
    inspectors, the local one, the one off duty and the other pool's away)."""
    monkeypatch.setenv("CREDITGOV_NOW", DRAWN_AT)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    with db.session_scope(store) as s:
        regions = make_regions(s)
        service.load_policies(s, path=policy_file, actor="test")
        service.load_inspectors(s, roster=InspectorsFile.model_validate(ROSTER), actor="test")
        firm = make_subject(s, region=regions[MICRO])
        may = dt.datetime(2026, 5, 6, 2)
        s.add(InspectionTask(kind="random", policy_name="reassign-test", department="market", subject_id=firm.id,
                             assignees=LAST_TEAM, due_on=dt.date(2026, 6, 5), status="done", outcome="passed",
                             created_at=may, updated_at=may, assigned_at=may, actor="test"))
    with db.session_scope(store) as s:
        draw_id = draws.draw(s, policy_name="reassign-test", seed="7", actor="test")["draw_id"]
        t = s.execute(select(InspectionTask).where(InspectionTask.draw_id == draw_id)).scalar_one()
        assert t.assigned_at == dt.datetime.fromisoformat(DRAWN_AT)   # made: its first assignment
        return store, t.id, sorted(t.assignees)


def _other(team: list[str]) -> list[str]:
    """The two of MKT-01…04 the draw did not choose: the ones the task may go to."""
    return sorted({f"MKT-0{n}" for n in (1, 2, 3, 4)} - set(team))[:2]


def test_a_reassignment_keeps_its_moment_and_is_audited(task, monkeypatch: pytest.MonkeyPatch) -> None:
    url, task_id, team = task
    assert "MKT-NEAR" not in team and "MKT-OFF" not in team               # the draw kept them out
    monkeypatch.setenv("CREDITGOV_NOW", LATER)
    other = _other(team)
    with db.session_scope(url) as s:
        t = tasks.reassign_task(s, task_id=task_id, assignees=[other[1], other[0], other[1]], reason=HOSTILE,
                                actor="user:office")
        assert t.assignees == other and tasks.task_dict(t)["assigned_at"] == LATER
    with db.session_scope(url) as s:
        t = s.get(InspectionTask, task_id)
        assert t is not None and t.assigned_at == dt.datetime.fromisoformat(LATER)
        assert t.created_at == dt.datetime.fromisoformat(DRAWN_AT)          # made when it was made
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "supervision.task.reassign")).scalar_one()
    assert entry.actor == "user:office" and entry.subject_id == t.subject_id
    detail = json.loads(entry.detail)
    assert sorted(detail.pop("from")) == team                              # the team drawn, as it stood
    assert detail == {"task": task_id, "to": other, "reason": HOSTILE}


@pytest.mark.parametrize(("assignees", "reason", "code"), [
    (["MKT-01"], " ", "supervision.task.reassign_no_reason"),
    ([" ", ""], "病假", "supervision.task.no_assignees"),
    (None, "病假", "supervision.task.same_assignees"),
    (["MKT-01", "NOBODY"], "病假", "supervision.task.unknown_inspectors"),
    (["MKT-OFF"], "病假", "supervision.task.unknown_inspectors"),
    (["MKT-NEAR"], "病假", "supervision.task.own_region"),
])
def test_what_a_reassignment_must_not_do_is_refused(task, assignees: list[str] | None, reason: str,
                                                    code: str) -> None:
    url, task_id, team = task
    with db.session_scope(url) as s:
        with pytest.raises(CreditGovError) as got:
            tasks.reassign_task(s, task_id=task_id, assignees=team if assignees is None else assignees,
                                reason=reason, actor="test")
        assert got.value.code == code
        assert isinstance(got.value, NotFound if code.endswith("unknown_inspectors") else InvalidInput)
    with db.session_scope(url) as s:
        t = s.get(InspectionTask, task_id)
        assert t is not None and sorted(t.assignees) == team and t.assigned_at == dt.datetime.fromisoformat(DRAWN_AT)


def test_a_task_no_longer_open_is_not_reassigned(task) -> None:
    url, task_id, team = task
    with db.session_scope(url) as s:
        tasks.cancel_task(s, task_id=task_id, reason="企业已注销", actor="test")
    with db.session_scope(url) as s:
        with pytest.raises(InvalidInput) as got:
            tasks.reassign_task(s, task_id=task_id, assignees=_other(team), reason="病假", actor="test")
    assert got.value.code == "supervision.task.not_open"


def test_the_api_reassigns_for_the_office_and_the_own_department(task, tmp_path: Path) -> None:
    url, task_id, team = task
    key = tmp_path / "api.key"
    create_key_file(key)
    heads: dict[str, dict[str, str]] = {}
    with db.session_scope(url) as s:
        for name, role, dept in (("office", "credit_office", None), ("market", "department_officer", "market"),
                                 ("tourism", "department_officer", "tourism")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="test")
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(url, key), base_url="https://testserver")
    path = f"/api/v1/supervision/tasks/{task_id}/reassign"
    body: dict[str, Any] = {"assignees": _other(team), "reason": "原检查人员休假"}
    assert c.post(path, json=body, headers=heads["tourism"]).status_code in (403, 404)   # not its department's
    refused = c.post(path, json={**body, "assignees": ["MKT-NEAR"]},
                     headers={**heads["office"], "accept-language": "zh-CN"})
    assert refused.status_code == 422 and "按回避规定不能承担这项检查" in refused.json()["message"]
    refused = c.post(path, json={**body, "assignees": ["MKT-NEAR"]},
                     headers={**heads["office"], "accept-language": "en"})
    assert "must stand aside from this inspection" in refused.json()["message"]
    r = c.post(path, json=body, headers=heads["market"])
    assert r.status_code == 200, r.text
    assert r.json()["assignees"] == _other(team) and r.json()["status"] == "assigned"
    shown = c.get(f"/api/v1/supervision/tasks/{task_id}", headers=heads["office"]).json()
    assert shown["assignees"] == _other(team) and shown["assigned_at"] == r.json()["assigned_at"]


def test_the_command_reassigns(task, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    url, task_id, team = task
    monkeypatch.setenv("CREDITGOV_NOW", LATER)
    other = _other(team)
    said = cli("--db", url, "supervise", "reassign", str(task_id), "--assignee", other[0], "--assignee", other[1],
               "--reason", "原检查人员回避", "--actor", "cli-office", "--json")
    assert said.exit_code == 0, said.output
    out = json.loads(said.output)
    assert out["assignees"] == other and out["assigned_at"] == LATER


def test_a_reassignment_keeps_the_draws_rules(task) -> None:
    """The draw kept the firm's last inspectors away, drew from the market pool, gave a
    task to two and at most one task of the draw to each: so does a re-assignment, and
    its refusal names the rule broken (and who breaks it) in the reader's language."""
    bootstrap.wire()
    url, task_id, team = task
    other = _other(team)
    assert not set(team) & set(LAST_TEAM)                                  # the draw kept them away
    refused = [
        ([LAST_TEAM[0], other[0]], "supervision.task.previous_inspectors",
         f"检查人员“{LAST_TEAM[0]}”上一次检查过该对象，按回避规定不能再承担这项检查。",
         f"Inspector(s) “{LAST_TEAM[0]}” inspected this subject last time"),
        (["TOUR-01", other[0]], "supervision.task.not_in_pool", "检查人员“TOUR-01”不在监管方案“",
         "“TOUR-01” are not among the inspectors “"),
        ([other[0]], "supervision.task.team_size", "每项检查由 2 名检查人员承担，本次选了 1 名",
         "carried out by 2 inspectors; 1 were chosen"),
        ([*other, team[0]], "supervision.task.team_size", "本次选了 3 名", "3 were chosen"),
    ]
    with db.session_scope(url) as s:
        t = s.get(InspectionTask, task_id)
        assert t is not None
        assert [i.code for i in tasks.eligible_inspectors(s, t)] == sorted(team + other)
        for chosen, code, zh, en in refused:
            with pytest.raises(InvalidInput) as got:
                tasks.reassign_task(s, task_id=task_id, assignees=chosen, reason="原检查人员回避", actor="test")
            assert got.value.code == code, chosen
            assert zh in i18n.refusal(got.value, "zh") and en in i18n.refusal(got.value, "en"), i18n.refusal(got.value)
        # The policy's load cap counts the draw's other tasks: another firm's, held by the two.
        now = clock.now()
        busy = InspectionTask(kind="random", draw_id=t.draw_id, policy_name="reassign-test", department="market",
                              subject_id=make_subject(s).id, assignees=other, due_on=t.due_on, status="assigned",
                              created_at=now, updated_at=now, assigned_at=now, actor="test")
        s.add(busy)
        s.flush()
        assert [i.code for i in tasks.eligible_inspectors(s, t)] == team
        with pytest.raises(InvalidInput) as got:
            tasks.reassign_task(s, task_id=task_id, assignees=other, reason="原检查人员回避", actor="test")
        assert got.value.code == "supervision.task.load_cap"
        assert f"检查人员“{', '.join(other)}”在本次抽查中已承担 1 项检查任务" in i18n.refusal(got.value, "zh")
        busy.status = "cancelled"                                          # that task no longer counts
        s.flush()
        assert tasks.reassign_task(s, task_id=task_id, assignees=[other[1], other[0]], reason="原检查人员回避",
                                   actor="test").assignees == other
    with db.session_scope(url) as s:
        t = s.get(InspectionTask, task_id)
        assert t is not None and t.assignees == other
        # The team it had is eligible again; the last inspectors still are not.
        assert [i.code for i in tasks.eligible_inspectors(s, t)] == sorted(team + other)


def _form(page: str, action: str) -> tuple[str, dict[str, str]]:
    """A page's form posting to `action`, and its hidden fields (the CSRF token and the form key)."""
    m = re.search(r'<form method="post" action="' + re.escape(action) + r'".*?</form>', page, re.S)
    assert m is not None, page
    return m.group(0), dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', m.group(0)))


def _ticked(form: str) -> tuple[list[str], list[str]]:
    offered = re.findall(r'name="assignees" value="([^"]+)"( checked)?', form)
    return [code for code, _ in offered], [code for code, on in offered if on]


def test_the_task_page_reassigns_through_its_form(task, tmp_path: Path) -> None:
    """The office sees the form with only the inspectors the task may go to, its team
    ticked; a department officer signed in to the pages re-assigns through it: the last
    inspector refused in words with the form as ticked, a wrong number in English, then
    two eligible ones taken (CSRF checked, the flash said)."""
    url, task_id, team = task
    other = _other(team)
    key = tmp_path / "page.key"
    create_key_file(key)
    with db.session_scope(url) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        office = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        users.create_user(s, username="market", password=PASSWORD, role="department_officer",
                          department_code="market", actor="test")
    path = f"/supervision/tasks/{task_id}"
    c = TestClient(create_app(url, key), base_url="https://testserver")
    form, _ = _form(c.get(path, headers=office).text, path + "/reassign")
    assert _ticked(form) == (sorted(team + other), team)             # never the last ones, the local, the others'
    b = TestClient(create_app(url, key), base_url="https://testserver")
    login = b.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert csrf is not None
    assert b.post("/login", data={"username": "market", "password": PASSWORD, "csrf_token": csrf.group(1),
                                  "next": path}, follow_redirects=False).status_code == 303
    _, hidden = _form(b.get(path).text, path + "/reassign")
    body: dict[str, Any] = {"assignees": [LAST_TEAM[0], other[0]], "reason": HOSTILE}
    assert b.post(path + "/reassign", data={**body, "form_key": hidden["form_key"]}).status_code == 403  # no CSRF
    _, hidden = _form(b.get(path).text, path + "/reassign")
    r = b.post(path + "/reassign", data={**hidden, **body})
    assert r.status_code == 422
    assert f"检查人员“{LAST_TEAM[0]}”上一次检查过该对象，按回避规定不能再承担这项检查。" in r.text
    form, hidden = _form(r.text, path + "/reassign")
    assert _ticked(form) == (sorted(team + other) + [LAST_TEAM[0]], [other[0], LAST_TEAM[0]])   # as ticked
    assert "（不符合改派规则）" in form and f'value="{escape(HOSTILE)}"' in form and "<script>" not in r.text
    b.cookies.set(i18n.LANG_COOKIE, "en")
    r = b.post(path + "/reassign", data={**hidden, "assignees": [other[0]], "reason": "leave"})
    assert r.status_code == 422 and "Under the policy an inspection is carried out by 2 inspectors; 1 were " \
                                      "chosen." in r.text and "Re-assign the inspectors" in r.text
    with db.session_scope(url) as s:
        t = s.get(InspectionTask, task_id)
        assert t is not None and sorted(t.assignees) == team                 # nothing moved
    form, hidden = _form(r.text, path + "/reassign")
    r = b.post(path + "/reassign", data={**hidden, "assignees": other, "reason": "原检查人员休假"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == path + "?done=reassigned"
    assert "The task was re-assigned" in b.get(r.headers["location"]).text
    with db.session_scope(url) as s:
        t = s.get(InspectionTask, task_id)
        assert t is not None and t.assignees == other
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "supervision.task.reassign")).scalar_one()
        assert json.loads(entry.detail)["to"] == other and entry.actor == "user:market"


def test_the_migration_keeps_an_earlier_tasks_creation_as_its_assignment(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    cfg = schema.alembic_config(url)
    with db.engine_for(url).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0031_finance_deposit_refs")
        conn.commit()
    with closing(sqlite3.connect(path)) as raw:  # foreign keys off: a task of a subject this store never had
        raw.execute("INSERT INTO supervision_tasks (kind, department, subject_id, assignees, due_on, status, "
                    "created_at, updated_at, actor) VALUES ('random', 'market', 1, '[\"MKT-01\"]', '2026-11-14', "
                    "'assigned', '2026-10-15 02:00:00', '2026-10-20 02:00:00', 'test')")
        raw.commit()
    with db.engine_for(url).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0032_supervision_reassigned")
        conn.commit()
        got = conn.execute(sa.text("SELECT assigned_at FROM supervision_tasks")).scalar_one()
    assert str(got).startswith("2026-10-15 02:00:00")
