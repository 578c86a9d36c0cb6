"""A department reads, in a file in its scope, the records every department shares
(public and shared classes) and, of the restricted and secret ones, only those it
supplied itself: a water and power company, whose scope is every household, never
reads a bank's loan shared under the subject's consent nor a police case — on the API
and on the file's page (SQLite and PostgreSQL). The office and the grid workers read the
whole file, as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.security.scopes import DEPARTMENT_CLASSES, Grant, Principal, Role, Scope
from tests.alerts.helpers import GRID, add_record, make_regions, make_subject

# item -> (department, class): one record of each for the firm.
RECORDS = {"market.penalty": ("market", "public"), "social.arrears": ("social", "shared"),
           "utility.bill": ("utility", "restricted"), "finance.loan": ("finance", "restricted"),
           "police.case": ("police", "secret")}


@pytest.fixture
def county(store: str, tmp_path: Path):
    key = tmp_path / "records.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        regions = make_regions(s)
        firm = make_subject(s, region=regions[GRID], name="长兴测试纺织有限公司")
        for item, (dept, _cls) in RECORDS.items():
            add_record(s, firm, item, department=dept, value="800000.00" if item == "finance.loan" else None)
        heads = {}
        for name, role, scope in (("water", "department_officer", {"department_code": "utility"}),
                                  ("bankdesk", "department_officer", {"department_code": "finance"}),
                                  ("office", "credit_office", {}),
                                  ("grid", "grid_worker", {"region_code": GRID})):
            u = users.create_user(s, username=name, password=None, role=role, actor="test", **scope)
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        fid = firm.id
    return TestClient(create_app(store, key), base_url="https://testserver"), heads, fid


def _items(client: TestClient, head: dict[str, str], fid: int) -> set[str]:
    r = client.get(f"/api/v1/subjects/{fid}?purpose=test", headers=head)
    assert r.status_code == 200, r.text
    return {rec["item"] for rec in r.json()["records"]}


def test_a_department_reads_shared_classes_and_its_own_records(county) -> None:
    client, heads, fid = county
    everything = set(RECORDS)
    shared = {i for i, (_d, c) in RECORDS.items() if c in DEPARTMENT_CLASSES}
    assert _items(client, heads["water"], fid) == shared | {"utility.bill"}
    assert _items(client, heads["bankdesk"], fid) == shared | {"finance.loan"}
    assert _items(client, heads["office"], fid) == everything
    assert _items(client, heads["grid"], fid) == everything

    page = client.get(f"/subjects/{fid}", headers={**heads["water"], "accept": "text/html"})
    assert page.status_code == 200
    assert "800,000.00" not in page.text and "贷款信息" not in page.text and "治安案件" not in page.text
    assert "水电缴费记录" in page.text and "欠缴社会保险费" in page.text
    office = client.get(f"/subjects/{fid}", headers={**heads["office"], "accept": "text/html"}).text
    assert "800,000.00" in office and "贷款信息" in office


def test_the_rule_itself() -> None:
    """`Grant.visible_records` for a department scope, without a store: an officer with no
    department reads only the shared classes."""
    rows = [{"data_class": c, "department": d, "item": i} for i, (d, c) in RECORDS.items()]
    for dept, extra in (("utility", {"utility.bill"}), ("police", {"police.case"}), (None, set())):
        g = Grant(Principal(role=Role.DEPARTMENT, user_id=1, department_code=dept), "subjects.read", Scope.DEPARTMENT)
        assert {r["item"] for r in g.visible_records(rows)} == {"market.penalty", "social.arrears"} | extra
    office = Grant(Principal(role=Role.CREDIT_OFFICE, user_id=2), "subjects.read", Scope.ALL)
    assert len(office.visible_records(rows)) == len(rows)


def test_a_score_explanation_names_to_a_department_only_the_records_it_may_read(county, store: str) -> None:
    """The reasons of a score name records; to a department, only those its file shows
    (the bank's loan and the police case stay behind the points they gave)."""
    from sqlalchemy import select

    from creditgov.records.models import CreditRecord
    from creditgov.scoring.access import explanation_for

    _client, _heads, fid = county
    with db.session_scope(store) as s:
        ids = dict(s.execute(select(CreditRecord.item_code, CreditRecord.id).where(CreditRecord.subject_id == fid))
                   .tuples().all())
        e = {"items": [{"code": "i1", "points": -30, "records": [{"id": ids["finance.loan"], "item": "finance.loan"},
                                                                 {"id": ids["market.penalty"], "item": "market.penalty"}]}],
             "bonuses": [{"code": "b1", "points": 5, "records": [{"id": ids["utility.bill"], "item": "utility.bill"}]}],
             "excluded_records": [{"id": ids["police.case"], "item": "police.case"}],
             "overrides": [{"code": "o1", "evidence": [{"id": ids["police.case"], "item": "police.case"}, {"list": "x"}]}]}
        water = Grant(Principal(role=Role.DEPARTMENT, user_id=1, department_code="utility"), "subjects.read",
                      Scope.DEPARTMENT)
        seen = explanation_for(s, water, e)
        assert [r["item"] for r in seen["items"][0]["records"]] == ["market.penalty"]
        assert seen["items"][0]["points"] == -30  # the score's reasons keep their points
        assert [r["item"] for r in seen["bonuses"][0]["records"]] == ["utility.bill"]
        assert seen["excluded_records"] == [] and seen["overrides"][0]["evidence"] == [{"list": "x"}]
        office = Grant(Principal(role=Role.CREDIT_OFFICE, user_id=2), "subjects.read", Scope.ALL)
        assert explanation_for(s, office, e) == e
