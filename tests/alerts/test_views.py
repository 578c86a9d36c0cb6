"""The alerts API against a real county (SQLite and PostgreSQL): an alert's life
(acknowledged, commented, resolved) in its events and the audit chain, filters, the
data scope (a grid worker never reaches another grid's alerts; a department officer
the alerts addressed to its desk or raised by its own records, handling only the
former), and each account's own inbox with read receipts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.alerts import service as alerts_service
from creditgov.core import db, labels
from creditgov.records.models import CreditRecord
from tests.api.conftest import client_for
from tests.api.county import County
from tests.api.county_supervision import fresh_county, raise_test_alert


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api_county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    yield from fresh_county(request, tmp_path_factory)


@pytest.fixture(scope="module")
def api(api_county: County) -> TestClient:
    return client_for(api_county)


def _as(county: County, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {county.tokens[role]}"}


def _call(api: TestClient, county: County, role: str, method: str, path: str, body: Any = None) -> Any:
    return api.request(method, "/api/v1" + path, headers=_as(county, role), json=body)


def test_an_acknowledged_then_resolved_alert_shows_both_in_its_events(api: TestClient, api_county: County) -> None:
    aid = raise_test_alert(api_county.url, 1, key="views:life", title="视图测试：生命周期")
    r = _call(api, api_county, "credit_office", "GET", f"/alerts/{aid}")
    assert r.status_code == 200
    a = r.json()
    assert (a["status"], a["subject_name"], a["rule_name"]) == ("open", "长兴绿源纺织有限公司", "新增失信被执行人")
    assert [e["action"] for e in a["events"]] == ["raised"]
    # Delivered by the inbox channel to the office's desk and the firm's grid.
    assert {(n["recipient"], n["channel"], n["status"]) for n in a["notifications"]} == {
        ("department:credit", "inbox", "sent"), ("grid:CX-S01-G01", "inbox", "sent")}

    r = _call(api, api_county, "credit_office", "POST", f"/alerts/{aid}/acknowledge", {"note": "已安排核实"})
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert r.json()["acknowledged_by"] == "user:t-credit_office"
    again = _call(api, api_county, "credit_office", "POST", f"/alerts/{aid}/acknowledge", {})
    assert again.status_code == 422 and again.headers["content-type"].startswith("application/problem+json")
    assert "only an open alert" in again.json()["detail"]

    assert _call(api, api_county, "credit_office", "POST", f"/alerts/{aid}/comment", {"note": "已电话联系企业"}
                 ).status_code == 200
    assert _call(api, api_county, "credit_office", "POST", f"/alerts/{aid}/resolve", {"resolution": " "}
                 ).status_code == 422  # a resolution says what was done
    r = _call(api, api_county, "credit_office", "POST", f"/alerts/{aid}/resolve", {"resolution": "企业已履行判决"})
    assert r.status_code == 200

    a = _call(api, api_county, "credit_office", "GET", f"/alerts/{aid}").json()
    assert a["status"] == "resolved" and a["resolution"] == "企业已履行判决"
    assert [(e["action"], e["note"]) for e in a["events"]] == [
        ("raised", None), ("acknowledged", "已安排核实"), ("commented", "已电话联系企业"), ("resolved", "企业已履行判决")]
    assert {e["actor"] for e in a["events"][1:]} == {"user:t-credit_office"}
    assert _call(api, api_county, "credit_office", "POST", f"/alerts/{aid}/resolve", {"resolution": "x"}
                 ).status_code == 422

    # Every step is in the audit chain with who did it, and the chain still verifies.
    audit = _call(api, api_county, "admin", "GET", "/audit/entries?subject_id=1&limit=200").json()
    steps = [(e["action"], e["actor"]) for e in audit if json.loads(e["detail"]).get("alert") == aid]
    assert ("alert.acknowledge", "user:t-credit_office") in steps
    assert ("alert.comment", "user:t-credit_office") in steps
    assert ("alert.resolve", "user:t-credit_office") in steps
    assert _call(api, api_county, "admin", "GET", "/audit/verify").json()["ok"] is True


def test_the_list_filters_by_status_rule_and_severity(api: TestClient, api_county: County) -> None:
    open_id = raise_test_alert(api_county.url, 2, key="views:filter-open", title="视图测试：待签收")
    done_id = raise_test_alert(api_county.url, 2, key="views:filter-done", title="视图测试：已办结")
    _call(api, api_county, "credit_office", "POST", f"/alerts/{done_id}/resolve", {"resolution": "已核实"})

    def ids(query: str) -> set[int]:
        r = _call(api, api_county, "credit_office", "GET", f"/alerts?{query}")
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()}

    assert open_id in ids("status=open") and done_id not in ids("status=open")
    assert done_id in ids("status=resolved") and open_id not in ids("status=resolved")
    assert open_id in ids("status=unresolved") and done_id not in ids("status=unresolved")
    assert {open_id, done_id} <= ids("rule=court-dishonest-debtor&subject_id=2")
    assert not ids("rule=negative-opinion") & {open_id, done_id}
    assert open_id in ids("severity=high") and open_id not in ids("severity=low")
    assert _call(api, api_county, "credit_office", "GET", "/alerts?status=maybe").status_code == 422


def test_a_grid_worker_reaches_only_its_own_grids_alerts(api: TestClient, api_county: County) -> None:
    # Subject 7 lives in the grid worker's grid CX-S02-G01; subject 1 in CX-S01.
    own = raise_test_alert(api_county.url, 7, key="views:grid-own", title="视图测试：本网格")
    other = raise_test_alert(api_county.url, 1, key="views:grid-other", title="视图测试：外网格")

    seen = {a["id"] for a in _call(api, api_county, "grid_worker", "GET", "/alerts?limit=500").json()}
    assert own in seen and other not in seen
    assert all(a["subject_id"] in (3, 4, 7) for a in _call(api, api_county, "grid_worker", "GET", "/alerts").json())
    # Outside the scope is the same answer as missing, for reading and for handling.
    for method, path, body in (("GET", f"/alerts/{other}", None),
                               ("POST", f"/alerts/{other}/acknowledge", {}),
                               ("POST", f"/alerts/{other}/comment", {"note": "x"}),
                               ("POST", f"/alerts/{other}/resolve", {"resolution": "x"})):
        r = _call(api, api_county, "grid_worker", method, path, body)
        assert r.status_code == 404, (path, r.status_code)
    assert _call(api, api_county, "credit_office", "GET", f"/alerts/{other}").json()["status"] == "open"

    r = _call(api, api_county, "grid_worker", "POST", f"/alerts/{own}/acknowledge", {"note": "网格员已上门"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "user:t-grid_worker"
    # Whole-county readers see delivery addresses; scoped readers do not.
    assert all(n["address"] is None for n in r.json()["notifications"])

    # An inspector reads the alerts of its street but does not handle them; banks and
    # subjects have no alerts; the public must sign in.
    assert other in {a["id"] for a in _call(api, api_county, "inspector", "GET", "/alerts").json()}
    assert _call(api, api_county, "inspector", "POST", f"/alerts/{other}/acknowledge", {}).status_code == 403
    assert _call(api, api_county, "bank_officer", "GET", "/alerts").status_code == 403
    assert _call(api, api_county, "subject", "GET", f"/alerts/{other}").status_code == 403
    assert api.get("/api/v1/alerts").status_code == 401


def test_each_account_reads_its_own_inbox_and_marks_messages_read(api: TestClient, api_county: County) -> None:
    aid = raise_test_alert(api_county.url, 7, key="views:inbox", title="视图测试：站内信")
    office = _call(api, api_county, "credit_office", "GET", "/inbox").json()
    mine = [m for m in office if m["body"].startswith("视图测试：站内信")]
    assert [m["to"] for m in mine] == ["department:credit"] and not mine[0]["read"]
    grid = _call(api, api_county, "grid_worker", "GET", "/inbox?unread=true").json()
    theirs = [m for m in grid if m["body"].startswith("视图测试：站内信")]
    assert [m["to"] for m in theirs] == ["grid:CX-S02-G01"]
    assert theirs[0]["ref"].startswith("notification:") and theirs[0]["subject_id"] == 7
    # Nobody else's inbox holds it; a bank or a firm reads an inbox of its own (empty here).
    for role in ("bank_officer", "subject", "inspector", "department_officer"):
        r = _call(api, api_county, role, "GET", "/inbox")
        assert r.status_code == 200 and not [m for m in r.json() if m["body"].startswith("视图测试：站内信")]
    assert api.get("/api/v1/inbox").status_code == 401

    # Another's message is not found; one's own is marked read once, and audited.
    assert _call(api, api_county, "grid_worker", "POST", f"/inbox/{mine[0]['id']}/read").status_code == 404
    r = _call(api, api_county, "credit_office", "POST", f"/inbox/{mine[0]['id']}/read")
    assert r.status_code == 200 and r.json()["read"] is True
    assert _call(api, api_county, "credit_office", "POST", f"/inbox/{mine[0]['id']}/read").json()["read"] is True
    unread = {m["id"] for m in _call(api, api_county, "credit_office", "GET", "/inbox?unread=true").json()}
    assert mine[0]["id"] not in unread
    reads = _call(api, api_county, "admin", "GET", "/audit/entries?action=inbox.read&limit=100").json()
    assert [e["actor"] for e in reads if json.loads(e["detail"])["message"] == mine[0]["id"]] == ["user:t-credit_office"]
    assert aid > 0


def _market_record_key(url: str, subject_id: int) -> str:
    """The natural key of one of the market department's records about the subject."""
    with db.session_scope(url) as s:
        return str(s.execute(select(CreditRecord.natural_key).where(
            CreditRecord.subject_id == subject_id, CreditRecord.department_code == "market")
            .order_by(CreditRecord.id).limit(1)).scalar_one())


