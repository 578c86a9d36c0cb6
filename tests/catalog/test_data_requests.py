"""Data requests as a workflow (issue 19), on a real store (SQLite and PostgreSQL): the
credit office files a request, the owning department approves or rejects each item with
a reason, the next ingest reads the decision, every step is kept; the same through the
API (with its scopes) and the CLI (--json); the YAML import still works and is history
too. Hostile text passes through unharmed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.catalog import requests as wf
from creditgov.catalog.models import DataRequest, DataRequestEvent
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import QuarantinedRow
from creditgov.security import service as audit
from creditgov.security import users
from creditgov.security.crypto import create_key_file, load_key_file
from creditgov.security.models import AuditEntry

HOSTILE = '"><script>alert(1)</script> O\'Brien “引号” \u202e右到左😀 《中华人民共和国行政许可法》'

COMPLAINTS_SPEC = """\
name: market_complaints
version: "1"
department: market
kind: records
file: market_complaints.csv
format: csv
columns: {uscc: 统一社会信用代码, name: 名称, occurred_on: 投诉日期, document_no: 编号}
item: market.complaint
items: [market.complaint]
natural_key: [document_no]
"""


def _with_complaints(mini: Path) -> Path:
    (mini / "specs" / "market_complaints.yaml").write_text(COMPLAINTS_SPEC, "utf-8")
    (mini / "data" / "market_complaints.csv").write_text(
        "统一社会信用代码,名称,投诉日期,编号\n91330522MA2B00010N,长兴织造有限公司,2026-05-01,TS-2026-1\n", "utf-8")
    return mini


@pytest.fixture
def ring(tmp_path: Path):
    key = tmp_path / "office.key"
    create_key_file(key)
    return key, load_key_file(key)


def test_file_decide_and_the_next_ingest_accepts(store: str, ring, mini: Path) -> None:
    _key, keyring = ring
    ingest_service.ingest_paths(store, keyring, [_with_complaints(mini)], actor="test")
    with db.session_scope(store) as s:
        [q] = s.execute(select(QuarantinedRow).where(QuarantinedRow.source == "market_complaints")).scalars()
        assert "item 'market.complaint' is not approved from department 'market'" in q.reason
        assert "never requested" in q.reason
        # the YAML import is in the history too
        assert {e.action for e in s.execute(select(DataRequestEvent)).scalars()} == {"imported"}
        with pytest.raises(Conflict, match="already approved"):
            wf.file_request(s, department="market", items=["market.penalty"], legal_basis="x", purpose="y",
                            frequency="monthly", actor="office")
        with pytest.raises(InvalidInput, match="supplied by department 'market', not 'court'"):
            wf.file_request(s, department="court", items=["market.complaint"], legal_basis="x", purpose="y",
                            frequency="monthly", actor="office")
        with pytest.raises(InvalidInput, match="legal basis is required"):
            wf.file_request(s, department="market", items=["market.complaint"], legal_basis=" ", purpose="y",
                            frequency="monthly", actor="office")
        form = wf.file_request(s, department="market", items=["market.complaint", "market.quality_fail"],
                               legal_basis=HOSTILE, purpose=HOSTILE, frequency="weekly", actor="office")
        items = {r.item_code: r for r in wf.form(s, form.id).items}
        with pytest.raises(Conflict, match="already requested"):
            wf.file_request(s, department="market", items=["market.complaint"], legal_basis="x", purpose="y",
                            frequency="monthly", actor="office")
        complaint, quality = items["market.complaint"].id, items["market.quality_fail"].id
        with pytest.raises(InvalidInput, match="only the department"):
            wf.decide(s, complaint, decision="approved", reason="ok", unit=None, actor="office")
        with pytest.raises(NotFound):
            wf.decide(s, complaint, decision="approved", reason="ok", unit="court", actor="court-officer")
        with pytest.raises(InvalidInput, match="reason is required"):
            wf.decide(s, complaint, decision="approved", reason="", unit="market", actor="market-officer")
        wf.decide(s, complaint, decision="approved", reason=HOSTILE, unit="market", actor="market-officer")
        assert wf.form(s, form.id).form.status == "pending"
        wf.decide(s, quality, decision="rejected", reason="不属于公共信用信息", unit="market", actor="market-officer")
        assert wf.form(s, form.id).form.status == "decided"
        with pytest.raises(Conflict, match="already approved"):
            wf.decide(s, complaint, decision="rejected", reason="no", unit="market", actor="market-officer")
        steps = [(e.action, e.from_status, e.to_status, e.reason) for e in wf.history(s, request_ids=[complaint])]
        assert steps == [("requested", None, "requested", None), ("approved", "requested", "approved", HOSTILE)]
        assert wf.form(s, form.id).form.legal_basis == HOSTILE
        actions = {a for (a,) in s.execute(select(AuditEntry.action))}
        assert {"catalog.request.file", "catalog.request.decide"} <= actions and audit.verify(s).ok
        # a rejected item may be asked for again, and its history goes on
        again = wf.file_request(s, department="market", items=["market.quality_fail"], legal_basis="新依据",
                                purpose="再次申请", frequency="monthly", actor="office")
        assert s.get(DataRequest, quality).form_id == again.id
        assert [e.action for e in wf.history(s, request_ids=[quality])] == ["requested", "rejected", "requested"]
    # the approval counts at the next run: the quarantined row is accepted on retry, and
    # a new file of the item straight away
    retried = ingest_service.retry(store, keyring, source="market_complaints", actor="test")
    assert retried.counts.accepted == 1, retried.as_dict()
    # the import keeps working: reloading the folder's YAML leaves the new approval alone
    # (it names no market.complaint) and records nothing when nothing changed
    with db.session_scope(store) as s:
        n = len(list(s.execute(select(DataRequestEvent)).scalars()))
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with db.session_scope(store) as s:
        assert len(list(s.execute(select(DataRequestEvent)).scalars())) == n
        assert s.execute(select(DataRequest.status).where(DataRequest.item_code == "market.complaint")).scalar_one() \
            == "approved"


def test_both_sides_through_the_api(store: str, ring, mini: Path) -> None:
    key, keyring = ring
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with db.session_scope(store) as s:
        tokens = {}
        for name, role, dep in (("office", "credit_office", None), ("market", "department_officer", "market"),
                                ("court", "department_officer", "court"), ("grid", "grid_worker", None)):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dep, actor="test",
                                  region_code="CX" if role == "grid_worker" else None)
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
    c = TestClient(create_app(store, key), base_url="https://testserver")

    def h(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}"}

    body = {"department": "market", "items": ["market.complaint"], "legal_basis": HOSTILE, "purpose": HOSTILE,
            "frequency": "quarterly"}
    assert c.post("/api/v1/data-requests", json=body, headers=h("market")).status_code == 403
    r = c.post("/api/v1/data-requests", json=body, headers=h("office"))
    assert r.status_code == 201, r.text
    form = r.json()
    assert form["legal_basis"] == HOSTILE and form["items"][0]["status"] == "requested"
    assert form["history"][0]["at"].endswith("+08:00")
    rid = form["items"][0]["id"]
    assert c.post("/api/v1/data-requests", json=body, headers=h("office")).status_code == 409
    # who sees what: the court sees nothing of the market's, the grid worker no requests
    assert c.get("/api/v1/data-requests", headers=h("court")).json() == []
    assert c.get(f"/api/v1/data-requests/{form['id']}", headers=h("court")).status_code == 404
    assert c.get("/api/v1/data-requests", headers=h("grid")).status_code == 403
    assert [f["id"] for f in c.get("/api/v1/data-requests", headers=h("market")).json()] == [form["id"]]
    decision = {"decision": "approved", "reason": HOSTILE}
    assert c.post(f"/api/v1/data-requests/items/{rid}/decision", json=decision, headers=h("office")).status_code == 403
    assert c.post(f"/api/v1/data-requests/items/{rid}/decision", json=decision, headers=h("court")).status_code == 404
    assert c.post(f"/api/v1/data-requests/items/{rid}/decision", json={"decision": "approved", "reason": ""},
                  headers=h("market")).status_code == 422
    r = c.post(f"/api/v1/data-requests/items/{rid}/decision", json=decision, headers=h("market"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] and r.json()["reason"] == HOSTILE
    hist = c.get(f"/api/v1/data-requests/items/{rid}/history", headers=h("office")).json()
    assert [e["action"] for e in hist] == ["requested", "approved"]
    # the department's page shows it decided, hostile text escaped
    page = c.get(f"/data-requests/{form['id']}", headers=h("market"))
    assert page.status_code == 200 and "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "已批准" in page.text
    # Both pages in either language: Chinese punctuation only on the Chinese page, times
    # headed as China Standard Time in the page's words.
    for lang, heads in (("zh", ("提交时间（北京时间）", "时间（北京时间）", "（已批准）")),
                        ("en", ("Filed (CST)", "Time (CST)", " (Approved)"))):
        c.cookies.set("cg_lang", lang)
        pages = [c.get(path, headers=h("market")).text for path in ("/data-requests", f"/data-requests/{form['id']}")]
        assert heads[0] in pages[0] and heads[2] in pages[0] and heads[1] in pages[1], lang
        if lang == "en":
            main = re.sub(r"<[^>]+>", "", "".join(p.split("<main", 1)[1] for p in pages))
            assert not re.search(r"[（），；、]", main), re.findall(r".{20}[（），；、].{20}", main)
    c.cookies.delete("cg_lang")


def test_the_commands_with_json(cli, store: str, ring, mini: Path) -> None:
    _key, keyring = ring
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    res = cli("--db", store, "catalog", "request", "file", "--department", "market", "--item", "market.complaint",
              "--item", "market.quality_fail", "--legal-basis", HOSTILE, "--purpose", "归集消费投诉",
              "--frequency", "monthly", "--json")
    assert res.exit_code == 0, res.output
    form = json.loads(res.stdout)
    assert form["legal_basis"] == HOSTILE and [i["status"] for i in form["items"]] == ["requested", "requested"]
    rid = form["items"][0]["id"]
    res = cli("--db", store, "catalog", "request", "decide", str(rid), "--reject", "--reason", "重复归集",
              "--department", "market", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "rejected"
    with pytest.raises(NotFound):
        cli("--db", store, "catalog", "request", "decide", str(rid + 1), "--approve", "--reason", "ok",
            "--department", "court")
    shown = json.loads(cli("--db", store, "catalog", "request", "show", str(form["id"]), "--json").stdout)
    assert [e["action"] for e in shown["history"]] == ["requested", "requested", "rejected"]
    listed = json.loads(cli("--db", store, "catalog", "request", "list", "--department", "market", "--json").stdout)
    assert [f["id"] for f in listed] == [form["id"]]
    res = cli("--db", store, "catalog", "request", "show", str(form["id"]))
    assert res.exit_code == 0 and HOSTILE.split()[0] in res.stdout
    counts = json.loads(cli("--db", store, "catalog", "requests", "--json").stdout)
    assert counts["approved"] == 5 and counts["rejected"] == 2
