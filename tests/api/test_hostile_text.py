"""Hostile text, ingested through the real pipeline (SQLite and PostgreSQL), through
every rendering the API and the pages make of it: the credit report PDF of every
hostile firm (a valid PDF whose text holds the name, built without a single network
connection), its verification, the credit file page, the alert page and the inbox.

The report once answered 500 for a firm named `"><img src=x onerror=alert(2)>`
(reportlab's paragraph parser) and fetched `<img src="http://…"/>` from the server."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from creditgov.alerts import outbox
from creditgov.alerts import service as alerts_service
from creditgov.core import db
from creditgov.ingest import service as ingest_service
from creditgov.lists import service as lists_service
from creditgov.reports.pdftext import fonts, printable
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun
from creditgov.security import users as user_service
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import Subject
from tests import store_template
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County
from tests.api.county_supervision import RECIPIENTS
from tests.hostile import LONG_TEXT, Listener, names, no_network, write_folder


@dataclass
class World:
    county: County
    listener: Listener
    hostile: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)
    alert_id: int = 0
    evaluated: bool = False


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'creditgov.db'}"
        else:
            url = stack.enter_context(store_template.pg_schema(request.getfixturevalue("pg_base"), "t_hostile_"))
        listener = Listener()
        stack.callback(listener.close)
        yield _build(url, tmp, listener, evaluate=request.param == "sqlite")


def _build(url: str, tmp: Path, listener: Listener, *, evaluate: bool) -> World:
    """The store: the hostile folder ingested, a serious-list proposal per firm with a
    hostile number and basis, an alert delivered to the office's inbox, two accounts;
    on SQLite also a published evaluation (the engine's run; PostgreSQL adds the
    storage, not the scoring)."""
    hostile = names(listener.port)
    key_file = tmp / "creditgov.key"
    ring = create_key_file(key_file)
    store_template.fill(url)
    with db.session_scope(url) as s:
        lists_service.load_lists(s, actor="test")
        alerts_service.load_rules(s, actor="test")
    codes = write_folder(tmp / "in", hostile)
    ingest_service.ingest_paths(url, ring, [tmp / "in"], actor="test")
    run_id = scoring_service.evaluate(url, ref="public-credit-enterprise", actor="test").run_id if evaluate else None
    w = World(County(url=url, key_file=key_file), listener, hostile, evaluated=evaluate)
    with db.session_scope(url) as s:
        assert ingest_service.count_open_quarantine(s) == 0
        w.ids = {k: s.execute(select(Subject.id).where(Subject.uscc == c)).scalar_one() for k, c in codes.items()}
        if run_id is not None:
            run = s.get(EvaluationRun, run_id)
            assert run is not None
            run.published = True
        for k, sid in w.ids.items():  # a serious-list proposal whose number and basis are hostile
            lists_service.propose(s, list_code="serious-dishonesty", subject_id=sid, criterion="manual",
                                  basis=hostile[k], decision_no=f'<b>"{k}"</b>&')
        u = user_service.create_user(s, username="t-admin", password=PASSWORD, role="admin", actor="test")
        w.county.tokens["admin"], _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
        u = user_service.create_user(s, username="t-office", password=PASSWORD, role="credit_office",
                                     actor="test")
        w.county.tokens["credit_office"], _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
        a = alerts_service.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=w.ids["markup"],
                                       severity="high", title="预警：" + hostile["markup"],
                                       body="\n".join(hostile.values()), recipients=RECIPIENTS,
                                       evidence_key="hostile", actor="test")
        w.alert_id = a.alert.id
    outbox.drain(url)
    return w


@pytest.fixture(scope="module")
def client(world: World) -> TestClient:
    return client_for(world.county)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _as_printed(name: str) -> str:
    """The name as the report prints it (`reports.pdftext.printable`, a character no
    installed font has as U+FFFD) — characters beyond the Basic Multilingual Plane
    included: an emoji set in Symbola is in the PDF's text as it is on the page."""
    f = fonts()
    return _squash("".join(c if f.font_for(c) else "\ufffd" for c in printable(name)))


def _pdf(data: bytes) -> tuple[str, set[str]]:
    reader = PdfReader(io.BytesIO(data))
    text = "".join(p.extract_text() or "" for p in reader.pages)
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages
             for f in p["/Resources"]["/Font"].values()}
    return text, fonts


def test_every_hostile_firms_report_is_a_valid_pdf_that_prints_the_name(client: TestClient, world: World) -> None:
    auth = {"Authorization": f"Bearer {world.county.tokens['admin']}"}
    for k, sid in world.ids.items():
        with no_network() as attempts:
            r = client.get(f"/api/v1/subjects/{sid}/report.pdf?purpose=hostile", headers=auth)
        assert r.status_code == 200, (k, r.text[:300])
        assert not attempts, f"{k}: the report tried to connect to {attempts}"
        assert r.headers["content-type"] == "application/pdf"
        text, fonts = _pdf(r.content)
        name = client.get(f"/api/v1/subjects/{sid}?purpose=hostile", headers=auth).json()["name"]
        assert name == world.hostile[k], k  # ingestion kept the name as written
        assert _as_printed(name) in _squash(text), (k, text[:500])
        # A proposed entry is not in force, so the report does not list it (only what
        # stands on the report date is printed; tests/api/test_report_words.py prints a
        # hostile document number literally).
        assert '<b>"' + k + '"</b>&' not in text
        assert _squash(LONG_TEXT[:200]) in _squash(text)  # the long record text, past its markup
        assert ("评分说明" in text) == world.evaluated  # the score and its explanation, when evaluated
        v = client.get(f"/api/v1/reports/{r.headers['x-report-serial']}").json()
        assert v["genuine"] and v["subject"] == name
        if k in ("emoji", "combining"):  # what the Chinese font lacks is set in a fallback font
            assert any("DejaVu" in f or "Symbola" in f for f in fonts), fonts
    assert not world.listener.contacted(), "an image tag in a name made the server connect"
    # Control and bidi characters never reach the page; the rest of the name does.
    text, _ = _pdf(client.get(f"/api/v1/subjects/{world.ids['control']}/report.pdf", headers=auth).content)
    assert "\x1b" not in text and "控制[31m红字符有限公司" in _squash(text)
    text, _ = _pdf(client.get(f"/api/v1/subjects/{world.ids['rtl']}/report.pdf", headers=auth).content)
    assert "\u202e" not in text and "右到左标记有限公司" in _squash(text)


