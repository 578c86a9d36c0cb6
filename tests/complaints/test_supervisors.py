"""Special supervisors (特约监督员, issue 23) on SQLite and PostgreSQL: an observation
enters the complaint procedure marked with its source, deadlined at intake, assigned
and answered like any complaint, and the supervisor follows it; a supervisor reads
only what the public reads (published firms), never a credit file or the complaint
desk, and sees residents' names masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.complaints import service
from creditgov.complaints.models import Complaint
from creditgov.complaints.schemas import ObservationIn
from creditgov.core import clock
from creditgov.core.db import session_scope
from creditgov.core.errors import InvalidInput
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import Role, authorize, permissions_of
from creditgov.subjects.models import Subject
from creditgov.web import i18n
from creditgov.workflows import calendar

API = "/api/v1"
FIRM = "91330522MA2B00010N"
HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 ‮'


@pytest.fixture
def api(store: str, tmp_path: Path):
    key = tmp_path / "api.key"
    create_key_file(key)
    with session_scope(store) as s:
        now = clock.now()
        s.add(Subject(kind="enterprise", name="监督对象公司", uscc=FIRM, status="confirmed", attributes={},
                      created_at=now, updated_at=now))
        tokens = {}
        for name, role, dept in (("office", "credit_office", None), ("market", "department_officer", "market"),
                                 ("sup", "supervisor", None)):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept,
                                  display_name="李监督" if name == "sup" else "", actor="test")
            tokens[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), tokens, store


def test_an_observation_is_a_complaint_with_its_source(api) -> None:
    c, tok, store = api
    body = {"category": "credit_work", "respondent_name": HOSTILE, "respondent_code": FIRM,
            "content": "公示信息与实际不符，请核查 " + HOSTILE}
    r = c.post(f"{API}/supervisor/observations", json=body, headers=tok["sup"])
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    with session_scope(store) as s:
        row = s.execute(select(Complaint).where(Complaint.number == number)).scalar_one()
        assert (row.channel, row.received_by, row.status) == ("supervisor", "user:sup", "received")
        assert row.subject_id is not None                                  # the firm is known
        cal = calendar.load(s)
        assert row.due_on == cal.add_working_days(row.received_on, service.policy().reply_days)
        assert row.complainant_name and "李监督" not in row.complainant_name  # encrypted at rest
        acts = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.actor == "user:sup"))]
        assert {"complaints.file", "complaints.observation"} <= set(acts)
        cid = row.id
    listed = c.get(f"{API}/complaints", headers=tok["office"]).json()
    assert listed[0]["channel"]["code"] == "supervisor" and listed[0]["channel"]["label_en"] == "Special supervisor"
    assert c.post(f"{API}/complaints/{cid}/assign", json={"department": "market"},
                  headers=tok["office"]).status_code == 200
    r = c.post(f"{API}/complaints/{cid}/reply", json={"outcome": "unsubstantiated", "reply": "已核查，公示无误。"},
               headers=tok["market"])
    assert r.status_code == 200
    mine = c.get(f"{API}/supervisor/observations", headers=tok["sup"]).json()
    assert [(o["number"], o["status"]["code"], o["reply"]) for o in mine] == [(number, "replied", "已核查，公示无误。")]
    assert mine[0]["respondent_name"] == HOSTILE
    # Another account's observations are not its; the office does not file as a supervisor.
    assert c.get(f"{API}/supervisor/observations", headers=tok["office"]).status_code == 403
    assert c.post(f"{API}/supervisor/observations", json=body, headers=tok["office"]).status_code == 403


def test_a_supervisor_reads_only_published_data(api) -> None:
    c, tok, store = api
    with session_scope(store) as s:
        sid = s.execute(select(Subject.id).where(Subject.uscc == FIRM)).scalar_one()
    assert c.get(f"{API}/subjects/{sid}", headers=tok["sup"]).status_code == 403
    assert c.get(f"{API}/complaints", headers=tok["sup"]).status_code == 403
    assert c.get(f"{API}/public/firms/{sid}", headers=tok["sup"]).status_code == 200
    perms = permissions_of(Role.SUPERVISOR)
    assert set(perms) == {"public.query", "complaints.observe"}
    from creditgov.security.scopes import Principal
    p = Principal(role=Role.SUPERVISOR, user_id=9, username="sup")
    assert p.masks_people and authorize(p, "complaints.observe").masks_people


def test_an_observation_needs_an_account(store: str, keyring) -> None:
    with session_scope(store) as s, pytest.raises(InvalidInput):
        service.file_observation(s, keyring, ObservationIn(category="other", respondent_name="某事项",
                                                           content="匿名提交的意见内容"),
                                 supervisor="public", supervisor_name="")


def test_the_supervisor_page_in_both_languages(api) -> None:
    c, tok, _store = api
    form = {"category": "credit_work", "respondent_name": HOSTILE, "content": "窗口办事时间未公示 " + HOSTILE}
    r = c.post("/supervisor/observations", data=form, headers=tok["sup"])
    assert [h.status_code for h in r.history] == [303] and r.status_code == 200   # posted, redirected, shown
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text and "observation-filed" in r.text
    bad = c.post("/supervisor/observations", data={**form, "contact": "nope"}, headers=tok["sup"])
    assert bad.status_code == 422
    for lang, words in (("zh", "我的监督意见"), ("en", "My observations")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/supervisor", headers=tok["sup"])
        assert page.status_code == 200 and words in page.text and page.text.count("TS") >= 1
    assert c.get("/supervisor", headers=tok["office"]).status_code == 403
