"""Objection and repair in Debian's chromium against a real server: a firm signs in and
lands on its own view (我的信用), files an objection against one of its records with an
evidence file, and the market department's officer finds the case in its queue and
decides it; the firm then sees the record back in force and the decision in its
messages. The firm signs its credit-repair commitment on its own view, the text shown;
the credit office files an objection at its window for a firm that came in. The own
view's screenshot goes to docs/screenshots/ for docs/web.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from creditgov.commitments.models import Commitment
from creditgov.core import db
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.subjects.models import Subject
from creditgov.workflows.models import Objection
from tests.web.conftest import SCREENSHOTS, Server, sign_in

SERIOUS_PENALTY = "长市监罚〔2024〕9号"  # subject 1's serious market penalty (tests/api/county_workflows.py)


def test_a_firm_objects_on_its_own_view_and_the_department_decides(server: Server, browser: Any,
                                                                    tmp_path: Path) -> None:
    firm = browser.new_context(viewport={"width": 1366, "height": 900})
    officer = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    try:
        page = firm.new_page()
        sign_in(page, server.base, "subject")
        assert page.url == server.base + "/me/credit"  # a subject lands on its own view
        assert "长兴绿源纺织有限公司" in page.inner_text("[data-testid=own-name]")
        assert "/me/credit" in page.eval_on_selector_all("nav.main a", "els => els.map(e => e.getAttribute('href'))")
        # the county's cases: an objection decided by the market department, a repair refused at the counter
        assert "维持" in page.inner_text("[data-testid=own-objections]")
        assert "不符合条件" in page.inner_text("[data-testid=own-repairs]")
        row = page.locator("[data-testid^=record-]", has_text=SERIOUS_PENALTY)
        record_id = row.get_attribute("data-testid").removeprefix("record-")
        assert "有效" in row.locator("[data-testid=record-status]").inner_text()
        # its repair: not eligible yet, and why
        page.click(f"[data-testid=repair-{record_id}] summary")
        assert "暂不符合条件" in page.inner_text(f"[data-testid=repair-{record_id}]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "my-credit.png"), full_page=True)

        # file an objection against the serious penalty, with an evidence file
        evidence = tmp_path / "行政复议决定书.pdf"
        evidence.write_bytes(b"%PDF-1.4 administrative reconsideration decision")
        page.click(f"[data-testid=object-{record_id}] summary")
        form = page.locator(f"[data-testid=objection-form-{record_id}]")
        form.locator("[data-testid=objection-reason]").fill("该处罚已被行政复议决定撤销")
        form.locator("input[type=file]").set_input_files(str(evidence))
        form.locator("[data-testid=objection-submit]").click()
        page.wait_for_selector("[data-testid=flash]")
        case_url = page.url.split("?")[0]
        objection_id = case_url.rsplit("/", 1)[1]
        assert "异议中" in page.inner_text("[data-testid=record-status]")
        assert "待处理" in page.inner_text("[data-testid=objection-status]")
        assert "行政复议决定书.pdf" in page.inner_text("[data-testid=materials]")

        # the market department's officer finds it in the queue and decides
        desk = officer.new_page()
        sign_in(desk, server.base, "department_officer")
        desk.click("nav.main a[href='/objections']")
        desk.wait_for_selector(f"[data-testid=objection-{objection_id}]")
        assert "长兴绿源纺织有限公司" in desk.inner_text(f"[data-testid=objection-{objection_id}]")
        desk.click(f"[data-testid=objection-{objection_id}] a[href='/objections/{objection_id}']")
        desk.wait_for_selector("[data-testid=decide-form]")
        # the evidence opens for the department (the read is audited)
        with desk.expect_download() as dl:
            desk.click("[data-testid=materials] a")
        with open(dl.value.path(), "rb") as fh:
            assert fh.read() == evidence.read_bytes()
        desk.select_option("[data-testid=decide-outcome]", "upheld")
        desk.fill("[data-testid=decide-reason]", "经核对，复议决定撤销的是另一份处罚，本记录无误")
        desk.click("[data-testid=decide-submit]")
        desk.wait_for_selector("[data-testid=flash]")
        assert "维持" in desk.inner_text("[data-testid=objection-outcome]")
        assert "有效" in desk.inner_text("[data-testid=record-status]")

        # the firm sees the record back in force and the decision in its messages
        page.goto(server.base + "/me/credit")
        row = page.locator(f"[data-testid=record-{record_id}]")
        assert "有效" in row.locator("[data-testid=record-status]").inner_text()
        assert f"异议 {objection_id} 处理结果: 维持" in page.inner_text("[data-testid=own-inbox]")
    finally:
        firm.close()
        officer.close()


def test_a_firm_signs_its_credit_repair_commitment_on_its_own_view(server: Server, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "subject")
        row = page.locator("[data-testid^=record-]", has_text=SERIOUS_PENALTY)
        record_id = row.get_attribute("data-testid").removeprefix("record-")
        page.click(f"[data-testid=repair-{record_id}] summary")
        conditions = page.locator(f"[data-testid=conditions-{record_id}]")
        assert "未满足" in conditions.locator("[data-testid=condition-commitment] [data-testid=condition-state]"
                                            ).inner_text()
        # the commitment, its text shown before signing; agreeing is required
        card = page.locator("[data-testid=commitment]")
        text = card.locator("[data-testid=commitment-text]").inner_text()
        assert "本主体承诺" in text and "2027-11-01" in text  # one year from today, filled in
        card.locator("[data-testid=commitment-signer]").fill("法定代表人")
        card.locator("[data-testid=commitment-submit]").click()
        assert page.url.startswith(server.base + "/me/credit") and "done=" not in page.url  # the browser held it back
        card.locator("[data-testid=commitment-agree]").check()
        card.locator("[data-testid=commitment-submit]").click()
        page.wait_for_selector("[data-testid=flash]")
        assert "信用修复承诺书已签署" in page.inner_text("[data-testid=flash]")
        assert page.locator("[data-testid=commitment]").count() == 0  # signed: nothing left to sign
        page.click(f"[data-testid=repair-{record_id}] summary")
        state = page.locator(f"[data-testid=conditions-{record_id}] [data-testid=condition-commitment]")
        assert "已满足 2026-11-01" in state.locator("[data-testid=condition-state]").inner_text()
        assert "法定代表人" in state.inner_text()
        # obligations are the market department's to confirm: still missing, so no application yet
        obligations = page.locator(f"[data-testid=conditions-{record_id}] [data-testid=condition-obligations-fulfilled]")
        assert "未满足" in obligations.inner_text() and "市场监督管理局" in obligations.inner_text()
        assert page.locator(f"[data-testid=repair-form-{record_id}]").count() == 0
        with db.session_scope(server.county.url) as s:
            signed = s.execute(select(Commitment).where(Commitment.subject_id == 1,
                                                        Commitment.type == "credit-repair")).scalars().all()
            assert [(c.signed_by, c.status, c.actor) for c in signed] == [("法定代表人", "signed", "user:t-subject")]
            assert signed[0].text == text
    finally:
        ctx.close()


def test_the_credit_office_files_an_objection_at_the_window(server: Server, browser: Any) -> None:
    """A merchant brings its penalty decision to the window: the office files the
    objection on its behalf by credit code and document number; the record is marked
    disputed at once. The merchant then withdraws it there, and it returns to force."""
    with db.session_scope(server.county.url) as s:
        uscc = s.get(Subject, 2).uscc  # type: ignore[union-attr]
        rec = s.execute(select(CreditRecord).where(CreditRecord.subject_id == 2, CreditRecord.status == "active",
                                                   CreditRecord.is_current.is_(True),
                                                   CreditRecord.document_no.is_not(None))
                        .order_by(CreditRecord.id).limit(1)).scalar_one()
        record_id, doc_no = rec.id, rec.document_no
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "credit_office")
        page.click("nav.main a[href='/objections']")
        page.click("[data-testid=window-file] summary")
        form = page.locator("[data-testid=window-objection-form]")
        form.locator("[data-testid=window-subject]").fill(uscc)
        form.locator("[data-testid=window-record]").fill(doc_no)
        form.locator("[data-testid=window-reason]").fill("当事人持决定书到窗口提出：处罚所涉经营场所不属本户")
        form.locator("[data-testid=window-submit]").click()
        page.wait_for_selector("[data-testid=flash]")
        objection_id = page.url.split("?")[0].rsplit("/", 1)[1]
        assert "窗口代为提出" in page.inner_text("[data-testid=objection-facts]")
        assert "异议中" in page.inner_text("[data-testid=record-status]")
        assert "待处理" in page.inner_text("[data-testid=objection-status]")
        page.goto(server.base + "/objections")
        assert "市场监督管理局" in page.inner_text(f"[data-testid=objection-{objection_id}]")

        page.goto(f"{server.base}/objections/{objection_id}")
        page.fill("[data-testid=withdraw-form] input[name=reason]", "当事人在窗口撤回")
        page.click("[data-testid=withdraw-form] button[type=submit]")
        page.wait_for_selector("[data-testid=flash]")
        assert "有效" in page.inner_text("[data-testid=record-status]")
        with db.session_scope(server.county.url) as s:
            o = s.get(Objection, int(objection_id))
            assert o is not None
            assert (o.subject_id, o.record_id, o.channel, o.filed_by, o.status) == \
                (2, record_id, "window", "user:t-credit_office", "withdrawn")
            changes = s.execute(select(RecordStatusChange.from_status, RecordStatusChange.to_status).where(
                RecordStatusChange.record_id == record_id).order_by(RecordStatusChange.id)).all()
            assert [tuple(c) for c in changes][-2:] == [("active", "disputed"), ("disputed", "active")]
    finally:
        ctx.close()
