"""The credit report PDF: sections, Chinese text, the verification QR target, storage
and audit of every download; and the page-level checks of languages."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from creditgov.core import db
from creditgov.reports import service as report_service
from creditgov.security.models import AuditEntry
from creditgov.web import i18n
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County, form_sign_in


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def test_report_pdf_has_every_section_in_chinese_and_is_verifiable(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    r = c.get("/api/v1/subjects/1/report.pdf?purpose=贷款审查",
              headers={"Authorization": f"Bearer {sqlite_county.tokens['bank_officer']}"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    serial = r.headers["x-report-serial"]
    text = _pdf_text(r.content)
    assert "长兴绿源纺织有限公司" in text and "91330522MA2B00010N" in text
    for title in report_service.SECTIONS:
        assert title in text, title
    assert f"https://testserver/verify/{serial}" in text.replace("\n", "")
    assert "评分说明" in text  # the explanation of the score, item by item
    fonts = {str(f) for p in PdfReader(io.BytesIO(r.content)).pages for f in p["/Resources"]["/Font"].values()}
    assert fonts  # a font is embedded for the Chinese text
    v = c.get(f"/api/v1/reports/{serial}").json()
    assert v["genuine"] and v["sha256"] == hashlib.sha256(r.content).hexdigest()
    with db.session_scope(sqlite_county.url) as s:
        assert report_service.digest_matches(s, serial, r.content)
        assert not report_service.digest_matches(s, serial, r.content + b"edited")
        e = s.execute(select(AuditEntry).where(AuditEntry.action == "report.download")
                      .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert (e.subject_id, e.actor, e.purpose) == (1, "user:t-bank_officer", "贷款审查")
    page = c.get(f"/verify/{serial}", headers={"accept": "text/html"})
    assert page.status_code == 200 and serial in page.text and "长兴绿源纺织有限公司" in page.text
    assert c.get("/verify/CR-FORGED", headers={"accept": "text/html"}).status_code == 404


def test_a_residents_report_masks_nothing_for_himself_but_the_verifier_masks_the_name(sqlite_county: County) -> None:
    with db.session_scope(sqlite_county.url) as s:
        from creditgov.security.crypto import load_key_file

        pdf, row = report_service.issue(s, load_key_file(sqlite_county.key_file), subject_id=5, actor="user:test",
                                        purpose="own file", verify_base="https://x/verify")
        v = report_service.verify(s, row.serial)
    assert "王建国" in _pdf_text(pdf)
    assert v["subject"] == "王*国" and v["uscc"] is None


def test_every_page_message_has_an_english_translation() -> None:
    messages = i18n.extract_messages()
    assert len(messages) > 150
    en = i18n.translations("en")
    untranslated = [m for m in messages if en.gettext(m) == m]
    assert not untranslated, untranslated


def test_no_message_has_two_english_translations() -> None:
    """The pages share one merged catalogue (the shared one first, then each domain's), so
    a Chinese message translated two ways shows one of them everywhere: a domain whose
    meaning differs must say so in Chinese (e.g. 贷款到期日, not 到期日)."""
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    for path in [Path(i18n.po_path("en")), *i18n.domain_po_paths("en")]:
        with open(path, "rb") as fh:
            for m in read_po(fh, locale="en"):
                if m.id and m.string and not m.context:
                    seen.setdefault(str(m.id), {})[path.parts[-5]] = str(m.string)
    twice = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert len(seen) > 500 and not twice, twice


def test_pages_switch_between_chinese_and_english(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    form_sign_in(c, sqlite_county, "t-admin")
    zh = c.get("/subjects/1")
    assert "信用档案（一户一档）" in zh.text and 'lang="zh-CN"' in zh.text
    assert c.get("/lang/en?next=/subjects/1").headers["location"] == "/subjects/1"
    en = c.get("/subjects/1")
    assert "Credit file" in en.text and "Score explanation" in en.text and 'lang="en"' in en.text
    assert "信用档案（一户一档）" not in en.text


def test_login_form_needs_its_csrf_token(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    r = c.post("/login", data={"username": "t-admin", "password": PASSWORD, "csrf_token": "forged", "next": "/"})
    assert r.status_code == 200 and "cg_session" not in r.headers.get("set-cookie", "")


def test_vendored_assets_are_served_from_the_package(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    for path in ("/static/vendor/htmx-2.0.11.min.js", "/static/vendor/echarts-6.1.0.min.js", "/static/js/app.js"):
        r = c.get(path)
        assert r.status_code == 200 and len(r.content) > 1000, path
