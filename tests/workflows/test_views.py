"""The objection and credit-repair API and pages against a real application over real
stores (SQLite and PostgreSQL): the mini county with its accounts, plus firms and
records made here. Each test signs in with real tokens or the real login form and
asserts what the store holds afterwards — record statuses and their history, list
entries, the exchange outbox, the audit chain, the stored materials."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, ROLES, County, county_on, form_sign_in
from tests.workflows.helpers import add_record, make_firm, put_on_serious_list, status_changes

from creditgov.alerts.models import InboxMessage
from creditgov.commitments import service as commitments_service
from creditgov.commitments.models import Commitment
from creditgov.core import db
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.security import users as user_service
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import PERMISSIONS, Role
from creditgov.workflows.access import MAX_FILE_BYTES, MAX_UPLOAD_BYTES
from creditgov.workflows.eligibility import record_condition
from creditgov.workflows.materials import files_dir_for, materials
from creditgov.workflows.models import (
    Material,
    Objection,
    RepairApplication,
    RepairCondition,
)

D = dt.date


@dataclass
class Api:
    county: County
    client: TestClient


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The mini county (accounts, the seeded cases) on each database; materials in a
    folder of this module's own."""
    tmp = tmp_path_factory.mktemp("workflow-api")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDITGOV_FILES_DIR", str(tmp / "files"))
        with county_on(request, tmp) as c:
            yield Api(c, client_for(c))


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _account(url: str, subject_id: int) -> tuple[str, str]:
    """A subject account for a firm made here: (username, API token)."""
    with db.session_scope(url) as s:
        u = user_service.create_user(s, username=f"t-firm-{subject_id}", password=PASSWORD, role="subject",
                                     display_name="firm", subject_id=subject_id, actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
        return u.username, token


def _firm(url: str, *items: tuple[str, D]) -> tuple[int, list[int]]:
    with db.session_scope(url) as s:
        firm = make_firm(s)
        recs = [add_record(s, firm, item, published=on) for item, on in items]
        return firm.id, [r.id for r in recs]


def _meet_conditions(url: str, firm_id: int, record_id: int) -> None:
    """Obligations recorded as fulfilled by the supplying department, and the
    credit-repair commitment signed, straight in the store (for tests about later
    steps; `test_conditions_recorded_through_the_api_open_the_repair` records them
    through the API)."""
    with db.session_scope(url) as s:
        record_condition(s, kind="obligations-fulfilled", subject_id=firm_id, record_id=record_id,
                         department="market", note="罚款已缴清", actor="test")
        commitments_service.sign(s, subject_id=firm_id, template_code="credit-repair", signed_by="法定代表人",
                                 actor="test")


def _public_ids(cl: TestClient, firm_id: int) -> set[int]:
    r = cl.get(f"/api/v1/public/firms/{firm_id}")
    assert r.status_code == 200, r.text
    return {x["id"] for x in r.json()["records"]}


# ----------------------------------------------------------------------------- objection


def test_a_subject_objects_and_the_department_decides(api: Api) -> None:
    c, cl = api.county, api.client
    firm_id, ids = _firm(c.url, ("market.penalty", D(2026, 5, 11)), ("market.quality_fail", D(2026, 5, 11)))
    username, tok = _account(c.url, firm_id)
    assert _public_ids(cl, firm_id) == set(ids)

    r = cl.post(f"/api/v1/subjects/{firm_id}/objections", headers=_h(tok),
                json={"record_ids": ids, "reason": "该处罚已被行政复议撤销"})
    assert r.status_code == 201, r.text
    filed = r.json()
    # one case per record, one filing; due 5 working days after Sunday 2026-11-01
    assert [(o["record_id"], o["status"], o["channel"], o["department"], o["deadline"], o["working_days_left"])
            for o in filed] == [(rid, "open", "self", "market", "2026-11-06", 5) for rid in ids]
    assert filed[0]["filing_no"] == filed[1]["filing_no"]
    assert {o["record"]["status"] for o in filed} == {"disputed"}
    assert _public_ids(cl, firm_id) == set()  # withheld from publication at once
    upheld, deleted = (o["id"] for o in filed)

    dep, office = _h(c.tokens["department_officer"]), _h(c.tokens["credit_office"])
    queue = cl.get("/api/v1/objections?status=pending", headers=dep).json()
    assert {upheld, deleted} <= {o["id"] for o in queue}
    assert all(o["department"] == "market" for o in queue)
    r = cl.post(f"/api/v1/objections/{upheld}/decision", headers=office, json={"outcome": "upheld", "reason": "x"})
    assert r.status_code == 422 and "'market'" in r.json()["detail"]  # the supplier decides, not the office
    r = cl.post(f"/api/v1/objections/{upheld}/decision", headers=dep, json={"outcome": "upheld", "reason": "  "})
    assert r.status_code == 422 and "reason" in r.json()["detail"]

    r = cl.post(f"/api/v1/objections/{upheld}/decision", headers=dep,
                json={"outcome": "upheld", "reason": "经核实，处罚决定有效"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["outcome"], r.json()["record"]["status"]) == ("decided", "upheld", "active")
    r = cl.post(f"/api/v1/objections/{deleted}/decision", headers=dep,
                json={"outcome": "deleted", "reason": "抽检报告有误，撤销该记录"})
    assert r.status_code == 200 and r.json()["record"]["status"] == "revoked"
    again = cl.post(f"/api/v1/objections/{deleted}/decision", headers=dep,
                    json={"outcome": "upheld", "reason": "再次处理"})
    assert again.status_code == 409 and "another decision came first" in again.json()["detail"]

    assert _public_ids(cl, firm_id) == {ids[0]}
    with db.session_scope(c.url) as s:
        assert status_changes(s, ids[0]) == [("active", "disputed"), ("disputed", "active")]
        assert status_changes(s, ids[1]) == [("active", "disputed"), ("disputed", "revoked")]
        audit = [(e.action, e.actor) for e in s.execute(select(AuditEntry).where(
            AuditEntry.subject_id == firm_id, AuditEntry.action.like("objection.%")).order_by(AuditEntry.id)).scalars()]
    assert audit == [("objection.file", f"user:{username}")] * 2 + [("objection.decide", "user:t-department_officer")] * 2
    outbox = cl.get("/api/v1/exchange/outbox", headers=office).json()
    assert ("record.revoked", f"objection:{deleted}") in {(p["kind"], p["cause"]) for p in outbox
                                                         if p["record_id"] == ids[1]}
    own = cl.get("/api/v1/me/credit", headers=_h(tok)).json()
    assert {o["id"]: (o["status"], o["outcome"]) for o in own["objections"]} == {
        upheld: ("decided", "upheld"), deleted: ("decided", "deleted")}
    assert {"objection.upheld", "objection.deleted"} <= {m["topic"] for m in own["inbox"]}
    # the subject may ask for the one review of the decision that went against it
    r = cl.post(f"/api/v1/objections/{upheld}/review", headers=_h(tok), json={"reason": "复议决定书已提交"})
    assert r.status_code == 200 and r.json()["status"] == "reviewing" and r.json()["record"]["status"] == "disputed"
    r = cl.post(f"/api/v1/objections/{upheld}/review/decision", headers=office,
                json={"outcome": "corrected", "reason": "金额更正", "corrections": {"value": "500"}})
    assert r.status_code == 200, r.text
    new_id = r.json()["result_record_id"]
    with db.session_scope(c.url) as s:
        new = s.get(CreditRecord, new_id)
        assert new is not None and (new.supersedes_id, new.value, new.status) == (ids[0], Decimal(500), "active")


def test_a_subject_cannot_reach_another_subjects_records_or_cases(api: Api) -> None:
    c, cl = api.county, api.client
    mine, _ = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    other, (theirs,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    _user, tok = _account(c.url, mine)
    r = cl.post(f"/api/v1/subjects/{mine}/objections", headers=_h(tok), json={"record_ids": [theirs], "reason": "x"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = cl.post(f"/api/v1/subjects/{other}/objections", headers=_h(tok), json={"record_ids": [theirs], "reason": "x"})
    assert r.status_code == 404
    for method, path in (("GET", f"/objections/{c.objection_id}"), ("GET", f"/repairs/{c.repair_id}"),
                         ("GET", f"/records/{theirs}/repair-eligibility"), ("POST", f"/records/{theirs}/repairs"),
                         ("GET", f"/subjects/{other}/repair-schedule"),
                         ("GET", f"/objections/{c.objection_id}/materials/{c.material_sha256}")):
        r = cl.request(method, "/api/v1" + path, headers=_h(tok), json={} if method == "POST" else None)
        assert r.status_code == 404, (path, r.status_code, r.text)
    assert cl.get("/api/v1/objections", headers=_h(tok)).json() == []
    with db.session_scope(c.url) as s:
        rec = s.get(CreditRecord, theirs)
        assert rec is not None and rec.status == "active" and status_changes(s, theirs) == []


# ----------------------------------------------------------------------------- repair


def test_repair_too_early_is_refused_with_the_earliest_date(api: Api) -> None:
    c, cl = api.county, api.client
    firm_id, (rec,) = _firm(c.url, ("market.penalty_serious", D(2026, 6, 1)))
    _meet_conditions(c.url, firm_id, rec)  # only the minimum period (12 months, serious) is missing
    _user, tok = _account(c.url, firm_id)
    sched = cl.get(f"/api/v1/subjects/{firm_id}/repair-schedule", headers=_h(tok)).json()
    assert [(x["record_id"], x["tier"], x["repairable_from"], x["publication_ends"], x["repairable_now"])
            for x in sched] == [(rec, "serious", "2027-06-01", "2029-06-01", False)]
    el = cl.get(f"/api/v1/records/{rec}/repair-eligibility", headers=_h(tok)).json()
    assert (el["eligible"], el["eligible_from"]) == (False, "2027-06-01")
    assert [x["condition"] for x in el["checks"] if not x["met"]] == ["minimum-period"]

    r = cl.post(f"/api/v1/records/{rec}/repairs", headers=_h(tok), json={"applicant": "法定代表人"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["status"], a["eligible_from"], a["channel"], a["deadline"]) == ("refused", "2027-06-01", "self", None)
    assert "repair can be applied for from 2027-06-01" in a["refusal_reason"]
    assert cl.get(f"/api/v1/repairs/{a['id']}", headers=_h(tok)).json()["refusal_reason"] == a["refusal_reason"]
    with db.session_scope(c.url) as s:
        assert s.get(CreditRecord, rec).status == "active"  # type: ignore[union-attr]


def test_an_approved_repair_exits_the_list_entry(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    c, cl = api.county, api.client

    def move(day: str | D) -> D:
        d = day if isinstance(day, D) else D.fromisoformat(day)
        monkeypatch.setenv("CREDITGOV_TODAY", d.isoformat())
        return d

    firm_id, (rec,) = _firm(c.url, ("market.penalty_serious", D(2025, 3, 1)))
    entry = put_on_serious_list(c.url, move, firm_id, rec, "2026-09-01")
    move("2026-11-02")
    _meet_conditions(c.url, firm_id, rec)
    _user, tok = _account(c.url, firm_id)
    dep, office = _h(c.tokens["department_officer"]), _h(c.tokens["credit_office"])

    r = cl.post(f"/api/v1/records/{rec}/repairs", headers=_h(tok), json={"applicant": "法定代表人"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["status"], a["intake_due_on"], a["deadline"], a["working_days_left"]) == \
        ("submitted", "2026-11-16", "2026-11-16", 10)
    assert a["id"] in {x["id"] for x in cl.get("/api/v1/repairs?status=pending", headers=office).json()}
    r = cl.post(f"/api/v1/repairs/{a['id']}/forward", headers=dep)
    assert r.status_code == 422 and "intake" in r.json()["detail"]
    r = cl.post(f"/api/v1/repairs/{a['id']}/forward", headers=office)
    assert r.status_code == 200 and (r.json()["status"], r.json()["decision_due_on"]) == ("forwarded", "2026-11-05")
    r = cl.post(f"/api/v1/repairs/{a['id']}/approve", headers=office, json={})
    assert r.status_code == 422 and "谁认定、谁修复" in r.json()["detail"]

    r = cl.post(f"/api/v1/repairs/{a['id']}/approve", headers=dep, json={"reason": "已纠正失信行为"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["application"]["status"], out["record"], out["lists"]["exited"]) == \
        ("approved", {"id": rec, "status": "repaired"}, [entry])
    assert {(p["recipient"], p["kind"]) for p in out["exchange"]} == {("upper-platform", "record.repaired")}
    with db.session_scope(c.url) as s:
        e = s.get(ListEntry, entry)
        assert e is not None and e.status == "exited" and e.exited_on == D(2026, 11, 2)
        assert status_changes(s, rec)[-1] == ("active", "repaired")
        approved_by = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "repair.approve",
                                                               AuditEntry.subject_id == firm_id)).scalar_one()
    assert approved_by == "user:t-department_officer"
    assert cl.get(f"/api/v1/lists/entries/{entry}", headers=office).json()["status"] == "exited"
    assert rec not in _public_ids(cl, firm_id)


def test_conditions_recorded_through_the_api_open_the_repair(api: Api) -> None:
    """Refused for missing conditions → each recorded by whoever may (the market
    department: obligations; the subject: its commitment; the office: a training) →
    eligible → applied, forwarded, approved."""
    c, cl = api.county, api.client
    firm_id, (rec,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))  # general: repairable from 2026-08-11
    username, tok = _account(c.url, firm_id)
    me, dep, office = _h(tok), _h(c.tokens["department_officer"]), _h(c.tokens["credit_office"])
    url = f"/api/v1/records/{rec}/repair-conditions"

    r = cl.post(f"/api/v1/records/{rec}/repairs", headers=me, json={"applicant": "法定代表人"})
    assert r.status_code == 201 and r.json()["status"] == "refused"
    refused = r.json()
    assert "no record that the obligations are fulfilled" in refused["refusal_reason"]
    assert "no signed credit-repair commitment" in refused["refusal_reason"]

    got = cl.get(url, headers=me)
    assert got.status_code == 200, got.text
    cs = got.json()
    assert (cs["record_id"], cs["tier"], cs["department"], cs["credit_office"], cs["open"]) == \
        (rec, "general", "market", "credit", True)
    assert [(x["condition"], x["required"], x["met"], x["recorded_by"], x["entries"]) for x in cs["conditions"]] == [
        ("obligations-fulfilled", True, False, ["market", "credit"], []),
        ("training", False, False, ["market", "credit"], []),
        ("commitment", True, False, ["subject", "credit"], [])]
    # the text the subject signs, with its one-year deadline from today filled in
    assert cs["commitment"]["template"] == "credit-repair" and "本主体承诺" in cs["commitment"]["text"]
    assert "2027-11-01" in cs["commitment"]["text"] and cs["commitment"]["due_on"] == "2027-11-01"

    # each condition by whoever may record it, and nobody else
    refusals = [
        (me, {"kind": "obligations-fulfilled", "note": "罚款已缴清"}, "not by the subject"),
        (dep, {"kind": "commitment", "agree": True}, "'market' does not sign it"),
        (me, {"kind": "commitment", "signed_by": "法定代表人"}, "agree to it"),
        (dep, {"kind": "obligations-fulfilled", "met_on": "2026-11-02"}, "after today"),
        (office, {"kind": "training", "note": "  "}, "a training needs its name"),
    ]
    for who, body, why in refusals:
        r = cl.post(url, headers=who, json=body)
        assert r.status_code == 422 and why in r.json()["detail"], (body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = cl.post(url, headers=me, json={"kind": "payment"})
    assert r.status_code == 422  # not a condition

    r = cl.post(url, headers=dep, json={"kind": "obligations-fulfilled", "met_on": "2026-10-30",
                                        "note": "罚款已于2026-10-30缴清，缴款书号 330522-TEST"})
    assert r.status_code == 201, r.text
    ob = r.json()["conditions"][0]
    assert (ob["met"], ob["met_on"]) == (True, "2026-10-30")
    assert [(e["unit"], e["met_on"], e["counts"]) for e in ob["entries"]] == [("market", "2026-10-30", True)]
    again = cl.post(url, headers=office, json={"kind": "obligations-fulfilled", "note": "窗口核验缴款凭证"})
    assert again.status_code == 422 and "already recorded as fulfilled on 2026-10-30" in again.json()["detail"]

    r = cl.post(url, headers=me, json={"kind": "commitment", "signed_by": "法定代表人", "agree": True})
    assert r.status_code == 201, r.text
    cm = r.json()["conditions"][2]
    assert (cm["met"], cm["met_on"]) == (True, "2026-11-01")
    assert [(e["signed_by"], e["status"], e["counts"]) for e in cm["entries"]] == [("法定代表人", "signed", True)]
    assert cm["entries"][0]["text"] == cs["commitment"]["text"]  # signed what was shown
    r = cl.post(url, headers=office, json={"kind": "commitment", "signed_by": "法定代表人", "agree": True})
    assert r.status_code == 422 and "already signed" in r.json()["detail"]
    # the office records a training too (not required for this tier, but counted)
    r = cl.post(url, headers=office, json={"kind": "training", "note": "信用修复专题培训（线上）"})
    assert r.status_code == 201 and r.json()["conditions"][1]["met"] is True

    el = cl.get(f"/api/v1/records/{rec}/repair-eligibility", headers=me).json()
    assert el["eligible"] is True and all(x["met"] for x in el["checks"]), el
    r = cl.post(f"/api/v1/records/{rec}/repairs", headers=me, json={"applicant": "法定代表人"})
    assert r.status_code == 201 and r.json()["status"] == "submitted", r.text
    app_id = r.json()["id"]
    assert cl.post(f"/api/v1/repairs/{app_id}/forward", headers=office).json()["status"] == "forwarded"
    r = cl.post(f"/api/v1/repairs/{app_id}/approve", headers=dep, json={"reason": "已履行义务并作出承诺"})
    assert r.status_code == 200, r.text
    assert (r.json()["application"]["status"], r.json()["record"]) == ("approved", {"id": rec, "status": "repaired"})
    # a repaired record takes no more conditions
    r = cl.post(url, headers=office, json={"kind": "training", "note": "再次培训"})
    assert r.status_code == 422 and "already repaired" in r.json()["detail"]
    assert cl.get(url, headers=me).json()["open"] is False

    with db.session_scope(c.url) as s:
        rows = [(x.kind, x.record_id, x.department_code, x.met_on, x.actor) for x in s.execute(
            select(RepairCondition).where(RepairCondition.subject_id == firm_id).order_by(RepairCondition.id)).scalars()]
        assert rows == [("obligations-fulfilled", rec, "market", D(2026, 10, 30), "user:t-department_officer"),
                        ("training", None, "credit", D(2026, 11, 1), "user:t-credit_office")]
        signed = s.execute(select(Commitment).where(Commitment.subject_id == firm_id)).scalars().all()
        assert [(x.type, x.signed_by, x.status, x.actor) for x in signed] == \
            [("credit-repair", "法定代表人", "signed", f"user:{username}")]
        assert status_changes(s, rec) == [("active", "repaired")]
        assert s.get(RepairApplication, refused["id"]).status == "refused"  # type: ignore[union-attr]
        actions = [(e.action, e.actor) for e in s.execute(select(AuditEntry).where(
            AuditEntry.subject_id == firm_id, AuditEntry.action.in_((
                "repair.condition.obligations-fulfilled", "repair.condition.training", "commitment.sign"))
        ).order_by(AuditEntry.id)).scalars()]
    assert actions == [("repair.condition.obligations-fulfilled", "user:t-department_officer"),
                       ("commitment.sign", f"user:{username}"), ("repair.condition.training", "user:t-credit_office")]
    inbox = {m["topic"]: m["body"] for m in cl.get("/api/v1/me/credit", headers=me).json()["inbox"]}
    assert "罚款已于2026-10-30缴清" in inbox["repair.condition.obligations-fulfilled"]
    assert "repair.condition.training" in inbox and "repair.approved" in inbox


def test_a_department_records_conditions_only_for_the_records_it_supplied(api: Api) -> None:
    c, cl = api.county, api.client
    firm_id, (market_rec, tax_rec) = _firm(c.url, ("market.penalty", D(2026, 5, 11)), ("tax.arrears", D(2026, 5, 11)))
    dep = _h(c.tokens["department_officer"])  # the market department
    r = cl.post(f"/api/v1/records/{tax_rec}/repair-conditions", headers=dep,
                json={"kind": "obligations-fulfilled", "note": "x"})
    assert r.status_code == 422 and "supplied by 'tax'" in r.json()["detail"]
    # another subject's record through a subject's account: not found
    _user, tok = _account(c.url, firm_id)
    other, (theirs,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    for method in ("GET", "POST"):
        r = cl.request(method, f"/api/v1/records/{theirs}/repair-conditions", headers=_h(tok),
                       json={"kind": "commitment", "agree": True} if method == "POST" else None)
        assert r.status_code == 404, r.text
    # a positive record has nothing to repair
    _f, (honour,) = _firm(c.url, ("civility.honour", D(2026, 5, 11)))
    r = cl.get(f"/api/v1/records/{honour}/repair-conditions", headers=_h(c.tokens["credit_office"]))
    assert r.status_code == 422 and "not a negative record" in r.json()["detail"]
    # on its own record of the same firm it may (a training, say)
    r = cl.post(f"/api/v1/records/{market_rec}/repair-conditions", headers=dep,
                json={"kind": "training", "met_on": "2026-10-20", "note": "市场主体信用修复培训"})
    assert r.status_code == 201 and r.json()["conditions"][1]["met_on"] == "2026-10-20"
    with db.session_scope(c.url) as s:
        rows = [(x.kind, x.subject_id, x.department_code, x.note) for x in s.execute(select(RepairCondition).where(
            RepairCondition.subject_id.in_((firm_id, other)))).scalars()]
        assert rows == [("training", firm_id, "market", "市场主体信用修复培训")]
        assert s.execute(select(Commitment).where(Commitment.subject_id.in_((firm_id, other)))).first() is None


# ----------------------------------------------------------------------------- materials


def test_materials_are_uploaded_limited_and_read_back(api: Api) -> None:
    c, cl = api.county, api.client
    firm_id, (rec,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    _user, tok = _account(c.url, firm_id)
    o = cl.post(f"/api/v1/subjects/{firm_id}/objections", headers=_h(tok),
                json={"record_ids": [rec], "reason": "决定书送达有误"}).json()[0]
    url = f"/api/v1/objections/{o['id']}/materials"
    r = cl.post(url, headers=_h(tok), files=[("files", ("复议决定书.pdf", b"%PDF-1.4 decision", "application/pdf")),
                                             ("files", ("../../etc/说明.txt", b"note", "text/plain"))])
    assert r.status_code == 201, r.text
    ev = {m["file"]: m for m in r.json()["evidence"]}
    assert set(ev) == {"复议决定书.pdf", "说明.txt"} and ev["说明.txt"]["size"] == 4
    sha = ev["复议决定书.pdf"]["sha256"]
    for who in (tok, c.tokens["department_officer"]):
        got = cl.get(f"{url}/{sha}", headers=_h(who))
        assert got.status_code == 200 and got.content == b"%PDF-1.4 decision"
        assert got.headers["content-type"] == "application/octet-stream"
    with db.session_scope(c.url) as s:
        m = s.execute(select(Material).where(Material.owner_kind == "objection", Material.owner_id == o["id"],
                                             Material.sha256 == sha)).scalar_one()
        assert m.actor.startswith("user:t-firm-")
        reads = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "material.read",
                                                         AuditEntry.subject_id == firm_id)
                          .order_by(AuditEntry.id)).scalars().all()
    assert reads == [m.actor, "user:t-department_officer"]
    assert (files_dir_for(c.url) / m.stored_as).read_bytes() == b"%PDF-1.4 decision"

    r = cl.post(url, headers=_h(tok), files=[("files", (f"{n}.txt", b"x", "text/plain")) for n in range(6)])
    assert r.status_code == 400 and "Too many files" in r.json()["detail"]
    r = cl.post(url, headers=_h(tok), files=[("files", ("big.bin", b"\0" * (MAX_FILE_BYTES + 1), "application/pdf"))])
    assert r.status_code == 422 and "larger than 10 MB" in r.json()["detail"]
    if c.url.startswith("sqlite"):  # one store is enough for a 50 MB request
        r = cl.post(url, headers=_h(tok), files=[("files", ("huge.bin", b"\0" * MAX_UPLOAD_BYTES, "text/plain"))])
        assert r.status_code == 413
    with db.session_scope(c.url) as s:
        assert len(materials(s, "objection", o["id"])) == 2
    cl.post(f"/api/v1/objections/{o['id']}/withdraw", headers=_h(tok), json={"reason": "已与部门沟通"})
    r = cl.post(url, headers=_h(tok), files=[("files", ("late.txt", b"late", "text/plain"))])
    assert r.status_code == 422 and "withdrawn" in r.json()["detail"]


# ----------------------------------------------------------------------------- pages


def _sign_in(c: County, username: str) -> tuple[TestClient, str]:
    cl = client_for(c)
    r = form_sign_in(cl, c, username)
    home = cl.get(r.headers["location"])
    csrf = re.search(r'<meta name="csrf-token" content="([^"]*)"', home.text)
    assert csrf is not None
    return cl, r.headers["location"]


def _csrf(cl: TestClient, path: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', cl.get(path).text)
    assert m is not None
    return m.group(1)


def _page_expected(role: str, permission: str) -> int:
    if role == "public":
        return 303  # to the sign-in page
    return 200 if Role(role) in PERMISSIONS[permission] else 403


def test_pages_answer_each_role_by_its_permissions(api: Api) -> None:
    c = api.county
    pages = [("/me/credit", "own.view"), ("/objections", "objections.read"),
             (f"/objections/{c.objection_id}", "objections.read"), ("/repairs", "repairs.read"),
             (f"/repairs/{c.repair_id}", "repairs.read")]
    failures = []
    for role in ROLES:
        cl = client_for(c) if role == "public" else _sign_in(c, f"t-{role}")[0]
        for path, permission in pages:
            got = cl.get(path, headers={"accept": "text/html"}).status_code
            if got != _page_expected(role, permission):
                failures.append(f"{role} {path}: {got}")
    assert not failures, failures


def test_a_subject_objects_on_its_own_page_and_the_department_decides_on_the_case_page(api: Api) -> None:
    c = api.county
    firm_id, (rec,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    username, _tok = _account(c.url, firm_id)
    cl, home = _sign_in(c, username)
    assert home == "/me/credit"
    page = cl.get(home)
    assert page.status_code == 200 and f'data-testid="objection-form-{rec}"' in page.text
    assert "可申请修复 2026-08-11" in page.text  # general tier: 3 months after publication

    form = {"record_id": str(rec), "reason": "处罚对象有误"}
    evidence = [("evidence", ("营业执照.pdf", b"%PDF-1.4 licence", "application/pdf"))]
    r = cl.post("/me/credit/objections", data=form, files=evidence)
    assert r.status_code == 403  # no CSRF token
    empty = [("evidence", ("<b>空.pdf", b"", "application/pdf"))]
    r = cl.post("/me/credit/objections", data={**form, "csrf_token": _csrf(cl, home)}, files=empty)
    assert r.status_code == 422 and "文件“&lt;b&gt;空.pdf”是空的。" in r.text, r.text[r.text.find("alert") - 200:][:800]
    assert f'data-testid="object-{rec}" open' in r.text and "处罚对象有误</textarea>" in r.text  # the reasons kept
    r = cl.post("/me/credit/objections", data={**form, "csrf_token": _csrf(cl, home)}, files=evidence)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=filed")
    case = r.headers["location"].split("?")[0]
    shown = cl.get(case).text
    assert "营业执照.pdf" in shown and "异议中" in shown and "2026-11-06" in shown
    assert 'data-testid="decide-form"' not in shown  # the subject does not decide its own case

    dep, _ = _sign_in(c, "t-department_officer")
    assert case in dep.get("/objections").text
    r = dep.post(f"{case}/decide", data={"outcome": "upheld", "reason": "经核实无误", "csrf_token": _csrf(dep, case)})
    assert r.status_code == 303, r.text
    shown = dep.get(case).text
    assert "维持" in shown and "经核实无误" in shown
    with db.session_scope(c.url) as s:
        assert status_changes(s, rec) == [("active", "disputed"), ("disputed", "active")]
    # a second decision is refused on the page, with the reason
    r = dep.post(f"{case}/decide", data={"outcome": "deleted", "reason": "再议", "csrf_token": _csrf(dep, case)})
    assert r.status_code == 409 and "another decision came first" in r.text
    # and the subject's page in English
    cl.get("/lang/en?next=/me/credit")
    en = cl.get("/me/credit").text
    assert "My credit" in en and "Who read my file" in en


def test_conditions_on_the_pages_and_an_objection_filed_at_the_window(api: Api) -> None:
    """The market officer confirms obligations on the refused application's page; the
    firm signs its commitment on its own page (the text shown, agreement required);
    the office files an objection at the window by credit code and document number."""
    c = api.county
    firm_id, (rec, other_rec) = _firm(c.url, ("market.penalty", D(2026, 5, 11)), ("market.quality_fail",
                                                                                 D(2026, 5, 11)))
    username, tok = _account(c.url, firm_id)
    refused = api.client.post(f"/api/v1/records/{rec}/repairs", headers=_h(tok), json={}).json()
    assert refused["status"] == "refused"
    case = f"/repairs/{refused['id']}"

    firm, home = _sign_in(c, username)
    page = firm.get(case).text
    assert 'data-testid="conditions-' in page and 'data-testid="condition-form"' not in page  # not the firm's to confirm
    dep, _ = _sign_in(c, "t-department_officer")
    page = dep.get(case).text
    assert 'data-testid="condition-form"' in page and 'data-testid="commitment-form"' not in page
    form = {"kind": "obligations-fulfilled", "met_on": "2026-10-28", "note": "罚款已缴清（页面登记）"}
    assert dep.post(f"{case}/conditions", data=form).status_code == 403  # no CSRF token
    r = dep.post(f"{case}/conditions", data={**form, "met_on": "2026-13-01", "csrf_token": _csrf(dep, case)})
    assert r.status_code == 422 and "“2026-13-01”不是有效的日期，请按 2026-12-05 的格式填写。" in r.text
    r = dep.post(f"{case}/conditions", data={**form, "csrf_token": _csrf(dep, case)})
    assert r.status_code == 303 and r.headers["location"] == f"{case}?done=condition", r.text
    shown = dep.get(r.headers["location"]).text
    assert "罚款已缴清（页面登记）" in shown and "2026-10-28" in shown
    assert 'value="obligations-fulfilled"' not in shown  # recorded once: only training is left to confirm

    page = firm.get(home).text
    assert 'data-testid="commitment-form"' in page and "本主体承诺" in page  # the text it signs
    r = firm.post("/me/credit/commitment", data={"signed_by": "法定代表人", "csrf_token": _csrf(firm, home)})
    assert r.status_code == 422 and "请阅读承诺书全文并勾选同意后再签署。" in r.text  # said in Chinese
    r = firm.post("/me/credit/commitment", data={"signed_by": "法定代表人", "agree": "yes",
                                                 "csrf_token": _csrf(firm, home)})
    assert r.status_code == 303 and r.headers["location"] == "/me/credit?done=signed#commitment"
    page = firm.get("/me/credit?done=signed").text
    assert 'data-testid="commitment-form"' not in page and f'data-testid="repair-form-{rec}"' in page  # eligible now
    with db.session_scope(c.url) as s:
        assert s.execute(select(Commitment.signed_by).where(Commitment.subject_id == firm_id)).scalars().all() == \
            ["法定代表人"]
        ob = s.execute(select(RepairCondition).where(RepairCondition.record_id == rec)).scalar_one()
        assert (ob.department_code, ob.met_on, ob.actor) == ("market", D(2026, 10, 28), "user:t-department_officer")
        uscc, doc_no = s.execute(sa.text("SELECT s.uscc, r.document_no FROM subjects s JOIN credit_records r "
                                         "ON r.subject_id = s.id WHERE r.id = :id"), {"id": other_rec}).one()

    office, _ = _sign_in(c, "t-credit_office")
    queue = office.get("/objections").text
    assert 'data-testid="window-objection-form"' in queue
    assert 'data-testid="window-objection-form"' not in dep.get("/objections").text  # the office's window only
    window = {"subject": "91330100MB9999999X", "record": doc_no, "reason": "当事人到窗口提出：处罚对象有误"}
    r = office.post("/objections", data={**window, "csrf_token": _csrf(office, "/objections")})
    assert r.status_code == 404 and "没有找到与所填统一社会信用代码" in r.text and "当事人到窗口提出" in r.text  # form kept
    r = office.post("/objections", data={**window, "subject": uscc, "record": "WF-NONE",
                                         "csrf_token": _csrf(office, "/objections")})
    assert r.status_code == 404 and "该主体的档案中没有当前有效的记录“WF-NONE”" in r.text
    r = office.post("/objections", data={**window, "subject": uscc, "csrf_token": _csrf(office, "/objections")},
                    files=[("evidence", ("情况说明.pdf", b"%PDF-1.4 window", "application/pdf"))])
    assert r.status_code == 303 and r.headers["location"].endswith("?done=filed"), r.text
    shown = office.get(r.headers["location"]).text
    assert "窗口代为提出" in shown and "情况说明.pdf" in shown and "异议中" in shown
    with db.session_scope(c.url) as s:
        o = s.execute(select(Objection).where(Objection.record_id == other_rec)).scalar_one()
        assert (o.channel, o.filed_by, o.department_code, o.status) == ("window", "user:t-credit_office", "market",
                                                                         "open")
        assert status_changes(s, other_rec) == [("active", "disputed")]

    # a paper commitment signed at the window: the office records it on the case page, naming the signer
    firm2, (rec2,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    _user2, tok2 = _account(c.url, firm2)
    case2 = "/repairs/{}".format(api.client.post(f"/api/v1/records/{rec2}/repairs", headers=_h(tok2),
                                                 json={}).json()["id"])
    page = office.get(case2).text
    assert 'data-testid="commitment-form"' in page and 'data-testid="condition-form"' in page
    sign = {"kind": "commitment", "agree": "yes"}
    r = office.post(f"{case2}/conditions", data={**sign, "csrf_token": _csrf(office, case2)})
    assert r.status_code == 422 and "窗口代签的承诺须填写签署人姓名。" in r.text
    r = office.post(f"{case2}/conditions", data={**sign, "signed_by": "委托代理人", "csrf_token": _csrf(office, case2)})
    assert r.status_code == 303 and r.headers["location"] == f"{case2}?done=condition"
    assert 'data-testid="commitment-form"' not in office.get(case2).text
    with db.session_scope(c.url) as s:
        got = s.execute(select(Commitment.signed_by, Commitment.actor).where(Commitment.subject_id == firm2)).all()
        assert [tuple(x) for x in got] == [("委托代理人", "user:t-credit_office")]
        told = s.execute(select(InboxMessage.body).where(InboxMessage.recipient_kind == "subject",
                                                         InboxMessage.recipient == str(firm2),
                                                         InboxMessage.topic == "repair.commitment")).scalar_one()
    assert "委托代理人" in told
