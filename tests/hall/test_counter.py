"""Service-hall windows (issue 23) on SQLite and PostgreSQL: staff open a counter
session for a visitor who signs in at the counter with its ID number and its own
password (and its authenticator code when it has one), read its own credit report,
object on its behalf, and end the session; every step is audited with both people; a
session belongs to the staff member who opened it and times out; wrong passwords count
towards the visitor's lock-out. The pages in both languages, hostile text unharmed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import clock
from creditgov.core.db import session_scope
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.hall import service
from creditgov.hall.models import CounterSession
from creditgov.records.models import CreditRecord
from creditgov.security import mfa, users
from creditgov.security.accounts import User
from creditgov.security.attempts import TooManyAttempts
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import Unauthenticated
from creditgov.web import i18n
from creditgov.workflows.models import Objection
from tests.workflows.helpers import add_record, make_firm, make_uscc

PASSWORD = "counter horse battery staple"
HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 ‮'
STAFF = "user:window-1"


def _visitor(url: str) -> tuple[int, str, int]:
    with session_scope(url) as s:
        firm = make_firm(s, name="窗口来访企业" + HOSTILE)
        rec = add_record(s, firm, "market.penalty", published=dt.date(2026, 10, 1))
        users.create_user(s, username=f"visitor-{firm.id}", password=PASSWORD, role="subject", subject_id=firm.id,
                          actor="test")
        return firm.id, str(firm.uscc), rec.id


def _actions(url: str, session_id: int) -> list[tuple[str, str, str]]:
    import json
    with session_scope(url) as s:
        rows = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.detail)
                         .where(AuditEntry.action.like("hall.%")).order_by(AuditEntry.id)).all()
    out = []
    for action, actor, detail in rows:
        d = json.loads(detail)
        if d.get("counter_session") == session_id:
            out.append((action, actor, d["visitor"]))
    return out


def test_a_visit_from_sign_in_to_the_end(county: str, keyring: KeyRing) -> None:
    sid, uscc, rid = _visitor(county)
    with session_scope(county) as s:
        cs = service.open_session(s, keyring, staff=STAFF, id_number=uscc.lower() + " ", password=PASSWORD,
                                  client="10.0.0.9", window="3号窗口")
        csid = cs.id
    with session_scope(county) as s:
        cs = service.live(s, csid, staff=STAFF)
        view = service.report(s, keyring, cs)
        assert view["file"]["id"] == sid and [r["id"] for r in view["file"]["records"]] == [rid]
        got = service.object_to(s, cs, record_ids=[rid], reason="处罚已撤销，记录有误 " + HOSTILE)
        assert [o.channel for o in got] == ["window"]
    with session_scope(county) as s:
        assert s.get(CreditRecord, rid).status == "disputed"            # withheld at once
        o = s.execute(select(Objection).where(Objection.subject_id == sid)).scalar_one()
        assert o.reason.endswith(HOSTILE) and o.filed_by == STAFF
        # Another staff member cannot use the session.
        with pytest.raises(NotFound):
            service.live(s, csid, staff="user:window-2")
        service.end(s, service.live(s, csid, staff=STAFF))
    with session_scope(county) as s:
        with pytest.raises(service.CounterClosed, match="ended"):
            service.live(s, csid, staff=STAFF)
        assert s.get(CounterSession, csid).end_reason == "ended"
    visitor = f"visitor-{sid}"
    assert _actions(county, csid) == [("hall.open", STAFF, visitor), ("hall.query", STAFF, visitor),
                                      ("hall.objection", STAFF, visitor), ("hall.end", STAFF, visitor)]


def test_identification_refuses_and_counts_failures(county: str, keyring: KeyRing) -> None:
    sid, uscc, _rid = _visitor(county)
    with session_scope(county) as s:
        with pytest.raises(InvalidInput, match="ID number"):
            service.open_session(s, keyring, staff=STAFF, id_number="张三", password=PASSWORD, client="10.0.0.8")
        with pytest.raises(Unauthenticated, match=service.WRONG):    # unknown: the same answer as a wrong password
            service.open_session(s, keyring, staff=STAFF, id_number=make_uscc(9_999_999), password=PASSWORD,
                                 client="10.0.0.8")
    for _ in range(5):
        with session_scope(county) as s, pytest.raises(Unauthenticated):
            service.open_session(s, keyring, staff=STAFF, id_number=uscc, password="wrong", client="10.0.0.8")
    with session_scope(county) as s, pytest.raises(TooManyAttempts):    # the visitor's account is locked
        service.open_session(s, keyring, staff=STAFF, id_number=uscc, password=PASSWORD, client="10.0.0.8")
    with session_scope(county) as s:
        assert s.execute(select(User.failed_logins).where(User.subject_id == sid)).scalar_one() >= 5


def test_an_authenticator_code_is_asked_when_the_visitor_has_one(county: str, keyring: KeyRing) -> None:
    import pyotp
    sid, uscc, _rid = _visitor(county)
    with session_scope(county) as s:
        user = s.execute(select(User).where(User.subject_id == sid)).scalar_one()
        secret = mfa.enrol_now(s, keyring, user, actor="test")[0].secret
    with session_scope(county) as s, pytest.raises(Unauthenticated, match="authenticator"):
        service.open_session(s, keyring, staff=STAFF, id_number=uscc, password=PASSWORD, client="10.0.0.7")
    with session_scope(county) as s:
        cs = service.open_session(s, keyring, staff=STAFF, id_number=uscc, password=PASSWORD, client="10.0.0.7",
                                  code=pyotp.TOTP(secret).now())
        assert cs.subject_id == sid


def test_sessions_time_out(county: str, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    pol = service.policy()
    _sid, uscc, _rid = _visitor(county)
    start = dt.datetime(2026, 11, 1, 2, 0, 0)
    monkeypatch.setenv("CREDITGOV_NOW", start.isoformat())
    with session_scope(county) as s:
        idle = service.open_session(s, keyring, staff=STAFF, id_number=uscc, password=PASSWORD, client="x").id
        busy = service.open_session(s, keyring, staff=STAFF, id_number=uscc, password=PASSWORD, client="x").id
    step = pol.idle_minutes - 1
    t = start
    while t + dt.timedelta(minutes=step) < start + dt.timedelta(minutes=pol.absolute_minutes):
        t += dt.timedelta(minutes=step)
        monkeypatch.setenv("CREDITGOV_NOW", t.isoformat())
        with session_scope(county) as s:
            service.live(s, busy, staff=STAFF)                          # each step restarts the idle clock
    monkeypatch.setenv("CREDITGOV_NOW", (start + dt.timedelta(minutes=pol.absolute_minutes)).isoformat())
    for csid in (idle, busy):                                             # idle, then past the absolute limit
        with session_scope(county) as s, pytest.raises(service.CounterClosed, match="timed out"):
            service.live(s, csid, staff=STAFF)
        with session_scope(county) as s:
            assert s.get(CounterSession, csid).end_reason == "timeout"
        assert _actions(county, csid)[-1][0] == "hall.timeout"
    assert clock.now() == start + dt.timedelta(minutes=pol.absolute_minutes)


@pytest.fixture
def desk(county: str, tmp_path: Path):
    key = tmp_path / "desk.key"
    ring = create_key_file(key)
    with session_scope(county) as s:
        tokens = {}
        for name, role, dept in (("window-1", "credit_office", None), ("window-2", "credit_office", None),
                                 ("mkt", "department_officer", "market")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="test")
            tokens[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(county, key), base_url="https://testserver"), tokens, ring


def test_the_window_pages_in_both_languages(county: str, desk) -> None:
    c, tok, _ring = desk
    sid, uscc, rid = _visitor(county)
    assert c.get("/hall", headers=tok["mkt"]).status_code == 403
    bad = c.post("/hall/sessions", data={"id_number": uscc, "password": "nope"}, headers=tok["window-1"])
    assert bad.status_code == 401
    r = c.post("/hall/sessions", data={"id_number": uscc, "password": PASSWORD, "window": HOSTILE},
               headers=tok["window-1"], follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    for lang, words in (("zh", "为来访人提出异议"), ("en", "Object on the visitor")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get(url, headers=tok["window-1"])
        assert page.status_code == 200 and words in page.text
        assert "&lt;script&gt;" in page.text and "<script>alert(1)" not in page.text
    assert c.get(url, headers=tok["window-2"]).status_code == 404            # another staff member's session
    r = c.post(url + "/objections", data={"record_id": str(rid), "reason": "记录有误"}, headers=tok["window-1"],
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=filed")
    r = c.post(url + "/end", headers=tok["window-1"], follow_redirects=False)
    assert r.headers["location"] == "/hall?done=ended"
    assert c.get(url, headers=tok["window-1"], follow_redirects=False).headers["location"] == "/hall?done=timeout"
