"""The bureau export from the office (SQLite and PostgreSQL): the API lists runs, starts
a bureau's next run and records its acknowledgement, for the credit office only (a
bank officer is refused, 403); `/bureaus` lists the runs per bureau with their status
in Chinese and in English; and the daily job, run by the worker, makes one run per
bureau per day."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.bureaus.models import BureauRun
from creditgov.core import db
from creditgov.security import users
from creditgov.web import i18n
from creditgov.worker import jobs as worker
from tests.bureaus.conftest import World


def _token(w: World, username: str, role: str, **kw: str) -> dict[str, str]:
    with db.session_scope(w.url) as s:
        u = users.create_user(s, username=username, password=None, role=role, actor="test", **kw)
        return {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='t')[0]}"}


def test_the_api_and_the_page_for_the_office_only(world: World, tmp_path: Path) -> None:
    w = world
    office = _token(w, "office-1", "credit_office")
    bank = _token(w, "bank-1", "bank_officer", organisation="bank-a")
    client = TestClient(create_app(w.url, tmp_path / "test.key"), base_url="https://testserver")

    for method, path in (("get", "/api/v1/bureaus/runs"), ("post", "/api/v1/bureaus/pbc-crc/runs"),
                         ("post", "/api/v1/bureaus/pbc-crc/runs/1/ack")):
        assert getattr(client, method)(path, headers=bank).status_code == 403, path
    assert client.get("/bureaus", headers=bank).status_code == 403
    with db.session_scope(w.url) as s:
        assert s.execute(select(func.count(BureauRun.id))).scalar_one() == 0  # the refusals made nothing

    r = client.post("/api/v1/bureaus/pbc-crc/runs", headers=office)
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["bureau"], run["run"], run["status"]) == ("pbc-crc", 1, "written") and run["records"] > 0
    assert (w.out / "pbc-crc" / run["file"]).read_bytes()
    assert client.post("/api/v1/bureaus/no-such/runs", headers=office).status_code == 422
    listed = client.get("/api/v1/bureaus/runs", headers=office).json()
    assert [(x["bureau"], x["run"], x["status"]) for x in listed] == [("pbc-crc", 1, "written")]

    def page(lang: str) -> str:
        client.cookies.set(i18n.LANG_COOKIE, lang)
        r = client.get("/bureaus", headers=office)
        assert r.status_code == 200, r.text
        return r.text

    zh = page("zh")
    row = zh[zh.index('data-testid="bureau-run-pbc-crc-1"'):]
    assert "征信机构报送" in zh and "中国人民银行征信中心" in zh and "已生成，待征信机构确认" in row[:row.index("</tr>")]
    assert "北京时间" in row[:row.index("</tr>")]
    en = page("en")
    assert "Sharing with credit bureaus" in en and "Credit Reference Center of the People" in en
    assert "written, awaiting the bureau" in en and "征信机构报送" not in en and "中国人民银行征信中心" not in en

    hostile = '<script>alert(1)</script> 回执 "1"'
    r = client.post("/api/v1/bureaus/pbc-crc/runs/1/ack", headers=office, json={"ref": hostile})
    assert r.status_code == 200 and (r.json()["status"], r.json()["ack_ref"]) == ("acknowledged", hostile)
    assert r.json()["acked_by"] == "user:office-1"
    assert client.post("/api/v1/bureaus/pbc-crc/runs/9/ack", headers=office, json={}).status_code == 404
    assert "acknowledged by the bureau" in page("en") and "征信机构已确认接收" in page("zh")


def test_the_daily_job_makes_one_run_per_bureau_per_day(world: World, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(tmp_path / "test.key"))  # the store's key, as a deployment sets it
    first = worker.run_job(w.url, "bureau_exports")
    assert first.status == "done", first.error
    assert first.result["pbc-crc"]["run"] == 1 and first.result["pbc-crc"]["status"] == "written"
    again = worker.run_job(w.url, "bureau_exports")
    assert again.status == "done" and again.result["pbc-crc"]["skipped"] == "a run was made today"
    with db.session_scope(w.url) as s:
        runs = s.execute(select(BureauRun.seq, BureauRun.created_by)).all()
    assert runs == [(1, "worker:bureau_exports")]
    assert (w.out / "pbc-crc" / "pbc-crc-000001.jsonl").exists()
