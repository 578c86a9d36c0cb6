"""The credit report shows the evaluations received from the upper platform (SQLite and
PostgreSQL): each one the exchange stored for the subject — received here through the
API's inbox as a signed package, as a peer sends it — is listed in the credit
evaluations section (信用评价) of the report, in Chinese and in English, with the platform
it came from in words, its evaluation date, model and version as received, grade and
shared band, score and the time it was received. What the sender wrote (markup, quotes,
bidi marks, a very long text) is printed as written, and the report's serial still
verifies its bytes. Nothing received, nothing listed; and the section's "None" stays
for a subject with no evaluation of any source."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from pypdf import PdfReader

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.exchange import channels, signing
from creditgov.exchange.schemas import PeerIn
from creditgov.reports import service as report_service
from creditgov.reports.pdftext import printable
from creditgov.reports.words import section_title
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import Subject
from tests.lists.helpers import make_subject

UPPER = Ed25519PrivateKey.generate()
# Markup, quotes, an ampersand entity, a right-to-left override (dropped in print) and Han.
HOSTILE_MODEL = '"><img src=x onerror=alert(2)> O\'Brien & <b>省级</b> \u202e评价'
LONG_VERSION = "版本" * 400          # with the model, 817 characters: cut in print, its length said
NOW = "2026-11-01T08:00:00"         # UTC: 16:00 on 1 November in China


def _flat(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


def _section(flat: str, lang: str, title: str, following: str) -> str:
    """The text of one section, from its title to the next section's number."""
    start = flat.index(re.sub(r"\s+", "", section_title(title, lang)))
    end = flat.index(re.sub(r"\s+", "", section_title(following, lang)), start)
    return flat[start:end].removesuffix(f"{report_service.SECTIONS.index(following) + 1}.")


def _package(seq: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    env = {"format": signing.FORMAT, "from": "province", "to": "anlan", "seq": seq,
           "created_at": "2026-11-01T08:00:00", "items": items}
    return {**env, "signature": signing.b64(UPPER.sign(signing.canonical(env)))}


@pytest.fixture
def site(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A county bound to the province as its upper platform, an office account, a firm
    the province evaluates and one it does not."""
    monkeypatch.setenv("CREDITGOV_NOW", NOW)
    key = tmp_path / "received.key"
    ring = create_key_file(key)
    with db.session_scope(store) as s:
        signing.create_identity(s, ring, node="anlan", actor="test")
        pub = signing.b64(UPPER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        channels.add_peer(s, PeerIn(channel="upper", node="province", public_key=pub, transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
        firm, bare = make_subject(s, kind="enterprise"), make_subject(s, kind="enterprise")
        ref = {"kind": "enterprise", "name": firm.name, "uscc": firm.uscc}
        ids = {"firm": firm.id, "bare": bare.id}
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    client = TestClient(create_app(store, key), base_url="https://testserver")
    return client, head, store, ids, ref


def test_the_report_lists_each_evaluation_received_from_the_upper_platform(site) -> None:
    client, head, store, ids, ref = site
    items = [{"kind": "evaluation.result", "model": HOSTILE_MODEL, "model_version": "2026.1", "as_of": "2026-10-31",
              "score": "88.50", "grade": "A", "colour": "green", "band": "excellent", "subject": ref},
             {"kind": "evaluation.result", "model": "province-tourism", "model_version": LONG_VERSION,
              "as_of": "2025-12-31", "score": "61", "grade": "C<b>", "colour": "yellow", "band": "fair",
              "subject": ref}]
    got = client.post("/api/v1/exchange/inbox", json=_package(1, items))     # the peer's own path
    assert got.status_code == 200, got.text
    assert got.json()["applied_through"] == 1

    for lang, words in (
            ("zh", {"heading": "上级平台评价（经数据交换接收，按原样载明）", "platform": "上级平台province",
                    "cols": "评价平台评价日评价模型等级（档次）得分接收时间",
                    "first": "A（优秀(守信)）88.50", "second": "C<b>（一般(警示)）61",
                    "received": "2026-11-0116:00北京时间", "cut": "（全文817字，见平台）"}),
            ("en", {"heading": "Evaluationsfromtheupperplatform(receivedbyexchange,asstatedthere)",
                    "platform": "Upperplatformprovince", "cols": "EvaluatedbyEvaluationdateModelGrade(band)Score"
                                                                   "Received",
                    "first": "A(Excellent)88.50", "second": "C<b>(Fair)61", "received": "2026-11-0116:00CST",
                    "cut": "(fulltext817characters,ontheplatform)"})):
        r = client.get(f"/api/v1/subjects/{ids['firm']}/report.pdf", params={"lang": lang}, headers=head)
        assert r.status_code == 200, r.text
        flat = _flat(r.content)
        section = _section(flat, lang, "信用评价", "司法判决")       # in the evaluations section, not elsewhere
        assert words["heading"] in section and words["cols"] in section, section[:400]
        assert section.count(words["platform"]) == 2
        assert "2026-10-31" in section and "2025-12-31" in section
        assert section.index("2026-10-31") < section.index("2025-12-31")     # newest evaluation first
        assert re.sub(r"\s+", "", printable(HOSTILE_MODEL)) + "2026.1" in section   # markup printed as written
        # The long version is cut with a note of its length (a row continued on the next
        # page repeats the table's header, which may fall inside the note's text).
        assert "province-tourism" in section and words["cut"] in section.replace(words["cols"], "")
        assert words["first"] in section and words["second"] in section
        assert section.count(words["received"]) == 2
        assert not section.startswith(re.sub(r"\s+", "", section_title("信用评价", lang)) + ("无" if lang == "zh"
                                                                                             else "None"))
        assert "上级平台评价：" not in flat and "Upper-platform evaluation:" not in flat   # listed once, here
        with db.session_scope(store) as s:                                   # the bytes verify under the serial
            assert report_service.digest_matches(s, r.headers["X-Report-Serial"], r.content)
            assert not report_service.digest_matches(s, r.headers["X-Report-Serial"], r.content + b"\n")

    bare = _flat(client.get(f"/api/v1/subjects/{ids['bare']}/report.pdf", headers=head).content)
    assert "上级平台评价" not in bare and "上级平台province" not in bare
    assert _section(bare, "zh", "信用评价", "司法判决") == section_title("信用评价", "zh") + "无"


def test_the_command_line_report_lists_them_too(site, cli, tmp_path: Path) -> None:
    """`creditgov report` issues the same document: the evaluation is listed there too."""
    client, _head, store, ids, ref = site
    item = {"kind": "evaluation.result", "model": "province-public-credit", "model_version": "2026.1",
            "as_of": "2026-10-31", "score": "90", "grade": "A", "band": "excellent", "subject": ref}
    assert client.post("/api/v1/exchange/inbox", json=_package(1, [item])).status_code == 200
    with db.session_scope(store) as s:
        uscc = s.get(Subject, ids["firm"]).uscc  # type: ignore[union-attr]  # made above
    out = tmp_path / "report.pdf"
    said = cli("--db", store, "--key-file", str(tmp_path / "received.key"), "report", str(uscc), "--out", str(out),
               "--lang", "en")
    assert said.exit_code == 0, said.output
    section = _section(_flat(out.read_bytes()), "en", "信用评价", "司法判决")
    assert "Upperplatformprovince2026-10-31province-public-credit2026.1A(Excellent)90" in section, section[:600]
