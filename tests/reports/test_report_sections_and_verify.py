"""The credit report says "None" (无) in a section only when the section has nothing:
the credit evaluations section has two sources (evaluation records of the catalogue and
the platform's own scores), the credit commitments section two too (commitment records
and signed commitments). And the public verification page of a report (what its QR
code opens) names the evaluation model by its title in the page's language, never by
its code. Both languages, on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from creditgov.api.app import create_app
from creditgov.commitments import service as commitments_service
from creditgov.core import db
from creditgov.reports import service as report_service
from creditgov.reports.words import section_title
from creditgov.security.crypto import create_key_file
from tests.lists.helpers import add_run, make_subject

NAME = '诚信"<b>小店</b>\u202e😀'


@pytest.fixture
def graded(store: str, tmp_path: Path):
    """A merchant graded B by the Yiwu e-commerce model (no evaluation record in its
    file) that signed a commitment (no commitment record), and a firm with neither."""
    key = tmp_path / "report.key"
    ring = create_key_file(key)
    with db.session_scope(store) as s:
        commitments_service.load_templates(s, actor="test")
        shop = make_subject(s, kind="merchant", name=NAME)
        bare = make_subject(s, kind="enterprise")
        add_run(s, "yiwu-ecommerce", dt.date(2026, 10, 31), [(shop, "B", "green")])
        commitments_service.sign(s, subject_id=shop.id, template_code="industry-self-discipline", actor="test")
        ids = {"shop": shop.id, "bare": bare.id}
    return store, ring, key, ids


def _sections(pdf: bytes, lang: str) -> dict[str, str]:
    flat = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))
    titles = [re.sub(r"\s+", "", section_title(t, lang)) for t in report_service.SECTIONS]
    marks = [flat.index(f"{n}.{t}") for n, t in enumerate(titles, start=1)]
    ends = [*marks[1:], len(flat)]
    return {t: flat[a + len(f"{n}.") + len(titles[n - 1]):b]
            for n, (t, a, b) in enumerate(zip(report_service.SECTIONS, marks, ends, strict=True), start=1)}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_none_only_when_a_section_has_nothing(graded, lang: str) -> None:
    store, ring, _key, ids = graded
    none = "无" if lang == "zh" else "None"
    with db.session_scope(store) as s:
        pdf, _row = report_service.issue(s, ring, subject_id=ids["shop"], actor="test", purpose="test",
                                         verify_base="https://x/verify", lang=lang)
        bare, _ = report_service.issue(s, ring, subject_id=ids["bare"], actor="test", purpose="test",
                                       verify_base="https://x/verify", lang=lang)
    sections = _sections(pdf, lang)
    evaluations, commitments = sections["信用评价"], sections["信用承诺"]
    assert ("平台评价" if lang == "zh" else "Platformevaluation") in evaluations
    assert ("义乌陆港电商小镇商户信用评价" if lang == "zh" else "Yiwuland-porte-commercetowncreditevaluation") \
        in evaluations
    assert not evaluations.startswith(none), evaluations[:80]
    assert ("承诺" if lang == "zh" else "Commitment") in commitments and not commitments.startswith(none)
    for title in ("信用评价", "信用承诺"):  # a subject with neither source: the sections say so
        assert _sections(bare, lang)[title] == none


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_verification_page_names_the_model(graded, lang: str) -> None:
    store, ring, key, ids = graded
    with db.session_scope(store) as s:
        _pdf, row = report_service.issue(s, ring, subject_id=ids["shop"], actor="test", purpose="test",
                                         verify_base="https://x/verify", lang=lang)
        serial = row.serial
        v = report_service.verify(s, serial)
    assert v["model"].startswith("yiwu-ecommerce@")  # the code stays in the API, named beside it
    assert v["labels"]["model"]["en"].startswith("Yiwu land-port e-commerce town credit evaluation (version ")
    client = TestClient(create_app(store, key), base_url="https://testserver")
    client.cookies.set("cg_lang", lang)
    page = client.get(f"/verify/{serial}")
    assert page.status_code == 200
    model = re.search(r'data-testid="verify-model">(.*?)</dd>', page.text, re.S)
    assert model is not None
    version = v["model"].split("@")[1]
    assert html.unescape(model.group(1)) == (f"义乌陆港电商小镇商户信用评价（第{version}版）" if lang == "zh" else
                                             f"Yiwu land-port e-commerce town credit evaluation (version {version})")
    assert "yiwu-ecommerce" not in page.text
    assert re.search(r'data-testid="verify-grade">B</dd>', page.text)
    assert "<b>小店</b>" not in page.text and html.escape("<b>小店</b>") in page.text  # the name as text
