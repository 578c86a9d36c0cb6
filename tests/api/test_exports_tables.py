"""Exports of the analysis tables, the exchange packages, the complaints and the alerts
(issue 19) through the real application (the scoped reads on SQLite and PostgreSQL): each .xlsx opened with
openpyxl and each .csv with csv holds what the page (or its API) shows that reader, a
reader out of scope gets none of the other regions' rows, and a hostile name comes
through whole, never as a formula. The commands' `--out FILE` write the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from creditgov.alerts.models import Alert
from creditgov.analysis import tables
from creditgov.complaints import service as complaints_service
from creditgov.complaints.models import Complaint
from creditgov.complaints.schemas import ComplaintIn
from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput
from creditgov.exchange.models import ExchangePackage
from creditgov.security.crypto import load_key_file
from creditgov.security.models import AuditEntry
from tests.api.county import County
from tests.api.test_matrix import SCOPE

HOSTILE = "=cmd|' /C calc'!A0 \"><script>alert(1)</script> O'Brien \"引号\" " + "长" * 150 + " 😀"
GRID = "CX-S02-G01"  # the grid worker's grid (tests/api/county.py)


def _h(c: County, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.tokens[role]}"}


def _xlsx(body: bytes) -> list[list[str]]:
    ws = load_workbook(io.BytesIO(body), read_only=True).active
    rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    return [r + [""] * (len(rows[0]) - len(r)) for r in rows]  # an empty last cell reads back as no cell


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _both(client: TestClient, path: str, headers: dict[str, str], **kw: object) -> list[list[str]]:
    """The .xlsx and the .csv of one export, checked to hold the same cells (a CSV cell
    that would start a formula carries a leading apostrophe); the workbook's rows."""
    x = client.get(f"{path}.xlsx", headers=headers, **kw)  # type: ignore[arg-type]
    assert x.status_code == 200, x.text
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    c = client.get(f"{path}.csv", headers=headers, **kw)  # type: ignore[arg-type]
    assert c.status_code == 200, c.text
    rows = _xlsx(x.content)
    assert [[_num(v[1:] if v.startswith("'=") else v) for v in r] for r in _csv(c.content)] == \
        [[_num(v) for v in r] for r in rows]
    assert int(c.headers["x-row-count"]) == len(rows) - 1
    return rows


def _num(v: str) -> str:
    """A number as both files agree on it (the workbook reads 0.0 back as 0)."""
    try:
        return str(float(v))
    except ValueError:
        return v


def _api(client: TestClient, path: str, headers: dict[str, str], **params: object) -> dict:
    r = client.get(f"/api/v1{path}", headers=headers, params=params)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------------------- analysis


@pytest.mark.parametrize("what", ["colour", "alerts", "inspections"])
def test_the_distribution_export_is_the_readers_table(client: TestClient, county: County, what: str) -> None:
    sclient, sqlite_county = client, county  # both databases
    for role in ("credit_office", "grid_worker"):
        h = _h(sqlite_county, role)
        api = _api(sclient, "/analysis/distribution", h, what=what, by="grid")
        rows = _both(sclient, "/analysis/distribution", h, params={"what": what, "by": "grid"})
        assert rows[0][0] == "网格" and rows[0][-1] == "合计"
        assert [r[-1] for r in rows[1:-1]] == [str(g["total"]) for g in api["rows"]]
        assert rows[-1][0] == "合计" and rows[-1][-1] == str(api["total"])
    grid = _both(sclient, "/analysis/distribution", _h(sqlite_county, "grid_worker"),
                 params={"what": what, "by": "grid"})
    with db.session_scope(sqlite_county.url) as s:
        from creditgov.subjects.models import Region
        other = {n for (n,) in s.execute(select(Region.name).where(Region.level == "grid", Region.code != GRID))}
    assert not {r[0] for r in grid[1:-1]} & other  # no other grid's row
    en = _both(sclient, "/analysis/distribution", _h(sqlite_county, "credit_office"),
               params={"what": what, "by": "street"}, cookies={"cg_lang": "en"})
    assert en[0][0] == "Street (town)" and en[-1][0] == "Total"


