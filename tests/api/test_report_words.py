"""The credit report tells the truth of the credit file on its date, and the score
explanation reads as sentences: records in force only (the explanation's own rule),
labels instead of codes, China Standard Time, the configured public address in the QR
code, whole Latin words, hostile text unharmed; points rounded for display with exact
values beside them, a note for a record counted twice, a waterfall from the base.

Records are added through the records service inside a transaction that is rolled back,
so the shared county stays as other tests expect it."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy.orm import Session

from creditgov.core import clock, db, settings
from creditgov.core.errors import ConfigError
from creditgov.records import service as records_service
from creditgov.reports import service as report_service
from creditgov.scoring import narrative
from creditgov.scoring import service as scoring_service
from creditgov.security.crypto import KeyRing, load_key_file
from creditgov.subjects import service as subject_service
from tests.api.conftest import client_for
from tests.api.county import County

HOSTILE_DOC = '"><img src=x onerror=alert(1)>&amp; 〔2026〕7号 ‮evil‬'
LATIN_TEXT = "environment protection inspection found waste water discharged without permit"
TODAY = dt.date(2026, 11, 1)


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _add(s: Session, n: int, item: str, dept: str, occurred: dt.date, **fields: Any) -> int:
    rec, added = records_service.add_copy(s, subject_id=1, natural_key=f"words-{n}", version=1, item_code=item,
                                          department_code=dept, occurred_on=occurred, source="test-words",
                                          fields={"published_from": occurred, **fields}, actor="test")
    assert added
    return rec.id


@pytest.fixture
def file_with_history(county: County) -> Iterator[tuple[Session, KeyRing, dict[str, int]]]:
    """Subject 1 with records of every standing: in force, publication ended, not yet
    published, repaired; three general penalties of different ages and a court record
    (counted both as serious and as court enforcement). Rolled back afterwards."""
    ring = load_key_file(county.key_file)
    with db.session_scope(county.url) as s:
        ids = {
            "in_force": _add(s, 1, "market.quality_fail", "market", dt.date(2025, 11, 4),
                             document_no=HOSTILE_DOC, published_until=dt.date(2028, 11, 4)),
            "ended": _add(s, 2, "market.penalty", "market", dt.date(2022, 3, 1), document_no="长市监罚〔2022〕3号",
                          published_until=dt.date(2025, 3, 1)),
            "future": _add(s, 3, "market.penalty", "market", dt.date(2026, 10, 1), document_no="长市监罚〔2026〕88号",
                           published_from=dt.date(2026, 12, 1), published_until=dt.date(2029, 12, 1)),
            "older": _add(s, 4, "market.penalty", "market", dt.date(2024, 6, 1), published_until=dt.date(2027, 6, 1),
                          text=LATIN_TEXT),
            "oldest": _add(s, 5, "environment.penalty", "environment", dt.date(2024, 1, 10),
                           document_no="长环罚〔2024〕2号", published_until=dt.date(2027, 1, 10)),
            "court": _add(s, 6, "court.dishonest_debtor", "court", dt.date(2026, 5, 1),
                          document_no="(2026)浙0522执123号", published_until=dt.date(2029, 5, 1)),
            "repaired": _add(s, 7, "market.penalty", "market", dt.date(2025, 1, 5), document_no="长市监罚〔2025〕2号",
                             published_until=dt.date(2028, 1, 5)),
        }
        records_service.change_status(s, record_id=ids["repaired"], to_status="repaired", reason="修复完成",
                                      actor="test")
        yield s, ring, ids
        s.rollback()


def _sections(text: str) -> dict[str, str]:
    """The report's text cut at its numbered section headings."""
    flat = _flat(text)
    marks = [flat.index(f"{n}.{title}") for n, title in enumerate(report_service.SECTIONS, start=1)]
    assert marks == sorted(marks), "the ten sections keep their national order"
    ends = [*marks[1:], len(flat)]
    return {title: flat[a:b] for title, a, b in zip(report_service.SECTIONS, marks, ends, strict=True)}


