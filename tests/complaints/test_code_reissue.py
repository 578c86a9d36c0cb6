"""A complainant who sends the same complaint twice — a double click whose second answer
is the one the browser shows, a retried API call — is never left without a query code
(SQLite and PostgreSQL). The second answer names the complaint the first filed, with a
fresh query code and a line saying it replaces the one given before; that code opens the
complaint on the status page, the earlier one no longer does, and the re-issue is on the
audit chain. On the pages (the public form and the counter) and on the API (public,
office and a special supervisor's observations), in Chinese and English."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.complaints.models import Complaint
from creditgov.core.db import session_scope
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry
from creditgov.web import i18n
from creditgov.web.i18n import LANG_COOKIE

HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 \u202e' + "长" * 300
FORM = {"category": "quality", "respondent_name": "双击商行 " + HOSTILE[:150], "respondent_code": "",
        "content": "买到的商品与宣传不符 " + HOSTILE, "complainant_name": "李四", "contact": "13700137000"}
API = "/api/v1"
REPLACED = {"zh": "这是为该投诉新发的查询码，它取代此前给出的查询码，原查询码已不能再用。",
            "en": "This is a new query code for this complaint: it replaces the one given before, which no longer "
                  "works."}


@pytest.fixture
def site(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-01T08:51:04")
    key = tmp_path / "reissue.key"
    create_key_file(key)
    heads = {}
    with session_scope(store) as s:
        for name, role in (("office", "credit_office"), ("sup", "supervisor")):
            u = users.create_user(s, username=name, password=None, role=role, display_name="王监督", actor="test")
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), heads, store


def _code(text: str) -> str | None:
    m = re.search(r'data-testid="complaint-query-code">([0-9A-F]+)<', text)
    return m.group(1) if m else None


def _cookie_code(response: Any) -> str:
    """The query code a redirect hands its page (`number.code` in the cookie it sets)."""
    m = re.search(r"complaint_code=\"?TS\d{8}-\d+\.([0-9A-F]+)", response.headers["set-cookie"])
    assert m, response.headers["set-cookie"]
    return m.group(1)


def _status(client: TestClient, number: str, code: str) -> int:
    return TestClient(client.app, base_url="https://testserver").get(
        "/public/complaints/status", params={"number": number, "code": code}).status_code


def _count(store: str) -> int:
    with session_scope(store) as s:
        return int(s.execute(select(func.count()).select_from(Complaint)).scalar_one())


def _reissues(store: str) -> list[dict[str, Any]]:
    with session_scope(store) as s:
        return [json.loads(e.detail) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "complaints.code_reissued")
                                            .order_by(AuditEntry.id)).scalars()]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_double_click_on_the_public_form_shows_a_code_that_works(site, lang: str) -> None:
    c, _heads, store = site
    c.cookies.set(LANG_COOKIE, lang)
    first = c.post("/public/complaints/new", data=FORM, follow_redirects=False)     # the first click …
    second = c.post("/public/complaints/new", data=FORM, follow_redirects=False)    # … and the second, in flight
    assert first.status_code == second.status_code == 303
    number = first.headers["location"].split("number=")[1]
    assert second.headers["location"] == f"/public/complaints/received?number={number}&again=1"
    earlier = _cookie_code(first)
    page = c.get(second.headers["location"])             # the browser shows the second answer
    code = _code(page.text)
    assert page.status_code == 200 and code is not None and code != earlier and number in page.text
    assert REPLACED[lang] in page.text and 'data-testid="complaint-code-replaced"' in page.text
    assert ("请记下投诉编号和查询码" if lang == "zh" else "Write down the complaint number and query code") in page.text
    assert "<script>alert(1)" not in page.text
    assert _status(c, number, code) == 200             # the code shown works on the status page
    assert _status(c, number, earlier) == 404          # the one the first answer carried does not
    assert _count(store) == 1
    assert [(d["number"], d["channel"]) for d in _reissues(store)] == [(number, "public")]
    again = c.get(second.headers["location"])          # shown once
    assert _code(again.text) is None and REPLACED[lang] not in again.text


def test_a_double_click_at_the_counter_shows_a_code_that_works(site) -> None:
    c, heads, store = site
    first = c.post("/complaints/counter", data=FORM, headers=heads["office"], follow_redirects=False)
    second = c.post("/complaints/counter", data=FORM, headers=heads["office"], follow_redirects=False)
    cid = int(re.findall(r"/complaints/(\d+)", first.headers["location"])[0])
    assert second.headers["location"] == f"/complaints/{cid}?done=resubmitted"
    earlier = _cookie_code(first)
    page = c.get(second.headers["location"], headers=heads["office"])
    code = _code(page.text)
    assert 'data-testid="complaint-resubmitted"' in page.text and code is not None and code != earlier
    assert REPLACED["zh"] in page.text
    with session_scope(store) as s:
        number = s.get(Complaint, cid).number  # type: ignore[union-attr]  # filed above
    assert _status(c, number, code) == 200 and _status(c, number, earlier) == 404
    assert _count(store) == 1 and len(_reissues(store)) == 1


def test_a_repeated_api_call_answers_a_new_code_that_replaces_the_first(site) -> None:
    c, heads, store = site
    body = {k: v for k, v in FORM.items() if k != "respondent_code"}
    first = c.post(f"{API}/public/complaints", json=body)
    assert first.status_code == 201 and first.json()["created"] is True
    assert first.json()["query_code_replaces_earlier"] is False and "message" not in first.json()
    number, code1 = first.json()["number"], first.json()["query_code"]
    for accept, said in (("en", "it replaces the one given before, which no longer works"),
                         ("zh-CN,zh;q=0.9", "它取代此前给出的查询码，原查询码已不能再用")):
        again = c.post(f"{API}/public/complaints", json=body, headers={"accept-language": accept})
        answer = again.json()
        assert again.status_code == 200 and answer["number"] == number and answer["created"] is False
        assert answer["query_code_replaces_earlier"] is True and said in answer["message"]
        assert number in answer["message"]
        code2 = answer["query_code"]
        assert code2 and code2 != code1
        assert c.get(f"{API}/public/complaints/{number}", params={"code": code2}).status_code == 200
        assert c.get(f"{API}/public/complaints/{number}", params={"code": code1}).status_code == 404
        code1 = code2
    assert _count(store) == 1 and len(_reissues(store)) == 2
    # Without a contact the sender is nobody in particular: two calls are two complaints.
    anonymous = {**body, "complainant_name": None, "contact": None}
    assert [c.post(f"{API}/public/complaints", json=anonymous).status_code for _ in range(2)] == [201, 201]
    assert _count(store) == 3

    # The office's API and a special supervisor's observations answer their repeats alike.
    office = [c.post(f"{API}/complaints", json=body, headers=heads["office"]) for _ in range(2)]
    assert [r.status_code for r in office] == [201, 200] and office[0].json()["id"] == office[1].json()["id"]
    assert office[1].json()["query_code"] != office[0].json()["query_code"]
    assert office[1].json()["query_code_replaces_earlier"] is True
    obs = {"category": "credit_work", "respondent_name": HOSTILE[:100], "content": "公示信息有误 " + HOSTILE,
           "contact": None}
    seen = [c.post(f"{API}/supervisor/observations", json=obs, headers=heads["sup"]) for _ in range(2)]
    assert [r.status_code for r in seen] == [201, 200] and seen[0].json()["number"] == seen[1].json()["number"]
    assert _status(c, seen[1].json()["number"], seen[1].json()["query_code"]) == 200
    assert _status(c, seen[0].json()["number"], seen[0].json()["query_code"]) == 404
    assert _count(store) == 5
    assert [d["channel"] for d in _reissues(store)] == ["public", "public", "api", "supervisor"]


def test_a_supervisors_page_repeat_keeps_the_code_it_was_given(site) -> None:
    """The supervisor's page shows no query code: its repeat issues none, so the code the
    API gave for the same observation keeps working."""
    c, heads, store = site
    obs = {"category": "credit_work", "respondent_name": "某单位", "content": "公示信息有误，请核查", "contact": ""}
    given = c.post(f"{API}/supervisor/observations", json={**obs, "contact": None}, headers=heads["sup"]).json()
    c.cookies.set(i18n.LANG_COOKIE, "zh")
    page = c.post("/supervisor/observations", data=obs, headers=heads["sup"])
    assert 'data-testid="observation-resubmitted"' in page.text and _code(page.text) is None
    assert _status(c, given["number"], given["query_code"]) == 200 and _reissues(store) == [] and _count(store) == 1
