"""The API's `Idempotency-Key` on a real store (SQLite and PostgreSQL), through the real
application: a create sent again with its key is done once and answered again (same
status and body, `Idempotent-Replayed: true`) — a data request (catalogue) and an API
token (security), which have no retry check of their own, and a points award, which has
one (and keeps it without a key); the same key with another body or path is refused;
copies sent at once do the act once; a refused or failed first request gives the key
up; an answer that sets a cookie is never kept; a points redemption keeps its own key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.catalog.models import DataRequestForm
from creditgov.core.db import session_scope
from creditgov.points.models import PointsAward, Redemption
from creditgov.security import users
from creditgov.security.accounts import ApiToken, WebSession
from creditgov.security.crypto import create_key_file
from creditgov.security.models import RequestKey
from tests.concurrency import at_once
from tests.lists.helpers import make_subject
from tests.points.helpers import a_shop, an_offer, give

MARKUP = '"><script>alert(1)</script> O\'Brien “引号” \u202e😀'
PASSWORD = "Vermilion-harbour-tide-92"
REQUEST = {"department": "market", "items": ["market.complaint"], "legal_basis": MARKUP, "purpose": MARKUP,
           "frequency": "quarterly"}


@dataclass
class Site:
    app: FastAPI
    client: TestClient
    store: str
    tokens: dict[str, str]
    ids: dict[str, int]

    def h(self, who: str, key: str | None = None, **extra: str) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.tokens[who]}", **extra}
        if key is not None:
            out["Idempotency-Key"] = key
        return out

    def count(self, model: Any, *where: Any) -> int:
        with session_scope(self.store) as s:
            return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


@pytest.fixture
def site(store: str, tmp_path: Path) -> Site:
    key = tmp_path / "keys.key"
    create_key_file(key)
    with session_scope(store) as s:
        resident = make_subject(s, kind="individual", name="张三")
        owner = make_subject(s, kind="merchant", name="诚信便利店")
        give(s, resident.id, 500, "test:seed")
        a_shop(s, owner=owner.id)
        offer = an_offer(s, price=100, stock=5)
        tokens, ids = {}, {"resident": resident.id, "offer": offer.id}
        for name, role, extra in (("office", "credit_office", {}), ("admin", "admin", {}),
                                  ("resident", "subject", {"subject_id": resident.id}),
                                  ("officer", "department_officer", {"department_code": "market"})):
            u = users.create_user(s, username=name, password=PASSWORD if name == "officer" else None, role=role,
                                  actor="test", **extra)
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
            ids[f"{name}_user"] = u.id
    app = create_app(store, key)
    return Site(app, TestClient(app, base_url="https://testserver", follow_redirects=False), store, tokens, ids)


def test_a_data_request_sent_again_with_its_key_is_filed_once_and_answered_again(site: Site) -> None:
    c = site.client
    first = c.post("/api/v1/data-requests", json=REQUEST, headers=site.h("office", "dr-1"))
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert first.json()["purpose"] == MARKUP                       # hostile text unharmed
    again = c.post("/api/v1/data-requests", json=REQUEST, headers=site.h("office", "dr-1"))
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-frame-options"] == "DENY"              # a replay is still a page of ours
    assert site.count(DataRequestForm) == 1
    # The domain's own rule still answers a copy without a key: the item is pending.
    plain = c.post("/api/v1/data-requests", json=REQUEST, headers=site.h("office"))
    assert plain.status_code == 409 and plain.json()["code"] == "catalog.request.pending"
    # The same key for another body or another path: refused, in the caller's language.
    other = c.post("/api/v1/data-requests", json={**REQUEST, "purpose": "另一个目的"},
                   headers=site.h("office", "dr-1", **{"Accept-Language": "zh-CN"}))
    assert other.status_code == 422 and other.json()["code"] == "security.request.key_reused"
    assert other.json()["message"].startswith("这个请求标识已用于另一项请求")
    elsewhere = c.post("/api/v1/users", json={"username": "newcomer", "role": "grid_worker", "region_code": "CX"},
                       headers=site.h("office", "dr-1"))
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "security.request.key_reused"
    # A key is the caller's own: the administrator's "dr-1" is another key, and runs.
    theirs = c.post("/api/v1/data-requests", json=REQUEST, headers=site.h("admin", "dr-1"))
    assert theirs.status_code == 409 and "idempotent-replayed" not in theirs.headers
    assert site.count(DataRequestForm) == 1


def test_an_api_token_issued_again_with_its_key_is_one_token_kept_encrypted(site: Site) -> None:
    c, path = site.client, f"/api/v1/users/{site.ids['officer_user']}/tokens"
    before = site.count(ApiToken, ApiToken.user_id == site.ids["officer_user"])
    first = c.post(path, json={"name": "bank system"}, headers=site.h("admin", "token-1"))
    again = c.post(path, json={"name": "bank system"}, headers=site.h("admin", "token-1"))
    assert first.status_code == again.status_code == 201
    assert again.json()["token"] == first.json()["token"] and again.headers["idempotent-replayed"] == "true"
    assert site.count(ApiToken, ApiToken.user_id == site.ids["officer_user"]) == before + 1
    # The token is shown once: kept for the replay only encrypted with the store's key.
    with session_scope(site.store) as s:
        kept = s.execute(select(RequestKey.answer, RequestKey.caller, RequestKey.key)).one()
    assert first.json()["token"] not in kept.answer and site.tokens["admin"] not in kept.caller
    assert kept.key == "token-1"
    # Without a key nothing tells a retry from a second token: two.
    c.post(path, json={"name": "bank system"}, headers=site.h("admin"))
    assert site.count(ApiToken, ApiToken.user_id == site.ids["officer_user"]) == before + 2


def test_an_award_keeps_its_own_check_without_a_key(site: Site) -> None:
    c, body = site.client, {"subject_id": site.ids["resident"], "points": 30, "reason": MARKUP}
    first = c.post("/api/v1/points/awards", json=body, headers=site.h("office", "award-1"))
    again = c.post("/api/v1/points/awards", json=body, headers=site.h("office", "award-1"))
    assert (first.status_code, again.status_code) == (201, 201) and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # Without a key the domain's own check answers the proposal still waiting (200).
    plain = c.post("/api/v1/points/awards", json=body, headers=site.h("office"))
    assert plain.status_code == 200 and plain.json()["id"] == first.json()["id"]
    assert "idempotent-replayed" not in plain.headers
    assert site.count(PointsAward) == 1


def test_a_redemption_keeps_its_own_key(site: Site) -> None:
    """The route reads Idempotency-Key itself (kept with the redemption for good): the
    general mechanism leaves it alone, and its answers stay 201 then 200."""
    c, body = site.client, {"offer_id": site.ids["offer"]}
    first = c.post("/api/v1/points/redemptions", json=body, headers=site.h("resident", "redeem-1"))
    again = c.post("/api/v1/points/redemptions", json=body, headers=site.h("resident", "redeem-1"))
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert "idempotent-replayed" not in again.headers
    assert site.count(Redemption) == 1 and site.count(RequestKey) == 0


def test_copies_sent_at_once_do_the_act_once(site: Site) -> None:
    clients = [TestClient(site.app, base_url="https://testserver") for _ in range(6)]

    def send(i: int) -> tuple[int, str | None, Any]:
        r = clients[i].post("/api/v1/data-requests", json=REQUEST, headers=site.h("office", "at-once"))
        return r.status_code, r.headers.get("idempotent-replayed"), r.json()

    answers = at_once(send, 6)
    done = [a for a in answers if a[0] == 201 and a[1] is None]
    assert len(done) == 1, answers
    for status, replayed, body in answers:
        assert (status == 201 and body == done[0][2]) or (status == 409 and body["code"] ==
                                                          "security.request.in_progress"), (status, replayed, body)
    assert site.count(DataRequestForm) == 1
    # Whoever was told "in progress" gets the first answer now.
    late = site.client.post("/api/v1/data-requests", json=REQUEST, headers=site.h("office", "at-once"))
    assert late.status_code == 201 and late.json() == done[0][2] and late.headers["idempotent-replayed"] == "true"


def test_a_refused_first_request_gives_its_key_up_for_the_corrected_one(site: Site) -> None:
    c = site.client
    wrong = c.post("/api/v1/data-requests", json={**REQUEST, "items": ["no.such.item"]}, headers=site.h("office", "fix"))
    assert wrong.status_code == 422 and wrong.json()["code"] == "catalog.item.unknown"
    invalid = c.post("/api/v1/data-requests", json={**REQUEST, "frequency": "hourly"}, headers=site.h("office", "fix"))
    assert invalid.status_code == 422 and "code" not in invalid.json()       # the schema's refusal
    right = c.post("/api/v1/data-requests", json=REQUEST, headers=site.h("office", "fix"))
    assert right.status_code == 201 and "idempotent-replayed" not in right.headers
    assert site.count(DataRequestForm) == 1


def _api(app: FastAPI) -> FastAPI:
    return next(r.app for r in app.routes if getattr(r, "path", None) == "/api/v1")  # type: ignore[attr-defined]


def test_a_failed_first_request_gives_its_key_up(site: Site) -> None:
    """A handler that raises (a 500) did not answer: the copy runs again, and its answer
    is the one kept. The route is the test's own, mounted on the real application."""
    calls: list[dict[str, Any]] = []

    @_api(site.app).post("/test/flaky", status_code=201)
    def flaky(body: dict[str, Any]) -> dict[str, Any]:
        calls.append(body)
        if len(calls) == 1:
            raise RuntimeError("the store went away")
        return {"call": len(calls)}

    c = TestClient(site.app, base_url="https://testserver", raise_server_exceptions=False)
    assert c.post("/api/v1/test/flaky", json={"a": 1}, headers=site.h("office", "flaky")).status_code == 500
    assert site.count(RequestKey) == 0
    ran = c.post("/api/v1/test/flaky", json={"a": 1}, headers=site.h("office", "flaky"))
    assert (ran.status_code, ran.json()) == (201, {"call": 2}) and "idempotent-replayed" not in ran.headers
    kept = c.post("/api/v1/test/flaky", json={"a": 1}, headers=site.h("office", "flaky"))
    assert (kept.status_code, kept.json(), kept.headers["idempotent-replayed"]) == (201, {"call": 2}, "true")
    assert len(calls) == 2


