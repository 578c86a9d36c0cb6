"""A list batch's notices printed as one PDF from the documents page, in Debian's
chromium against a real server: the office chooses the list and the day and presses
the button; the download is one PDF holding every entry's notice, each with its own
serial, and a hostile name prints as written."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from creditgov.core import db
from creditgov.lists import service as lists_service
from tests.lists.helpers import make_subject
from tests.web.conftest import Server, sign_in

NAMES = ['"><img src=x> 浏览器恶意商行', "O'Brien & <b>Sons</b> 文书测试有限公司"]


def test_the_office_prints_a_batch_of_notices(server: Server, browser: Any) -> None:
    with db.session_scope(server.county.url) as s:
        ids = []
        for name in NAMES:
            subj = make_subject(s, name=name)
            e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=subj.id, criterion="manual",
                                      basis="浏览器测试认定", decision_no=f"B-{subj.id}")
            lists_service.notify(s, entry_id=e.id)
            ids.append(e.id)
            day = e.notified_on
    ctx = browser.new_context(accept_downloads=True)
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "credit_office")
        page.goto(server.base + "/documents")
        page.select_option("[data-testid=documents-list]", "serious-dishonesty")
        page.fill("[data-testid=documents-on]", day.isoformat())
        with page.expect_download() as dl:
            page.click("[data-testid=documents-print]")
        pdf = open(dl.value.path(), "rb").read()  # noqa: SIM115 - read once
    finally:
        ctx.close()
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    serials = {m for t in pages for m in re.findall(r"WS\d{8}-[0-9A-F]{12}", t)}
    assert len(serials) >= len(ids)                     # one document per entry of the batch (others that day too)
    text = re.sub(r"\s+", "", "".join(pages))
    for name in NAMES:
        assert re.sub(r"\s+", "", name) in text
