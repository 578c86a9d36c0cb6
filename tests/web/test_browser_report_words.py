"""A grid worker of the demo county reads, in words, why a firm of its grid lost points,
downloads the firm's credit report in English from the page in English, and the
report's QR code opens the verification page at the configured public address
(issue 21).

The demo county (1,000 subjects, built as `make demo` builds its own) is served twice:
the second server has `CREDITGOV_PUBLIC_URL` set to the first one's address, so the
report is downloaded from one address and its QR code names the other, which the
browser then opens."""

from __future__ import annotations

import os
import re
from typing import Any

import sqlalchemy as sa

from creditgov.core import db
from tests.api.test_report_words import _pdf_text, _qr_payload
from tests.web.conftest import serving
from tests.web.plain_county import build

# A firm of the grid with a score and a negative record: what the grid worker is asked about.
_FIRM = sa.text("""
SELECT s.id FROM subjects s JOIN regions g ON g.id = s.region_id
JOIN regions mine ON mine.code = :grid
WHERE s.kind = 'enterprise' AND g.path LIKE mine.path || '%'
  AND EXISTS (SELECT 1 FROM evaluation_scores e WHERE e.subject_id = s.id)
  AND EXISTS (SELECT 1 FROM credit_records r JOIN catalog_items i ON i.code = r.item_code
              WHERE r.subject_id = s.id AND i.polarity = 'negative' AND r.status = 'active')
ORDER BY s.id LIMIT 20
""")


def test_a_grid_worker_reads_why_and_the_report_verifies_at_the_public_address(
        browser: Any, tmp_path_factory: Any) -> None:
    tmp = tmp_path_factory.mktemp("grid-report")
    demo = build(tmp, subjects=1000)
    acc = demo.accounts["grid_worker"]
    with db.engine_for(demo.url).connect() as c:
        firms = list(c.execute(_FIRM, {"grid": acc["scope"].split("=")[1]}).scalars())
    assert firms, "the demo grid holds scored firms with negative records"
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(demo.key_file), "CREDITGOV_TODAY": "2026-11-01",
           "CREDITGOV_PUBLIC_RATE": "100000/60"}
    with serving(demo.url, env, tmp / "public.log") as public, \
            serving(demo.url, {**env, "CREDITGOV_PUBLIC_URL": public}, tmp / "office.log") as base:
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
        page = ctx.new_page()
        try:
            page.goto(base + "/login")
            page.fill("input[name=username]", acc["username"])
            page.fill("input[name=password]", acc["password"])
            page.click("button[type=submit]")
            page.wait_for_load_state("domcontentloaded")
            assert "/login" not in page.url
            for firm in firms:  # the first whose records in force cost it points
                page.goto(f"{base}/subjects/{firm}")
                page.wait_for_selector("[data-testid=explain-summary]")
                sentences = page.locator("[data-testid=explain-sentence]").all_inner_texts()
                if any("共扣" in s for s in sentences):
                    break
            else:
                raise AssertionError("no firm of the grid lost points for a record")
            summary = page.inner_text("[data-testid=explain-summary]")
            assert re.search(r"得分 \d+(\.\d+)?", summary) and len(sentences) > 5
            # Points said in sentences, one decimal, no codes or JSON; the losses named.
            assert not any(re.search(r"[{}]|law_abiding|›|\d\.\d{3}", s) for s in sentences), sentences
            # The page in English, and the report downloaded from it in English.
            page.goto(f"{base}/lang/en?next=/subjects/{firm}")
            page.wait_for_selector("[data-testid=explain-summary]")
            english = " ".join(page.locator("[data-testid=explain-sentence]").all_inner_texts())
            assert re.search(r"cost \d+\.\d points", english), english[:300]
            with page.expect_download() as dl:
                page.click("[data-testid=report-link]")
            with open(dl.value.path(), "rb") as fh:
                pdf = fh.read()
            serial = dl.value.suggested_filename.removesuffix(".pdf")
            assert "1. Administrative management" in _pdf_text(pdf)
            qr = _qr_payload(pdf)
            assert qr == [f"{public}/verify/{serial}"] and public != base
            page.goto(qr[0])  # what a bank's phone opens
            assert serial in page.inner_text("[data-testid=verify-ok]")
        finally:
            ctx.close()
