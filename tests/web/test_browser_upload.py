"""A department officer sends its monthly file in Debian's chromium against a real
`creditgov serve` process: it signs in, chooses its source by name, picks the file and
sends it; the batch's page follows with the counts and each refused row's reason in
words, the file's name shown as sent (escaped). A file lacking the spec's columns is
refused on the form in words, and nothing of it is kept."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.ingest import service
from creditgov.ingest.models import Batch
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from tests import store_template
from tests.ingest.test_upload import penalties
from tests.web.conftest import serving

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
PASSWORD = "Vermilion-harbour-tide-92"
NAME = "<img src=x onerror=alert(1)> 三月处罚 “市场” O'Brien.csv"


@dataclass
class Served:
    base: str
    url: str
    files: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("upload-web")
    url = f"sqlite:///{tmp / 'creditgov.db'}"
    key = tmp / "creditgov.key"
    ring = create_key_file(key)
    store_template.fill(url)
    env = {**os.environ, "CREDITGOV_KEY_FILE": str(key), "CREDITGOV_TODAY": "2026-11-01",
           "CREDITGOV_FILES_DIR": str(tmp / "files")}
    old = os.environ.get("CREDITGOV_TODAY")
    os.environ["CREDITGOV_TODAY"] = "2026-11-01"
    try:
        service.ingest_paths(url, ring, [MINI], actor="test")
    finally:
        if old is None:
            os.environ.pop("CREDITGOV_TODAY", None)
        else:
            os.environ["CREDITGOV_TODAY"] = old
    with db.session_scope(url) as s:
        users.create_user(s, username="market", password=PASSWORD, role="department_officer",
                          department_code="market", actor="test")
    with serving(url, env, tmp / "serve.log") as base:
        yield Served(base, url, tmp / "files")


def _batches(url: str) -> int:
    with db.session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(Batch)).scalar_one())


def test_a_department_officer_sends_its_file_in_a_browser(served: Served, browser: Any, tmp_path: Path) -> None:
    good = tmp_path / NAME
    good.write_bytes(penalties(701))
    short = tmp_path / "short.csv"
    short.write_bytes("统一社会信用代码,当事人\n91330522MA2B00010N,长兴绿源纺织有限公司\n".encode("gb18030"))
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None)
        page.goto(served.base + "/login")
        page.fill("input[name=username]", "market")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
        page.goto(served.base + "/ingest")
        page.select_option("[data-testid=upload-spec]", "market_penalties")
        page.set_input_files("[data-testid=upload-file]", str(good))
        before = _batches(served.url)
        page.click("[data-testid=upload-submit]")
        page.wait_for_url(re.compile(r"/ingest/batches/\d+\?sent=1$"))
        assert _batches(served.url) == before + 1
        assert page.locator("h1 code").text_content() == NAME  # shown as sent, as text
        assert page.locator("h1 img").count() == 0
        counts = page.locator("[data-testid=batch-counts]").text_content() or ""
        assert "读取 5 行：接收 2，纠正 0，拒收 3" in counts
        assert page.locator("[data-testid^=quarantined-]").count() == 3
        assert "统一社会信用代码 91330522MA2B000100 校验位不正确" in (page.locator("[data-testid=quarantine]").text_content() or "")
        # A file lacking the spec's columns: refused on the form in words, nothing kept.
        page.goto(served.base + "/ingest")
        page.select_option("[data-testid=upload-spec]", "market_penalties")
        page.set_input_files("[data-testid=upload-file]", str(short))
        kept = sorted(p for p in (served.files / "ingest").rglob("*") if p.is_file())
        page.click("[data-testid=upload-submit]")
        page.wait_for_selector("[data-testid=upload-error]")
        said = page.locator("[data-testid=upload-error]").text_content() or ""
        assert said.startswith("文件“short.csv”缺少数据源规格要求的列：") and "决定书文号" in said
        assert _batches(served.url) == before + 1
        assert sorted(p for p in (served.files / "ingest").rglob("*") if p.is_file()) == kept
    finally:
        ctx.close()
    # The refusal's page is a 422, which the browser notes; nothing else went wrong.
    assert [e for e in errors if "status of 422" not in e] == [] and len(errors) == 1