def test_an_answer_that_sets_a_cookie_is_not_kept(site: Site) -> None:
    """A sign-in sets the session cookie: sent again with its key it signs in again (its
    cookie is not kept for anyone to be given back). Without a credential a key must be
    at least 16 characters: the public is one scope."""
    key = "4f2c9e1a-sign-in-once"
    body = {"username": "officer", "password": PASSWORD}
    before = site.count(WebSession)
    for _ in range(2):
        visitor = TestClient(site.app, base_url="https://testserver")
        r = visitor.post("/api/v1/auth/login", json=body, headers={"Idempotency-Key": key})
        assert r.status_code == 200 and "cg_session" in r.headers["set-cookie"]
        assert "idempotent-replayed" not in r.headers
    assert site.count(WebSession) == before + 2 and site.count(RequestKey) == 0
    short = TestClient(site.app, base_url="https://testserver").post(
        "/api/v1/auth/login", json=body, headers={"Idempotency-Key": "short"})
    assert short.status_code == 422 and short.json()["code"] == "security.request.key_invalid"
    bad = site.client.post("/api/v1/data-requests", json=REQUEST, headers=site.h("office", "two words"))
    assert bad.status_code == 422 and bad.json()["code"] == "security.request.key_invalid"
    assert site.count(DataRequestForm) == 0
