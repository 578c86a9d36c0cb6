"""Repair is free and has no side door: a record's status changes only through
`records.service.change_status`, called by the objection and repair procedures.

Three proofs: the transitions refuse shortcuts; a watch on every write of the status
(ORM attribute and SQL text) while the procedures run sees only writes made from
inside `change_status` — and does catch a write made around it; and the source tree
holds no other writer."""

from __future__ import annotations

import ast
import datetime as dt
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from tests.workflows.helpers import add_record, make_firm

import creditgov
from creditgov.commitments import service as commitments_service
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.workflows import flows
from creditgov.workflows.eligibility import record_condition
from creditgov.workflows.objection import file_objection, request_review, withdraw_objection
from creditgov.workflows.repair import apply_repair, forward_repair

D = dt.date
RECORDS_SERVICE = str(Path(records_service.__file__).resolve())
STATUS_SQL = re.compile(r"UPDATE\s+credit_records\s+SET\s+[^;]*\bstatus\b", re.IGNORECASE)


def _inside_change_status() -> bool:
    f: FrameType | None = sys._getframe(1)
    while f is not None:
        if f.f_code.co_name == "change_status" and str(Path(f.f_code.co_filename).resolve()) == RECORDS_SERVICE:
            return True
        f = f.f_back
    return False


@pytest.fixture
def watch(county: str) -> Iterator[dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"legit": [], "side_door": []}

    def on_set(target: CreditRecord, value: Any, old: Any, _initiator: Any) -> None:
        if inspect(target).persistent and value != old:
            seen["legit" if _inside_change_status() else "side_door"].append(f"orm {target.id}: {old}->{value}")

    def on_sql(_conn: Any, _cur: Any, statement: str, _params: Any, _ctx: Any, _many: bool) -> None:
        if STATUS_SQL.search(statement):
            seen["legit" if _inside_change_status() else "side_door"].append(f"sql {statement[:60]}")

    engine = db.engine_for(county)
    event.listen(CreditRecord.status, "set", on_set)
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        yield seen
    finally:
        event.remove(CreditRecord.status, "set", on_set)
        event.remove(engine, "before_cursor_execute", on_sql)


def test_transitions_refuse_shortcuts(county: str, today) -> None:
    today("2026-05-06")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        rec = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        records_service.change_status(s, record_id=rec.id, to_status="disputed", reason="objection")
        with pytest.raises(InvalidInput, match="cannot become repaired"):
            records_service.change_status(s, record_id=rec.id, to_status="repaired", reason="shortcut")
        records_service.change_status(s, record_id=rec.id, to_status="revoked", reason="deleted")
        for to in ("active", "repaired", "disputed"):
            with pytest.raises(InvalidInput, match="cannot become"):
                records_service.change_status(s, record_id=rec.id, to_status=to, reason="back door")
        with pytest.raises(InvalidInput, match="revoked"):
            apply_repair(s, subject_id=firm.id, record_id=rec.id)
        with pytest.raises(InvalidInput, match="only a record in force"):
            file_objection(s, subject_id=firm.id, record_ids=[rec.id], reason="x")


def test_the_procedures_write_status_only_through_change_status(county: str, today, watch) -> None:
    today("2026-05-06")
    with db.session_scope(county) as s:
        firm = make_firm(s)
        recs = [add_record(s, firm, "market.penalty", published=D(2026, 1, 20)) for _ in range(5)]
        ids = [r.id for r in recs]
        objs = [file_objection(s, subject_id=firm.id, record_ids=[i], reason="有误")[0].id for i in ids[:4]]
    with db.session_scope(county) as s:
        flows.decide_objection(s, objection_id=objs[0], outcome="upheld", reason="无误", department="market")
        flows.decide_objection(s, objection_id=objs[1], outcome="deleted", reason="有误", department="market")
        flows.decide_objection(s, objection_id=objs[2], outcome="corrected", reason="更正", department="market",
                               corrections={"text": "更正"})
        withdraw_objection(s, objection_id=objs[3], reason="撤回")
        request_review(s, objection_id=objs[0], reason="复核")
        flows.decide_review(s, objection_id=objs[0], outcome="upheld", reason="维持", unit="credit")
        record_condition(s, kind="obligations-fulfilled", subject_id=firm.id, record_id=ids[4])
        commitments_service.sign(s, subject_id=firm.id, template_code="credit-repair")
        a = apply_repair(s, subject_id=firm.id, record_id=ids[4])
        forward_repair(s, application_id=a.id, unit="credit")
        flows.approve_repair(s, application_id=a.id, department="market")
    today("2027-06-01")
    with db.session_scope(county) as s:
        record_condition(s, kind="obligations-fulfilled", subject_id=firm.id, record_id=ids[0])
        assert ids[0] in flows.end_publication(s)
    assert watch["side_door"] == []
    assert len(watch["legit"]) >= 10  # the watch did see the procedures' writes
    # A write around change_status is caught — the watch is not blind.
    with db.session_scope(county) as s:
        r = s.get(CreditRecord, ids[3])
        assert r is not None
        r.status = "repaired"
        s.flush()
        s.rollback()
    assert len(watch["side_door"]) >= 1 and watch["side_door"][0].startswith(f"orm {ids[3]}")
    _every_status_is_explained_by_its_history(county)


def _every_status_is_explained_by_its_history(url: str) -> None:
    """Across the whole store: a record's status is the last status its history records
    (or 'active' with no history). A status written without `change_status` would leave
    no history row and break this."""
    with db.session_scope(url) as s:
        last: dict[int, str] = {}
        for rid, to in s.execute(select(RecordStatusChange.record_id, RecordStatusChange.to_status)
                                 .order_by(RecordStatusChange.id)):
            last[rid] = to
        rows = s.execute(select(CreditRecord.id, CreditRecord.status)).all()
    assert len(last) >= 5
    assert [(rid, st) for rid, st in rows if st != last.get(rid, "active")] == []


def _status_writers(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    if "status" not in text:
        return []
    tree = ast.parse(text)
    found = []
    for node in ast.walk(tree):
        # rec.status = … / record.status = … on a record-named variable
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if (isinstance(t, ast.Attribute) and t.attr == "status" and isinstance(t.value, ast.Name)
                        and re.fullmatch(r"(rec|record|records|r|cr|credit_record)\w*", t.value.id)):
                    found.append(f"{path}:{node.lineno}: {t.value.id}.status = …")
        # update(CreditRecord)….values(status=…)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values":
            chain = ast.unparse(node.func.value)
            keys = {k.arg for k in node.keywords} | {
                getattr(k, "value", None) for a in node.args if isinstance(a, ast.Dict) for k in a.keys if k}
            if "CreditRecord" in chain and "update" in chain and "status" in keys:
                found.append(f"{path}:{node.lineno}: update(CreditRecord).values(status=…)")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and STATUS_SQL.search(node.value):
            found.append(f"{path}:{node.lineno}: SQL updating credit_records.status")
    return found


def test_no_other_writer_in_the_source_tree() -> None:
    root = Path(creditgov.__file__).parent
    writers = [w for p in sorted(root.rglob("*.py")) if p.resolve() != Path(RECORDS_SERVICE)
               for w in _status_writers(p)]
    assert writers == []
    # … and the scan does find the one real writer
    assert [w.split(": ", 1)[1] for w in _status_writers(Path(RECORDS_SERVICE))] == ["rec.status = …"]
