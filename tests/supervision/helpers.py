"""Published runs with deterministic grades, and the demo roster, on any store."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import select

from creditgov.core import clock, db
from creditgov.core.db import bulk_insert
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.subjects.models import Subject
from creditgov.supervision import service

AS_OF = dt.date(2026, 10, 31)


def bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def grade_of(key: str) -> tuple[str, str, str]:
    """(score, grade, colour) from the subject's credit code: about 50 % A, 30 % B, 12 % C, 8 % D."""
    b = bucket(key)
    if b < 50:
        return str(88 + b % 10), "A", "green"
    if b < 80:
        return str(78 + b % 10), "B", "green"
    if b < 92:
        return str(65 + b % 10), "C", "yellow"
    return str(40 + b % 20), "D", "red"


def publish_run(url: str, model: str, kinds: tuple[str, ...], *, score_of=None, as_of: dt.date = AS_OF) -> int:  # type: ignore[no-untyped-def]
    """A published, finished run of `model` over the subjects of `kinds`."""
    with db.session_scope(url) as s:
        subjects = list(s.execute(select(Subject.id, Subject.uscc).where(
            Subject.kind.in_(kinds), Subject.uscc.is_not(None), Subject.status == "confirmed")).all())
        run = EvaluationRun(model_name=model, model_version="1", model_hash="0" * 64, as_of=as_of, engine="test",
                            status="done", published=True, subjects=len(subjects), grades={}, timings={},
                            started_at=clock.now(), finished_at=clock.now())
        s.add(run)
        s.flush()
        rows = []
        for sid, uscc in subjects:
            score, grade, colour = (score_of or grade_of)(uscc)
            rows.append((run.id, sid, Decimal(score), grade, colour, "{}"))
        bulk_insert(s, Score.__table__, ["run_id", "subject_id", "score", "grade", "colour", "dimensions"], rows)
        return run.id


def load_roster(url: str) -> None:
    with db.session_scope(url) as s:
        service.load_inspectors(s, roster=service.demo_roster(s), actor="test")
