"""Statistics forms on a real store (SQLite and PostgreSQL): a small county with known
counts across September and October 2026 (some rows on the boundary, where UTC and
Beijing disagree about the day), and every cell of the forms checked; the same form
through the command, the API, the page, the workbook and the PDF; a department sees
its own scope; hostile department and street names pass through unharmed."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy import update as sa_update

from creditgov.api.app import create_app
from creditgov.catalog.models import Department
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.core.tables import sheet_title
from creditgov.lists.models import CreditList, ListEntry
from creditgov.measures.models import CheckFeedback, CreditCheck
from creditgov.records.models import CreditRecord
from creditgov.reports.pdftext import printable
from creditgov.security import users
from creditgov.security.scopes import Principal, Role, authorize
from creditgov.statistics import files, service
from creditgov.statistics.access import scoped_form
from creditgov.statistics.service import SECTIONS, TITLES
from creditgov.subjects.models import Region, Subject
from creditgov.web import i18n
from creditgov.workflows.models import Objection, RepairApplication
from tests.lists.helpers import make_uscc

EVIL_DEPT = '=HYPERLINK("http://127.0.0.1:9/x")<script>alert(1)</script> O\'Brien "部门" &amp; 😀'
EVIL_STREET = '"><img src=x onerror=alert(2)>{{ 7*7 }} 街道 \u202e右到左\u202c'
UTC = dt.datetime


def _at(y: int, m: int, d: int, h: int = 2, mi: int = 0) -> dt.datetime:
    return UTC(y, m, d, h, mi)   # naive UTC, as the store keeps moments


def _build(url: str) -> dict[str, int]:
    with db.session_scope(url) as s:
        s.add(Department(code="evil", name_zh=EVIL_DEPT, name_en=EVIL_DEPT + " (en)"))
        root = Region(code="T", name="测试县", level="county", depth=0, path="/T/")
        s.add(root)
        s.flush()
        s1 = Region(code="T-S1", name=EVIL_STREET, level="street", depth=1, parent_id=root.id, path="/T/T-S1/")
        s2 = Region(code="T-S2", name="二号街道", level="street", depth=1, parent_id=root.id, path="/T/T-S2/")
        s.add_all([s1, s2])
        s.flush()
        g1 = Region(code="T-S1-G1", name="一号网格", level="grid", depth=2, parent_id=s1.id, path="/T/T-S1/T-S1-G1/")
        s.add(g1)
        s.flush()

        def subject(n: int, kind: str, region: int | None, at: dt.datetime) -> int:
            row = Subject(kind=kind, name=f"统计主体{n}", status="confirmed", attributes={}, region_id=region,
                          uscc=make_uscc(90000 + n) if kind != "individual" else None, created_at=at, updated_at=at)
            s.add(row)
            s.flush()
            return row.id

        ids = {"s1": subject(1, "enterprise", g1.id, _at(2026, 9, 10)),
               "s2": subject(2, "enterprise", s2.id, _at(2026, 9, 30, 17)),       # 1 Oct in Beijing
               "s3": subject(3, "individual", g1.id, _at(2026, 10, 5)),
               "s4": subject(4, "enterprise", None, _at(2026, 10, 31, 15, 59)),   # 31 Oct 23:59 in Beijing
               "s5": subject(5, "enterprise", s2.id, _at(2026, 10, 31, 16))}      # 1 Nov in Beijing

        def record(key: str, sid: str, dept: str, at: dt.datetime, version: int = 1, current: bool = True) -> int:
            row = CreditRecord(subject_id=ids[sid], item_code="market.penalty", occurred_on=at.date(),
                               department_code=dept, natural_key=key, version=version, is_current=current,
                               content_hash=f"{key}{version}".ljust(32, "0")[:32], source="test", created_at=at)
            s.add(row)
            s.flush()
            return row.id

        r1 = record("k1", "s1", "market", _at(2026, 9, 15))
        r2 = record("k2", "s2", "market", _at(2026, 10, 2), current=False)
        record("k2", "s2", "market", _at(2026, 10, 20), version=2)
        record("k3", "s3", "evil", _at(2026, 10, 10))
        r4 = record("k4", "s4", "evil", _at(2026, 9, 30, 16, 30))                # 1 Oct in Beijing

        codes = sorted(s.execute(select(CreditList.code)).scalars())[:2]
        la, lb = codes
        for sid, code, pub, ex in (("s1", la, dt.date(2026, 9, 20), None),
                                   ("s2", la, dt.date(2026, 10, 3), dt.date(2026, 10, 25)),
                                   ("s3", lb, dt.date(2026, 8, 1), dt.date(2026, 10, 31))):
            s.add(ListEntry(list_code=code, subject_id=ids[sid], status="exited" if ex else "published",
                            origin="local", published_on=pub, exited_on=ex, created_at=_at(2026, 8, 1)))

        def check(cid: str, sid: str, dept: str, on: dt.date, n: int) -> None:
            s.add(CreditCheck(check_id=cid, subject_id=ids[sid], scenario="test", department=dept, lists=[],
                              measures=[], measure_count=n, actor="t", checked_on=on, checked_at=_at(2026, 10, 1)))

        check("c1", "s1", "market", dt.date(2026, 10, 3), 2)
        check("c2", "s2", "market", dt.date(2026, 10, 30), 1)
        check("c3", "s4", "evil", dt.date(2026, 9, 30), 0)
        s.flush()
        for cid, m, applied, at in (("c1", "m1", True, _at(2026, 10, 3, 5)), ("c1", "m2", False, _at(2026, 10, 4)),
                                    ("c2", "m1", True, _at(2026, 10, 31, 17))):      # 1 Nov in Beijing
            s.add(CheckFeedback(check_id=cid, measure_code=m, applied=applied, department="market", actor="t", at=at))

        def objection(n: int, sid: str, rid: int, dept: str, received: dt.date, due: dt.date,
                      decided: dt.date | None) -> None:
            s.add(Objection(filing_no=f"YY{n}", subject_id=ids[sid], record_id=rid, department_code=dept,
                            channel="self", filed_by="t", reason="理由", received_on=received, due_on=due,
                            status="decided" if decided else "received", decided_on=decided,
                            created_at=_at(2026, 9, 1), updated_at=_at(2026, 9, 1)))

        objection(1, "s1", r1, "market", dt.date(2026, 10, 2), dt.date(2026, 10, 16), dt.date(2026, 10, 10))
        objection(2, "s2", r2, "market", dt.date(2026, 9, 20), dt.date(2026, 10, 9), dt.date(2026, 10, 12))
        objection(3, "s4", r4, "evil", dt.date(2026, 10, 20), dt.date(2026, 10, 28), None)
        objection(4, "s4", r4, "evil", dt.date(2026, 10, 25), dt.date(2026, 11, 10), None)
        for sid, rid, dept, applied, due, decided in (
                ("s1", r1, "market", dt.date(2026, 10, 5), dt.date(2026, 10, 20), dt.date(2026, 10, 19)),
                ("s4", r4, "evil", dt.date(2026, 9, 25), dt.date(2026, 9, 29), dt.date(2026, 10, 3))):
            s.add(RepairApplication(subject_id=ids[sid], record_id=rid, channel="self", actor="t", applied_on=applied,
                                    status="decided", eligibility={}, department_code=dept, decision_due_on=due,
                                    decided_on=decided, created_at=_at(2026, 9, 1), updated_at=_at(2026, 9, 1)))
        return {**ids, "la": la, "lb": lb}  # type: ignore[dict-item]


def _cells(form: dict) -> dict[str, dict[str, dict[str, int]]]:  # type: ignore[type-arg]
    """{table: {row key (or 'total'): {column: n}}}, every row and column of the form."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for t in form["tables"]:
        out[t["key"]] = {r["key"]: r["values"] for r in t["rows"]} | {"total": t["total"]}
    return out


