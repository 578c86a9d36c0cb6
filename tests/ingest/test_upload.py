"""A department sends its own file through the pages and the API, on a real store (SQLite
and PostgreSQL) through the real application: the file is kept in the store's files
folder (owner-only) and ingested at once as one batch by the same service as the
command line — accepted, rejected and duplicate rows counted, each rejected row
quarantined with its reason in words — and the same file sent again adds nothing. A
department sends only its own department's sources (another's answers 404), the credit
office any; a refused file (wrong columns, wrong format, too large, undecodable, empty)
is said in words and leaves neither a batch nor a kept file. Hostile file names are
kept without folders or control characters and shown escaped."""

from __future__ import annotations

import html
import io
import json
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.core import clock, db, labels
from creditgov.ingest import service, uploads
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.records.models import CreditRecord
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry, KeyRotation

PASSWORD = "Vermilion-harbour-tide-92"
HEADER = "统一社会信用代码,当事人,处罚种类,决定书文号,违法日期,处罚日期,罚没金额(万元),违法事实"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
HTML = {"Accept": "text/html"}


def penalties(first: int, *, bad: bool = True) -> bytes:
    """A market penalties file (GB18030, as the mini county's spec says): two good rows for
    registered firms and, with `bad`, three the checks refuse (a wrong check digit, a
    punishment code the spec does not map, a date after today)."""
    rows = [f"91330522MA2B00010N,长兴绿源纺织有限公司,罚款,长市监罚〔2026〕{first}号,2026-03-05,2026-03-20,2,超标排放",
            f"92330522MA2B00020L,长兴老王面馆,警告,长市监罚〔2026〕{first + 1}号,2026-04-01,2026-04-10,0,未亮照经营"]
    if bad:
        rows += [f"91330522MA2B000100,错码公司,罚款,长市监罚〔2026〕{first + 2}号,2026-01-01,2026-01-02,1,x",
                 f"91330522MA2B00030Q,长兴山居民宿有限公司,责令整改,长市监罚〔2026〕{first + 3}号,2026-02-01,2026-02-02,0,y",
                 f"92330522MA2B00020L,长兴老王面馆,罚款,长市监罚〔2026〕{first + 4}号,2026-12-30,2027-01-02,1,z"]
    return ("\n".join([HEADER, *rows]) + "\n").encode("gb18030")


@dataclass
class Site:
    app: Any
    client: TestClient
    store: str
    files: Path
    tokens: dict[str, dict[str, str]]
    mini: Path

    def count(self, model: Any, *where: Any) -> int:
        with db.session_scope(self.store) as s:
            return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

    def kept(self) -> list[Path]:
        """Every file kept under the files folder's ingest folder (the upload area)."""
        root = self.files / "ingest"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def send(self, who: str, spec: str, name: str, body: bytes, **headers: str) -> Any:
        return self.client.post("/api/v1/ingest/files", headers={**self.tokens[who], **headers},
                                data={"spec": spec}, files={"file": (name, body, "text/csv")})

    def browser(self) -> TestClient:
        """The market officer signed in through the login form: a cookie and a CSRF token."""
        c = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token is not None
        r = c.post("/login", data={"username": "market", "password": PASSWORD, "csrf_token": token.group(1)})
        assert r.status_code == 303 and "cg_session" in c.cookies, r.text
        return c


