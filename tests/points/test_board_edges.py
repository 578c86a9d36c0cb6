"""The boards, the selection, the public screen and the counter through their edges
(API, pages, CLI) on a real store (SQLite and PostgreSQL): the public API and page
rank within one model and kind and page on; hostile names are escaped on the page and
unharmed in the JSON; the screen needs no sign-in and names nobody; a round is opened,
objected to and decided through the API and shows on the board; staff redeem at the
counter for a resident who types its own password and then a second factor it controls
(an SMS code to its registered phone, sent through a real local gateway, or its
authenticator app's code), with wrong codes limited and audited, and confirm the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts import outbox
from creditgov.alerts.models import Notification
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.points import ledger
from creditgov.security import attempts, mfa, users
from creditgov.security import service as audit
from creditgov.security.accounts import User
from creditgov.security.crypto import create_key_file, load_key_file
from creditgov.security.models import AuditEntry
from tests.alerts.helpers import write_yaml
from tests.alerts.peers.running import HttpPeer
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
        for name, role, sid, pw in (("office", "credit_office", None, None), ("office2", "credit_office", None, None),
                                    ("resident", "subject", ids["shown"], PASSWORD),
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
    # A band by its name in the page's language, capitalised like every label; never its code.
    assert "<td>优秀(守信)</td>" in page.text and re.search(r"<td>(Excellent|Good|Fair|Poor)</td>", english)
    assert not re.search(r"<td>(excellent|good|fair|poor)</td>", english + page.text)


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
    # Each chart has its figures in words: a summary naming it and a table of its numbers.
    bands = re.search(r'<table class="visually-hidden" aria-labelledby="h-bands".*?</table>', page.text, re.S)
    assert bands is not None
    first = figures["bands"]["series"][0]
    assert f"<th>{first['label'][0]}</th>" in bands.group(0)
    assert f"<td>一街道</td><td>{first['data'][0]:,}</td>" in bands.group(0)
    for chart in ("bands", "merchants", "redemptions"):
        assert re.search(rf'data-testid="chart-{chart}" role="img"\s+aria-label="[^"]+数据见图表后的表格"', page.text)
    english = c.get("/public/screen", cookies={"cg_lang": "en"}).text
    assert "the figures are in the table after the chart" in english and "<th>Street</th>" in english


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
    # The rounds and their candidates in words in either language, English capitalised like
    # every other status; no code on the page.
    for lang, words in (("zh", ("已决定", "已授予", "未授予", "按条件产生")),
                        ("en", ("Decided", "Awarded", "Not awarded", "Drawn by the criteria"))):
        c.cookies.set("cg_lang", lang)
        rounds = c.get("/points/selections", headers=_h(tok["office"])).text
        one = c.get("/points/selections/2026", headers=_h(tok["office"])).text
        public = c.get("/public/selections/2026").text
        assert f"<td>{words[0]}</td>" in rounds and f"<strong>{words[0]}</strong>" in one
        for text in (one, public):
            assert all(f"<td>{w}" in text for w in words[1:]), (lang, words)
            assert not re.search(r"<td>(awarded|rejected|criteria|decided|drawn by the criteria)", text)
    c.cookies.delete("cg_lang")
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


def _challenge(page: str) -> str:
    m = re.search(r'name="token" value="([^"]+)"', page)
    assert m, page
    return m.group(1)


def _sms_world(store: str, tmp_path: Path, resident: int) -> HttpPeer:
    """An SMS channel to a real local gateway and the resident's registered phone, as
    the office loads them."""
    peer = HttpPeer(state=tmp_path / "gateway.json").start()
    chans = write_yaml(tmp_path / "channels.yaml", {"channels": [
        {"name": "sms", "plugin": "http_sms", "backoff_seconds": 0.05, "settings": {"url": peer.url + "/sms"}}]})
    people = write_yaml(tmp_path / "contacts.yaml", {"contacts": [
        {"kind": "subject", "key": str(resident), "name": "王建国", "phone": "13900000002"}]})
    with db.session_scope(store) as s:
        alert_contacts.load_channels(s, path=chans, actor="test")
        alert_contacts.load_contacts(s, path=people, actor="test")
    return peer


def _sms_codes(store: str, peer: HttpPeer) -> list[str]:
    outbox.deliver_due(store)
    return [re.search(r"(\d{6})", m["text"]).group(1) for m in peer.messages("sms")]


def test_counter_asks_the_resident_for_an_sms_code_then_redeems(edge, store: str, tmp_path: Path) -> None:
    c, tok, ids = edge
    assert c.get("/points/counter", headers=_h(tok["resident"])).status_code == 403
    form = {"username": "resident", "password": "wrong", "offer_id": str(ids["offer"]), "key": "counter-1"}
    assert c.post("/points/counter/redeem", data=form, headers=_h(tok["office"])).status_code == 401
    # No authenticator app and no registered phone: no second factor, nothing redeemed.
    none = c.post("/points/counter/redeem", data={**form, "password": PASSWORD}, headers=_h(tok["office"]))
    assert none.status_code == 409 and "没有身份验证器" in none.text
    peer = _sms_world(store, tmp_path, ids["shown"])
    try:
        asked = c.post("/points/counter/redeem", data={**form, "password": PASSWORD}, headers=_h(tok["office"]))
        assert asked.status_code == 200 and 'data-testid="counter-sent"' in asked.text
        assert "139****0002" in asked.text and "13900000002" not in asked.text
        token = _challenge(asked.text)
        (sent,) = _sms_codes(store, peer)
        assert sent not in asked.text and sent not in token                # the page holds no code
        with db.session_scope(store) as s:
            assert ledger.balance(s, ids["shown"]) == 500                      # nothing redeemed yet
        wrong = "000000" if sent != "000000" else "111111"
        bad = c.post("/points/counter/verify", data={"token": token, "code": wrong}, headers=_h(tok["office"]))
        assert bad.status_code == 401 and _challenge(bad.text) == token       # asked again, same challenge
        # Another staff account cannot use the challenge; an altered one is refused.
        other = c.post("/points/counter/verify", data={"token": token, "code": sent}, headers=_h(tok["office2"]))
        assert other.status_code == 409
        forged = c.post("/points/counter/verify", data={"token": token[:-4] + "AAAA", "code": sent},
                        headers=_h(tok["office"]))
        assert forged.status_code == 409
        done = c.post("/points/counter/verify", data={"token": token, "code": sent}, headers=_h(tok["office"]))
        assert done.status_code == 200, done.text
        code = re.search(r'data-testid="counter-code">([A-Z0-9-]+)<', done.text).group(1)
        again = c.post("/points/counter/verify", data={"token": token, "code": sent}, headers=_h(tok["office"]))
        assert code in again.text                                           # same key: the same redemption
        english = c.post("/points/counter/redeem", data={**form, "password": PASSWORD, "key": "counter-2"},
                         headers=_h(tok["office"]), cookies={"cg_lang": "en"})
        assert "A code was sent to" in english.text and "Resident's code" in english.text
        assert len(_sms_codes(store, peer)) == 2 and "Your code is" in peer.messages("sms")[-1]["text"]
    finally:
        peer.stop()
    with db.session_scope(store) as s:
        assert ledger.balance(s, ids["shown"]) == 300
        actions = [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
        failed = [json.loads(e.detail) for e in s.execute(select(AuditEntry).where(
            AuditEntry.action == "auth.failed")).scalars()]
        assert audit.verify(s).ok
        # Sent codes are not kept: the outbox blanks them once the gateway took the message.
        kept = [n.body for n in s.execute(select(Notification).where(Notification.channel == "sms")).scalars()]
    assert len(kept) == 2 and all("••••••" in b and not re.search(r"\d{4,}", b) for b in kept), kept
    assert actions.count("points.counter.challenge") == 2 and "points.counter.no_factor" in actions
    assert actions.count("points.counter.verified") == 2 and actions.count("points.counter.redeem") == 2
    assert [f["factor"] for f in failed if f.get("where") == "points counter"] == ["sms"]
    assert sent not in " ".join(json.dumps(f) for f in failed)
    # The shop's own account confirms the code on its page.
    ok = c.post("/points/confirm", data={"code": code}, headers=_h(tok["shopkeeper"]))
    assert ok.status_code == 200 and 'data-testid="confirm-done"' in ok.text
    # Shown again later, the code is said to be used already, with when, in either language.
    for lang, words in (("zh", "已于"), ("en", "was already confirmed on")):
        again = c.post("/points/confirm", data={"code": code}, headers=_h(tok["shopkeeper"]), cookies={"cg_lang": lang})
        assert again.status_code == 200 and 'data-testid="confirm-done"' not in again.text
        assert 'data-testid="confirm-already"' in again.text and words in again.text and code in again.text
    assert c.post("/points/confirm", data={"code": code}, headers=_h(tok["firm"])).status_code == 404  # not its shop


def test_counter_codes_are_limited_and_an_authenticator_app_is_used_when_there_is_one(
        edge, store: str, tmp_path: Path) -> None:
    c, tok, ids = edge
    peer = _sms_world(store, tmp_path, ids["shown"])
    form = {"username": "resident", "password": PASSWORD, "offer_id": str(ids["offer"]), "key": "counter-3"}
    try:
        token = _challenge(c.post("/points/counter/redeem", data=form, headers=_h(tok["office"])).text)
        (sent,) = _sms_codes(store, peer)
        wrong = "000000" if sent != "000000" else "111111"
        for _n in range(3):
            r = c.post("/points/counter/verify", data={"token": token, "code": wrong}, headers=_h(tok["office"]))
            assert r.status_code == 401
        assert 'name="token"' not in r.text                                  # the third ends the challenge
        late = c.post("/points/counter/verify", data={"token": token, "code": sent}, headers=_h(tok["office"]))
        assert late.status_code == 409                                       # even the right code
    finally:
        peer.stop()
    with db.session_scope(store) as s:
        assert ledger.balance(s, ids["shown"]) == 500
    # With an authenticator app the resident types its code; no SMS is sent.
    with db.session_scope(store) as s:
        user = s.execute(select(User).where(User.username == "resident")).scalar_one()
        enrolment, _codes = mfa.enrol_now(s, load_key_file(tmp_path / "edge.key"), user, actor="test")
        attempts.unlock(s, username="resident", actor="test")
    asked = c.post("/points/counter/redeem", data={**form, "key": "counter-4"}, headers=_h(tok["office"]))
    assert 'data-testid="counter-totp"' in asked.text
    done = c.post("/points/counter/verify", data={"token": _challenge(asked.text),
                                                  "code": pyotp.TOTP(enrolment.secret).now()},
                  headers=_h(tok["office"]))
    assert done.status_code == 200 and 'data-testid="counter-code"' in done.text
    with db.session_scope(store) as s:
        assert ledger.balance(s, ids["shown"]) == 300
        assert audit.verify(s).ok


def test_the_office_runs_a_selection_on_its_pages(edge, monkeypatch: pytest.MonkeyPatch) -> None:
    c, tok, ids = edge
    opened = c.post("/points/selections", data={"code": "p2026", "title": NASTY}, headers=_h(tok["office"]),
                    follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/points/selections/p2026"
    page = c.get("/points/selections/p2026", headers=_h(tok["office"])).text
    assert "&lt;script&gt;" in page and "<script>alert" not in page and 'data-testid="decision-form"' in page
    late = c.post("/points/selections/p2026/nominate", data={"subject_id": str(ids["m3"]), "text": "好店"},
                  headers=_h(tok["resident"]))
    assert late.status_code == 422 and f"主体 #{ids['m3']} 不符合评选条件：" in late.text   # said in Chinese
    assert "does not meet the criteria" not in late.text
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


def test_a_code_its_channel_could_not_send_in_time_is_never_sent_late(edge, store: str, tmp_path: Path) -> None:
    from sqlalchemy import update

    from creditgov.alerts.onetime import ONE_TIME_UNTIL

    c, tok, ids = edge
    peer = _sms_world(store, tmp_path, ids["shown"])
    form = {"username": "resident", "password": PASSWORD, "offer_id": str(ids["offer"]), "key": "counter-late"}
    try:
        asked = c.post("/points/counter/redeem", data=form, headers=_h(tok["office"]))
        assert asked.status_code == 200
        with db.session_scope(store) as s:  # the gateway was down past the code's sending window
            s.execute(update(Notification).where(Notification.channel == "sms", Notification.status == "pending")
                      .values(payload={"one_time_code": True, ONE_TIME_UNTIL: "2000-01-01T00:00:00"}))
        outbox.deliver_due(store)
        assert peer.messages("sms") == []
    finally:
        peer.stop()
    with db.session_scope(store) as s:
        n = s.execute(select(Notification).where(Notification.channel == "sms")).scalar_one()
        assert n.status == "dead" and "expired" in (n.last_error or "")
        assert "••••••" in n.body and not re.search(r"\d{4,}", n.body)
