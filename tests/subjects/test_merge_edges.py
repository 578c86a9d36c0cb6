"""Subject correction and merging through the edges (issue 19): the commands answer
with --json, the API refuses the proposer as approver and answers 409 for an unsafe
undo, and the office page works in both languages with hostile text intact."""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.subjects.test_merge import HOSTILE, _two_firms

from creditgov.api.app import create_app
from creditgov.core.db import session_scope
from creditgov.ingest import service as ingest
from creditgov.records.models import CreditRecord
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.subjects.models import Subject
from creditgov.web import i18n


def test_the_commands_with_json(cli, store: str, keyring: KeyRing, mini: Path, monkeypatch) -> None:
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(keyring.path))
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        uscc = s.get(Subject, dup).uscc  # type: ignore[union-attr]  # exists
    res = cli("--db", store, "subject", "merge", str(keep), str(uscc), "--reason", HOSTILE, "--actor", "a", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["kind"], out["status"], out["duplicate_id"], out["reason"]) == ("merge", "proposed", dup, HOSTILE)
    res = cli("--db", store, "subject", "approve", str(out["id"]), "--actor", "b", "--json")
    assert res.exit_code == 0, res.output
    done = json.loads(res.stdout)
    assert done["status"] == "approved" and done["moved_by_table"]["credit_records"] >= 1
    res = cli("--db", store, "subject", "undo", str(out["id"]), "--reason", "误合并", "--actor", "c", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["status"] == "undone", res.output
    res = cli("--db", store, "subject", "correct", str(keep), "--set", f"name={HOSTILE}", "--attribute", "规模=小型",
              "--reason", "执照变更", "--actor", "a", "--json")
    assert res.exit_code == 0, res.output
    corr = json.loads(res.stdout)
    assert corr["fields"] == {"name": HOSTILE, "attributes": {"规模": "小型"}}
    listed = json.loads(cli("--db", store, "subject", "changes", "--json").stdout)
    assert [c["id"] for c in listed] == [corr["id"], out["id"]]
    res = cli("--db", store, "subject", "changes", "--status", "undone")
    assert res.exit_code == 0 and "undone" in res.stdout


def test_the_api_and_the_office_page(store: str, mini: Path, tmp_path: Path) -> None:
    key = tmp_path / "api.key"
    ring = create_key_file(key)
    ingest.ingest_paths(store, ring, [mini], actor="test")
    with session_scope(store) as s:
        keep, dup = _two_firms(s)
        dup_records = s.execute(select(func.count()).where(CreditRecord.subject_id == dup)).scalar()
        tok = {}
        for name, role, dep in (("office-a", "credit_office", None), ("office-b", "credit_office", None),
                                ("market", "department_officer", "market")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dep, actor="test")
            tok[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(store, key), base_url="https://testserver")
    body = {"survivor_id": keep, "duplicate_id": dup, "reason": HOSTILE}
    assert c.post("/api/v1/subject-changes/merges", json=body, headers=tok["market"]).status_code == 403
    r = c.post("/api/v1/subject-changes/merges", json=body, headers=tok["office-a"])
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = c.post(f"/api/v1/subject-changes/{cid}/decision", json={"approve": True}, headers=tok["office-a"])
    assert r.status_code == 409 and "second person" in r.text
    r = c.post(f"/api/v1/subject-changes/{cid}/decision", json={"approve": True}, headers=tok["office-b"])
    assert r.status_code == 200 and r.json()["moved_by_table"]["credit_records"] == dup_records, r.text
    r = c.post("/api/v1/subject-changes/corrections", json={"subject_id": dup, "fields": {"name": "x"},
                                                            "reason": "x"}, headers=tok["office-a"])
    assert r.status_code == 409 and "merged into another" in r.text
    for lang, words in (("zh", ("主体纠错与合并", "撤销合并", "已生效")),
                        ("en", ("Subject correction and merging", "Undo the merge", "Applied"))):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/subject-changes", headers=tok["office-b"])
        assert page.status_code == 200
        assert all(w in page.text for w in words), lang
        assert HOSTILE in html.unescape(page.text) and "<script>alert(1)" not in page.text
    r = c.post(f"/subject-changes/{cid}/undo", data={"reason": HOSTILE}, headers=tok["office-b"],
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"#change-{cid}")
    r = c.post(f"/api/v1/subject-changes/{cid}/undo", json={"reason": "again"}, headers=tok["office-b"])
    assert r.status_code == 409 and "undone" in r.text
    assert c.get("/subject-changes", headers=tok["market"]).status_code in (403, 404)
    listed = c.get("/api/v1/subject-changes?status=undone", headers=tok["office-a"]).json()
    assert [x["id"] for x in listed] == [cid] and listed[0]["undo_reason"] == HOSTILE
