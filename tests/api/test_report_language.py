"""The credit report in the reader's language (issue 21): English when asked for (the
API's `lang`, the page language's cookie, the command's `--lang`), Chinese by default;
the ten national sections in their order either way, China Standard Time, codes named
by the label catalogue. The English report holds no Han character outside data values
(names, addresses, document numbers, region names), the Chinese one no English UI word.

A hostile document number and a Latin record text are added inside a transaction that
is rolled back, so the shared county stays as other tests expect it."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.records import service as records_service
from creditgov.reports import service as report_service
from creditgov.reports.words import SECTION_EN
from creditgov.security.crypto import KeyRing, load_key_file
from tests.api.conftest import client_for
from tests.api.county import County

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{2,}")
HOSTILE_DOC = '"><img src=x onerror=alert(1)>&amp; 长环罚〔2026〕7号'
LATIN_TEXT = "waste water discharged without permit"
VERIFY = "https://credit.example.gov.cn/verify/CR1"
# Words a Chinese report may show: the product's name and the letters of grades.
ALLOWED = {"CreditGov"}
CODE_NO = re.compile(r"(?:(?<=编号)|(?<=number))[0-9a-f]{16}")
CODE_PAGE = "/codes/verify"


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def session_and_ring(county: County) -> Iterator[tuple[Session, KeyRing]]:
    ring = load_key_file(county.key_file)
    with db.session_scope(county.url) as s:
        for n, (item, dept, fields) in enumerate((
                ("environment.penalty", "environment", {"document_no": HOSTILE_DOC}),
                ("market.penalty", "market", {"text": LATIN_TEXT})), start=1):
            day = dt.date(2026, 3, n)
            records_service.add_copy(s, subject_id=1, natural_key=f"lang-{n}", version=1, item_code=item,
                                     department_code=dept, occurred_on=day, source="test-lang",
                                     fields={"published_from": day, "published_until": dt.date(2029, 3, n), **fields},
                                     actor="test")
        yield s, ring
        s.rollback()


def _data_values(data: report_service.ReportData) -> list[str]:
    """What the report prints as data: the subject's facts, its regions, each record's
    document number or text, the lists' decision numbers; longest first."""
    s = data.subject
    values = [s["display_name"], s["address"], s["uscc"], s["resident_id"], s["established_on"],
              *(r["name"] for r in s["region"])]
    for rows in data.sections.values():
        for r in rows:
            values += [r["document_no"], r["grade"], r["value"], r["text"]]
    values += [e["decision_no"] for e in data.lists]
    return sorted({_flat(str(v)) for v in values if v}, key=len, reverse=True)


def _without_data(text: str, data: report_service.ReportData) -> str:
    flat = _flat(text).replace(_flat(VERIFY), "").replace(data.serial, "")
    # The credit code's panel prints its number (hex) and the address of the verification
    # page: data and an address, not words.
    flat = CODE_NO.sub(" ", flat).replace(CODE_PAGE, " ")
    for v in _data_values(data):
        flat = flat.replace(v, " ")
    return flat


def _report(s: Session, ring: KeyRing, lang: str) -> tuple[report_service.ReportData, str]:
    data = report_service.gather(s, ring, subject_id=1, actor="test", purpose="test", lang=lang)
    return data, _pdf_text(report_service.render_pdf(data, VERIFY))


def test_the_english_report_holds_no_chinese_outside_data(session_and_ring: tuple[Session, KeyRing]) -> None:
    s, ring = session_and_ring
    data, text = _report(s, ring, "en")
    flat = _flat(text)
    marks = [flat.index(_flat(f"{n}. {SECTION_EN[title]}"))
             for n, title in enumerate(report_service.SECTIONS, start=1)]
    assert marks == sorted(marks), "the ten national sections keep their order"
    assert "CST" in text and "北京时间" not in text and "UTC" not in text
    assert "Credit report" in text and "Enterprise" in text and "In force" in text
    assert "EcologyandEnvironment" in flat or "Environment" in text  # the department by its English name
    assert _flat(HOSTILE_DOC) in flat and LATIN_TEXT.split()[0] in text  # data printed as written
    assert any(v for v in _data_values(data) if HAN.search(v)), "the check is not vacuous: data has Chinese"
    stray = HAN.findall(_without_data(text, data))
    assert not stray, "".join(stray)[:200]


def test_the_chinese_report_holds_no_english_ui_words(session_and_ring: tuple[Session, KeyRing]) -> None:
    s, ring = session_and_ring
    data, text = _report(s, ring, "zh")
    assert data.lang == "zh"
    flat = _flat(text)
    marks = [flat.index(f"{n}.{title}") for n, title in enumerate(report_service.SECTIONS, start=1)]
    assert marks == sorted(marks)
    assert "北京时间" in text and "有效" in text
    words = {w for w in WORD.findall(_without_data(text, data)) if w not in ALLOWED}
    assert not words, sorted(words)


def test_the_api_prints_in_the_asked_or_page_language(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    auth = {"Authorization": f"Bearer {sqlite_county.tokens['bank_officer']}"}

    def text(**kw: Any) -> str:
        r = c.get("/api/v1/subjects/1/report.pdf", headers=auth, **kw)
        assert r.status_code == 200, r.text
        return _pdf_text(r.content)

    default = text()
    assert "信用报告" in default and "1. 行政管理" in default and "Administrative" not in default
    english = text(params={"lang": "en"})
    assert "1. Administrative management" in english and "行政管理" not in english
    c.cookies.set("cg_lang", "en")  # the page language chosen with the switch
    try:
        assert "1. Administrative management" in text()
        assert "1. 行政管理" in text(params={"lang": "zh"})  # an explicit choice wins
    finally:
        c.cookies.clear()
    assert c.get("/api/v1/subjects/1/report.pdf", headers=auth, params={"lang": "fr"}).status_code == 422


def test_the_command_prints_in_the_asked_language(sqlite_county: County, cli: Any, tmp_path: Any) -> None:
    for lang, heading in (("en", "1. Administrative management"), ("zh", "1. 行政管理")):
        out = tmp_path / f"report-{lang}.pdf"
        res = cli("--db", sqlite_county.url, "--key-file", str(sqlite_county.key_file), "report", "1",
                  "--out", str(out), "--lang", lang, "--verify-base", "https://credit.example.gov.cn/verify")
        assert res.exit_code == 0, res.output
        assert heading in _pdf_text(out.read_bytes())
    with pytest.raises(InvalidInput):  # the command line prints it and exits 1 (cli.main.run)
        cli("--db", sqlite_county.url, "--key-file", str(sqlite_county.key_file), "report", "1",
            "--out", str(tmp_path / "x.pdf"), "--lang", "fr")
    assert not (tmp_path / "x.pdf").exists()