@pytest.fixture
def site(store: str, mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    files = tmp_path / "files"
    monkeypatch.setenv("CREDITGOV_FILES_DIR", str(files))
    key = tmp_path / "upload.key"
    ring = create_key_file(key)
    service.ingest_paths(store, ring, [mini], actor="test")
    tokens = {}
    with db.session_scope(store) as s:
        for name, role, dep in (("market", "department_officer", "market"), ("police", "department_officer", "police"),
                                ("office", "credit_office", None), ("grid", "grid_worker", None)):
            u = users.create_user(s, username=name, password=PASSWORD if name == "market" else None, role=role,
                                  department_code=dep, region_code="CX-S01" if role == "grid_worker" else None,
                                  actor="test")
            tokens[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    app = create_app(store, key)
    return Site(app, TestClient(app, base_url="https://testserver", follow_redirects=False), store, files, tokens,
                mini)


def _form(page: str) -> dict[str, str]:
    m = re.search(r'<form [^>]*data-testid="upload-form"[^>]*>(.*?)</form>', page, re.S)
    assert m, "no upload form"
    return {k: html.unescape(v) for k, v in HIDDEN.findall(m.group(1))}


def _options(page: str) -> dict[str, str]:
    select_ = page.split('data-testid="upload-spec"', 1)[1].split("</select>", 1)[0]
    return dict(re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]*)</option>', select_))


def test_a_department_sends_its_file_on_the_page_and_reads_why_rows_were_refused(site: Site) -> None:
    c = site.browser()
    c.cookies.set("cg_lang", "zh")
    page = c.get("/ingest").text
    # Its own department's sources only, by name under its department, never another's.
    options = _options(page)
    assert set(options) == {"market_penalties", "market_registration", "market_links"}, options
    market = labels.label("department", "market", "zh")
    assert options["market_registration"] == f"{market} · 市场主体登记 · CSV"  # a spec's title, its department beside it
    assert options["market_penalties"] == f"{market} {labels.label('source_kind', 'records', 'zh')} · CSV"
    assert f'<optgroup label="{market}">' in page
    fields = _form(page)
    assert fields["csrf_token"] and re.fullmatch(r"[0-9a-f]{32}", fields["form_key"])
    records = site.count(CreditRecord)
    body = penalties(101)
    sent = {**fields, "spec": "market_penalties"}
    r = c.post("/ingest/upload", data=sent, files={"file": ("2026年3月处罚.csv", body, "text/csv")})
    assert r.status_code == 303, r.text[:500]
    went = re.fullmatch(r"/ingest/batches/(\d+)\?sent=1", r.headers["location"])
    assert went is not None, r.headers["location"]
    batch = int(went.group(1))
    # A double click: the same drawn form answers the first redirect and ingests nothing more.
    again = c.post("/ingest/upload", data=sent, files={"file": ("2026年3月处罚.csv", body, "text/csv")})
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    assert again.headers.get("idempotent-replayed") == "true"
    with db.session_scope(site.store) as s:
        b = s.get(Batch, batch)
        assert b is not None and b.source == "market_penalties" and b.kind == "file" and b.actor == "user:market"
        assert (b.read, b.accepted, b.rejected, b.duplicates) == (5, 2, 3, 0)
        assert b.file_name == "2026年3月处罚.csv"
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "ingest.file",
                                                   AuditEntry.actor == "user:market")).scalars().all()
        assert len(audit) == 1
    assert site.count(Batch, Batch.source == "market_penalties") == 2  # the mini county's and this one
    assert site.count(CreditRecord) == records + 2
    # Kept in the store's files folder by its content, readable by its owner only.
    [kept] = site.kept()
    assert kept.read_bytes() == body and kept.name == "2026年3月处罚.csv"
    assert kept.parent.parent.name == "market_penalties" and kept.parent.name == (b.file_hash or "")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    for folder in (kept.parent, kept.parent.parent, site.files / "ingest"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # The batch page: its counts and each refused row with its reason in words.
    shown = c.get(r.headers["location"]).text
    assert 'data-testid="upload-done"' in shown
    assert "读取 5 行：接收 2，纠正 0，拒收 3，重复 0，过滤 0" in shown
    table = shown.split('data-testid="quarantine"', 1)[1]
    assert table.count('data-testid="quarantined-') == 3
    assert "统一社会信用代码 91330522MA2B000100 校验位不正确" in table
    assert "责令整改" in table and "晚于今天" in table
    c.cookies.set("cg_lang", "en")
    shown = c.get(r.headers["location"]).text
    assert "5 rows read: 2 accepted, 0 corrected, 3 rejected, 0 duplicates, 0 filtered" in shown
    assert "the credit code 91330522MA2B000100 has a wrong check digit" in shown
    assert "The file was sent and ingested" in shown
    # The same file sent again from a new drawing of the form: a batch of duplicates, nothing added.
    open_rows = site.count(QuarantinedRow, QuarantinedRow.status == "open")
    fields = _form(c.get("/ingest").text)
    r = c.post("/ingest/upload", data={**fields, "spec": "market_penalties"},
               files={"file": ("2026年3月处罚.csv", body, "text/csv")})
    assert r.status_code == 303
    with db.session_scope(site.store) as s:
        second = s.execute(select(Batch).order_by(Batch.id.desc()).limit(1)).scalar_one()
        assert second.id != batch and (second.read, second.accepted, second.corrected) == (5, 0, 0)
        assert second.duplicates >= 2
    assert site.count(CreditRecord) == records + 2
    assert site.count(QuarantinedRow, QuarantinedRow.status == "open") == open_rows
    assert site.kept() == [kept]


def test_the_api_takes_a_file_with_the_same_rules_and_honours_its_key(site: Site) -> None:
    body = penalties(201)
    first = site.send("market", "market_penalties", "march.csv", body, **{"Idempotency-Key": "upload-201"})
    assert first.status_code == 201, first.text
    out = first.json()
    assert (out["source"], out["department"], out["file_name"], out["actor"]) == (
        "market_penalties", "market", "march.csv", "user:market")
    assert (out["read"], out["accepted"], out["rejected"], out["duplicates"]) == (5, 2, 3, 0)
    assert sum(out["reasons"].values()) == 3
    for code in out["reasons"]:
        assert labels.label("quarantine_reason", code, "en") != code
    # The same request again with its key: the first answer, nothing ingested twice.
    replay = site.send("market", "market_penalties", "march.csv", body, **{"Idempotency-Key": "upload-201"})
    assert replay.status_code == 201 and replay.json() == out and replay.headers["idempotent-replayed"] == "true"
    assert site.count(Batch, Batch.source == "market_penalties") == 2
    rows = site.client.get(f"/api/v1/ingest/quarantine?batch={out['id']}&status=all",
                           headers=site.tokens["market"]).json()
    assert len(rows) == 3 and all(r["reason"] for r in rows)
    # Sent again without a key: a batch of duplicates.
    again = site.send("market", "market_penalties", "march.csv", body).json()
    assert again["id"] != out["id"] and (again["accepted"], again["corrected"]) == (0, 0) and again["duplicates"] >= 2
    # Another department's source: 404 as a missing one, in words; a role without the right: 403.
    for who, spec in (("police", "market_penalties"), ("market", "police_traffic")):
        r = site.send(who, spec, "x.csv", body, **{"Accept-Language": "en"})
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "ingest.upload.other_department"
        assert "you send the files of your own department's sources only" in r.json()["message"]
    r = site.send("market", "no_such_source", "x.csv", body)
    assert r.status_code == 404 and r.json()["code"] == "ingest.upload.unknown_spec"
    r = site.send("grid", "market_penalties", "x.csv", body)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert site.client.get("/ingest", headers={**site.tokens["grid"], **HTML}).status_code == 403
    # The credit office sends any department's source, an Excel workbook too.
    xlsx = (site.mini / "data" / "civility_volunteer.xlsx").read_bytes()
    r = site.client.post("/api/v1/ingest/files", headers=site.tokens["office"], data={"spec": "civility_volunteer"},
                         files={"file": ("志愿服务.xlsx", xlsx, "application/vnd.ms-excel")})
    assert r.status_code == 201, r.text
    assert r.json()["department"] == "civility" and r.json()["accepted"] == 0 and r.json()["duplicates"] >= 1
    assert len(site.kept()) == 2
    # Files the readers cannot take, and a store whose key is being changed: refused, nothing kept.
    r = site.client.post("/api/v1/ingest/files", headers=site.tokens["office"], data={"spec": "civility_volunteer"},
                         files={"file": ("志愿服务.xlsx", b"not a workbook", "application/vnd.ms-excel")})
    assert r.status_code == 422 and r.json()["code"] == "ingest.file.not_xlsx"
    huge = (HEADER + "\n" + "x" * 200_000 + "\n").encode("gb18030")  # a field past the CSV reader's limit
    r = site.send("market", "market_penalties", "huge.csv", huge, **{"Accept-Language": "zh-CN"})
    assert r.status_code == 422 and r.json()["code"] == "ingest.file.not_csv"
    assert r.json()["message"] == "文件“huge.csv”不是可读取的 CSV 文件，请检查后重新上传。"
    with db.session_scope(site.store) as s:
        s.add(KeyRotation(old_key_id="a", new_key_id="b", old_fingerprint="a", new_fingerprint="b", state="rekeying",
                          started_at=clock.now(), actor="test"))
    r = site.send("market", "market_penalties", "april.csv", penalties(251))
    assert r.status_code == 409 and r.json()["code"] == "ingest.upload.rotating"
    assert len(site.kept()) == 2


def _refused(site: Site, c: TestClient, spec: str, name: str, body: bytes, status: int, words: str) -> None:
    fields = _form(c.get("/ingest").text)
    batches, kept = site.count(Batch), site.kept()
    r = c.post("/ingest/upload", data={**fields, "spec": spec}, files={"file": (name, body, "text/csv")})
    assert r.status_code == status, (name, r.status_code, r.text[:300])
    error = re.search(r'data-testid="upload-error">(.*?)</div>', r.text, re.S)
    assert error is not None and html.unescape(error.group(1)) == words, error and error.group(1)
    assert site.count(Batch) == batches and site.kept() == kept  # nothing stored
    assert not list((site.files / "ingest" / ".incoming").glob("*"))


def test_a_refused_file_is_said_in_words_and_leaves_nothing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    c = site.browser()
    c.cookies.set("cg_lang", "zh")
    wrong = ("统一社会信用代码,当事人,处罚类别,违法日期\n91330522MA2B00010N,长兴绿源纺织有限公司,罚款,2026-03-05\n"
             ).encode("gb18030")
    _refused(site, c, "market_penalties", "少列.csv", wrong, 422,
             "文件“少列.csv”缺少数据源规格要求的列：决定书文号, 处罚日期, 处罚种类, 罚没金额(万元), 违法事实。请核对表头后重新上传。")
    _refused(site, c, "police_traffic", "交通.csv", penalties(301), 404,
             f"该数据源由{labels.label('department', 'police', 'zh')}报送，您只能上传本部门数据源的文件。")
    _refused(site, c, "market_penalties", "处罚.xlsx", penalties(301), 422,
             "该数据源只接收 CSV 文件（扩展名 .csv .txt），“处罚.xlsx”不是。")
    _refused(site, c, "market_penalties", "空.csv", b"", 422, "文件“空.csv”是空的，没有可归集的内容。")
    _refused(site, c, "market_links", "links.csv", "企业信用代码,人员身份证号,角色\n".encode("utf-16"), 422,
             "文件“links.csv”无法按 utf-8 编码读取。请另存为 utf-8 编码后重新上传。")
    _refused(site, c, "market_penalties", "", b"", 422, "请选择要上传的文件。")  # the form sent without a file
    _refused(site, c, "", "x.csv", penalties(301), 422, "请选择文件所属的数据源。")
    c.cookies.set("cg_lang", "en")
    _refused(site, c, "market_penalties", "short.csv", wrong, 422,
             "The file “short.csv” lacks columns the source's spec names: 决定书文号, 处罚日期, 处罚种类, 罚没金额(万元), "
             "违法事实. Check its header row and send it again.")
    # Over the configured limit (1 MB here): refused in words as it is written, nothing kept.
    monkeypatch.setenv("CREDITGOV_INGEST_UPLOAD_MB", "1")
    big = penalties(401) + b"x" * (1024 * 1024)
    _refused(site, c, "market_penalties", "big.csv", big, 422,
             "The file “big.csv” is larger than 1 MB, the most one upload may be. Split it, by month or by area, and "
             "send the parts one by one.")
    assert "A file of at most 1 MB" in c.get("/ingest").text
    r = site.send("market", "market_penalties", "big.csv", big)
    assert r.status_code == 422 and r.json()["code"] == "ingest.upload.too_large"
    assert site.count(Batch, Batch.source == "market_penalties") == 1


HOSTILE_NAMES = {
    "<img src=x onerror=alert(1)>.csv": "<img src=x onerror=alert(1)>.csv",
    "<script>alert(1)</script>.csv": "script>.csv",  # a slash separates folders: the name is what follows
    "\"引号\" O'Brien's “file”.csv": "\"引号\" O'Brien's “file”.csv",
    "../../etc/passwd.csv": "passwd.csv",
    "C:\\Users\\科长\\..\\报送.csv": "报送.csv",
    "\u202egpj.csv\n.csv": "gpj.csv.csv",  # a direction override and a line break (sent as %0A) dropped
    "长" * 300 + ".csv": "长" * 65 + ".csv",  # 199 bytes: a file system takes 255
}


def test_hostile_file_names_are_kept_safely_and_shown_escaped(site: Site) -> None:
    # What an upload cut off by a killed server left half written, a day ago: swept by the next.
    left = site.files / "ingest" / ".incoming" / "upload-cut-off"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half")
    os.utime(left, (time.time() - 2 * 86400,) * 2)
    for n, (sent, kept_as) in enumerate(HOSTILE_NAMES.items()):
        r = site.send("market", "market_penalties", sent, penalties(500 + 10 * n, bad=False))
        assert r.status_code == 201, (sent, r.text)
        assert r.json()["file_name"] == kept_as and r.json()["accepted"] == 2
        [path] = [p for p in site.kept() if p.name == kept_as]
        assert path.resolve().is_relative_to((site.files / "ingest" / "market_penalties").resolve())
        assert len(path.name.encode()) <= 200
        page = site.client.get(f"/ingest/batches/{r.json()['id']}", headers={**site.tokens["market"], **HTML}).text
        assert f"<code>{escape(kept_as)}</code>" in page
        if escape(kept_as) != kept_as:
            assert kept_as not in page
    # Sent as bytes by another client: control characters dropped, the suffix kept.
    assert uploads.clean_name("..\x00a\tb\u2066.csv") == "ab.csv" and uploads.clean_name("...") == "upload"
    assert uploads.clean_name("x" * 300 + ".xlsx") == "x" * 115 + ".xlsx"
    listing = site.client.get("/ingest", headers={**site.tokens["market"], **HTML}).text
    assert "<img src=x" not in listing and str(escape("<img src=x onerror=alert(1)>.csv")) in listing
    assert len(site.kept()) == len(HOSTILE_NAMES)


def test_an_office_without_a_department_and_an_officer_without_sources(site: Site) -> None:
    page = site.client.get("/ingest", headers={**site.tokens["office"], **HTML}).text
    assert {"market_penalties", "police_traffic", "civility_volunteer", "grid_households"} <= set(_options(page))
    # A department with no registered source is told how one comes to be offered.
    with db.session_scope(site.store) as s:
        u = users.create_user(s, username="court", password=None, role="department_officer", department_code="court",
                              actor="test")
        token = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    page = site.client.get("/ingest", headers={**token, **HTML}).text
    assert 'data-testid="upload-none"' in page and 'data-testid="upload-form"' not in page
    body = io.BytesIO(penalties(601)).getvalue()
    r = site.client.post("/api/v1/ingest/files", headers=token, data={"spec": "market_penalties"},
                         files={"file": ("x.csv", body, "text/csv")})
    assert r.status_code == 404 and r.json()["code"] == "ingest.upload.other_department"


def test_a_spec_the_office_registers_is_offered_before_any_file(cli, store: str, mini: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`creditgov ingest register SPEC.yaml` registers a source without a file; its
    department then sends the files itself."""
    key = tmp_path / "register.key"
    create_key_file(key)
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    monkeypatch.setenv("CREDITGOV_FILES_DIR", str(tmp_path / "files"))
    spec = mini / "specs" / "police_traffic.yaml"
    first = json.loads(cli("--db", store, "ingest", "register", str(spec), "--json").stdout)
    assert [(r["name"], r["version"], r["department"]) for r in first] == [("police_traffic", "1", "police")]
    assert json.loads(cli("--db", store, "ingest", "register", str(spec), "--json").stdout)[0]["id"] == first[0]["id"]
    shown = cli("--db", store, "ingest", "register", str(spec))
    assert shown.exit_code == 0 and labels.label("department", "police", "zh") in shown.stdout
    with db.session_scope(store) as s:
        u = users.create_user(s, username="police", password=None, role="department_officer", department_code="police",
                              actor="test")
        token = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    client = TestClient(create_app(store, key), base_url="https://testserver", follow_redirects=False)
    assert set(_options(client.get("/ingest", headers={**token, **HTML}).text)) == {"police_traffic"}
    r = client.post("/api/v1/ingest/files", headers=token, data={"spec": "police_traffic"},
                    files={"file": ("police_traffic.csv", (mini / "data" / "police_traffic.csv").read_bytes(), "text/csv")})
    assert r.status_code == 201, r.text
    # Nothing was requested from the police in this store: its one row is refused, and says why.
    assert (r.json()["read"], r.json()["rejected"]) == (1, 1) and r.json()["reasons"] == {"item_not_allowed": 1}
