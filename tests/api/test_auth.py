"""Sign-in, sessions, CSRF, tokens, audit of personal reads, problem+json and the
public rate limit — against the real application and store (SQLite county)."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.core import db
from creditgov.points import boards
from creditgov.security import users as user_service
from creditgov.security.accounts import User
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County, api_sign_in


def _login(client: TestClient, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_passwords_are_argon2_hashes(sqlite_county: County) -> None:
    with db.session_scope(sqlite_county.url) as s:
        u = s.execute(select(User).where(User.username == "t-admin")).scalar_one()
        assert u.password_hash is not None and u.password_hash.startswith("$argon2id$")
        assert PASSWORD not in u.password_hash


def test_login_sets_a_secure_httponly_cookie_and_returns_csrf(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    r = api_sign_in(c, sqlite_county, "t-credit_office")
    assert r.status_code == 200
    assert r.json()["role"] == "credit_office" and len(r.json()["csrf_token"]) >= 32
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("cg_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie
    assert c.get("/api/v1/auth/me").json()["username"] == "t-credit_office"


def test_wrong_password_and_unknown_user_look_the_same(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    a, b = _login(c, "t-admin", "wrong password"), _login(c, "nobody-here", "wrong password")
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]
    assert a.headers["content-type"].startswith("application/problem+json")
    assert a.json()["type"].endswith("/401") and a.json()["title"] == "Unauthorized"


def test_session_writes_need_the_csrf_token(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    csrf = api_sign_in(c, sqlite_county, "t-credit_office").json()["csrf_token"]
    body = {"scenario": "administrative-approval", "subject_id": 1}
    refused = c.post("/api/v1/checks", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = c.post("/api/v1/checks", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    ok = c.post("/api/v1/checks", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201 and ok.json()["check_id"].startswith("CK")


def test_logout_ends_the_session(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    csrf = api_sign_in(c, sqlite_county, "t-admin").json()["csrf_token"]
    assert c.post("/api/v1/auth/logout").status_code == 403  # CSRF applies to sign-out too
    assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert c.get("/api/v1/auth/me").json()["signed_in"] is False
    assert c.get("/api/v1/users").status_code == 401


def test_tokens_need_no_csrf_and_stop_working_when_revoked(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    admin = {"Authorization": f"Bearer {sqlite_county.tokens['admin']}"}
    new = c.post(f"/api/v1/users/{sqlite_county.user_ids['bank_officer']}/tokens", json={"name": "bank system"},
                 headers=admin)
    assert new.status_code == 201
    plain = new.json()["token"]
    bank = {"Authorization": f"Bearer {plain}"}
    assert c.get("/api/v1/auth/me", headers=bank).json()["role"] == "bank_officer"
    assert c.post("/api/v1/checks", json={"scenario": "administrative-approval", "subject_id": 1},
                  headers=bank).status_code == 201
    listed = c.get(f"/api/v1/users/{sqlite_county.user_ids['bank_officer']}/tokens", headers=admin).json()
    assert all(t["token"] is None for t in listed)  # shown once, never again
    assert c.delete(f"/api/v1/tokens/{new.json()['id']}", headers=admin).status_code == 200
    assert c.get("/api/v1/subjects", headers=bank).status_code == 401
    with db.session_scope(sqlite_county.url) as s:  # only the digest is stored
        assert plain not in json.dumps([t.token_hash for t in user_service.tokens(s)])


def test_reading_a_personal_file_is_audited_with_its_purpose(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    office = {"Authorization": f"Bearer {sqlite_county.tokens['credit_office']}"}
    r = c.get("/api/v1/subjects/5?purpose=核实低保申请", headers=office)
    assert r.status_code == 200 and r.json()["resident_id"].count("*") >= 8
    with db.session_scope(sqlite_county.url) as s:
        e = s.execute(select(AuditEntry).where(AuditEntry.subject_id == 5, AuditEntry.action == "subject.read")
                      .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert (e.actor, e.purpose) == ("user:t-credit_office", "核实低保申请")
    # The reader appears in the file's own "who read it" list for the office.
    again = c.get("/api/v1/subjects/5", headers=office).json()
    assert any(x["purpose"] == "核实低保申请" for x in again["readers"])


def test_public_view_of_a_firm_shows_only_published_public_records(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    office = c.get("/api/v1/subjects/1", headers={"Authorization": f"Bearer {sqlite_county.tokens['admin']}"}).json()
    public = c.get("/api/v1/public/firms/1").json()
    assert public["records"], "the mini county's firm 1 has published penalties"
    assert {r["id"] for r in public["records"]} <= {r["id"] for r in office["records"]}
    assert all(r["data_class"] == "public" and r["in_publication_period"] for r in public["records"])
    assert "readers" not in public and "links" not in public
    assert c.get("/api/v1/public/firms/5").status_code == 404  # a resident: never public


def test_public_boards_mask_residents(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    params = {"model": "community-resident", "kind": "individual"}
    assert c.get("/api/v1/public/boards", params=params).json()["rows"] == []   # nobody opted in yet
    with db.session_scope(sqlite_county.url) as s:
        for sid in s.execute(select(Subject.id).where(Subject.kind == "individual")).scalars().all():
            boards.set_opt_in(s, subject_id=sid, opted_in=True, actor="test")
    people = c.get("/api/v1/public/boards", params=params).json()["rows"]
    assert people and all(re.fullmatch(r".\*+.?", r["name"]) and r["uscc"] is None for r in people), people


def test_public_queries_are_rate_limited(sqlite_county: County) -> None:
    c = client_for(sqlite_county, rate="3/60")
    codes = [c.get("/api/v1/public/firms?q=长兴").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    r = c.get("/api/v1/public/lists")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"].startswith("application/problem+json")
    assert c.get("/public", headers={"accept": "text/html"}).status_code == 429  # the pages share the limit


def test_validation_errors_are_problem_json(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    r = c.get("/api/v1/subjects?limit=1000", headers={"Authorization": f"Bearer {sqlite_county.tokens['admin']}"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"][-1] == "limit"


def test_account_scope_must_be_given(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    admin = {"Authorization": f"Bearer {sqlite_county.tokens['admin']}"}
    r = c.post("/api/v1/users", json={"username": "g-noregion", "role": "grid_worker", "password": "long enough"},
               headers=admin)
    assert r.status_code == 422 and "region" in r.json()["detail"]


def test_a_route_with_transactions_of_its_own_is_not_blocked_by_the_callers_sign_in(sqlite_county: County) -> None:
    """A token looked up in the database (not in the last seconds) writes its last use.
    That write is committed before the route runs: the exchange run takes its own
    transactions and, on SQLite, would otherwise wait on the request's write lock until
    the busy timeout and answer 500."""
    c = client_for(sqlite_county)
    auth = {"Authorization": f"Bearer {sqlite_county.tokens['admin']}"}
    for _ in range(2):
        user_service._forget_tokens(sqlite_county.user_ids["admin"])
        r = c.post("/api/v1/exchange/run", params={"force": "true"}, headers=auth)
        assert r.status_code == 200, r.text
    with db.session_scope(sqlite_county.url) as s:
        runs = s.execute(select(AuditEntry).where(AuditEntry.action == "exchange.run")).scalars().all()
        assert len(runs) >= 2
