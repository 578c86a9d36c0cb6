"""A printed document's identity (SQLite and PostgreSQL): each is kept with the credit
reports under its kind code and the id of what it is about (`kind`, `ref`), and a
reprint finds the serial it was first issued under by that pair, not by its purpose
text. A store from before revision 0035 kept the identity only in the purpose
("<title> <kind> <ref>"): upgrading it reads the identity from there, so the documents
printed before are still found and keep their numbers; a credit report and a purpose
that only looks like one are left without."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select, update

from creditgov.core import clock, db, schema
from creditgov.documents import casework, service
from creditgov.lists import service as lists_service
from creditgov.reports.models import CreditReport
from creditgov.workflows.objection import decide_objection, file_objection
from creditgov.workflows.repair import apply_repair
from tests.lists.helpers import add_record, make_subject

BASE = "https://credit.example.gov.cn/verify"


def _cases(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A notified list entry, a decided objection and a refused repair application (each
    a document's `ref`); the firm's objection is filed first, so the ids may coincide."""
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-09")
    with db.session_scope(url) as s:
        firm = make_subject(s, name="身份测试有限公司")
        rec = add_record(s, firm, "market.penalty", occurred_on=dt.date(2026, 9, 1))
        o = file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="金额有误")[0]
        e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="manual",
                                  basis="拒不履行法院判决", decision_no=f"T-{firm.id}")
        lists_service.notify(s, entry_id=e.id)
        ids = {"notice": e.id, "objection": o.id, "subject": firm.id}
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-12")
    with db.session_scope(url) as s:
        decide_objection(s, objection_id=ids["objection"], outcome="upheld", reason="经核实无误",
                         department=o.department_code)
        a = apply_repair(s, subject_id=ids["subject"], record_id=rec.id, applicant="法定代表人")
        assert a.status == "refused"
        ids["repair"] = a.id
    return ids


def _print(url: str, kind: str, ref: int) -> str:
    with db.session_scope(url) as s:
        printed = (service.print_batch(s, list_code="serious-dishonesty", kind=kind, verify_base=BASE, entry_ids=[ref])
                   if kind in service.KINDS else casework.print_cases(s, kind=kind, verify_base=BASE, ids=[ref]))
    [(got, serial)] = printed.serials
    assert got == ref
    return serial


def _rows(url: str) -> dict[str, tuple[str | None, int | None, str]]:
    with db.session_scope(url) as s:
        return {r.serial: (r.kind, r.ref, r.purpose) for r in s.execute(select(CreditReport)).scalars()}


def test_a_reprint_finds_its_first_issue_by_kind_and_ref(county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _cases(county, monkeypatch)
    serials = {kind: _print(county, kind, ids[kind]) for kind in ("notice", "objection", "repair")}
    assert len(set(serials.values())) == 3
    rows = _rows(county)
    assert {rows[sr][:2] for sr in serials.values()} == {(k, ids[k]) for k in serials}   # each kept by its identity
    # Its purpose text is no longer what finds it: reworded, the reprint still keeps the number.
    with db.session_scope(county) as s:
        s.execute(update(CreditReport).values(purpose="重新措辞的用途"))
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-05")
    assert {kind: _print(county, kind, ids[kind]) for kind in serials} == serials
    # … and a row that only says it in its purpose (no identity) is not taken for the document.
    with db.session_scope(county) as s:
        s.add(CreditReport(serial="CR-LOOKALIKE", subject_id=ids["subject"], issued_at=clock.now(),
                           issued_to="test", purpose=f"信用名单列入告知书 notice {ids['notice']}", sha256=None))
    assert _print(county, "notice", ids["notice"]) == serials["notice"]
    with db.session_scope(county) as s:
        assert s.execute(select(func.count()).select_from(CreditReport)).scalar_one() == 4


def test_an_old_stores_documents_keep_their_numbers_after_the_upgrade(county: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _cases(county, monkeypatch)
    serials = {kind: _print(county, kind, ids[kind]) for kind in ("notice", "objection", "repair")}
    with db.session_scope(county) as s:   # a credit report, and purposes that only look like a document's
        for serial, purpose in (("CR-REPORT", "贷款审查"), ("CR-ODD-REF", f"信用名单列入告知书 notice {ids['notice']}a"),
                                ("CR-ODD-KIND", f"检查通知书 notice {ids['notice']}")):
            s.add(CreditReport(serial=serial, subject_id=ids["subject"], issued_at=clock.now(), issued_to="test",
                               purpose=purpose, sha256=None))
    # The store as it was before revision 0035: the identity only in the purpose text.
    cfg = schema.alembic_config(county)
    with db.engine_for(county).connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0034_inbox_english")
        conn.commit()
    columns = {c["name"] for c in sa.inspect(db.engine_for(county)).get_columns("credit_reports")}
    assert "purpose" in columns and not {"kind", "ref"} & columns
    schema.upgrade(county)
    assert schema.current_revision(county) == schema.heads()[0]
    rows = _rows(county)
    assert {rows[sr][:2] for sr in serials.values()} == {(k, ids[k]) for k in serials}
    assert [rows[sr][:2] for sr in ("CR-REPORT", "CR-ODD-REF", "CR-ODD-KIND")] == [(None, None)] * 3
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(db.engine_for(county)).get_indexes("credit_reports")}
    assert indexes["ix_credit_reports_kind_ref"] == ["kind", "ref"]
    # Printed again after the upgrade, each is a copy under the number it was first issued under.
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-05")
    assert {kind: _print(county, kind, ids[kind]) for kind in serials} == serials
    with db.session_scope(county) as s:
        assert s.execute(select(func.count()).select_from(CreditReport)).scalar_one() == 6
