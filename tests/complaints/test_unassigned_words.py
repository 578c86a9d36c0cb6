"""The statistics' row of complaints no department holds yet says so (SQLite and
PostgreSQL): on the complaints page, in its CSV and Excel exports and on the command
line, in Chinese "尚未分派" and in English "Not yet assigned" — not "Received", which
is a column of the same table (the reviewer's row "Received, 1, 0, 0, 1, 0")."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from creditgov.api.app import create_app
from creditgov.complaints import service
from creditgov.complaints.schemas import ComplaintIn
from creditgov.core.db import session_scope
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web import i18n

WORDS = {"zh": ("尚未分派", "收到", "市场监督管理局"), "en": ("Not yet assigned", "Received", "Market Supervision Administration")}


@pytest.fixture
def site(store: str, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    key = tmp_path / "unassigned.key"
    kr = create_key_file(key)
    with session_scope(store) as s:
        first, _ = service.file_complaint(s, kr, ComplaintIn(category="quality", respondent_name="城东某餐馆",
                                                             content="就餐后腹泻，请求查处"), channel="counter",
                                          actor="test")
        service.file_complaint(s, kr, ComplaintIn(category="credit_work", respondent_name="县信用办",
                                                  content="办理指引不清楚"), channel="counter", actor="test")
        service.assign(s, first.id, department="market", actor="test")
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), head


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_unassigned_row_says_not_yet_assigned(site: tuple[TestClient, dict[str, str]], lang: str) -> None:
    client, head = site
    unassigned, received, market = WORDS[lang]
    client.cookies.set(i18n.LANG_COOKIE, lang)
    page = client.get("/complaints", headers=head).text
    table = re.search(r'data-testid="complaint-stats">(.*?)</table>', page, re.S)
    assert table is not None
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td>", table[1])
    assert sorted(rows) == sorted([(unassigned, "1"), (market, "1")]), rows
    assert f"<th>{received}</th>" in table[1]                       # the column keeps its word
    got = list(csv.reader(io.StringIO(client.get("/complaints/stats.csv", headers=head).content.decode("utf-8-sig"))))
    assert got[0][1] == received and sorted(r[0] for r in got[1:]) == sorted([unassigned, market])
    assert all(r[0] != received for r in got[1:])
    book = load_workbook(io.BytesIO(client.get("/complaints/stats.xlsx", headers=head).content))
    sheet = list(book.worksheets[0].iter_rows(values_only=True))
    assert sheet[0][1] == received and sorted(r[0] for r in sheet[1:]) == sorted([unassigned, market])


def test_the_command_says_it_too(site: tuple[TestClient, dict[str, str]], store: str, cli, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGOV_LANG", "en")
    out = tmp_path / "stats.csv"
    assert cli("--db", store, "complaints", "stats", "--out", str(out)).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == sorted(["Not yet assigned", "Market Supervision Administration"])
    shown = cli("--db", store, "complaints", "stats").output
    assert "Not yet assigned" in shown and "(unassigned)" not in shown
