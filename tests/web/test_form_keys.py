"""Every POST form a page draws carries a key of its own, made when the page is drawn,
on a real store (SQLite and PostgreSQL) through the real application: the same drawn
form sent twice — a double click, a refresh after the POST, the back button — acts
once and the second answer is the first's redirect; a form refused (422) is corrected
and sent again with the same key; a form whose answer sets a cookie runs again (and
the domain's own check answers it); a refusal that redirects to the sign-in keeps
nothing; htmx forms, sent again and again from one drawing, carry no key."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.catalog import requests as wf
from creditgov.catalog.models import DataRequestEvent, DataRequestForm
from creditgov.complaints.models import Complaint
from creditgov.core.db import session_scope
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import RequestKey
from tests.concurrency import at_once

MARKUP = '"><script>alert(1)</script> O\'Brien “引号” \u202e😀'
PASSWORD = "Vermilion-harbour-tide-92"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class Site:
    client: TestClient
    store: str
    office: dict[str, str]
    app: Any

    def count(self, model: Any, *where: Any) -> int:
        with session_scope(self.store) as s:
            return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


@pytest.fixture
def site(store: str, tmp_path: Path) -> Site:
    key = tmp_path / "forms.key"
    create_key_file(key)
    with session_scope(store) as s:
        office = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        token = users.issue_token(s, user_id=office.id, name="t", actor="test")[0]
        users.create_user(s, username="officer", password=PASSWORD, role="department_officer",
                          department_code="market", actor="test")
    app = create_app(store, key)
    return Site(TestClient(app, base_url="https://testserver", follow_redirects=False), store,
                {"Authorization": f"Bearer {token}"}, app)


def _form(page: str, testid: str) -> dict[str, str]:
    """The hidden fields of the form marked `data-testid=testid` on a drawn page."""
    m = re.search(rf'<form [^>]*data-testid="{testid}"[^>]*>(.*?)</form>', page, re.S)
    assert m, testid
    return {k: html.unescape(v) for k, v in HIDDEN.findall(m.group(1))}


def _request_form(site: Site) -> dict[str, Any]:
    page = site.client.get("/data-requests?department=market", headers=site.office)
    assert page.status_code == 200
    return {**_form(page.text, "request-form"), "items": ["market.complaint"], "legal_basis": MARKUP,
            "purpose": MARKUP, "frequency": "quarterly"}


def test_every_post_form_drawn_carries_a_key_of_its_own(site: Site) -> None:
    page = site.client.get("/data-requests?department=market", headers=site.office).text
    keys = re.findall(r'name="form_key" value="([0-9a-f]{32})"', page)
    assert len(keys) == len(re.findall(r'<form method="post"', page)) >= 1
    again = site.client.get("/data-requests?department=market", headers=site.office).text
    assert not set(keys) & set(re.findall(r'name="form_key" value="([0-9a-f]{32})"', again))
    # One key per form: a list of forms (each item's decision) draws as many keys.
    with session_scope(site.store) as s:
        form_id = wf.file_request(s, department="market", items=["market.complaint", "market.quality_fail"],
                                  legal_basis="依据", purpose="用途", frequency="monthly", actor="office").id
    officer = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    _sign_in(officer)
    drawn = officer.get(f"/data-requests/{form_id}").text
    decide = re.findall(r'<form method="post" action="/data-requests/items/\d+/decide"[^>]*>'
                        r'<input type="hidden" name="form_key" value="([0-9a-f]{32})">', drawn)
    assert len(decide) == 2 and len(set(decide)) == 2
    # An htmx form is sent again and again from one drawing (a credit check): no key.
    check = site.client.get("/check", headers=site.office).text
    htmx = re.search(r'<form [^>]*hx-post="/check"[^>]*>(.*?)</form>', check, re.S)
    assert htmx and "form_key" not in htmx.group(1)


def test_a_form_sent_twice_acts_once_and_answers_the_first_redirect(site: Site) -> None:
    fields = _request_form(site)
    first = site.client.post("/data-requests", data=fields, headers=site.office)
    assert first.status_code == 303 and re.fullmatch(r"/data-requests/\d+\?done=filed", first.headers["location"])
    assert "idempotent-replayed" not in first.headers
    again = site.client.post("/data-requests", data=fields, headers=site.office)   # a refresh after the POST
    assert (again.status_code, again.headers["location"]) == (303, first.headers["location"])
    assert again.headers["idempotent-replayed"] == "true"
    assert site.count(DataRequestForm) == 1
    shown = site.client.get(first.headers["location"], headers=site.office).text
    assert str(escape(MARKUP)) in shown and MARKUP not in shown
    # The same form sent back with other words (the back button): still the first answer.
    edited = site.client.post("/data-requests", data={**fields, "purpose": "改过的用途"}, headers=site.office)
    assert edited.headers["location"] == first.headers["location"] and site.count(DataRequestForm) == 1
    # Without a key the domain's own rule answers: the item is already requested.
    plain = site.client.post("/data-requests", data={k: v for k, v in fields.items() if k != "form_key"},
                             headers=site.office)
    assert plain.status_code == 409 and site.count(DataRequestForm) == 1


def test_a_refused_form_is_corrected_and_sent_with_the_same_key(site: Site) -> None:
    fields = _request_form(site)
    refused = site.client.post("/data-requests", data={**fields, "items": []}, headers=site.office)
    assert refused.status_code == 422 and "idempotent-replayed" not in refused.headers
    assert site.count(RequestKey) == 0 and site.count(DataRequestForm) == 0
    site.client.cookies.set("cg_lang", "en")
    refused = site.client.post("/data-requests", data={**fields, "frequency": "hourly"}, headers=site.office)
    assert refused.status_code == 422 and site.count(DataRequestForm) == 0
    site.client.cookies.clear()
    corrected = site.client.post("/data-requests", data=fields, headers=site.office)
    assert corrected.status_code == 303 and "idempotent-replayed" not in corrected.headers
    again = site.client.post("/data-requests", data=fields, headers=site.office)
    assert again.headers["location"] == corrected.headers["location"] and again.headers["idempotent-replayed"]
    assert site.count(DataRequestForm) == 1


def _sign_in(client: TestClient) -> None:
    """The department officer through the login form: a browser session (cookie + CSRF)."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    r = client.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 303 and "cg_session" in client.cookies, r.text


