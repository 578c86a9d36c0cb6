"""The bureau export through the real `creditgov bureau …` commands and the subject's
own page (我的信用), on both databases: consent granted and listed, a run exported,
listed, acknowledged and written again the same; the page lists the runs that carried
the subject's records by the bureau's name in Chinese and English, names the bureau in
the consents list, and a consent the subject revokes on the page is out of the next run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security import users
from creditgov.web import i18n
from tests.bureaus.conftest import HOSTILE, World


def _cg(cli: Any, w: World, tmp_path: Path, *args: str) -> Any:
    r = cli("--db", w.url, "--key-file", str(tmp_path / "test.key"), "bureau", *args)
    return r


def _json(cli: Any, w: World, tmp_path: Path, *args: str) -> Any:
    r = _cg(cli, w, tmp_path, *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_the_commands(world: World, cli: Any, tmp_path: Path) -> None:
    w = world
    pol = _json(cli, w, tmp_path, "policy")
    assert pol["bureaus"]["pbc-crc"]["exporter"] == "file" and "征信业管理条例" in pol["citation"]
    items = {r["item"]: r for r in _json(cli, w, tmp_path, "items")}
    assert items["market.penalty"]["consent_required"] is False and items["social.arrears"]["consent_required"]
    assert "utility.arrears" not in items and "police.case" not in items
    granted = _json(cli, w, tmp_path, "consent", "grant", str(w.ids["other"]), "pbc-crc")
    assert granted["organisation"] == "bureau:pbc-crc" and granted["expires_on"] is None
    listed = _json(cli, w, tmp_path, "consent", "list", "pbc-crc")
    assert {c["subject_id"] for c in listed} == set(w.ids.values())

    run = _json(cli, w, tmp_path, "export", "pbc-crc")
    # With its consent the second firm's every marked record in force goes too: its
    # arrears, its warning and a penalty whose publication ended (3 more than by law).
    assert (run["run"], run["records"], run["status"]) == (1, 9, "written")
    assert Path(run["location"]) == w.out / "pbc-crc" / "pbc-crc-000001.jsonl"
    acked = _json(cli, w, tmp_path, "ack", "pbc-crc", "1", "--ref", "CRC-2026-0001")
    assert (acked["status"], acked["ack_ref"]) == ("acknowledged", "CRC-2026-0001")
    again = _json(cli, w, tmp_path, "export", "pbc-crc", "--run", "1")
    assert again["sha256"] == run["sha256"] and again["status"] == "acknowledged" and again["writes"] == 2
    assert [r["run"] for r in _json(cli, w, tmp_path, "runs", "pbc-crc")] == [1]
    revoked = _json(cli, w, tmp_path, "consent", "revoke", str(granted["id"]))
    assert revoked["revoked_on"] == "2026-11-01"
    assert _json(cli, w, tmp_path, "export", "pbc-crc")["records"] == 6

    table = _cg(cli, w, tmp_path, "runs")
    assert table.exit_code == 0 and "中国人民银行征信中心" in table.output and "征信机构已确认接收" in table.output
    # Errors reach the command's edge as domain errors (`creditgov` prints them, exit 2).
    for args, error, words in ((("ack", "pbc-crc", "9"), NotFound, "has no run 9"),
                               (("export", "no-such"), InvalidInput, "no bureau 'no-such'"),
                               (("consent", "grant", str(w.ids["other"]), "no-such"), InvalidInput, "no-such")):
        with pytest.raises(error, match=words):
            _cg(cli, w, tmp_path, *args)


def test_the_subjects_own_page_lists_the_runs_and_a_revocation_there_holds(world: World, tmp_path: Path) -> None:
    w = world
    tokens = {}
    with db.session_scope(w.url) as s:
        for role in ("consented", "other"):
            u = users.create_user(s, username=f"own-{role}", password=None, role="subject",
                                  subject_id=w.ids[role], actor="test")
            tokens[role] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='t')[0]}"}
    client = TestClient(create_app(w.url, tmp_path / "test.key"), base_url="https://testserver")

    def page(role: str, lang: str) -> str:
        client.cookies.set(i18n.LANG_COOKIE, lang)
        r = client.get("/me/credit", headers=tokens[role])
        assert r.status_code == 200, r.text
        return r.text

    before = page("consented", "zh")
    assert "信用信息共享记录" in before and "暂无向征信机构报送的记录。" in before
    assert "中国人民银行征信中心" in before and "bureau:pbc-crc" not in before  # the consent names the bureau
    from creditgov.bureaus import service

    service.export(w.url, w.ring, bureau="pbc-crc", actor="operator")
    zh = page("consented", "zh")
    section = zh[zh.index('data-testid="own-bureaus"'):]
    assert 'data-testid="own-bureau-run"' in section and "中国人民银行征信中心" in section
    assert "经您授权及依法公开" in section and "已生成，待征信机构确认" in section
    assert "<img src=x" not in zh and "&lt;img src=x" in zh  # the firm's hostile name, escaped
    en = page("consented", "en")
    section = en[en.index('data-testid="own-bureaus"'):]
    assert "Shared with credit bureaus" in section and "Credit Reference Center of the People" in section
    assert "with your consent and public by law" in section and "信用信息共享记录" not in en and "中国人民银行征信中心" not in section
    other = page("other", "en")
    assert "public by law (no consent needed)" in other[other.index('data-testid="own-bureaus"'):]

    # The subject revokes its consent on its own page: the very next run leaves out all
    # that only the consent allowed, and the page shows both runs.
    r = client.post(f"/me/credit/consents/{w.consent}/revoke", headers=tokens["consented"], follow_redirects=False)
    assert r.status_code == 303
    out = service.export(w.url, w.ring, bureau="pbc-crc", actor="operator")
    lines = [json.loads(x) for x in (w.out / "pbc-crc" / "pbc-crc-000002.jsonl").read_text("utf-8").splitlines()]
    assert out["run"] == 2 and {(x["item"], x["basis"]) for x in lines if x["subject_name"] == HOSTILE} == {
        ("market.penalty", "law")}
    zh = page("consented", "zh")
    section = zh[zh.index('data-testid="own-bureaus"'):]
    assert section.count('data-testid="own-bureau-run"') == 2 and "依法公开信息（无需授权）" in section