def test_every_report_section_matches_the_file_on_the_report_date(
        county: County, file_with_history: tuple[Session, KeyRing, dict[str, int]]) -> None:
    s, ring, ids = file_with_history
    data = report_service.gather(s, ring, subject_id=1, actor="test", purpose="test")
    assert data.as_of == TODAY
    f = subject_service.credit_file(s, ring, "1", actor="test")
    # The explanation of the same file on the same day: what it leaves out, the report leaves out.
    e = scoring_service.explain_subject(s, ring, "1", ref="public-credit-enterprise", as_of=TODAY).as_dict()
    excluded = {r["id"]: r["reason"] for r in e["excluded_records"]}
    assert excluded[ids["ended"]] == "publication period ended"
    assert excluded[ids["future"]] == "not yet published on the as-of date"
    assert excluded[ids["repaired"]] == "repaired on the as-of date"
    shown = {r["id"] for rows in data.sections.values() for r in rows}
    assert not shown & set(excluded)
    assert {ids["in_force"], ids["older"], ids["oldest"], ids["court"]} <= shown
    expected = {title: [] for title in report_service.SECTIONS}  # type: dict[str, list[int]]
    for r in f.records:
        if r["data_class"] in report_service.REPORT_CLASSES and r["status"] == "active" and r["is_current"] and (
                r["published_until"] is None or r["published_until"] >= TODAY.isoformat()) and (
                r["published_from"] is None or r["published_from"] <= TODAY.isoformat()):
            expected[report_service.section_of(r)].append(r["id"])
    assert {t: [r["id"] for r in rows] for t, rows in data.sections.items()} == expected
    if "postgres" in county.url:
        return  # the PDF's content is the same on both stores; its text is checked once
    sections = _sections(_pdf_text(report_service.render_pdf(data, "https://x/verify/CR1")))
    by_id = {r["id"]: r for r in f.records}
    for title, rids in expected.items():
        for rid in rids:
            r = by_id[rid]
            cell = _flat(r["document_no"] or r["grade"] or r["value"] or r["text"] or "—")[:12]
            assert cell in sections[title], (title, rid)
            assert r["occurred_on"].replace("-", "")[:6] in sections[title].replace("-", "")
    for rid in (ids["ended"], ids["future"], ids["repaired"]):
        assert _flat(by_id[rid]["document_no"]) not in "".join(sections.values())
    admin = sections["行政管理"]
    assert "市场监督管理局" in admin and "生态环境" in admin  # departments by name
    assert "有效" in admin and "2028-11-04" in admin  # status label and publication end
    assert "market" not in admin and "active" not in admin
    assert "失信被执行人" in sections["司法判决"]


def test_the_report_speaks_labels_cst_and_whole_words(
        county: County, file_with_history: tuple[Session, KeyRing, dict[str, int]]) -> None:
    s, ring, _ids = file_with_history
    data = report_service.gather(s, ring, subject_id=1, actor="test", purpose="test")
    text = _pdf_text(report_service.render_pdf(data, "https://x/verify/CR1"))
    assert "environment" in text and "environ\n" not in text  # a Latin word never breaks in its middle
    assert "北京时间" in text and "UTC" not in text
    issued = clock.show(data.issued_at, "zh")
    assert issued in text and not re.search(r"\d{2}:\d{2}:\d{2}\.\d", text)
    assert "企业" in text and "enterprise" not in text  # the subject's kind by its label
    # The PostgreSQL county holds no scores (they come from the SQLite county's engine run):
    # no stored score, no explanation section.
    assert ("评分说明" in text) == bool(data.scores) and "law_abiding" not in text and "›" not in text
    assert data.scores or "postgres" in county.url
    # The hostile document number is printed as written, and the report still builds.
    assert _flat(HOSTILE_DOC.replace("‮", "").replace("‬", ""))[:20] in _flat(text)


def test_sentences_in_both_languages_with_rounding_decay_and_the_double_count_note(
        county: County, file_with_history: tuple[Session, KeyRing, dict[str, int]]) -> None:
    s, ring, ids = file_with_history
    e = scoring_service.explain_subject(s, ring, "1", ref="public-credit-enterprise", as_of=TODAY).as_dict()
    _row, model = scoring_service.get(s, "public-credit-enterprise")
    zh = narrative.narrate(s, e, model, "zh")
    en = narrative.narrate(s, e, model, "en")
    general = {lang: next(i for i in x["items"] if i["code"] == "general") for lang, x in (("zh", zh), ("en", en))}
    exact = Decimal(general["zh"]["input"]["sum"])
    assert exact != exact.quantize(Decimal("0.1"))  # three decimals: the display must round
    lost = narrative.shown(abs(exact))
    assert f"共扣 {lost} 分" in general["zh"]["sentence"] and "记录越久远扣分越少" in general["zh"]["sentence"]
    assert "产品质量抽检不合格" in general["zh"]["sentence"] and "市场监督管理局" in general["zh"]["sentence"]
    assert HOSTILE_DOC in general["zh"]["sentence"]  # data passes unharmed (the template escapes it)
    assert f"3 records in the last 3 years cost {lost} points" in general["en"]["sentence"]
    assert "each counts less as it ages" in general["en"]["sentence"]
    assert "Product quality spot-check failure of 2025-11-04" in general["en"]["sentence"]
    for x in (zh, en):
        for it in x["items"]:
            assert not re.search(r"\d\.\d{2}", it["sentence"]), it["sentence"]  # one decimal when shown
            assert re.fullmatch(r"[−+]?\d+\.\d", it["points_display"])
        assert e["items"][0]["points"] == x["items"][0]["points"]  # exact value kept beside the words
    # Oldest penalties count less: the points of each record grow in magnitude with recency.
    recs = sorted(general["zh"]["records"], key=lambda r: r["occurred_on"])
    assert [abs(Decimal(r["points"])) for r in recs] == sorted(abs(Decimal(r["points"])) for r in recs)
    # The court record counts under serious violations and under court enforcement: said so, in words.
    note_zh = next(n for n in zh["notes"] if "失信被执行人" in n)
    assert "严重失信(近三年)" in note_zh and "法院执行" in note_zh and "按严重程度（严重）" in note_zh
    note_en = next(n for n in en["notes"] if "Dishonest judgement debtor" in n)
    assert "Serious violations (last 3 years)" in note_en and "Court enforcement" in note_en
    assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"\(.*?执.*?号\)", "", note_en))
    # English text carries no Chinese words of the product (data values aside).
    for it in en["items"]:
        text = it["sentence"]
        for r in it["records"]:
            text = text.replace(r["document_no"] or "", "")
        assert not re.search(r"[\u4e00-\u9fff]", text), text
    # The waterfall starts at the model's base (full marks), loses per dimension, ends at the score.
    w = zh["waterfall"]
    assert w["base"] == 100.0 and w["labels"]["base"] == "满分" and en["waterfall"]["labels"]["base"] == "full marks"
    assert all(st["value"] <= 0 for st in w["steps"]) and w["steps"][0]["name"] == "基础信息"
    total = Decimal(str(w["base"])) + sum(Decimal(st["exact"]) for st in w["steps"])
    assert abs(total - Decimal(e["score"])) < Decimal("0.05")


