"""The service-hall window in Debian's chromium against a real server: the credit
office signs in (with its second factor), a visitor types its credit code and its own
password on the counter, staff read the visitor's report, object to a record on its
behalf, and end the session; the audit chain names both at every step."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from creditgov.core import db
from creditgov.security import users
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject
from tests.api.county import build
from tests.web.conftest import COUNTIES, SCREENSHOTS, Server, serving, sign_in

PASSWORD = "visitor horse battery staple"


@pytest.fixture(scope="module")
def hall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A county of its own: the journey disputes a record, which other browser tests
    sharing the web folder's server must not see."""
    tmp = tmp_path_factory.mktemp("hall-county")
    county = build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key", evaluate=False)
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(county.key_file), "CREDITGOV_TODAY": "2026-11-01"}
    with serving(county.url, env, tmp / "serve.log") as base:
        COUNTIES[base] = county
        yield Server(base, county)


def test_staff_serve_a_visitor_at_the_window(hall_server: Server, browser: Any) -> None:
    with db.session_scope(hall_server.county.url) as s:
        users.create_user(s, username="hall-visitor", password=PASSWORD, role="subject", subject_id=2, actor="test")
        uscc = s.execute(select(Subject.uscc).where(Subject.id == 2)).scalar_one()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        sign_in(page, hall_server.base, "credit_office")
        page.goto(hall_server.base + "/hall")
        page.fill("[data-testid=hall-id]", uscc)
        page.fill("[data-testid=hall-password]", "not the password")
        page.click("[data-testid=hall-open-submit]")
        page.wait_for_selector("[data-testid=error]")
        page.fill("[data-testid=hall-password]", PASSWORD)
        page.fill("input[name=window]", "3号窗口")
        page.click("[data-testid=hall-open-submit]")
        page.wait_for_selector("[data-testid=hall-visitor]")
        assert "/hall/sessions/" in page.url
        summary = page.locator("details[data-testid^=hall-object-] summary").first
        record = summary.locator("xpath=ancestor::details").get_attribute("data-testid").split("-")[-1]
        summary.click()
        page.locator(f"[data-testid=hall-object-{record}] textarea").fill("处罚决定已被撤销，请更正。")
        page.locator(f"[data-testid=hall-object-{record}] [data-testid=hall-object-submit]").click()
        page.wait_for_selector("[data-testid=flash]")
        assert "异议" in page.inner_text(f"[data-testid=hall-record-{record}] [data-testid=hall-record-status]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "hall-window.png"), full_page=True)
        page.click("[data-testid=hall-end]")
        page.wait_for_selector("[data-testid=flash]")
        assert page.url.endswith("/hall?done=ended")
        assert "hall-visitor" not in page.content()
    finally:
        ctx.close()
    with db.session_scope(hall_server.county.url) as s:
        rows = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.detail)
                         .where(AuditEntry.action.like("hall.%")).order_by(AuditEntry.id)).all()
    assert [a for a, _, _ in rows] == ["hall.open", "hall.query", "hall.objection", "hall.query", "hall.end"]
    assert {(actor, json.loads(d)["visitor"]) for _, actor, d in rows} == {("user:t-credit_office", "hall-visitor")}
