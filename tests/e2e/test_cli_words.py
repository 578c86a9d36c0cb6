"""What the office's administrator reads on the command line is words, not codes
(SQLite and PostgreSQL): the audit log's times in China Standard Time, a credit file's
attributes and record sources as labelled lines, departments, banks, subject kinds and
polarities by their names — and a filter given a value that does not exist is refused
naming the known ones, never answered with an empty table."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from tests.finance.helpers import a_bank, a_loan, a_product, graded
from tests.lists.helpers import add_record, make_subject

from creditgov.complaints import service as complaints_service
from creditgov.complaints.schemas import ComplaintIn
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.security.crypto import create_key_file

HOSTILE = "[bold]粗体[/bold] <b>标记</b> “引号”"


@pytest.fixture
def office(county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A firm with attributes (one not given) and a record without a line; a complaint
    assigned to the market department and one not yet assigned; a bank's loan."""
    key = tmp_path / "words.key"
    ring = create_key_file(key)
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    with db.session_scope(county) as s:
        firm = make_subject(s, name="长兴词语测试有限公司")
        firm.attributes = {"registered_capital": 500, "employees": None, "note": HOSTILE}
        add_record(s, firm, "market.penalty", occurred_on=dt.date(2026, 9, 1))
        data = ComplaintIn(category="quality", respondent_name=HOSTILE, content="就餐后腹泻，请求查处")
        first, _ = complaints_service.file_complaint(s, ring, data, channel="counter", actor="test")
        complaints_service.file_complaint(s, ring, ComplaintIn(category="credit_work", respondent_name="县信用办",
                                                               content="办理指引不清楚"), channel="counter",
                                          actor="test")
        complaints_service.assign(s, first.id, department="market", actor="test")
        bank = a_bank(s, "bank-words", "长兴词语银行")
        (borrower,) = graded(s, [("enterprise", "A")])
        a_loan(s, ring, bank, borrower, a_product(s, bank))
        firm_id = firm.id
    return {"url": county, "firm": firm_id}


def _cells(output: str) -> str:
    return re.sub(r"[│┃\s]+", " ", output)


def test_the_audit_log_shows_china_standard_time_and_refuses_a_limit_below_one(
        office: dict[str, object], cli, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(office["url"])
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-01T12:05:35")         # UTC: 20:05:35 in China
    cli("--db", url, "subject", "show", str(office["firm"]), "--purpose", "核查")
    table = cli("--db", url, "audit", "log", "--limit", "3").output
    assert "2026-11-01 20:05:35 北京时间" in table and "2026-11-01T12:05:35" not in table
    monkeypatch.setenv("CREDITGOV_LANG", "en")
    assert "2026-11-01 20:05:35 CST" in cli("--db", url, "audit", "log", "--limit", "3").output
    logged = json.loads(cli("--db", url, "audit", "log", "--limit", "1", "--json").output)
    assert [e["at"] for e in logged] == ["2026-11-01T12:05:35"]        # JSON keeps the stored UTC
    for bad in ("-1", "0"):
        r = cli("--db", url, "audit", "log", "--limit", bad)
        assert r.exit_code == 2 and "--limit" in r.output and "audit chain" not in r.output, r.output


def test_a_credit_file_reads_in_labelled_lines(office: dict[str, object], cli) -> None:
    out = cli("--db", str(office["url"]), "subject", "show", str(office["firm"])).output
    flat = _cells(out)
    assert "None" not in out and "{" not in out                      # no Python dict, no None
    assert "registered_capital: 500" in flat and "employees: —" in flat
    assert f"note: {HOSTILE}" in flat                                  # markup printed as written
    assert "test:None" not in flat and re.search(r"\btest\b", flat)   # the source, without a line it lacks


def test_departments_banks_kinds_and_polarities_by_name(office: dict[str, object], cli,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(office["url"])
    listed = _cells(cli("--db", url, "complaints", "list").output)
    assert "市场监督管理局" in listed and " market " not in listed
    assert "[bold]粗体[/bold] <b>标记</b>" in listed                    # a respondent's name as written
    stats = _cells(cli("--db", url, "complaints", "stats").output)
    assert "市场监督管理局" in stats and "尚未分派" in stats and "(unassigned)" not in stats
    loans = _cells(cli("--db", url, "finance", "loans").output)
    assert "长兴词语银行" in loans
    booked = json.loads(cli("--db", url, "finance", "loans", "--json").output)
    assert [(x["bank"], x["bank_name"]) for x in booked] == [("bank-words", "长兴词语银行")]
    status = _cells(cli("--db", url, "status").output)
    assert re.search(r"企业 \d", status) and re.search(r"失信 \d", status)
    assert "enterprise" not in status and "negative" not in status
    monkeypatch.setenv("CREDITGOV_LANG", "en")
    stats = _cells(cli("--db", url, "complaints", "stats").output)
    assert "Market Supervision Administration" in stats and "Not yet assigned" in stats
    status = _cells(cli("--db", url, "status").output)
    assert re.search(r"Enterprise \d", status) and re.search(r"Negative \d", status, re.IGNORECASE)


@pytest.mark.parametrize(("args", "option", "known"), [
    (["lists", "entries", "--list", "nosuch"], "--list", "serious-dishonesty (严重失信主体名单)"),
    (["lists", "entries", "--status", "bogus"], "--status", "published"),
    (["lists", "entries", "--origin", "bogus"], "--origin", "upper"),
    (["supervise", "tasks", "--status", "bogus"], "--status", "assigned (待检查)"),
    (["complaints", "list", "--status", "bogus"], "--status", "received (待分派)"),
    (["campaign", "list", "--status", "bogus"], "--status", "closed"),
])
def test_an_unknown_filter_value_is_refused_naming_the_known_ones(office: dict[str, object], cli, args: list[str],
                                                                  option: str, known: str) -> None:
    with pytest.raises(InvalidInput) as got:
        cli("--db", str(office["url"]), *args)
    said = str(got.value)
    assert said.startswith(f"{option} ") and "is not known" in said and known in said, said


def test_a_known_filter_value_still_lists(office: dict[str, object], cli) -> None:
    url = str(office["url"])
    r = cli("--db", url, "complaints", "list", "--status", "assigned", "--json")
    assert [(c["status"]["code"], c["department"]) for c in json.loads(r.output)] == [("assigned", "market")]
    r = cli("--db", url, "supervise", "tasks", "--status", "done")
    assert r.exit_code == 0, r.output