def _expected_october(la: str, lb: str) -> dict[str, dict[str, dict[str, int]]]:
    return {
        "subjects_by_kind": {"enterprise": {"new": 2, "total": 3}, "individual": {"new": 1, "total": 1},
                             "total": {"new": 3, "total": 4}},
        "subjects_by_region": {"T-S1": {"new": 1, "total": 2}, "T-S2": {"new": 1, "total": 1},
                               "": {"new": 1, "total": 1}, "total": {"new": 3, "total": 4}},
        "records": {"market": {"new": 1, "corrections": 1, "total": 2}, "evil": {"new": 2, "corrections": 0, "total": 2},
                    "total": {"new": 3, "corrections": 1, "total": 4}},
        "lists": {la: {"entered": 1, "exited": 1, "in_force": 1}, lb: {"entered": 0, "exited": 1, "in_force": 0},
                  "total": {"entered": 1, "exited": 2, "in_force": 1}},
        "checks": {"market": {"checks": 2, "suggested": 3, "applied": 1, "not_applied": 1},
                   "total": {"checks": 2, "suggested": 3, "applied": 1, "not_applied": 1}},
        "objections": {"market": {"received": 1, "decided": 2, "on_time": 1, "late": 1, "overdue_open": 0},
                       "evil": {"received": 2, "decided": 0, "on_time": 0, "late": 0, "overdue_open": 1},
                       "total": {"received": 3, "decided": 2, "on_time": 1, "late": 1, "overdue_open": 1}},
        "repairs": {"market": {"received": 1, "decided": 1, "on_time": 1, "late": 0, "overdue_open": 0},
                    "evil": {"received": 0, "decided": 1, "on_time": 0, "late": 1, "overdue_open": 0},
                    "total": {"received": 1, "decided": 2, "on_time": 1, "late": 1, "overdue_open": 0}},
    }