def test_a_department_reaches_its_desks_alerts_and_handles_only_those(api: TestClient, api_county: County) -> None:
    # Subject 5 holds no market record; subject 2 does; subject 1 too, but the alert about
    # it here goes to the office and the grid only (the reviewer's "#13" the other way round).
    addressed = raise_test_alert(api_county.url, 5, key="views:dept-addressed", title="视图测试：发给市场监管",
                                 recipients=[{"who": "department", "code": "market", "channels": ["inbox"]}])
    own_record = raise_test_alert(api_county.url, 2, key=f"record:{_market_record_key(api_county.url, 2)}",
                                  title="视图测试：市场监管的记录")
    elsewhere = raise_test_alert(api_county.url, 1, key="views:dept-elsewhere", title="视图测试：发给别人")
    with db.session_scope(api_county.url) as s:  # a source's quality: about no subject, to market's desk
        source = alerts_service.raise_alert(s, rule_code="source-late", title="视图测试：数据源迟报", actor="test",
                                            recipients=[{"who": "department", "code": "market", "channels": ["inbox"]}],
                                            evidence_key="views:dept-source").alert.id

    def seen(role: str) -> set[int]:
        r = _call(api, api_county, role, "GET", "/alerts?limit=500")
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()}

    dept = seen("department_officer")
    assert {addressed, own_record, source} <= dept and elsewhere not in dept
    assert {addressed, own_record, elsewhere, source} <= seen("credit_office")
    # Read: its desk's and its record's; another's is missing, for reading and handling alike.
    for aid in (addressed, own_record, source):
        assert _call(api, api_county, "department_officer", "GET", f"/alerts/{aid}").status_code == 200
    for method, path, body in (("GET", f"/alerts/{elsewhere}", None),
                               ("POST", f"/alerts/{elsewhere}/acknowledge", {}),
                               ("POST", f"/alerts/{elsewhere}/comment", {"note": "x"}),
                               ("POST", f"/alerts/{elsewhere}/resolve", {"resolution": "x"})):
        assert _call(api, api_county, "department_officer", method, path, body).status_code == 404, path
    # Handle: only what was sent to its desk; its record's alert is for the units it went to.
    for method, path, body in (("POST", f"/alerts/{own_record}/acknowledge", {}),
                               ("POST", f"/alerts/{own_record}/comment", {"note": "x"}),
                               ("POST", f"/alerts/{own_record}/resolve", {"resolution": "x"})):
        r = _call(api, api_county, "department_officer", method, path, body)
        assert r.status_code == 403, (path, r.status_code)
        assert r.json()["code"] == "alerts.alert.not_addressed"
        assert r.json()["message"] == (f"Alert #{own_record} was not sent to {labels.label('department', 'market', 'en')}"
                                       ": you may read it; the units it was sent to acknowledge and resolve it.")
    r = _call(api, api_county, "department_officer", "POST", f"/alerts/{addressed}/resolve", {"resolution": "已核实"})
    assert r.status_code == 200 and r.json()["resolved_by"] == "user:t-department_officer"
    assert _call(api, api_county, "credit_office", "GET", f"/alerts/{own_record}").json()["status"] == "open"
    assert _call(api, api_county, "credit_office", "GET", f"/alerts/{elsewhere}").json()["status"] == "open"

    # The pages and the export say the same: the list, its handling buttons, the alert's page.
    page = _page(api, api_county, "department_officer", "/alerts?status=all").text
    rows = {int(i) for i in re.findall(r'data-testid="alert-row-(\d+)"', page)}
    assert {own_record, source} <= rows and elsewhere not in rows
    assert f'data-testid="resolve-{source}"' in page and f'data-testid="resolve-{own_record}"' not in page
    one = _page(api, api_county, "department_officer", f"/alerts/{own_record}").text
    assert 'data-testid="resolve-form"' not in one and 'data-testid="alert-status"' in one
    assert 'data-testid="resolve-form"' in _page(api, api_county, "department_officer", f"/alerts/{source}").text
    assert _page(api, api_county, "department_officer", f"/alerts/{elsewhere}").status_code == 404
    csv = _page(api, api_county, "department_officer", "/alerts/export.csv?status=all").text
    listed = {int(line.split(",")[0]) for line in csv.lstrip("\ufeff").splitlines()[1:] if line[:1].isdigit()}
    assert {addressed, own_record, source} <= listed and elsewhere not in listed
    dash = _page(api, api_county, "department_officer", "/").text
    assert "视图测试：发给别人" not in dash


def _page(api: TestClient, county: County, role: str, path: str) -> Any:
    return api.get(path, headers={**_as(county, role), "accept": "text/html"})
