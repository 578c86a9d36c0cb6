"""The credit code's edges on real stores: the `creditgov code …` commands (issue with a
QR image, verify text and image, keys and rotation, the province root, trust export
and import, revocations and their import, the credit check with a foreign code), and
the API and pages (who may issue, public verification, the subject's own page, the
bundle the verification page loads)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from tests import store_template
from tests.codes.helpers import graded_firm, graded_firms
from tests.lists.helpers import load_domain_data, make_subject

# npm jsqr 1.4.0, dist/jsQR.js byte for byte (web/static/vendor/jsQR-1.4.0.js, docs/web.md).
JSQR_SHA256 = "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859"
MARKUP = '"><img src=x onerror=alert(2)><script>alert(1)</script> O\'Brien “引号” \u202e右到左😀'


def test_the_code_commands_between_two_regions(county: str, cli, tmp_path: Path) -> None:
    key_a = tmp_path / "a.key"
    create_key_file(key_a)
    a = ("--db", county, "--key-file", str(key_a))
    other = f"sqlite:///{tmp_path / 'b.db'}"
    store_template.fill(other)
    with db.session_scope(other) as s:
        load_domain_data(s)
    key_b = tmp_path / "b.key"
    create_key_file(key_b)
    b = ("--db", other, "--key-file", str(key_b))
    (sid, uscc), = graded_firms(county, ["A"], name=MARKUP)
    with db.session_scope(other) as s:
        local = make_subject(s, kind="enterprise", name="本地登记")
        local.uscc = uscc
        local_id = local.id

    assert cli(*a, "code", "key-create", "--issuer", "330522", "--issuer-name", "长兴县").exit_code == 0
    assert cli(*b, "code", "key-create", "--issuer", "330501", "--issuer-name", "吴兴区").exit_code == 0
    png = tmp_path / "code.png"
    out = cli(*a, "code", "issue", str(sid), "--png", str(png), "--json")
    assert out.exit_code == 0, out.output
    issued = json.loads(out.output)
    assert issued["states"]["n"] == MARKUP and issued["states"]["id"] == uscc and png.stat().st_size > 0

    # Verified at home from the text and from the QR image; unknown in region B.
    for arg in (issued["code"], str(png)):
        v = cli(*a, "code", "verify", arg, "--json")
        assert v.exit_code == 0 and json.loads(v.output)["status"] == "valid", v.output
    shown = cli(*a, "code", "verify", issued["code"])
    assert "有效 / valid" in shown.output and "优秀(守信) / Excellent" in shown.output and "长兴县 (330522)" in shown.output
    unknown = cli(*b, "code", "verify", issued["code"], "--json")
    assert unknown.exit_code == 1 and json.loads(unknown.output)["status"] == "unknown_issuer"

    # The province: a root, both regions' submissions, one signed list, imported by both.
    root = json.loads(cli("code", "root-create", str(tmp_path / "root.key"), "--json").output)["root"]
    assert cli(*a, "code", "trust", "export", "--out", str(tmp_path / "a.json")).exit_code == 0
    assert cli(*b, "code", "trust", "export", "--out", str(tmp_path / "b.json")).exit_code == 0
    with pytest.raises(InvalidInput, match="root-key"):
        cli(*a, "code", "trust", "export", "--add", str(tmp_path / "b.json"))
    signed = cli(*a, "code", "trust", "export", "--root-key", str(tmp_path / "root.key"), "--add",
                 str(tmp_path / "b.json"), "--out", str(tmp_path / "trust.json"))
    assert signed.exit_code == 0
    with pytest.raises(InvalidInput, match="--root"):
        cli(*b, "code", "trust", "import", str(tmp_path / "trust.json"))
    for store in (a, b):
        got = cli(*store, "code", "trust", "import", str(tmp_path / "trust.json"), "--root", root, "--json")
        assert got.exit_code == 0 and json.loads(got.output)["issuers"] == ["330501", "330522"]
    assert json.loads(cli(*b, "code", "verify", issued["code"], "--json").output)["status"] == "valid"
    listed = json.loads(cli(*b, "code", "trust", "show", "--json").output)
    assert {e["issuer"] for e in listed} == {"330501", "330522"}

    # Mutual recognition in B's credit check.
    chk = cli(*b, "check", "run", str(local_id), "--scenario", "administrative-approval", "--code", issued["code"],
              "--json")
    assert chk.exit_code == 0, chk.output
    result = json.loads(chk.output)
    assert result["evidence"]["accepted"] and result["band"] == "excellent"
    assert "fast-track-approval" in {m["code"] for m in result["measures"]}

    # Rotation: the old code stays valid; revocation at A reaches B through A's list.
    assert cli(*a, "code", "key-rotate").exit_code == 0
    keys_a = json.loads(cli(*a, "code", "keys", "--json").output)
    assert [k["status"] for k in keys_a] == ["retired", "active"]
    assert json.loads(cli(*a, "code", "verify", issued["code"], "--json").output)["status"] == "valid"
    # B does not know A's new key until the province's next list carries it.
    assert cli(*a, "code", "trust", "export", "--out", str(tmp_path / "a.json")).exit_code == 0
    assert cli(*a, "code", "trust", "export", "--root-key", str(tmp_path / "root.key"), "--add",
               str(tmp_path / "b.json"), "--out", str(tmp_path / "trust2.json")).exit_code == 0
    assert cli(*b, "code", "trust", "import", str(tmp_path / "trust2.json")).exit_code == 0
    assert {k["kid"] for k in keys_a} <= {e["kid"] for e in json.loads(cli(*b, "code", "trust", "show",
                                                                           "--json").output)}
    assert cli(*a, "code", "revoke", issued["code_id"]).exit_code == 0
    pub = cli(*a, "code", "revocations", "--out", str(tmp_path / "rev.json"))
    assert pub.exit_code == 0, pub.output
    assert json.loads(cli(*a, "code", "verify", issued["code"], "--json").output)["status"] == "revoked"
    got = json.loads(cli(*b, "code", "revocations", "--import", str(tmp_path / "rev.json"), "--json").output)
    assert got == {"issuer": "330522", "revoked": 1, "issued_at": got["issued_at"]}
    assert json.loads(cli(*b, "code", "verify", issued["code"], "--json").output)["status"] == "revoked"
    # A's own list is not imported as another region's.
    from creditgov.core.errors import Conflict

    with pytest.raises(Conflict):
        cli(*a, "code", "revocations", "--import", str(tmp_path / "rev.json"))


@pytest.fixture
def app_setup(store: str, tmp_path: Path):
    key = tmp_path / "api.key"
    create_key_file(key)
    sid, _ = graded_firm(store, name=MARKUP)
    with db.session_scope(store) as s:
        other = make_subject(s, kind="enterprise")
        tokens = {}
        for name, role, subject in (("firm", "subject", sid), ("other", "subject", other.id),
                                    ("office", "credit_office", None)):
            u = users.create_user(s, username=name, password=None, role=role, subject_id=subject, actor="test")
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
    from creditgov.codes import keys
    from creditgov.security.crypto import load_key_file

    with db.session_scope(store) as s:
        keys.create(s, load_key_file(key), actor="test", issuer="330522", issuer_name="长兴县")
    return TestClient(create_app(store, key), base_url="https://testserver"), tokens, sid


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_and_pages(app_setup) -> None:
    c, tok, sid = app_setup
    # A subject issues its own code, not another's; the office issues any.
    assert c.post("/api/v1/codes", json={"subject_id": sid}, headers=_h(tok["other"])).status_code in (403, 404)
    r = c.post("/api/v1/codes", json={"subject_id": sid}, headers=_h(tok["firm"]))
    assert r.status_code == 201, r.text
    code = r.json()
    assert "<svg" in code["svg"] and "<script" not in code["svg"]
    # Anyone verifies.
    v = c.post("/api/v1/codes/verify", json={"text": code["code"]})
    assert v.status_code == 200 and v.json()["status"] == "valid" and v.json()["states"]["name"] == MARKUP
    assert c.post("/api/v1/codes/verify", json={"text": "CGV1:" + "Z" * 30}).json()["status"] == "invalid"
    # Only the office revokes.
    assert c.post(f"/api/v1/codes/{code['code_id']}/revoke", json={}, headers=_h(tok["firm"])).status_code == 403
    assert c.post(f"/api/v1/codes/{code['code_id']}/revoke", json={}, headers=_h(tok["office"])).status_code == 200
    assert c.post("/api/v1/codes/verify", json={"text": code["code"]}).json()["status"] == "revoked"
    # The public files: this region's signed list names the revoked id; the bundle holds
    # keys and words but nothing about any subject.
    rev = c.get("/codes/revocations.json").json()
    assert rev["format"] == "creditgov-revocations/1" and rev["signature"]
    bundle = c.get("/codes/bundle.json")
    assert bundle.status_code == 200 and MARKUP not in bundle.text
    assert [k["issuer"] for k in bundle.json()["keys"]] == ["330522"]
    assert bundle.json()["labels"]["band"]["excellent"] == ["优秀(守信)", "Excellent"]
    page = c.get("/codes/verify")
    assert page.status_code == 200 and '<script src="/codes/verify.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = c.get("/codes/verify.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    # The QR reader: its own script and the vendored jsQR, both from this platform, in order.
    assert page.text.index("/codes/verify.js") < page.text.index('<script src="/static/vendor/jsQR-1.4.0.js"') \
        < page.text.index('<script src="/codes/scan.js"')
    scan = c.get("/codes/scan.js")
    assert scan.status_code == 200 and "getUserMedia" in scan.text and "BarcodeDetector" in scan.text
    vendor = c.get("/static/vendor/jsQR-1.4.0.js")
    assert vendor.status_code == 200 and hashlib.sha256(vendor.content).hexdigest() == JSQR_SHA256
    assert c.get("/static/vendor/LICENSE.jsqr").text.lstrip().startswith("Apache License")
    # The subject's own page: a fresh code on demand, shown as a QR with its text escaped.
    me = c.get("/me/code", headers=_h(tok["firm"]))
    assert me.status_code == 200 and 'data-testid="no-code"' in me.text
    csrf = me.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = c.post("/me/code", data={"csrf_token": csrf}, headers=_h(tok["firm"]), follow_redirects=True)
    assert done.status_code == 200 and 'data-testid="code-text">CGV1:' in done.text and "<svg" in done.text
    assert c.get("/me/code", headers=_h(tok["office"])).status_code == 403