def test_the_risk_and_cluster_exports_hold_the_readers_rows(client: TestClient, county: County) -> None:
    sclient, sqlite_county = client, county  # both databases
    for role in ("credit_office", "grid_worker"):
        h = _h(sqlite_county, role)
        api = _api(sclient, "/analysis/grid-risk", h, months=12)
        rows = _both(sclient, "/analysis/risk", h, params={"months": 12})
        assert [(r[0], float(r[-1])) for r in rows[1:]] == [
            ("" if g["grid"] == "(未知)" else g["grid"], g["risk_index"]) for g in api["rows"]]
        if role == "grid_worker":
            assert {r[0] for r in rows[1:]} <= {GRID, ""}
        page = sclient.get("/analysis", headers={**h, "accept": "text/html"}).text
        for g in api["rows"][:20]:  # the page's table is the export's first rows
            assert f'data-testid="risk-{g["grid"]}"' in page
        assert 'href="/analysis/risk.xlsx?months=12"' in page
        en_page = sclient.get("/analysis", headers={**h, "accept": "text/html"}, cookies={"cg_lang": "en"}).text
        assert "Export (every grid in your scope)" in en_page
        clusters = _api(sclient, "/analysis/clusters", h)
        members = sorted((m["id"], m["name"]) for c in clusters["clusters"] for m in c["members"])
        got = _both(sclient, "/analysis/clusters", h)
        assert sorted((int(r[3]), r[4]) for r in got[1:]) == members
        assert {int(r[3]) for r in got[1:]} <= SCOPE[role]
    html = sclient.get("/analysis/clusters", headers={**_h(sqlite_county, "credit_office"), "accept": "text/html"}).text
    assert re.search(r'href="/analysis/clusters\.csv\?lists=[^"]*hops=2"', html)
    assert sclient.get("/analysis/risk.csv", headers=_h(sqlite_county, "subject")).status_code in (403, 404)
    assert sclient.get("/analysis/risk.pdf", headers=_h(sqlite_county, "credit_office")).status_code in (404, 422)
    with db.session_scope(sqlite_county.url) as s:
        assert s.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "analysis.export")).scalar_one()


# ---------------------------------------------------------------------------- exchange


@pytest.fixture
def packages(sqlite_county: County) -> Iterator[list[int]]:
    """Two packages on a channel named like an attack, one failing with a hostile error."""
    now = clock.now().replace(tzinfo=None)
    with db.session_scope(sqlite_county.url) as s:
        made = [ExchangePackage(channel="up-<b>'\"", direction=d, peer="province", seq=n, kinds=["list.entered"],
                                items=3, sealed="x", digest="0" * 64, status=st, attempts=n, last_error=err,
                                created_at=now - dt.timedelta(minutes=n))
                for n, (d, st, err) in enumerate((("out", "pending", HOSTILE), ("in", "applied", None)), start=1)]
        s.add_all(made)
        s.flush()
        ids = [p.id for p in made]
    yield ids
    with db.session_scope(sqlite_county.url) as s:
        s.execute(delete(ExchangePackage).where(ExchangePackage.id.in_(ids)))


