"""Printed list documents (issue 19) on a real store (SQLite and PostgreSQL): a list
batch's notices print as one PDF with one page-set per entry — each page names its
own entry's serial, and hostile names print as written; every serial verifies like a
credit report; the decisions of the published entries print too; without a
configured seal the specimen placeholder is used and said, a configured PNG replaces
it and a file that is no PNG is refused; the command answers with --json."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import ConfigError, NotFound
from creditgov.documents import seal, service
from creditgov.lists import service as lists_service
from creditgov.reports import service as reports
from creditgov.reports.models import CreditReport
from creditgov.reports.pdftext import printable
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web import i18n
from creditgov.workflows.objection import decide_objection, file_objection
from tests.lists.helpers import add_record, make_subject, publish_manual_entry

HOSTILE = ['"><img src=x onerror=alert(1)> 恶意商行', "O'Brien & <b>Sons</b> 贸易有限公司", "右到左\u202e标记有限公司"]
BASE = "https://credit.example.gov.cn/verify"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def batch(county: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[int]]:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-02")
    ids = []
    with db.session_scope(county) as s:
        for name in HOSTILE:
            subj = make_subject(s, name=name)
            e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=subj.id, criterion="manual",
                                      basis="拒不履行法院判决 " + name, decision_no=f"T-{subj.id}")
            lists_service.notify(s, entry_id=e.id)
            ids.append(e.id)
    return county, ids


def test_a_batch_of_notices_prints_as_one_pdf_one_page_set_per_entry(batch) -> None:
    url, ids = batch
    with db.session_scope(url) as s:
        printed = service.print_batch(s, list_code="serious-dishonesty", kind="notice", verify_base=BASE,
                                      on=dt.date(2026, 11, 2), actor="office-a")
        assert [e for e, _ in printed.serials] == ids and printed.placeholder_seal
    pages = _pages(printed.pdf)
    assert len(pages) >= len(ids)
    owners = []
    for text in pages:                                       # each page belongs to exactly one entry's document
        found = [sr for _, sr in printed.serials if sr in text]
        assert len(found) == 1, text[:300]
        owners.append(found[0])
    assert sorted(set(owners), key=owners.index) == [sr for _, sr in printed.serials]   # in order, no interleaving
    for (_, sr), name in zip(printed.serials, HOSTILE, strict=True):
        doc = _squash("".join(t for t, o in zip(pages, owners, strict=True) if o == sr))
        assert _squash(printable(name)) in doc and "信用名单列入告知书" in doc and "样章" in doc
    with db.session_scope(url) as s:
        for (_, sr), name in zip(printed.serials, HOSTILE, strict=True):
            v = reports.verify(s, sr)
            assert v["genuine"] and v["subject"] == name
        with pytest.raises(NotFound):
            service.print_batch(s, list_code="serious-dishonesty", kind="notice", verify_base=BASE,
                                on=dt.date(2026, 11, 3))
        # printed again, each notice is a copy of the one issued: the same number, registered once
        again = service.print_batch(s, list_code="serious-dishonesty", kind="notice", verify_base=BASE,
                                    on=dt.date(2026, 11, 2), actor="office-b")
        assert again.serials == printed.serials
        registered = s.execute(select(func.count()).select_from(CreditReport).where(
            CreditReport.serial.in_([sr for _, sr in printed.serials]))).scalar_one()
        assert registered == len(ids)


def test_decisions_of_published_entries(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(county) as s:
        sid = make_subject(s, name=HOSTILE[1]).id
    entry = publish_manual_entry(county, monkeypatch, "serious-dishonesty", sid)
    with db.session_scope(county) as s:
        printed = service.print_batch(s, list_code="serious-dishonesty", kind="decision", verify_base=BASE,
                                      entry_ids=[entry])
    text = _squash("".join(_pages(printed.pdf)))
    assert "信用名单认定决定书" in text and f"T-serious-dishonesty-{sid}" in text and _squash(HOSTILE[1]) in text


def test_the_seal_is_configurable_and_the_placeholder_is_marked(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    png, is_placeholder = seal.seal_png()
    assert is_placeholder and png.startswith(seal.PNG_MAGIC)
    own = tmp_path / "seal.png"
    own.write_bytes(seal.placeholder()[:-1] + b"\x82")
    monkeypatch.setenv("CREDITGOV_SEAL_IMAGE", str(own))
    assert seal.seal_png() == (own.read_bytes(), False)
    own.write_bytes(b"<svg>not a png</svg>")
    with pytest.raises(ConfigError, match="not a PNG"):
        seal.seal_png()


def test_the_command_prints_a_batch_with_json(batch, cli, tmp_path: Path) -> None:
    url, ids = batch
    out = tmp_path / "notices.pdf"
    r = cli("--db", url, "documents", "notices", "--list", "serious-dishonesty", "--on", "2026-11-02",
            "--out", str(out), "--verify-base", BASE, "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert [d["entry"] for d in res["documents"]] == ids and res["placeholder_seal"] is True
    assert out.read_bytes().startswith(b"%PDF") and res["bytes"] == out.stat().st_size


def test_the_page_in_both_languages_and_its_pdf(batch, tmp_path: Path) -> None:
    url, ids = batch
    key = tmp_path / "page.key"
    create_key_file(key)
    with db.session_scope(url) as s:
        heads = {}
        for name, role, dept in (("office", "credit_office", None), ("dept", "department_officer", "market")):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="test")
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(url, key), base_url="https://testserver")
    for lang, words in (("zh", "打印PDF"), ("en", "Print PDF")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        r = c.get("/documents", headers=heads["office"])
        assert r.status_code == 200 and words in r.text
    r = c.get("/documents", headers=heads["dept"])   # its own inspection notices only (test_inspection_notices)
    assert r.status_code == 200 and "documents-form" not in r.text and "cases-form" not in r.text
    assert c.get("/documents/lists.pdf", params={"list": "serious-dishonesty"}, headers=heads["dept"]).status_code \
        == 403
    assert c.get("/documents/cases.pdf", params={"kind": "repair"}, headers=heads["dept"]).status_code == 403
    assert c.get("/documents/cases.pdf", params={"kind": "repair"}, headers=heads["office"]).status_code == 404
    r = c.get("/documents/lists.pdf", params={"list": "serious-dishonesty", "kind": "notice", "on": "2026-11-02"},
              headers=heads["office"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert len({m for t in _pages(r.content) for m in re.findall(r"WS\d{8}-[0-9A-F]{12}", t)}) == len(ids)


def test_objection_decisions_print_through_the_command(county: str, cli, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(county) as s:
        firm = make_subject(s, name=HOSTILE[0])
        rec = add_record(s, firm, "market.penalty", occurred_on=dt.date(2026, 9, 1))
        o = file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="金额有误 " + HOSTILE[1])[0]
        decide_objection(s, objection_id=o.id, outcome="upheld", reason="经核实无误", department=o.department_code)
        oid = o.id
    out = tmp_path / "objections.pdf"
    r = cli("--db", county, "documents", "decisions", "--kind", "objection", "--id", str(oid), "--out", str(out),
            "--verify-base", BASE, "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert [d["case"] for d in res["documents"]] == [oid]
    text = _squash("".join(_pages(out.read_bytes())))
    assert "异议处理决定书" in text and "维持" in text and _squash(HOSTILE[1]) in text and _squash(HOSTILE[0]) in text
    with db.session_scope(county) as s:
        assert reports.verify(s, res["documents"][0]["serial"])["genuine"]
