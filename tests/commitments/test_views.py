"""The credit-commitments API and pages against the real application over real stores
(SQLite and PostgreSQL): the mini county with its accounts. A subject signs its own
commitment after agreeing to the text, the market department verifies a breach, and
exactly one negative record appears in the credit file; the office's window records a
commitment signed there; each role reaches only the commitments in its scope."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.commitments.models import Commitment
from creditgov.core import db
from creditgov.records.models import CreditRecord
from creditgov.security.models import AuditEntry
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County, county_on


@dataclass
class Api:
    county: County
    client: TestClient


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with county_on(request, tmp_path_factory.mktemp("commitments-api")) as c:
        yield Api(c, client_for(c))


def _h(api: Api, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.county.tokens[role]}"}


def _breaches(url: str, subject_id: int) -> list[CreditRecord]:
    with db.session_scope(url) as s:
        return list(s.execute(select(CreditRecord).where(CreditRecord.subject_id == subject_id,
                                                         CreditRecord.item_code == "commitment.breach")).scalars())


def test_a_subject_signs_and_the_department_records_one_breach(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    c, url = api.client, api.county.url
    templates = {t["code"]: t for t in c.get("/api/v1/commitment-templates", headers=_h(api, "subject")).json()}
    t = templates["tolerated-missing-documents"]
    assert t["signable"] and t["due_on"] == "2026-12-01" and "2026-12-01" in t["text"]
    assert templates["credit-repair"]["signable"] is False

    # agreeing to the text is required; another subject's file is out of reach; the repair commitment has its own door
    body = {"template": t["code"], "agree": False, "scenario": "administrative-approval"}
    r = c.post("/api/v1/subjects/1/commitments", json=body, headers=_h(api, "subject"))
    assert r.status_code == 422 and "agree" in r.json()["detail"]
    assert c.post("/api/v1/subjects/2/commitments", json={**body, "agree": True},
                  headers=_h(api, "subject")).status_code == 404
    r = c.post("/api/v1/subjects/1/commitments", json={"template": "credit-repair", "agree": True},
               headers=_h(api, "subject"))
    assert r.status_code == 422 and "repair" in r.json()["detail"]
    with db.session_scope(url) as s:
        before = s.execute(select(func.count(Commitment.id))).scalar_one()

    r = c.post("/api/v1/subjects/1/commitments", json={**body, "agree": True, "signed_by": "法定代表人"},
               headers=_h(api, "subject"))
    assert r.status_code == 201, r.text
    signed = r.json()
    assert (signed["subject_id"], signed["status"], signed["signed_on"], signed["due_on"], signed["signed_by"],
            signed["verifying_department"], signed["scenario"]) == (
        1, "signed", "2026-11-01", "2026-12-01", "法定代表人", "market", "administrative-approval")
    assert signed["text"] == t["text"] and signed["record"] is None and not signed["overdue"]
    cid = signed["id"]
    with db.session_scope(url) as s:
        assert s.execute(select(func.count(Commitment.id))).scalar_one() == before + 1
        row = s.get(Commitment, cid)
        assert row is not None and row.actor == "user:t-subject"
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "commitment.sign",
                                                  AuditEntry.subject_id == 1)).first() is not None

    # the subject sees its own; past the deadline the department finds it among the overdue
    mine = c.get("/api/v1/commitments?status=signed", headers=_h(api, "subject")).json()
    assert cid in {x["id"] for x in mine} and {x["subject_id"] for x in mine} == {1}
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-12-05")
    overdue = c.get("/api/v1/commitments?overdue=true", headers=_h(api, "department_officer")).json()
    assert cid in {x["id"] for x in overdue} and all(x["overdue"] for x in overdue)

    # only the verifying department decides; a breach needs a note
    v = f"/api/v1/commitments/{cid}/verification"
    r = c.post(v, json={"outcome": "breached", "note": "逾期未补齐"}, headers=_h(api, "credit_office"))
    assert r.status_code == 422 and "verified by 'market'" in r.json()["detail"]
    assert c.post(v, json={"outcome": "breached"}, headers=_h(api, "department_officer")).status_code == 422
    assert c.post(v, json={"outcome": "breached"}, headers=_h(api, "grid_worker")).status_code == 403
    assert _breaches(url, 1) == []

    r = c.post(v, json={"outcome": "breached", "note": "逾期未补齐容缺材料"}, headers=_h(api, "department_officer"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["verified_on"], out["verified_by"], out["note"]) == (
        "breached", "2026-12-05", "user:t-department_officer", "逾期未补齐容缺材料")
    assert out["record"]["item"] == "commitment.breach" and out["record"]["polarity"] == "negative"
    # once only, either way
    for outcome in ("breached", "fulfilled"):
        r = c.post(v, json={"outcome": outcome, "note": "again"}, headers=_h(api, "department_officer"))
        assert r.status_code == 422 and "already verified" in r.json()["detail"]

    (neg,) = _breaches(url, 1)
    assert (neg.id, neg.document_no, neg.source, neg.department_code, neg.status, neg.is_current) == (
        out["record_id"], f"CMT-{cid}", "commitments", "market", "active", True)
    credit_file = c.get("/api/v1/subjects/1?purpose=test", headers=_h(api, "credit_office")).json()
    assert [r["id"] for r in credit_file["records"] if r["item"] == "commitment.breach"] == [neg.id]
    assert c.get(f"/api/v1/commitments/{cid}", headers=_h(api, "subject")).json()["record"]["id"] == neg.id


def test_the_window_and_the_scopes(api: Api) -> None:
    c, url = api.client, api.county.url
    body = {"template": "notification-commitment", "agree": True}
    r = c.post("/api/v1/subjects/3/commitments", json=body, headers=_h(api, "credit_office"))
    assert r.status_code == 422 and "signed_by" in r.json()["detail"]
    r = c.post("/api/v1/subjects/3/commitments", json={**body, "signed_by": "负责人"},
               headers=_h(api, "credit_office"))
    assert r.status_code == 201
    cid = r.json()["id"]
    with db.session_scope(url) as s:
        row = s.get(Commitment, cid)
        assert row is not None and (row.subject_id, row.signed_by, row.actor) == (3, "负责人", "user:t-credit_office")

    def ids(role: str) -> set[int]:
        r = c.get("/api/v1/commitments?status=all", headers=_h(api, role))
        assert r.status_code == 200
        return {x["id"] for x in r.json()}

    with db.session_scope(url) as s:
        by_subject = {i: sid for i, sid in s.execute(select(Commitment.id, Commitment.subject_id))}
        market = {i for (i,) in s.execute(select(Commitment.id).where(Commitment.verifying_department == "market"))}
    assert ids("credit_office") == set(by_subject)
    assert ids("grid_worker") == {i for i, sid in by_subject.items() if sid in (3, 4, 7)} and cid in ids("grid_worker")
    assert ids("inspector") == {i for i, sid in by_subject.items() if sid in (1, 2, 5, 6)}
    assert ids("subject") == {i for i, sid in by_subject.items() if sid == 1}
    assert ids("department_officer") == market  # the commitments made to it
    assert c.get(f"/api/v1/commitments/{cid}", headers=_h(api, "inspector")).status_code == 404
    assert c.get(f"/api/v1/commitments/{cid}", headers=_h(api, "subject")).status_code == 404
    assert c.get("/api/v1/commitments", headers=_h(api, "bank_officer")).status_code == 403


def _signed_in(c: TestClient, username: str) -> str:
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1),
                               "next": "/"})
    assert r.status_code == 303
    return r.headers["location"]


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def test_pages_sign_on_the_own_view_and_verify_on_the_work_list(api: Api) -> None:
    firm = client_for(api.county)
    assert _signed_in(firm, "t-subject") == "/me/credit"
    page = firm.get("/me/credit")
    assert page.status_code == 200 and 'data-testid="sign-industry-self-discipline"' in page.text
    assert 'data-testid="sign-credit-repair"' not in page.text  # signed with a repair, on its own form
    r = firm.post("/me/credit/commitments", data={"csrf_token": _csrf(page.text),
                                                  "template": "industry-self-discipline", "agree": "yes"})
    assert r.status_code == 303 and r.headers["location"].startswith("/me/credit?done=committed")
    with db.session_scope(api.county.url) as s:
        cid, signer = s.execute(select(Commitment.id, Commitment.signed_by).where(
            Commitment.subject_id == 1, Commitment.actor == "user:t-subject",
            Commitment.template_code == "industry-self-discipline").order_by(Commitment.id.desc())).first()
    assert signer == "subject"  # the account's display name when no signer is named
    assert f'data-testid="own-commitment-{cid}"' in firm.get("/me/credit").text
    # without the CSRF token nothing is signed
    assert firm.post("/me/credit/commitments", data={"template": "industry-self-discipline",
                                                     "agree": "yes"}).status_code == 403

    desk = client_for(api.county)
    _signed_in(desk, "t-department_officer")
    work = desk.get("/commitments")
    assert f'data-testid="verify-form-{cid}"' in work.text
    r = desk.post(f"/commitments/{cid}/verify", data={"csrf_token": _csrf(work.text), "outcome": "fulfilled",
                                                       "note": "按承诺经营"})
    assert r.status_code == 303
    with db.session_scope(api.county.url) as s:
        row = s.get(Commitment, cid)
        assert row is not None and row.status == "fulfilled" and row.record_id is not None
        rec = s.get(CreditRecord, row.record_id)
        assert rec is not None and (rec.item_code, rec.subject_id, rec.occurred_on) == (
            "commitment.fulfilled", 1, dt.date(2026, 11, 1))
    assert f'data-testid="commitment-{cid}"' in desk.get("/commitments?status=fulfilled").text