def test_the_exchange_packages_export_matches_the_page(sclient: TestClient, sqlite_county: County,
                                                       packages: list[int]) -> None:
    h = _h(sqlite_county, "credit_office")
    rows = _both(sclient, "/exchange/packages", h, params={"channel": "up-<b>'\""})
    assert [int(r[0]) for r in rows[1:]] == sorted(packages, reverse=True)
    first = next(r for r in rows[1:] if int(r[0]) == packages[0])
    assert first[1] == "up-<b>'\"" and first[3] == "发出" and first[5] == "列入名单" and first[7] == "待发送"
    assert first[-1] == HOSTILE  # the workbook keeps it as text, whole
    with db.session_scope(sqlite_county.url) as s:
        created = s.get(ExchangePackage, packages[0]).created_at  # type: ignore[union-attr]
    assert first[9] == clock.to_cst(created).strftime("%Y-%m-%d %H:%M:%S")  # China Standard Time
    raw = _csv(sclient.get("/exchange/packages.csv", headers=h, params={"channel": "up-<b>'\""}).content)
    assert next(r for r in raw[1:] if int(r[0]) == packages[0])[-1] == "'" + HOSTILE  # never a formula in CSV
    page = sclient.get("/exchange", headers={**h, "accept": "text/html"}, params={"channel": "up-<b>'\""}).text
    assert all(f'data-testid="package-{i}"' in page for i in packages)
    assert "/exchange/packages.xlsx?channel=up-%3Cb%3E%27%22" in page
    en_page = sclient.get("/exchange", headers={**h, "accept": "text/html"}, cookies={"cg_lang": "en"}).text
    assert 'Export: <a href="/exchange/packages.xlsx"' in en_page
    en = _both(sclient, "/exchange/packages", h, params={"channel": "up-<b>'\""}, cookies={"cg_lang": "en"})
    assert en[0][0] == "Package" and {(r[3], r[7]) for r in en[1:]} == {("sent", "pending"), ("received", "applied")}
    assert sclient.get("/exchange/packages.csv", headers=_h(sqlite_county, "grid_worker")).status_code == 403


# --------------------------------------------------------------------------- complaints


@pytest.fixture
def complaints(sqlite_county: County) -> Iterator[dict[str, str]]:
    """A complaint assigned to market (the department officer's) and one to environment,
    both against a hostile respondent; removed after the test."""
    ring = load_key_file(sqlite_county.key_file)
    made: dict[str, str] = {}
    with db.session_scope(sqlite_county.url) as s:
        for dept in ("market", "environment"):
            c, _code = complaints_service.file_complaint(
                s, ring, ComplaintIn(category="quality", respondent_name=HOSTILE[:200], content="导出测试投诉内容",
                                     complainant_name="王小五", contact="13800138000"), channel="counter", actor="test")
            complaints_service.assign(s, c.id, department=dept, actor="test")
            made[dept] = c.number
    yield made
    with db.session_scope(sqlite_county.url) as s:
        s.execute(delete(Complaint).where(Complaint.number.in_(list(made.values()))))


def test_the_complaints_export_is_the_departments_own(sclient: TestClient, sqlite_county: County,
                                                      complaints: dict[str, str]) -> None:
    office = _both(sclient, "/complaints/export", _h(sqlite_county, "credit_office"))
    assert office[0][0] == "投诉编号"
    numbers = {r[0] for r in office[1:]}
    assert set(complaints.values()) <= numbers
    mine = next(r for r in office if r[0] == complaints["market"])
    assert mine[1] == "办理中" and mine[2] == "窗口" and mine[4] == HOSTILE[:200]
    assert mine[5] and mine[5] != "market"  # the department by its label
    assert "王小五" not in str(office) and "13800138000" not in str(office)  # the list shows no complainant
    market = _both(sclient, "/complaints/export", _h(sqlite_county, "department_officer"),
                   params={"status": "assigned"})
    assert complaints["market"] in {r[0] for r in market[1:]}
    assert complaints["environment"] not in {r[0] for r in market[1:]}
    page = sclient.get("/complaints", headers={**_h(sqlite_county, "department_officer"), "accept": "text/html"},
                       params={"status": "assigned"}).text
    assert {r[0] for r in market[1:]} == set(re.findall(r'<a href="/complaints/\d+">([^<]+)</a>', page))
    assert 'href="/complaints/export.csv?status=assigned"' in page
    en_page = sclient.get("/complaints", headers={**_h(sqlite_county, "credit_office"), "accept": "text/html"},
                          cookies={"cg_lang": "en"}).text
    assert 'Export: <a href="/complaints/export.xlsx"' in en_page and 'href="/complaints/stats.csv"' in en_page
    en = _both(sclient, "/complaints/export", _h(sqlite_county, "credit_office"), cookies={"cg_lang": "en"})
    assert en[0][0] == "Number" and next(r for r in en if r[0] == complaints["market"])[1] == "Being handled"
    assert sclient.get("/complaints/export.csv", headers=_h(sqlite_county, "grid_worker")).status_code == 403
    stats = _both(sclient, "/complaints/stats", _h(sqlite_county, "department_officer"))
    assert stats[0] == ["部门", "收到", "已答复", "按期答复", "办理中", "已超期", "按期率"] and len(stats) == 2
    page = sclient.get("/complaints", headers={**_h(sqlite_county, "department_officer"), "accept": "text/html"}).text
    shown = re.search(r'data-testid="complaint-stats">.*?<tbody><tr><td>([^<]+)</td><td>(\d+)</td>', page, re.S)
    assert shown is not None and stats[1][:2] == [shown[1], shown[2]]
    office = _both(sclient, "/complaints/stats", _h(sqlite_county, "credit_office"))
    assert {r[0] for r in office[1:]} > {stats[1][0]}


