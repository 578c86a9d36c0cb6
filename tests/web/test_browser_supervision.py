"""Browser journeys through the risk-warning, inbox and supervision pages in Debian's
chromium against a real server: each role sees exactly its pages; the credit office
acknowledges an alert, makes a draw, opens and verifies it; an inspector records a
task's result and finds it in the credit file. The draw page's screenshot goes to
docs/screenshots/ for docs/web.md."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.security.scopes import PERMISSIONS, Role, Scope
from creditgov.subjects.models import Subject
from tests.api.county import ACCOUNTS
from tests.web.conftest import SCREENSHOTS, Server, sign_in

# Who reaches subject 1 (the county's alert and task are about it), by the accounts in
# tests/api/county.py: the grid worker's grid does not hold it.
REACHES_SUBJECT_1 = {"department_officer", "inspector", "bank_officer", "subject"}


def _pages(server: Server) -> list[tuple[str, str, int | None]]:
    c = server.county
    return [("/alerts", "alerts.read", None), (f"/alerts/{c.alert_id}", "alerts.read", 1),
            ("/inbox", "inbox.read", None), ("/supervision", "supervision.read", None),
            (f"/supervision/draws/{c.draw_id}", "supervision.read", None),
            (f"/supervision/tasks/{c.task_id}", "supervision.read", 1)]


def _expected(role: str, permission: str, subject: int | None) -> int:
    r = Role(role)
    if r not in PERMISSIONS[permission]:
        return 403
    if subject is not None and PERMISSIONS[permission][r] is not Scope.ALL and role not in REACHES_SUBJECT_1:
        return 404
    return 200


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_each_role_sees_exactly_its_supervision_pages(server: Server, browser: Any, role: str) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        sign_in(page, server.base, role)
        failures = []
        for path, permission, subject in _pages(server):
            resp = ctx.request.get(server.base + path, max_redirects=0)
            want = _expected(role, permission, subject)
            if resp.status != want:
                failures.append(f"{path}: want {want}, got {resp.status}")
        assert not failures, f"{role}:\n" + "\n".join(failures)
        page.goto(server.base + "/inbox", wait_until="domcontentloaded")
        links = set(page.eval_on_selector_all("nav.main a", "els => els.map(e => e.getAttribute('href'))"))
        for href, permission in (("/alerts", "alerts.read"), ("/inbox", "inbox.read"),
                                 ("/supervision", "supervision.read")):
            assert (href in links) == (Role(role) in PERMISSIONS[permission]), (role, href)
    finally:
        ctx.close()


def test_anonymous_visitors_are_sent_to_sign_in(server: Server, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(server.base + "/supervision")
        assert page.url.startswith(server.base + "/login?next=/supervision")
    finally:
        page.close()


def test_office_acknowledges_an_alert_then_draws_and_verifies(server: Server, browser: Any) -> None:
    aid = server.county.alert_id
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, server.base, "credit_office")
        # The alerts page: the county's alert, open; acknowledge it from the list.
        page.click("nav.main a[href='/alerts']")
        page.wait_for_selector(f"[data-testid=alert-row-{aid}]")
        assert page.inner_text(f"[data-testid=alert-status-{aid}]") == "待签收"
        page.click(f"[data-testid=ack-{aid}]")
        page.wait_for_load_state("domcontentloaded")
        assert page.url.startswith(server.base + "/alerts")
        assert page.inner_text(f"[data-testid=alert-status-{aid}]") == "已签收"
        # Its page: the history and where the notifications went.
        page.click(f"[data-testid=alert-row-{aid}] a >> nth=0")
        page.wait_for_selector("[data-testid=alert-events]")
        assert page.inner_text("[data-testid=alert-status]") == "已签收"
        ack = page.inner_text("[data-testid=event-acknowledged]")
        # who acknowledged it: the account by its display name, not its code
        assert "签收" in ack and "credit_office" in ack and "user:t-credit_office" not in ack
        deliveries = page.inner_text("[data-testid=notifications]")
        assert "部门 信用办" in deliveries and "已送达" in deliveries  # the recipient in words, not "department:credit"
        page.fill("[data-testid=comment-form] input[name=note]", "已通知网格员上门核实")
        page.click("[data-testid=comment-form] button")
        page.wait_for_selector("[data-testid=event-commented]")
        assert "已通知网格员上门核实" in page.inner_text("[data-testid=event-commented]")

        # A draw under the test policy with a published seed, opened and verified.
        page.click("nav.main a[href='/supervision']")
        page.wait_for_selector("[data-testid=draw-form]")
        page.select_option("[data-testid=draw-policy]", "every-enterprise")
        page.fill("[data-testid=draw-seed-input]", "31415926")
        page.click("[data-testid=draw-form] button[type=submit]")
        page.wait_for_selector("[data-testid=draw-seed]")
        assert "/supervision/draws/" in page.url
        assert page.inner_text("[data-testid=draw-seed]") == "31415926"
        # Every enterprise of the shared county is a candidate and drawn (ratio 1): the
        # county's one firm, plus any other browser test's firms made before this one.
        with db.session_scope(server.county.url) as s:
            firms = s.scalar(select(func.count()).select_from(Subject).where(Subject.kind == "enterprise"))
        assert firms and firms >= 1
        assert page.inner_text("[data-testid=draw-candidates]") == str(firms)
        assert page.inner_text("[data-testid=draw-drawn]") == str(firms)
        assert "长兴绿源纺织有限公司" in page.inner_text("[data-testid=draw-items]")
        page.click("[data-testid=verify]")
        page.wait_for_selector("[data-testid=verify-result]")
        assert "复核通过" in page.inner_text("[data-testid=verify-result]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "supervision-draw.png"), full_page=True)
        # The drawn subject's task, assigned to two inspectors.
        page.click("[data-testid=draw-task]")
        page.wait_for_selector("[data-testid=task-facts]")
        assert page.inner_text("[data-testid=task-status]") == "待检查"
        assert "MKT-0" in page.inner_text("[data-testid=task-facts]")
    finally:
        ctx.close()


def test_inspector_records_a_result_that_reaches_the_credit_file(server: Server, browser: Any) -> None:
    tid = server.county.task_id
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, server.base, "inspector")
        page.click("nav.main a[href='/supervision']")
        page.wait_for_selector(f"[data-testid=task-row-{tid}]")
        page.click(f"[data-testid=task-row-{tid}] a >> nth=0")
        page.wait_for_selector("[data-testid=result-form]")
        # A problem without a description is refused, and nothing is recorded.
        page.select_option("[data-testid=result-outcome]", "problems")
        page.click("[data-testid=result-form] button[type=submit]")
        page.wait_for_selector("[data-testid=error]")
        said = page.inner_text("[data-testid=error]")  # in Chinese, not the service's English
        assert "发现问题须填写问题描述。" in said and "description" not in said
        assert page.inner_text("[data-testid=task-status]") == "待检查"
        assert page.input_value("[data-testid=result-outcome]") == "problems"  # the form keeps what was chosen
        page.fill("[data-testid=result-finding]", "未按规定公示年度报告")
        page.click("[data-testid=result-form] button[type=submit]")
        page.wait_for_selector("[data-testid=flash]")
        assert page.inner_text("[data-testid=task-status]") == "已完成"
        assert page.inner_text("[data-testid=task-outcome]") == "发现问题"
        record = page.inner_text("[data-testid=task-record]")
        assert f"MARKET-JC-{tid}" in record and "双随机抽查发现问题" in record and "market.inspection_problem" not in record
        # The closed loop: the result is a record in the firm's credit file.
        page.goto(server.base + "/subjects/1")
        page.wait_for_selector("[data-testid=records]")
        records = page.inner_text("[data-testid=records]")
        assert f"MARKET-JC-{tid}" in records and "双随机抽查发现问题" in records
        # And the same page in English.
        page.goto(server.base + f"/lang/en?next=/supervision/tasks/{tid}")
        page.wait_for_selector("[data-testid=task-facts]")
        assert page.inner_text("[data-testid=task-status]") == "Done"
        assert "Inspection task" in page.inner_text("h1")
    finally:
        ctx.close()
