"""The boards, the selection, the public screen and the counter through their edges
(API, pages, CLI) on a real store (SQLite and PostgreSQL): the public API and page
rank within one model and kind and page on; hostile names are escaped on the page and
unharmed in the JSON; the screen needs no sign-in and names nobody; a round is opened,
objected to and decided through the API and shows on the board; staff redeem at the
counter for a resident who types its own password, and confirm the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.points import ledger
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from tests.points.board_helpers import NASTY, build
from tests.points.helpers import a_shop, an_offer, give

PASSWORD = "counter horse battery staple"


@pytest.fixture
def edge(store: str, tmp_path: Path):
    ids = build(store)
    key = tmp_path / "edge.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        give(s, ids["shown"], 500, "test:seed:edge")
        a_shop(s, owner=ids["m0"])
        ids["offer"] = an_offer(s, price=200, stock=3).id
        tokens = {}
        for name, role, sid, pw in (("office", "credit_office", None, None), ("resident", "subject", ids["shown"], PASSWORD),
                                    ("shopkeeper", "subject", ids["m0"], None), ("firm", "subject", ids["firm0"], None)):
            u = users.create_user(s, username=name, password=pw, role=role, subject_id=sid, actor="test")
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
    client = TestClient(create_app(store, key), base_url="https://testserver")
    return client, tokens, ids


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_public_boards_api_and_page(edge) -> None:
    c, _tok, ids = edge
    first = c.get("/api/v1/public/boards", params={"region": "S1", "model": "public-credit-enterprise",
                                                   "kind": "enterprise", "per_page": 4}).json()
    second = c.get("/api/v1/public/boards", params={"region": "S1", "model": "public-credit-enterprise",
                                                    "kind": "enterprise", "per_page": 4, "page": 2}).json()
    assert (first["total"], first["pages"]) == (7, 2)
    ranked = [(r["rank"], r["score"]) for r in first["rows"] + second["rows"]]
    assert ranked == [(1, "95.00"), (2, "90.00"), (2, "90.00"), (4, "80.00"), (5, "70.00"), (6, "60.00"), (7, "50.00")]
    assert first["rows"][0]["name"] == NASTY
    people = c.get("/api/v1/public/boards", params={"region": "S1", "model": "community-resident"}).json()["rows"]
    assert [p["name"] for p in people] == ["王*国"]
    assert c.get("/api/v1/public/boards", params={"region": "nowhere"}).status_code == 404
    page = c.get("/public/boards", params={"region": "S1", "model": "public-credit-enterprise", "kind": "enterprise"})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    assert "王建国" not in page.text and "李四海" not in page.text and "李**海" not in page.text
    assert "model=qianjiang-score&amp;kind=enterprise" in page.text      # the other model: a table of its own
    english = c.get("/public/boards", params={"region": "S1"}, cookies={"cg_lang": "en"}).text
    assert "Rank" in english and "Credit merchants" in english
    assert "Enterprise public credit evaluation" in english     # the model's English title from the catalogue


def test_public_screen_needs_no_sign_in_and_names_nobody(edge) -> None:
    c, _tok, _ids = edge
    page = c.get("/public/screen")
    assert page.status_code == 200
    assert '<script src="/static/js/public-screen.js" defer></script>' in page.text
    assert 'data-pchart="bands"' in page.text
    assert "<script>" not in re.sub(r'<script type="application/json" id="p-[a-z]+">.*?</script>', "", page.text,
                                    flags=re.S)
    figures = c.get("/api/v1/public/screen").json()
    assert figures["bands"]["streets"] == ["一街道", "二街道"]
    assert sum(s["data"][0] for s in figures["bands"]["series"]) > 0
    text = json.dumps(figures, ensure_ascii=False)
    for name in ("王建国", "企业1", "诚信小店", "O'Brien"):
        assert name not in text
    assert c.get("/static/js/public-screen.js").status_code == 200


def test_a_selection_through_the_api_shows_on_the_board(edge, monkeypatch: pytest.MonkeyPatch) -> None:
    c, tok, ids = edge
    opened = c.post("/api/v1/points/selections", json={"code": "2026", "title": "2026年度诚信商户评选"},
                    headers=_h(tok["office"]))
    assert opened.status_code == 201 and opened.json()["objection_until"] == "2026-11-06"
    assert c.post("/api/v1/points/selections", json={"code": "x", "title": "t"},
                  headers=_h(tok["resident"])).status_code == 403
    obj = c.post("/api/v1/points/selections/2026/objections", json={"subject_id": ids["m1"], "text": NASTY},
                 headers=_h(tok["resident"]))
    assert obj.status_code == 201
    public = c.get("/api/v1/public/selections/2026").json()
    cand = {x["subject_id"]: x for x in public["candidates"]}
    assert cand[ids["m1"]]["objections"] == 1 and "objection_texts" not in cand[ids["m1"]]
    office = c.get("/api/v1/points/selections/2026", headers=_h(tok["office"])).json()
    assert {x["subject_id"]: x for x in office["candidates"]}[ids["m1"]]["objection_texts"][0]["text"] == NASTY
    page = c.get("/public/selections/2026")
    assert page.status_code == 200 and NASTY not in page.text and "2026年度诚信商户评选" in page.text
    assert c.post("/api/v1/points/selections/2026/decision", json={"decision_no": "信用办〔2026〕9号"},
                  headers=_h(tok["office"])).status_code == 409
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-09")
    d = c.post("/api/v1/points/selections/2026/decision",
               json={"decision_no": "信用办〔2026〕9号", "reject": {str(ids["m1"]): "异议属实"}},
               headers=_h(tok["office"]))
    assert d.status_code == 200 and d.json()["awarded"] == [ids["m0"]]
    awards = c.get("/api/v1/public/boards", params={"region": "S1G1"}).json()["awards"]
    assert [a["name"] for a in awards] == ["诚信小店"]
    assert "诚信小店" in c.get("/public/boards", params={"region": "S1G1"}).text


def test_resident_opts_in_and_out_through_its_page(edge) -> None:
    c, tok, ids = edge
    r = c.put("/api/v1/points/board-opt-in", json={"opted_in": False}, headers=_h(tok["resident"]))
    assert r.status_code == 200 and r.json() == {"subject_id": ids["shown"], "opted_in": False}
    assert c.get("/api/v1/public/boards", params={"region": "S1", "model": "community-resident"}).json()["rows"] == []
    assert "board-toggle" in c.get("/me/points", headers=_h(tok["resident"])).text
    back = c.post("/me/points/board-opt-in", data={"opted_in": "yes"}, headers=_h(tok["resident"]),
                  follow_redirects=False)
    assert back.status_code == 303
    assert len(c.get("/api/v1/public/boards", params={"region": "S1", "model": "community-resident"}).json()["rows"]) == 1
    assert "board-toggle" not in c.get("/me/points", headers=_h(tok["firm"])).text   # a firm is always on the board


def test_counter_redeems_for_a_resident_who_signs_in_there(edge, store: str) -> None:
    c, tok, ids = edge
    assert c.get("/points/counter", headers=_h(tok["resident"])).status_code == 403
    form = {"username": "resident", "password": "wrong", "offer_id": str(ids["offer"]), "key": "counter-1"}
    assert c.post("/points/counter/redeem", data=form, headers=_h(tok["office"])).status_code == 401
    done = c.post("/points/counter/redeem", data={**form, "password": PASSWORD}, headers=_h(tok["office"]))
    assert done.status_code == 200, done.text
    code = re.search(r'data-testid="counter-code">([A-Z0-9-]+)<', done.text).group(1)
    again = c.post("/points/counter/redeem", data={**form, "password": PASSWORD}, headers=_h(tok["office"]))
    assert code in again.text                                            # same key: the same redemption
    with db.session_scope(store) as s:
        assert ledger.balance(s, ids["shown"]) == 300
    # The shop's own account confirms the code on its page.
    ok = c.post("/points/confirm", data={"code": code}, headers=_h(tok["shopkeeper"]))
    assert ok.status_code == 200 and 'data-testid="confirm-done"' in ok.text
    assert c.post("/points/confirm", data={"code": code}, headers=_h(tok["firm"])).status_code == 404  # not its shop
    with db.session_scope(store) as s:
        assert ledger.balance(s, ids["shown"]) == 300


def test_the_office_runs_a_selection_on_its_pages(edge, monkeypatch: pytest.MonkeyPatch) -> None:
    c, tok, ids = edge
    opened = c.post("/points/selections", data={"code": "p2026", "title": NASTY}, headers=_h(tok["office"]),
                    follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/points/selections/p2026"
    page = c.get("/points/selections/p2026", headers=_h(tok["office"])).text
    assert "&lt;script&gt;" in page and "<script>alert" not in page and 'data-testid="decision-form"' in page
    late = c.post("/points/selections/p2026/nominate", data={"subject_id": str(ids["m3"]), "text": "好店"},
                  headers=_h(tok["resident"]))
    assert late.status_code == 422 and "does not meet the criteria" in late.text
    assert c.post("/points/selections/p2026/object", data={"subject_id": str(ids["m1"]), "text": "问题"},
                  headers=_h(tok["resident"]), follow_redirects=False).status_code == 303
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-09")
    done = c.post("/points/selections/p2026/decision", headers=_h(tok["office"]), follow_redirects=False,
                  data={"decision_no": "信用办〔2026〕10号", f"reject-{ids['m1']}": "异议属实", f"reject-{ids['m0']}": ""})
    assert done.status_code == 303
    after = c.get("/api/v1/public/selections/p2026").json()
    assert {x["subject_id"]: x["status"] for x in after["candidates"]} == {ids["m0"]: "awarded", ids["m1"]: "rejected"}
    assert c.post("/points/selections", data={"code": "x", "title": "t"}, headers=_h(tok["resident"])).status_code == 403


def test_the_cli_opens_decides_and_shows_boards(edge, cli, store: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    base = ("--db", store, "--key-file", str(tmp_path / "edge.key"))   # the store's key (the edge fixture's)
    out = cli(*base, "points", "selection", "open", "c2026", "--title", "评选", "--json")
    assert out.exit_code == 0, out.output
    assert {c["subject_id"] for c in json.loads(out.output)["candidates"]} == {edge[2]["m0"], edge[2]["m1"]}
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-09")
    bad = cli(*base, "points", "selection", "decide", "c2026", "--decision-no", "x", "--reject", "abc")
    assert bad.exit_code != 0
    d = cli(*base, "points", "selection", "decide", "c2026", "--decision-no", "信用办〔2026〕11号",
            "--reject", f"{edge[2]['m1']}=异议属实", "--json")
    assert json.loads(d.output)["awarded"] == [edge[2]["m0"]]
    b = json.loads(cli(*base, "points", "board", "--region", "S1", "--model", "public-credit-enterprise",
                       "--per-page", "2", "--page", "2", "--json").output)
    assert [(r["rank"], r["score"]) for r in b["rows"]] == [(2, "90.00"), (4, "80.00")]
    assert "王*国" in cli(*base, "points", "board", "--region", "S1", "--model", "community-resident").output
