"""Evaluation runs and inspections go up when they become sendable, whatever their id
order (issue 17): a run published after a later run was sent is sent; an inspection
still open no longer holds back the ones finished after it, and goes itself once done;
nothing is sent twice. Both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from creditgov.core import clock, db
from creditgov.exchange import channels, collect, signing
from creditgov.exchange.models import ExchangeCursor, SentResult
from creditgov.exchange.schemas import PeerIn
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.crypto import KeyRing
from creditgov.supervision.models import InspectionTask
from tests.lists.helpers import make_subject

UPPER = Ed25519PrivateKey.generate()


def _run(s: Any, subject_id: int, *, grade: str, published: bool) -> int:
    run = EvaluationRun(model_name="public-credit-enterprise", model_version="1", model_hash="h" * 64,
                        as_of=dt.date(2026, 10, 31), engine="duckdb", status="done", published=published,
                        subjects=1, started_at=clock.now(), finished_at=clock.now(), actor="test")
    s.add(run)
    s.flush()
    s.add(Score(run_id=run.id, subject_id=subject_id, score=Decimal("80.00"), grade=grade, colour="green"))
    s.flush()
    return run.id


def _task(s: Any, subject_id: int, *, finding: str) -> InspectionTask:
    task = InspectionTask(kind="random", department="market", subject_id=subject_id, assignees=["w"],
                          due_on=dt.date(2026, 12, 31), status="assigned", finding=finding,
                          created_at=clock.now(), updated_at=clock.now(), actor="test")
    s.add(task)
    s.flush()
    return task


def _finish(task: InspectionTask) -> None:
    task.status, task.outcome, task.inspected_on = "done", "passed", dt.date(2026, 11, 20)


def _sent(url: str, ring: KeyRing) -> list[tuple[str, str]]:
    """What one collection sends: (kind, grade or finding) per item."""
    with db.session_scope(url) as s:
        out = []
        for pkg in collect.collect(s, ring, channels.peer_by_node(s, "province"), actor="test"):
            for i in signing.unseal(ring, pkg.sealed)["items"]:
                if i["kind"] in ("evaluation.result", "inspection.result"):
                    out.append((i["kind"], i.get("grade") or i.get("finding")))
        return sorted(out)


def test_results_go_up_when_sendable_not_in_id_order(county: str, keyring: KeyRing) -> None:
    url, ring = county, keyring
    with db.session_scope(url) as s:
        signing.create_identity(s, ring, node="anlan", actor="test")
        pub = signing.b64(UPPER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        channels.add_peer(s, PeerIn(channel="upper", node="province", public_key=pub, transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
        sid = make_subject(s, name="甲公司").id
        early = _run(s, sid, grade="B", published=False)  # published only later
        _run(s, sid, grade="A", published=True)
        first = _task(s, sid, finding="first")  # stays open for a while
        second = _task(s, sid, finding="second")
        _finish(second)
        first_id = first.id
    assert _sent(url, ring) == [("evaluation.result", "A"), ("inspection.result", "second")]
    assert _sent(url, ring) == []  # nothing twice

    with db.session_scope(url) as s:
        run = s.get(EvaluationRun, early)
        assert run is not None
        run.published = True
        task = s.get(InspectionTask, first_id)
        assert task is not None
        _finish(task)
        third = _task(s, sid, finding="third")
        _finish(third)
        third_id = third.id
    assert _sent(url, ring) == [("evaluation.result", "B"), ("inspection.result", "first"),
                                ("inspection.result", "third")]
    assert _sent(url, ring) == []
    with db.session_scope(url) as s:
        # every inspection is below the cursor now, so none needs a row of its own
        floor = s.execute(select(ExchangeCursor.last_id).where(ExchangeCursor.source == "inspections")).scalar_one()
        assert floor == third_id
        kinds = sorted(r.kind for r in s.execute(select(SentResult)).scalars())
        assert kinds == ["evaluation", "evaluation"]
