"""A complaint from the public page answered within its deadline, in Debian's chromium
against a real server: an anonymous visitor files it (hostile text included) and keeps
its number and query code; the credit office assigns it to the market department; the
department's officer answers it; the visitor reads the answer, marked on time, with the
number and code, and the office's statistics count it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from creditgov.complaints import service
from creditgov.complaints.models import Complaint
from creditgov.core import db
from tests.web.conftest import SCREENSHOTS, Server, sign_in

HOSTILE = '"><script>alert(1)</script> O\'Brien 😀'


def test_a_public_complaint_is_answered_within_its_deadline(server: Server, browser: Any) -> None:
    visitor, office, dept = browser.new_context(), browser.new_context(), browser.new_context()
    dialogs: list[str] = []
    try:
        page = visitor.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.base + "/public/complaints/new")
        assert "/login" not in page.url
        page.select_option("[data-testid=complaint-category]", "fraud")
        page.fill("[data-testid=complaint-respondent]", "浏览器测试商行 " + HOSTILE)
        page.fill("[data-testid=complaint-content]", "宣传与实际不符。" + HOSTILE)
        page.click("[data-testid=complaint-submit]")
        page.wait_for_selector("[data-testid=complaint-received]")
        number = page.inner_text("[data-testid=complaint-number]").strip()
        code = page.inner_text("[data-testid=complaint-query-code]").strip()
        due = page.inner_text("[data-testid=complaint-due]").strip()
        with db.session_scope(server.county.url) as s:
            cid = s.execute(select(Complaint.id).where(Complaint.number == number)).scalar_one()
            assert service.get(s, cid).due_on.isoformat() == due

        o = office.new_page()
        sign_in(o, server.base, "credit_office")
        o.goto(server.base + "/complaints")
        o.click(f"text={number}")
        assert HOSTILE in o.inner_text("[data-testid=complaint-respondent]")
        o.select_option("[data-testid=assign-department]", "market")
        o.click("[data-testid=assign-submit]")
        o.wait_for_url(lambda u: "done=assigned" in u)
        assert o.inner_text("[data-testid=complaint-department]").strip() != ""

        d = dept.new_page()
        sign_in(d, server.base, "department_officer")
        d.goto(server.base + "/complaints")
        d.click(f"text={number}")
        d.select_option("[data-testid=reply-outcome]", "substantiated")
        d.fill("[data-testid=reply-text]", "经查属实，已责令整改并退还差价。" + HOSTILE)
        d.click("[data-testid=reply-submit]")
        d.wait_for_url(lambda u: "done=replied" in u)
        assert "按期答复" in d.inner_text("[data-testid=complaint-outcome]")

        page.goto(server.base + "/public/complaints/status")
        page.fill("[data-testid=status-number]", number)
        page.fill("[data-testid=status-code]", code)
        page.click("[data-testid=status-form] button[type=submit]")
        page.wait_for_selector("[data-testid=status-result]")
        assert page.inner_text("[data-testid=status-outcome]") == "经查属实"
        assert HOSTILE in page.inner_text("[data-testid=status-reply]")
        assert "按期答复" in page.inner_text("[data-testid=status-result]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "complaint-answered.png"), full_page=True)

        o.goto(server.base + "/complaints")
        stats = o.inner_text("[data-testid=complaint-stats]")
        assert "100.0%" in stats
        assert dialogs == []                                   # the hostile text never ran
    finally:
        visitor.close()
        office.close()
        dept.close()
