"""The credit code in the credit report: the PDF's local section carries a QR of a
fresh code, which is read back from the page and verifies."""

from __future__ import annotations

import io
from collections import Counter

import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import ContentStream

from creditgov.codes import service
from creditgov.core import db
from creditgov.reports import service as report_service
from creditgov.security.crypto import KeyRing
from tests.codes.helpers import graded_firm, region_key


def _qr_texts(reader: PdfReader, page_no: int) -> list[str]:
    """The QR symbols drawn on a page (modules drawn as rectangles, most of one
    height: the largest symbol's), redrawn as an image and decoded."""
    ops = ContentStream(reader.pages[page_no].get_contents(), reader).operations
    rects = [tuple(float(v) for v in args) for args, op in ops if op == b"re"]
    m = Counter(round(h, 3) for _x, _y, w, h in rects if w > 0 and h > 0).most_common(1)[0][0]
    mods = [(x, y, w, h) for x, y, w, h in rects if round(h, 3) == m and abs(w / m - round(w / m)) < 0.01]
    x0, y1 = min(x for x, *_ in mods), max(y + h for _x, y, _w, h in mods)
    width, height = max(x + w for x, _y, w, _h in mods) - x0, y1 - min(y for _x, y, *_ in mods)
    k, pad = 6 / m, 40
    img = Image.new("L", (int(width * k) + 2 * pad, int(height * k) + 2 * pad), 255)
    draw = ImageDraw.Draw(img)
    for x, y, w, h in mods:
        draw.rectangle([pad + (x - x0) * k, pad + (y1 - y - h) * k, pad + (x - x0 + w) * k - 1,
                        pad + (y1 - y) * k - 1], fill=0)
    return [b.text for b in zxingcpp.read_barcodes(img)]


def test_the_report_carries_a_fresh_code(county: str, keyring: KeyRing) -> None:
    sid, _ = graded_firm(county)
    with db.session_scope(county) as s:  # no signing key yet: no code, and the report still works
        pdf, _row = report_service.issue(s, keyring, subject_id=sid, actor="test", purpose="test",
                                         verify_base="https://testserver/verify")
    assert "信用码" not in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    region_key(county, keyring, "330522", "长兴县")
    with db.session_scope(county) as s:
        pdf, _row = report_service.issue(s, keyring, subject_id=sid, actor="test", purpose="test",
                                         verify_base="https://testserver/verify")
    reader = PdfReader(io.BytesIO(pdf))
    page = next(n for n, p in enumerate(reader.pages) if "信用码" in p.extract_text())
    texts = [t for t in _qr_texts(reader, page) if t.startswith("CGV1:")]
    assert len(texts) == 1
    with db.session_scope(county) as s:
        out = service.verify(s, texts[0])
    assert out["status"] == "valid" and out["states"]["code_id"] in reader.pages[page].extract_text()