# ------------------------------------------------------------------------------ alerts


def test_the_alerts_export_holds_the_pages_alerts_in_scope(client: TestClient, county: County) -> None:
    sclient, sqlite_county = client, county  # both databases
    with db.session_scope(sqlite_county.url) as s:
        alerts = {a.id: a.subject_id for a in s.execute(select(Alert)).scalars()}
    assert alerts
    for role in ("credit_office", "grid_worker"):
        h = _h(sqlite_county, role)
        rows = _both(sclient, "/alerts/export", h, params={"status": "all"})
        got = {int(r[0]) for r in rows[1:]}
        page = sclient.get("/alerts", headers={**h, "accept": "text/html"}, params={"status": "all"}).text
        assert got == {int(i) for i in re.findall(r'data-testid="alert-row-(\d+)"', page)}
        assert 'href="/alerts/export.xlsx?status=all"' in page
        if role == "grid_worker":
            assert got == {i for i, sid in alerts.items() if sid in SCOPE[role]}
        else:
            assert got == set(alerts)
    one = next(r for r in _both(sclient, "/alerts/export", _h(sqlite_county, "credit_office"),
                                params={"status": "all"}, cookies={"cg_lang": "en"})[1:]
               if int(r[0]) == sqlite_county.alert_id)
    assert one[9] in ("Open", "Acknowledged", "Resolved") and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", one[1])


# ------------------------------------------------------------------------- supervision


def test_the_inspection_tasks_export_holds_the_pages_tasks(client: TestClient, county: County) -> None:
    with db.session_scope(county.url) as s:
        from creditgov.supervision.models import InspectionTask
        every = set(s.execute(select(InspectionTask.id)).scalars())
    assert county.task_id in every
    for role in ("credit_office", "inspector", "grid_worker"):
        h = _h(county, role)
        rows = _both(client, "/supervision/tasks", h, params={"tasks": "all"})
        page = client.get("/supervision", headers={**h, "accept": "text/html"}, params={"tasks": "all"}).text
        assert {int(r[0]) for r in rows[1:]} == {int(i) for i in re.findall(r'data-testid="task-row-(\d+)"', page)}
        assert 'href="/supervision/tasks.csv?tasks=all"' in page
        if role == "credit_office":
            assert {int(r[0]) for r in rows[1:]} == every
            one = next(r for r in rows if r[0] == str(county.task_id))
            assert one[1] == "双随机抽查" and one[2] == "1"
    en = _both(client, "/supervision/tasks", _h(county, "credit_office"), params={"tasks": "all"},
               cookies={"cg_lang": "en"})
    assert en[0][:2] == ["Task", "Kind"] and next(r for r in en if r[0] == str(county.task_id))[1] == "Random inspection"


# ---------------------------------------------------------------------------- commands


