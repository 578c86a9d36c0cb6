"""Data requests in Debian's chromium against a real `creditgov serve` (issue 19): the
credit office files a request for an item the market department has never supplied,
the department's officer approves it with a reason on its own page, and the next
ingest accepts the item — the row quarantined before the approval comes back on
retry, and a new file of the item goes straight in. The page in English too.

Its own server over its own small county (built without evaluations): approving an
item and ingesting records would change the shared county the other browser tests read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import QuarantinedRow
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import load_key_file
from tests.api.county import build
from tests.web.conftest import COUNTIES, Server, serving, sign_in

REASON = '同意归集 <b>"消费投诉"</b> 😀'
SPEC = """\
name: market_complaints
version: "1"
department: market
kind: records
file: "market_complaints*.csv"
format: csv
columns: {uscc: 统一社会信用代码, name: 名称, occurred_on: 投诉日期, document_no: 编号}
item: market.complaint
items: [market.complaint]
natural_key: [document_no]
"""


@pytest.fixture(scope="module")
def office_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("office-county")
    county = build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key", evaluate=False)
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(county.key_file), "CREDITGOV_TODAY": "2026-11-01"}
    with serving(county.url, env, tmp / "serve.log") as base:
        COUNTIES[base] = county
        yield Server(base, county)


def _complaints(folder: Path, name: str, rows: list[str]) -> Path:
    (folder / "market_complaints.yaml").write_text(SPEC, "utf-8")
    (folder / name).write_text("统一社会信用代码,名称,投诉日期,编号\n" + "\n".join(rows) + "\n", "utf-8")
    return folder / "market_complaints.yaml"


def test_a_department_approves_and_the_next_ingest_accepts(office_server: Server, browser: Any,
                                                            tmp_path: Path) -> None:
    url, ring = office_server.county.url, load_key_file(office_server.county.key_file)
    spec = _complaints(tmp_path, "market_complaints_1.csv", ["91330522MA2B00010N,长兴织造有限公司,2026-05-01,TS-1"])
    before = ingest_service.ingest_paths(url, ring, [spec], actor="test")
    assert before.counts.accepted == 0 and before.counts.rejected == 1
    office = browser.new_context(viewport={"width": 1366, "height": 900})
    desk = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = office.new_page()
        sign_in(page, office_server.base, "credit_office")
        page.click("nav.main a[href='/data-requests']")
        page.select_option("[data-testid=department]", "market")
        page.click("[data-testid=choose-department] button[type=submit]")
        assert page.locator("[data-testid='item-market.penalty']").is_disabled()  # already approved
        page.check("[data-testid='item-market.complaint']")
        page.fill("[data-testid=legal-basis]", "《社会信用体系建设条例》第十二条")
        page.fill("[data-testid=purpose]", "消费投诉纳入信用档案")
        page.select_option("[data-testid=frequency]", "weekly")
        page.click("[data-testid=file-request]")
        page.wait_for_selector("[data-testid=flash]")
        form_url = page.url.split("?")[0]
        assert "待审批" in page.inner_text("[data-testid=request-items]")

        dept = desk.new_page()
        sign_in(dept, office_server.base, "department_officer")
        dept.click("nav.main a[href='/data-requests']")
        dept.click(f"a[href='{form_url.removeprefix(office_server.base)}']")
        rid = dept.locator("[data-testid^=decide-]").first.get_attribute("data-testid").removeprefix("decide-")
        dept.click(f"[data-testid=approve-{rid}]")
        assert "/data-requests/" in dept.url and "done=" not in dept.url  # a reason is required first
        dept.fill(f"[data-testid=reason-{rid}]", REASON)
        dept.click(f"[data-testid=approve-{rid}]")
        dept.wait_for_selector("[data-testid=flash]")
        assert dept.inner_text(f"[data-testid=status-{rid}]") == "已批准"
        assert REASON in dept.inner_text("[data-testid=request-history]")  # shown as text, not markup

        page.goto(form_url)
        assert page.inner_text(f"[data-testid=status-{rid}]") == "已批准"
        assert page.locator("[data-testid^=decide-]").count() == 0  # the office cannot decide
        # the same page in English
        office.add_cookies([{"name": "cg_lang", "value": "en", "url": office_server.base}])
        page.goto(form_url)
        assert "Data requests" in page.inner_text("h1") and page.inner_text(f"[data-testid=status-{rid}]") == "Approved"
    finally:
        office.close()
        desk.close()

    # the next ingest accepts the item: the quarantined row on retry, a new file at once
    retried = ingest_service.retry(url, ring, source="market_complaints", actor="test")
    assert retried.counts.accepted == 1
    _complaints(tmp_path, "market_complaints_2.csv", ["91330522MA2B00010N,长兴织造有限公司,2026-06-01,TS-2"])
    after = ingest_service.ingest_paths(url, ring, [spec], actor="test")
    assert after.counts.accepted == 1 and after.counts.rejected == 0
    with db.session_scope(url) as s:
        docs = sorted(d for (d,) in s.execute(select(CreditRecord.document_no)
                                              .where(CreditRecord.item_code == "market.complaint")))
        assert docs == ["TS-1", "TS-2"]
        assert s.execute(select(QuarantinedRow.status).where(QuarantinedRow.source == "market_complaints")
                         ).scalar_one() == "resolved"


def test_the_lists_export_opens_in_openpyxl_and_matches_the_page(office_server: Server, browser: Any,
                                                                 tmp_path: Path) -> None:
    from openpyxl import load_workbook

    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    try:
        page = ctx.new_page()
        sign_in(page, office_server.base, "credit_office")
        page.goto(office_server.base + "/lists")
        table = page.locator("table").nth(1)
        shown = [[c.strip() for c in row.locator("td").all_inner_texts()]
                 for row in table.locator("tr").all() if row.locator("td").count() == 8]
        assert shown, "the county has a list entry"
        with page.expect_download() as dl:
            page.click("[data-testid=export-xlsx]")
        path = tmp_path / "lists.xlsx"
        dl.value.save_as(path)
        ws = load_workbook(path, read_only=True).active
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
        # the page's columns, in the page's order, are the export's (which adds the subject's
        # number and credit code)
        cols = [rows[0].index(h) for h in ("编号", "名单", "主体", "状态", "认定单位", "公示日", "到期日", "文号")]
        assert [[r[i] for i in cols] for r in rows[1:1 + len(shown)]] == shown
        with page.expect_download() as dl:
            page.click("[data-testid=export-csv]")
        text = Path(dl.value.path()).read_bytes().decode("utf-8-sig").splitlines()
        assert text[0] == ",".join(rows[0]) and len(text) == len(rows)
    finally:
        ctx.close()


def test_a_manual_record_approved_by_a_second_officer(office_server: Server, browser: Any, tmp_path: Path) -> None:
    """The market department's officer enters a penalty by hand with its decision as
    evidence; the credit office approves it; it is in the firm's credit file, and
    `creditgov ingest trace` shows it came through the pipeline."""
    import json

    from creditgov.subjects.models import Subject

    url = office_server.county.url
    with db.session_scope(url) as s:
        firm = s.execute(select(Subject).where(Subject.uscc == "91330522MA2B00010N")).scalar_one().id
    evidence = tmp_path / "行政处罚决定书.pdf"
    evidence.write_bytes(b"%PDF-1.4 decision")
    dept_ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    office_ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        dept = dept_ctx.new_page()
        sign_in(dept, office_server.base, "department_officer")
        dept.click("nav.main a[href='/entries']")
        values = {"identifier": "91330522MA2B00010N", "name": "长兴织造有限公司", "item": "market.penalty",
                  "occurred_on": "2026-06-02", "decided_on": "2026-06-09", "value": "5000",
                  "text": REASON, "document_no": "长市监罚〔2026〕77号"}
        for k, v in values.items():
            dept.fill(f"[data-testid=entry-{k}]", v)
        dept.fill("[data-testid=entry-reason]", "现场检查当场作出处罚，系统未同步")
        # A mistyped item is refused in words, and the form comes back as it was typed.
        dept.fill("[data-testid=entry-item]", "<b>market.penalti</b>")
        dept.click("[data-testid=entry-submit]")
        dept.wait_for_selector("[data-testid=error]")
        assert dept.inner_text("[data-testid=error]") == "数据目录中没有名称或编码为“<b>market.penalti</b>”的信息目录项，请从列表中选择。"
        assert dept.input_value("[data-testid=entry-reason]") == "现场检查当场作出处罚，系统未同步"
        assert dept.input_value("[data-testid=entry-text]") == REASON
        dept.fill("[data-testid=entry-item]", "market.penalty")
        dept.set_input_files("[data-testid=entry-evidence]", str(evidence))
        dept.click("[data-testid=entry-submit]")
        dept.wait_for_selector("[data-testid=flash]")
        row = dept.locator("[data-testid^=entry-status-]").first
        eid = row.get_attribute("data-testid").removeprefix("entry-status-")
        assert row.inner_text().startswith("待审核") and "行政处罚决定书.pdf" in dept.inner_text("[data-testid=entries]")
        assert dept.locator(f"[data-testid=approve-entry-{eid}]").count() == 0  # not by the one who entered it

        office = office_ctx.new_page()
        sign_in(office, office_server.base, "credit_office")
        office.goto(office_server.base + "/entries")
        office.click(f"[data-testid=approve-entry-{eid}]")
        office.wait_for_selector("[data-testid=flash]")
        status = office.inner_text(f"[data-testid=entry-status-{eid}]")
        assert status.startswith("已通过")
        record_id = int(status.rsplit(" ", 1)[-1])
        office.goto(f"{office_server.base}/subjects/{firm}")
        assert "长市监罚〔2026〕77号" in office.inner_text("body")
    finally:
        dept_ctx.close()
        office_ctx.close()
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(office_server.county.key_file), "CREDITGOV_TODAY": "2026-11-01"}
    res = subprocess.run([sys.executable, "-m", "creditgov.cli", "--db", url, "ingest", "trace", str(record_id), "--json"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    tr = json.loads(res.stdout)
    assert "manual_market" in res.stdout and tr