def test_a_double_click_in_a_browser_session_decides_once(site: Site) -> None:
    with session_scope(site.store) as s:
        f = wf.file_request(s, department="market", items=["market.complaint"], legal_basis="依据", purpose="用途",
                            frequency="monthly", actor="office")
        form_id, item_id = f.id, wf.form(s, f.id).items[0].id
    officer = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    _sign_in(officer)
    fields = {**_form(officer.get(f"/data-requests/{form_id}").text, f"decide-{item_id}"),
              "decision": "approved", "reason": MARKUP}
    assert fields["form_key"] and fields["csrf_token"]
    browsers = [TestClient(site.app, base_url="https://testserver", follow_redirects=False,
                           cookies=dict(officer.cookies.items())) for _ in range(2)]

    def click(i: int) -> tuple[int, str, str | None]:
        r = browsers[i].post(f"/data-requests/items/{item_id}/decide", data=fields)
        return r.status_code, r.headers.get("location", r.text[:300]), r.headers.get("idempotent-replayed")

    answers = at_once(click, 2)
    target = f"/data-requests/{form_id}?done=approved#item-{item_id}"
    assert sorted(a[:2] for a in answers) == [(303, target), (303, target)], answers
    assert sorted(str(a[2]) for a in answers) == ["None", "true"]       # the second is the first's answer
    assert site.count(DataRequestEvent, DataRequestEvent.action == "approved") == 1
    # Another session of the same person is another caller: its copy runs (and is refused).
    other = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    _sign_in(other)
    token = re.search(r'name="csrf-token" content="([^"]+)"', other.get("/").text)
    assert token is not None
    r = other.post(f"/data-requests/items/{item_id}/decide", data={**fields, "csrf_token": token.group(1)})
    assert r.status_code == 409 and "idempotent-replayed" not in r.headers


def test_a_form_whose_answer_sets_a_cookie_runs_again_and_its_domain_answers(site: Site) -> None:
    """The counter's answer hands the new complaint's query code over in a cookie: not
    kept. The copy runs again, and the complaints' own check finds the same complaint."""
    page = site.client.get("/complaints", headers=site.office).text
    fields = {**_form(page, "counter-complaint-form"), "category": "quality", "respondent_name": "窗口商行",
              "content": "买到的商品与宣传不符 " + MARKUP, "complainant_name": "张三丰", "contact": "13800138000"}
    first = site.client.post("/complaints/counter", data=fields, headers=site.office)
    assert first.status_code == 303 and "complaint_code" in first.headers["set-cookie"]
    again = site.client.post("/complaints/counter", data=fields, headers=site.office)
    assert again.status_code == 303 and "idempotent-replayed" not in again.headers
    assert again.headers["location"].split("?")[0] == first.headers["location"].split("?")[0]
    assert again.headers["location"].endswith("done=resubmitted")
    assert site.count(Complaint) == 1 and site.count(RequestKey) == 0


def test_a_refusal_that_redirects_to_the_sign_in_keeps_nothing(site: Site) -> None:
    fields = _request_form(site)
    visitor = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    r = visitor.post("/data-requests", data=fields, headers={"Accept": "text/html"})   # a browser
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert site.count(RequestKey) == 0
    done = site.client.post("/data-requests", data=fields, headers=site.office)
    assert done.status_code == 303 and "idempotent-replayed" not in done.headers
