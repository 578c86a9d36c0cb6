"""Exports (issue 19) through the real application: the lists page, a run's scores and
the credit checks as Excel (opened with openpyxl) and CSV, each with the reader's scope
and masking, each export on the audit chain; CSV cells never start a formula."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from creditgov.core import db
from creditgov.lists import service as lists_service
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.measures.models import CreditCheck
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject
from creditgov.web import exports
from tests.api.conftest import client_for
from tests.api.county import County
from tests.api.test_matrix import SCOPE


def _h(c: County, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.tokens[role]}"}


def _xlsx(body: bytes) -> list[list[str]]:
    ws = load_workbook(io.BytesIO(body), read_only=True).active
    return [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_lists_export_holds_the_readers_scope(client: TestClient, county: County) -> None:
    with db.session_scope(county.url) as s:
        entries = {(e.id, e.subject_id) for e in s.execute(select(ListEntry)).scalars()}
    assert entries
    for role in ("credit_office", "department_officer", "grid_worker"):
        r = client.get("/lists/export.xlsx", headers=_h(county, role))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        rows = _xlsx(r.content)
        assert rows[0][:2] == ["编号", "名单"] and "主体" in rows[0]
        want = sorted(i for i, sid in entries if sid in SCOPE[role])
        assert sorted(int(x[0]) for x in rows[1:]) == want, role
        c = client.get("/lists/export.csv", headers=_h(county, role))
        assert _csv(c.content) == rows
        assert int(c.headers["x-row-count"]) == int(r.headers["x-row-count"]) == len(rows) - 1
    en = client.get("/lists/export.csv", headers=_h(county, "credit_office"), cookies={"cg_lang": "en"})
    assert _csv(en.content)[0][:2] == ["Entry", "List"]
    assert client.get("/lists/export.xlsx", headers=_h(county, "subject")).status_code in (403, 404)
    assert client.get("/lists/export.pdf", headers=_h(county, "credit_office")).status_code in (404, 422)
    with db.session_scope(county.url) as s:
        assert s.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "lists.export")).scalar_one() >= 7


def test_the_lists_export_holds_the_pages_filters_and_order(client: TestClient, county: County) -> None:
    """What the page shows under a filter and sort is what the export holds, in that order.
    Three proposals are added for the test and removed after it."""
    office = _h(county, "credit_office")
    with db.session_scope(county.url) as s:
        taken = set(s.execute(select(ListEntry.subject_id).where(ListEntry.list_code == "key-attention")).scalars())
        firms = sorted(set(SCOPE["credit_office"]) - taken)[:3]
        added = [lists_service.propose(s, list_code="key-attention", subject_id=sid, basis="导出测试",
                                       decision_no=f"导出〔2026〕{i}号", actor="test").id
                 for i, sid in enumerate(firms, start=1)]
    try:
        with db.session_scope(county.url) as s:
            entries = list(s.execute(select(ListEntry.id, ListEntry.list_code, ListEntry.status,
                                            ListEntry.subject_id, Subject.name)
                                     .join(Subject, Subject.id == ListEntry.subject_id)))
        want = [e for e in entries if e.list_code == "key-attention" and e.status == "proposed"
                and e.subject_id in SCOPE["credit_office"]]
        assert len(want) >= 3
        for sort, key in (("name", lambda e: (e.name, e.id)), ("new", lambda e: -e.id)):
            r = client.get("/lists/export.csv", params={"list": "key-attention", "status": "proposed", "sort": sort},
                           headers=office)
            assert r.status_code == 200
            assert [int(x[0]) for x in _csv(r.content)[1:]] == [e.id for e in sorted(want, key=key)], sort
        none = client.get("/lists/export.csv", params={"list": "key-attention", "status": "exited"}, headers=office)
        assert _csv(none.content)[1:] == []
        name = next(e.name for e in entries if e.id == added[0])
        q = client.get("/lists/export.xlsx", params={"q": name}, headers=office)
        assert {int(x[0]) for x in _xlsx(q.content)[1:]} == {
            e.id for e in entries if name in e.name and e.subject_id in SCOPE["credit_office"]}
        page = client.get("/lists", params={"list": "key-attention", "status": "proposed", "sort": "name"},
                          headers={**office, "accept": "text/html"}).text
        assert 'href="/lists/export.csv?list=key-attention&amp;status=proposed&amp;sort=name"' in page
    finally:
        with db.session_scope(county.url) as s:
            s.execute(delete(ListEntryEvent).where(ListEntryEvent.entry_id.in_(added)))
            s.execute(delete(ListEntry).where(ListEntry.id.in_(added)))


def test_the_checks_export_is_the_readers_own(client: TestClient, county: County) -> None:
    with db.session_scope(county.url) as s:
        checks = {(c.check_id, c.department) for c in s.execute(select(CreditCheck)).scalars()}
    office = _xlsx(client.get("/checks/export.xlsx", headers=_h(county, "credit_office")).content)
    assert {r[0] for r in office[1:]} == {cid for cid, _ in checks} and county.check_id in {r[0] for r in office}
    market = _csv(client.get("/checks/export.csv", headers=_h(county, "department_officer")).content)
    assert {r[0] for r in market[1:]} == {cid for cid, dep in checks if dep == "market"}
    assert client.get("/checks/export.csv", headers=_h(county, "grid_worker")).status_code == 403


def test_scores_export_keeps_scope_and_the_masking_policy(sqlite_county: County) -> None:
    c = client_for(sqlite_county)
    with db.session_scope(sqlite_county.url) as s:
        run = s.execute(select(EvaluationRun).where(EvaluationRun.model_name == "community-resident")).scalars().first()
        assert run is not None
        scores = {sid: str(sc) for sid, sc in s.execute(select(Score.subject_id, Score.score)
                                                         .where(Score.run_id == run.id))}
        people = {sub.id: sub.name for sub in s.execute(select(Subject).where(Subject.id.in_(list(scores))))
                  .scalars() if sub.resident_id_index is not None}
    assert people
    rows = _xlsx(c.get(f"/runs/{run.id}/scores.xlsx", headers=_h(sqlite_county, "credit_office")).content)
    got = {int(r[0]): r for r in rows[1:]}
    assert set(got) == set(scores)
    for sid, name in people.items():  # the office works with named people: whole (Grant.masks_people)
        assert got[sid][2] == name
    assert all(float(got[sid][3]) == float(v) for sid, v in scores.items())
    grid = _csv(c.get(f"/runs/{run.id}/scores.csv", headers=_h(sqlite_county, "grid_worker")).content)
    assert {int(r[0]) for r in grid[1:]} == set(scores) & SCOPE["grid_worker"]
    assert c.get("/runs/999999/scores.csv", headers=_h(sqlite_county, "credit_office")).status_code == 404


def test_csv_cells_never_start_a_formula_and_the_workbook_keeps_text() -> None:
    hostile = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", '"><script>alert(1)</script>', "王*五 😀"]
    body = b"".join(exports._csv(["a"] * len(hostile), [hostile]))
    row = _csv(body)[1]
    assert row[:4] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)"] and row[4:] == hostile[4:]
    wb = b"".join(exports._xlsx("t", ["a"] * len(hostile), [hostile]))
    assert _xlsx(wb)[1] == hostile  # stored as text, not formulas