def _tab(key: str, lang: str = "zh") -> str:
    """A table's sheet in the workbook: named by its title in the workbook's language."""
    return sheet_title(TITLES[key][1 if lang == "en" else 0])

def test_every_cell_of_two_months_and_a_quarter(county: str) -> None:
    ids = _build(county)
    la, lb = str(ids["la"]), str(ids["lb"])
    with db.session_scope(county) as s:
        oct_form = service.form(s, service.period("2026-10"))
        sep_form = service.form(s, service.period("2026-09"))
        q4 = service.form(s, service.period("2026Q4"))
    assert _cells(oct_form) == _expected_october(la, lb)
    assert _cells(sep_form) == {
        "subjects_by_kind": {"enterprise": {"new": 1, "total": 1}, "total": {"new": 1, "total": 1}},
        "subjects_by_region": {"T-S1": {"new": 1, "total": 1}, "total": {"new": 1, "total": 1}},
        "records": {"market": {"new": 1, "corrections": 0, "total": 1}, "total": {"new": 1, "corrections": 0, "total": 1}},
        "lists": {la: {"entered": 1, "exited": 0, "in_force": 1}, lb: {"entered": 0, "exited": 0, "in_force": 1},
                  "total": {"entered": 1, "exited": 0, "in_force": 2}},
        "checks": {"evil": {"checks": 1, "suggested": 0, "applied": 0, "not_applied": 0},
                   "total": {"checks": 1, "suggested": 0, "applied": 0, "not_applied": 0}},
        "objections": {"market": {"received": 1, "decided": 0, "on_time": 0, "late": 0, "overdue_open": 0},
                       "total": {"received": 1, "decided": 0, "on_time": 0, "late": 0, "overdue_open": 0}},
        "repairs": {"evil": {"received": 1, "decided": 0, "on_time": 0, "late": 0, "overdue_open": 1},
                    "total": {"received": 1, "decided": 0, "on_time": 0, "late": 0, "overdue_open": 1}},
    }
    q = _cells(q4)
    assert q["subjects_by_kind"]["enterprise"] == {"new": 3, "total": 4}       # s5: 1 November in Beijing
    assert q["checks"]["market"]["applied"] == 2 and q["repairs"]["total"]["overdue_open"] == 0
    assert q4["period"] | {"label": None} == {"kind": "quarter", "code": "2026Q4", "start": "2026-10-01",
                                              "last_day": "2026-12-31", "timezone": "Asia/Shanghai (CST)",
                                              "label": None}
    names = {t["key"]: {r["key"]: r["name"] for r in t["rows"]} for t in oct_form["tables"]}
    assert names["records"]["evil"] == {"zh": EVIL_DEPT, "en": EVIL_DEPT + " (en)"}
    assert names["subjects_by_region"]["T-S1"]["zh"] == EVIL_STREET
    for bad in ("2026-13", "26Q1", "2026Q5", "last", "0000-01", "0999Q1"):
        with pytest.raises(InvalidInput):
            service.period(bad)

    # A duplicate merged into its survivor is no subject of its own: the October counts lose it.
    with db.session_scope(county) as s:
        s4 = s.get(Subject, ids["s4"])
        assert s4 is not None and s4.kind == "enterprise"
        s4.status = "merged"
    with db.session_scope(county) as s:
        merged = _cells(service.form(s, service.period("2026-10")))["subjects_by_kind"]
    before = _cells(oct_form)["subjects_by_kind"]
    assert merged["enterprise"] == {"new": before["enterprise"]["new"] - 1, "total": before["enterprise"]["total"] - 1}
    with db.session_scope(county) as s:
        s4 = s.get(Subject, ids["s4"])
        assert s4 is not None
        s4.status = "confirmed"

    # A department sees the subjects it has records on: market holds records on s1 and s2.
    market = Principal(role=Role.DEPARTMENT, user_id=1, username="m", department_code="market")
    with db.session_scope(county) as s:
        scoped = _cells(scoped_form(s, authorize(market, "statistics.read"), "2026-10"))
    assert scoped["subjects_by_kind"] == {"enterprise": {"new": 1, "total": 2}, "total": {"new": 1, "total": 2}}
    assert scoped["records"]["total"] == {"new": 1, "corrections": 1, "total": 2}
    assert scoped["objections"]["total"]["received"] == 1 and "evil" not in scoped["objections"]

    # The workbook: every cell as in the form, the hostile names as written, no formula.
    wb = load_workbook(io.BytesIO(files.workbook(oct_form, "zh")))
    for t in oct_form["tables"]:
        ws = wb[_tab(t["key"])]
        got = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        header, body = files.rows_of(t, "zh")
        assert got == [header, *[[v if v != "" else None for v in row] for row in body]]
    evil_cell = next(c for row in wb[_tab("records")].iter_rows() for c in row if c.value == EVIL_DEPT)
    assert evil_cell.data_type == "s"
    assert EVIL_STREET in [c.value for row in wb[_tab("subjects_by_region")].iter_rows() for c in row]
    en = load_workbook(io.BytesIO(files.workbook(oct_form, "en")))
    assert en[_tab("records", "en")]["C2"].value == "New records" and en[_tab("records", "en")]["A1"].value == "Credit records by department"

    # The PDF: a valid document with every table, the hostile names printed as written.
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in
                                       PdfReader(io.BytesIO(files.pdf(oct_form, "zh"))).pages))
    assert "信用工作统计报表" in text and "2026年10月" in text and "异议处理（按部门）" in text
    for name in (EVIL_DEPT, EVIL_STREET):
        assert re.sub(r"\s+", "", "".join(c for c in printable(name) if ord(c) <= 0xFFFF)) in text