def _cli(c: County, *args: str) -> str:
    from creditgov.cli.main import app

    res = CliRunner().invoke(app, ["--db", c.url, "--key-file", str(c.key_file), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_list_commands_write_the_pages_rows_to_a_file(sclient: TestClient, sqlite_county: County, tmp_path: Path,
                                                      packages: list[int], complaints: dict[str, str]) -> None:
    h = _h(sqlite_county, "credit_office")
    _cli(sqlite_county, "alerts", "list", "--limit", "1000", "--out", str(tmp_path / "alerts.xlsx"))
    page = _xlsx(sclient.get("/alerts/export.xlsx", headers=h, params={"status": "all"}).content)
    assert _xlsx((tmp_path / "alerts.xlsx").read_bytes()) == page
    out = _cli(sqlite_county, "exchange", "packages", "--channel", "up-<b>'\"", "--out", str(tmp_path / "p.csv"),
               "--json")
    assert '"rows": 2' in out
    assert _csv((tmp_path / "p.csv").read_bytes()) == _csv(
        sclient.get("/exchange/packages.csv", headers=h, params={"channel": "up-<b>'\""}).content)
    _cli(sqlite_county, "complaints", "list", "--out", str(tmp_path / "c.xlsx"))
    assert _xlsx((tmp_path / "c.xlsx").read_bytes()) == _xlsx(
        sclient.get("/complaints/export.xlsx", headers=h).content)
    _cli(sqlite_county, "complaints", "stats", "--out", str(tmp_path / "s.csv"))
    assert _csv((tmp_path / "s.csv").read_bytes()) == _csv(sclient.get("/complaints/stats.csv", headers=h).content)
    _cli(sqlite_county, "supervise", "tasks", "--out", str(tmp_path / "t.xlsx"))
    assert _xlsx((tmp_path / "t.xlsx").read_bytes()) == _xlsx(
        sclient.get("/supervision/tasks.xlsx", headers=h, params={"tasks": "all"}).content)
    _cli(sqlite_county, "lists", "entries", "--out", str(tmp_path / "l.csv"))
    assert _csv((tmp_path / "l.csv").read_bytes()) == _csv(sclient.get("/lists/export.csv", headers=h).content)
    _cli(sqlite_county, "analyse", "risk", "--out", str(tmp_path / "r.csv"))
    assert _csv((tmp_path / "r.csv").read_bytes()) == _csv(
        sclient.get("/analysis/risk.csv", headers=h, params={"months": 12}).content)
    _cli(sqlite_county, "analyse", "alerts", "--by", "grid", "--out", str(tmp_path / "d.xlsx"))
    assert _xlsx((tmp_path / "d.xlsx").read_bytes()) == _xlsx(
        sclient.get("/analysis/distribution.xlsx", headers=h, params={"what": "alerts", "by": "grid"}).content)
    from creditgov.cli.main import app
    bad = CliRunner().invoke(app, ["--db", sqlite_county.url, "--key-file", str(sqlite_county.key_file),
                                   "alerts", "list", "--out", str(tmp_path / "x.pdf")])
    assert isinstance(bad.exception, InvalidInput) and ".xlsx or .csv" in str(bad.exception)  # exit 2 in `main`
    assert not (tmp_path / "x.pdf").exists()



def test_grades_written_in_chinese_are_named_in_english_on_english_exports() -> None:
    """A model whose grades are Chinese characters (Changxing's homestays: 优/良/差): the
    English distribution and trend tables name them by their band, the Chinese as written."""
    dist = {"by": "street", "categories": ["优", "良", "差"], "rows": [], "totals": {"优": 2}, "total": 2}
    trend = {"grades": ["优", "良", "差"], "runs": [{"run_id": 1, "as_of": "2026-09-30", "subjects": 2,
                                                "mean_score": 80.5, "grades": {"优": 2}}]}
    assert tables.distribution_table(dist, "en")[0] == ["Street (town)", "Excellent", "Good", "Poor", "Total"]
    assert tables.distribution_table(dist, "zh")[0] == ["街道(乡镇)", "优", "良", "差", "合计"]
    head, rows = tables.trend_table(trend, "en")
    assert head[-3:] == ["Excellent", "Good", "Poor"] and rows == [[1, "2026-09-30", 2, 80.5, 2, 0, 0]]
    assert tables.trend_table(trend, "zh")[0][-3:] == ["优", "良", "差"]
