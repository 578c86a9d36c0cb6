"""Inspection tasks and the closed loop: a result becomes a credit record through the
ingestion path; patrol lists per grid; periodic plans that are safe to run twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from creditgov.alerts import colours
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import Batch
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import load_key_file
from creditgov.supervision import draws, patrols, service, tasks
from creditgov.supervision.models import Draw, InspectionTask
from tests.alerts.demo import Demo
from tests.supervision.helpers import AS_OF, load_roster, publish_run

POLICY = "lindian-enterprise"


def _tasks(url: str, n: int = 3) -> list[int]:
    publish_run(url, "public-credit-enterprise", ("enterprise",))
    load_roster(url)
    with db.session_scope(url) as s:
        out = draws.draw(s, policy_name=POLICY, seed=11, as_of=AS_OF)
        ids = list(s.execute(select(InspectionTask.id).where(InspectionTask.draw_id == out["draw_id"])
                             .order_by(InspectionTask.id)).scalars())
    assert len(ids) >= n
    return ids[:n]


def test_results_become_credit_records_through_ingestion(demo_store: Demo) -> None:
    url = demo_store.url
    ring = load_key_file(demo_store.key)
    ok, bad, fined = _tasks(url)
    with db.session_scope(url) as s:
        t, rec = tasks.record_result(s, ring, task_id=ok, outcome="passed", actor="inspector:SJ-S01-1")
        assert (t.status, rec.item_code, rec.department_code) == ("done", "market.inspection_result", "market")
        _, rec2 = tasks.record_result(s, ring, task_id=bad, outcome="problems", finding="未按规定公示年报信息")
        assert rec2.item_code == "market.inspection_problem" and "未按规定公示年报信息" in (rec2.text or "")
        with pytest.raises(InvalidInput, match="amount"):
            tasks.record_result(s, ring, task_id=fined, outcome="penalty", decision_no="安市监罚〔2026〕12号")
        t3, rec3 = tasks.record_result(s, ring, task_id=fined, outcome="penalty", penalty_amount="5000",
                                       decision_no="安市监罚〔2026〕12号", finding="销售不合格产品")
        assert rec3.item_code == "market.penalty" and rec3.value == Decimal("5000.00")
        # The ingestion path: a registered spec, a batch, the raw row kept, lineage replayable.
        batch = s.get(Batch, rec3.batch_id)
        assert batch is not None and batch.source == "inspection_market" and batch.kind == "inspection"
        assert batch.accepted == 1
        tr = ingest_service.trace(s, ring, rec3.id, actor="test")
        assert tr.replay_matches and tr.result is not None and tr.result["item"] == "market.penalty"
        assert rec3.published_until == rec3.published_from.replace(year=rec3.published_from.year + 1)
        assert "supervision.result" in {e.action for e in audit.entries_for_subject(s, t3.subject_id)}
        from creditgov.security.models import AuditEntry

        logged = s.execute(select(AuditEntry.detail).where(AuditEntry.action == "ingest.inspection")).scalars().all()
        assert any(f'"batch": {batch.id}' in d for d in logged)
    # A corrected result for the same task is a new version of the same record.
    with db.session_scope(url) as s:
        _, again = tasks.record_result(s, ring, task_id=bad, outcome="penalty", penalty_amount="2000",
                                       decision_no="安市监罚〔2026〕13号", finding="复查仍未整改")
        assert again.version == 2 and again.supersedes_id == rec2.id and again.item_code == "market.penalty"
        assert s.get(CreditRecord, rec2.id).is_current is False
        n = s.execute(select(func.count(CreditRecord.id)).where(CreditRecord.source == "inspection_market",
                                                                CreditRecord.is_current.is_(True))).scalar_one()
        assert n == 3


def test_result_records_feed_the_warning_rules(demo_store: Demo) -> None:
    """The loop closes: a problem found on inspection is news to the rules scanner."""
    from creditgov.alerts import queries as alert_queries
    from creditgov.alerts import rules

    url = demo_store.url
    ring = load_key_file(demo_store.key)
    [task_id] = _tasks(url, 1)
    with db.session_scope(url) as s:
        from creditgov.alerts.models import ScanCursor

        before = s.get(ScanCursor, "records").position
        _, rec = tasks.record_result(s, ring, task_id=task_id, outcome="penalty", penalty_amount="800",
                                     decision_no="安市监罚〔2026〕20号")
    assert rec.id > before
    rules.evaluate(url)  # no shipped rule watches a plain market.penalty: nothing raised, cursor moved
    with db.session_scope(url) as s:
        assert s.get(ScanCursor, "records").position >= rec.id
        assert alert_queries.listing(s, subject_id=rec.subject_id, rule="serious-violation") == []


def test_patrol_list_and_assignment(demo_store: Demo) -> None:
    from creditgov.alerts.models import ColourCode
    from creditgov.subjects.models import Region, Subject
    from creditgov.supervision.schemas import InspectorsFile

    url = demo_store.url
    publish_run(url, "public-credit-enterprise", ("enterprise",))
    with db.session_scope(url) as s:
        colours.regenerate(s, actor="test")
        red = s.execute(select(ColourCode.subject_id, Region.path).join(Subject, Subject.id == ColourCode.subject_id)
                        .join(Region, Region.id == Subject.region_id)
                        .where(ColourCode.colour == "red").order_by(ColourCode.subject_id)).all()
        assert red
        grid_of = {sid: [c for c in path.strip("/").split("/") if c][2] for sid, path in red}
        grid = grid_of[red[0][0]]
        roster = service.demo_roster(s).model_dump()["inspectors"]
        roster.append({"code": "WG-TEST", "name": "周网格", "kind": "grid_worker", "department": "grid",
                       "pool": "grid", "region": grid, "active": True})
        service.load_inspectors(s, roster=InspectorsFile.model_validate({"inspectors": roster}), actor="test")
        targets = patrols.patrol_list(s, grid=grid)
        reds_here = {sid for sid, g in grid_of.items() if g == grid}
        assert {t["subject_id"] for t in targets} == reds_here  # no list entries in the demo yet
        assert all(t["reasons"][0].startswith("红码") for t in targets)
        made = patrols.assign_patrols(s, grid=grid, actor="test")
        assert len(made) == len(targets)
        assert all(t.kind == "patrol" and t.assignees == ["WG-TEST"] for t in made)
        assert patrols.assign_patrols(s, grid=grid, actor="test") == []  # open patrols are not doubled


def test_periodic_plans_are_safe_to_run_twice(demo_store: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    url = demo_store.url
    load_roster(url)
    first = draws.run_plans(url)
    assert set(first) == {"lindian-enterprise", "changxing-homestay"}
    assert all("draw" in v for v in first.values())
    second = draws.run_plans(url)
    assert all("skipped" in v for v in second.values())
    with db.session_scope(url) as s:
        keys = sorted(s.execute(select(Draw.plan_key)).scalars())
        assert keys == ["changxing-homestay:2026-11", "lindian-enterprise:2026Q4"]  # monthly spot checks; quarterly
        seeds = set(s.execute(select(Draw.seed)).scalars())
        assert len(seeds) == 2  # fresh seeds, each published with its draw
    monkeypatch.setenv("CREDITGOV_TODAY", "2027-01-05")
    third = draws.run_plans(url)
    assert all("draw" in v for v in third.values())  # a new quarter (and month), new draws
    monkeypatch.setenv("CREDITGOV_TODAY", "2027-02-01")
    fourth = draws.run_plans(url)
    assert "draw" in fourth["changxing-homestay"] and "skipped" in fourth["lindian-enterprise"]


def test_cancel_and_overdue(demo_store: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    url = demo_store.url
    a, b, _ = _tasks(url)
    with db.session_scope(url) as s:
        tasks.cancel_task(s, task_id=a, reason="企业已注销")
        with pytest.raises(InvalidInput):
            tasks.cancel_task(s, task_id=a, reason="again")
        with pytest.raises(InvalidInput):
            tasks.record_result(s, load_key_file(demo_store.key), task_id=a, outcome="passed")
    monkeypatch.setenv("CREDITGOV_TODAY", (AS_OF + dt.timedelta(days=31)).isoformat())
    with db.session_scope(url) as s:
        overdue = {t.id for t in tasks.tasks(s, overdue=True)}
        assert b in overdue and a not in overdue