def test_a_long_record_text_is_cut_with_its_length(client: TestClient, world: World) -> None:
    r = client.get(f"/api/v1/subjects/{world.ids['long']}/report.pdf",
                   headers={"Authorization": f"Bearer {world.county.tokens['admin']}"})
    assert r.status_code == 200
    text = _squash(_pdf(r.content)[0])
    full = len(printable(world.hostile["long"] + LONG_TEXT))
    assert f"（全文{full}字，见平台）" in text  # the rest is on the platform, and the reader is told so
    assert _squash(LONG_TEXT[:150]) in text


def test_a_host_header_that_is_no_host_name_never_reaches_the_report(client: TestClient, world: World) -> None:
    auth = {"Authorization": f"Bearer {world.county.tokens['admin']}"}
    sid = world.ids["markup"]
    r = client.get(f"/api/v1/subjects/{sid}/report.pdf", headers={**auth, "host": "a" * 3000})
    assert r.status_code == 422 and "Host header" in r.json()["detail"]  # too long for a host, or a QR code
    for host in ('x"><img src=x>', "host name"):  # not a host: the server's own name is printed instead
        r = client.get(f"/api/v1/subjects/{sid}/report.pdf", headers={**auth, "host": host})
        assert r.status_code == 200
        assert "https://testserver/verify/" in _squash(_pdf(r.content)[0])
    r = client.get(f"/api/v1/subjects/{sid}/report.pdf", headers={**auth, "host": "credit.example.gov.cn:8443"})
    assert r.status_code == 200
    assert "credit.example.gov.cn:8443/verify/" in _squash(_pdf(r.content)[0])


def _page(client: TestClient, path: str, token: str) -> str:
    r = client.get(path, headers={"Authorization": f"Bearer {token}", "accept": "text/html"})
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


def test_pages_show_hostile_names_as_text(client: TestClient, world: World) -> None:
    admin, office = world.county.tokens["admin"], world.county.tokens["credit_office"]
    pages = [_page(client, f"/subjects/{sid}", admin) for sid in world.ids.values()]
    pages.append(_page(client, f"/alerts/{world.alert_id}", admin))
    inbox = _page(client, "/inbox", office)  # the credit office's desk got the alert
    pages.append(inbox)
    assert "onerror=alert(2)" in inbox
    for html in pages:
        assert "<img src=x onerror" not in html and '<img src="http://127.0.0.1' not in html
        assert "<b>粗体</b>" not in html
    whole = "".join(pages)
    for k, name in world.hostile.items():
        # Jinja escapes markup and quotes and passes every other character on as written.
        assert str(escape(name)) in whole, k
    serial = client.get(f"/api/v1/subjects/{world.ids['markup']}/report.pdf",
                        headers={"Authorization": f"Bearer {admin}"}).headers["x-report-serial"]
    verify = client.get(f"/verify/{serial}", headers={"accept": "text/html"}).text
    assert str(escape(world.hostile["markup"])) in verify and "<img src=x" not in verify


def test_an_alert_in_english_names_its_rule_and_shows_the_message_as_sent(client: TestClient, world: World) -> None:
    """The stored title is the Chinese message that went out; an English page heads the
    alert with the rule's English name and the subject, and shows the message below."""
    admin = world.county.tokens["admin"]
    r = client.get(f"/alerts/{world.alert_id}", headers={"Authorization": f"Bearer {admin}", "accept": "text/html",
                                                          "Cookie": "cg_lang=en"})
    assert r.status_code == 200
    h1 = re.search(r"<h1>(.*?)</h1>", r.text, re.S)
    assert h1 is not None
    assert "New dishonest judgement debtor" in h1.group(1) and "预警：" not in h1.group(1)
    assert str(escape(world.hostile["markup"])) in h1.group(1)  # the subject, by its name as written
    assert "The message as sent" in r.text and str(escape("预警：" + world.hostile["markup"])) in r.text
    listing = client.get("/alerts?status=all", headers={"Authorization": f"Bearer {admin}", "accept": "text/html",
                                                        "Cookie": "cg_lang=en"}).text
    assert "New dishonest judgement debtor" in listing and "新增失信被执行人" not in listing
    zh = client.get(f"/alerts/{world.alert_id}", headers={"Authorization": f"Bearer {admin}",
                                                          "accept": "text/html"}).text
    assert str(escape("预警：" + world.hostile["markup"])) in re.search(r"<h1>(.*?)</h1>", zh, re.S).group(1)


def test_printable_keeps_what_a_page_can_show(world: World) -> None:
    """The report's text filter: NFC, controls and invisible format characters out."""
    assert printable("e\u0301") == "é"
    assert printable("a\x1bb\tc\nd") == "ab c d"
    assert printable("\u202e\u200fx\u200d") == "x"
    assert printable("😀 <b>&") == "😀 <b>&"
    assert unicodedata.is_normalized("NFC", printable(world.hostile["combining"]))