def _qr_payload(pdf: bytes) -> list[str]:
    """The text of the QR code drawn on the report's first page: its modules are drawn
    as rectangles one module high, redrawn here as an image and decoded."""
    r = PdfReader(io.BytesIO(pdf))
    ops = ContentStream(r.pages[0].get_contents(), r).operations
    rects = [tuple(float(v) for v in args) for args, op in ops if op == b"re"]
    m = Counter(round(h, 3) for _x, _y, w, h in rects if w > 0 and h > 0).most_common(1)[0][0]
    mods = [(x, y, w, h) for x, y, w, h in rects if round(h, 3) == m and abs(w / m - round(w / m)) < 0.01]
    x0, y1 = min(x for x, *_ in mods), max(y + h for _x, y, _w, h in mods)
    width, height = max(x + w for x, _y, w, _h in mods) - x0, y1 - min(y for _x, y, *_ in mods)
    k, pad = 8 / m, 40
    img = Image.new("L", (int(width * k) + 2 * pad, int(height * k) + 2 * pad), 255)
    draw = ImageDraw.Draw(img)
    for x, y, w, h in mods:
        draw.rectangle([pad + (x - x0) * k, pad + (y1 - y - h) * k, pad + (x - x0 + w) * k - 1,
                        pad + (y1 - y) * k - 1], fill=0)
    return [b.text for b in zxingcpp.read_barcodes(img)]


def test_the_qr_code_points_at_the_configured_public_address(sqlite_county: County,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    c = client_for(sqlite_county)
    auth = {"Authorization": f"Bearer {sqlite_county.tokens['bank_officer']}"}
    r = c.get("/api/v1/subjects/1/report.pdf", headers=auth)
    assert _qr_payload(r.content) == [f"https://testserver/verify/{r.headers['x-report-serial']}"]  # unset: the request
    monkeypatch.setenv("CREDITGOV_PUBLIC_URL", "https://credit.example.gov.cn/")
    r = c.get("/api/v1/subjects/1/report.pdf", headers={**auth, "Host": "127.0.0.1:8000"})
    serial = r.headers["x-report-serial"]
    assert _qr_payload(r.content) == [f"https://credit.example.gov.cn/verify/{serial}"]
    text = _pdf_text(r.content)
    assert f"https://credit.example.gov.cn/verify/{serial}" in _flat(text) and "127.0.0.1" not in text
    assert "北京时间" in text and "UTC" not in text
    page = c.get(f"/verify/{serial}", headers={"accept": "text/html"}).text  # what the phone opens
    assert "北京时间" in page and "UTC" not in page
    monkeypatch.setenv("CREDITGOV_PUBLIC_URL", "javascript:alert(1)")
    with pytest.raises(ConfigError):  # a public address that is no web address is refused, never printed
        settings.public_url()


def test_cst_display_is_one_helper() -> None:
    moment = dt.datetime(2026, 11, 1, 17, 30, 5, 123456)  # stored: naive UTC
    assert clock.show(moment, "zh") == "2026-11-02 01:30 北京时间"
    assert clock.show(moment, "en", seconds=True) == "2026-11-02 01:30:05 CST"
    assert clock.show(moment.isoformat(), "zh", label=False) == "2026-11-02 01:30"
    assert clock.show(dt.date(2026, 11, 1)) == "2026-11-01" and clock.show(None) == "—"