def test_command_api_and_page_agree(county: str, cli, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from creditgov.security.crypto import create_key_file

    key = tmp_path / "stats.key"
    create_key_file(key)
    ids = _build(county)
    expected = _expected_october(str(ids["la"]), str(ids["lb"]))
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    out = cli("--db", county, "statistics", "form", "--period", "2026-10", "--json", "--xlsx", "f.xlsx")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert _cells(data) == expected and data["files"]["xlsx"] == "f.xlsx"
    assert load_workbook(cli.work / "f.xlsx")[_tab("lists")]["B2"].value == "名称"
    table = cli("--db", county, "statistics", "form", "--period", "2026-10")
    assert table.exit_code == 0 and "信用记录（按报送部门）" in table.output

    with db.session_scope(county) as s:
        office = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=office.id, name='t', actor='test')[0]}"}
        bank = users.create_user(s, username="bank", password=None, role="bank_officer", organisation="b",
                                 actor="test")
        bhead = {"Authorization": f"Bearer {users.issue_token(s, user_id=bank.id, name='t', actor='test')[0]}"}
    c = TestClient(create_app(county, key), base_url="https://testserver")
    api = c.get("/api/v1/statistics/form?period=2026-10", headers=head)
    assert api.status_code == 200 and _cells(api.json()) == expected
    assert c.get("/api/v1/statistics/form?period=2026-10", headers=bhead).status_code == 403
    assert c.get("/api/v1/statistics/form?period=2026-13", headers=head).status_code == 422
    x = c.get("/api/v1/statistics/form.xlsx?period=2026Q4&lang=en", headers=head)
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content))[_tab("records", "en")]["C2"].value == "New records"
    p = c.get("/api/v1/statistics/form.pdf?period=2026-10", headers=head)
    assert p.status_code == 200 and p.content.startswith(b"%PDF")
    for lang, title in (("zh", "统计报表"), ("en", "Statistics forms")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/statistics?period=2026-10", headers=head)
        assert page.status_code == 200 and f"<h1>{title}</h1>" in page.text
        assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<img src=x" not in page.text and "{{ 7*7 }}" in page.text
        for t in expected:
            for row, values in expected[t].items():
                for col, n in values.items():
                    rk = "__total__" if row == "total" else row
                    pattern = (rf'data-table="{t}".*?<tr data-row="{re.escape(rk)}"'
                               rf'(?:(?!</tr>).)*?data-col="{col}">{n}</td>')
                    assert re.search(pattern, page.text, re.S), (lang, t, row, col)
        assert c.get("/statistics/form.pdf?period=2026-10", headers=head).content.startswith(b"%PDF")
        book = load_workbook(io.BytesIO(c.get("/statistics/form.xlsx?period=2026-10", headers=head).content))
        assert book[_tab("records", lang)]["C2"].value == ("New records" if lang == "en" else "新增记录")
        assert book.sheetnames == [_tab(k, lang) for k in SECTIONS]  # tabs named in words, not keys


def test_the_records_table_from_the_segments_is_the_stores(county: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A large store's records table is counted from the record segments (analysis/scan.py):
    the same cells as the store's SQL for two months and a quarter, with records written
    and corrected after the copy, for the whole county and a department's scope; an item
    made secret (never in the segments) is counted in the store."""
    from creditgov.catalog.models import CatalogItem
    from creditgov.scoring import segments

    monkeypatch.setenv("CREDITGOV_SEGMENTS", str(tmp_path / "segments"))
    ids = _build(county)
    assert segments.refresh(county, min_rows=0)["action"] == "rebuilt"
    with db.session_scope(county) as s:   # after the copy: a new record and a correction of k3, in October
        s.add(CreditRecord(subject_id=ids["s5"], item_code="market.penalty", occurred_on=dt.date(2026, 10, 30),
                           department_code="evil", natural_key="k5", version=1, content_hash="k5".ljust(32, "0"),
                           source="test", created_at=_at(2026, 10, 30)))
        old = s.execute(select(CreditRecord).where(CreditRecord.natural_key == "k3")).scalar_one()
        old.is_current = False
        s.add(CreditRecord(subject_id=ids["s3"], item_code="market.penalty", occurred_on=dt.date(2026, 10, 10),
                           department_code="evil", natural_key="k3", version=2, content_hash="k3v2".ljust(32, "0"),
                           source="test", created_at=_at(2026, 10, 31, 15)))
    market = Principal(role=Role.DEPARTMENT, user_id=1, username="m", department_code="market")

    def records(engine: str, period: str, scoped: bool = False) -> tuple[dict, dict]:  # type: ignore[type-arg]
        with db.session_scope(county) as s:
            scope = authorize(market, "statistics.read").subject_clause() if scoped else None
            form = service.form(s, service.period(period), scope=scope, engine=engine)
        table = next(t for t in form["tables"] if t["key"] == "records")
        return _cells(form)["records"], table["read"]

    for period in ("2026-09", "2026-10", "2026Q4"):
        want, read = records("store", period)
        got, read = records("duckdb", period)
        assert got == want and read["engine"] == "duckdb" and read["segment_rows"] == 5, period
        assert read["fresh_rows"] == 3    # the new record, the correction and the corrected one
    assert records("store", "2026-10")[0]["evil"] == {"new": 3, "corrections": 1, "total": 3}
    assert records("duckdb", "2026-10", scoped=True)[0] == records("store", "2026-10", scoped=True)[0]
    if county.startswith("sqlite"):
        assert records("spark", "2026-10") == (records("store", "2026-10")[0], records("spark", "2026-10")[1])
    with db.session_scope(county) as s:
        s.execute(sa_update(CatalogItem).where(CatalogItem.code == "market.penalty").values(data_class="secret"))
    segments.refresh(county, min_rows=0)
    got, read = records("duckdb", "2026-10")
    assert got == records("store", "2026-10")[0] and "market.penalty" in read["secret_items"]
