"""Which run of a model other domains read, stated once in `scoring.published`: a
published, finished run; the latest is the newest as-of date, then the newest run of
that date (a run computed later for an earlier date does not replace it), as of a
date when asked; many models' latest in one statement; and a subject's re-evaluations
superseding its rows in the runs a reader shows, read in one statement for all its
models. On a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from creditgov.core import clock, db
from creditgov.scoring import current, published
from creditgov.scoring.models import EvaluationRun, Reevaluation, Score
from creditgov.subjects.models import Subject


def _subject(s: Session) -> int:
    now = clock.now()
    subject = Subject(kind="enterprise", name="测试企业", status="confirmed", attributes={},
                      uscc="91330127MA00000011", created_at=now, updated_at=now)
    s.add(subject)
    s.flush()
    return subject.id


def _run(s: Session, model: str, as_of: dt.date, *, subject: int, grade: str, publish: bool = True,
         status: str = "done") -> int:
    run = EvaluationRun(model_name=model, model_version="1", model_hash="0" * 64, as_of=as_of, engine="test",
                        status=status, published=publish, subjects=1, grades={}, timings={},
                        started_at=clock.now(), finished_at=clock.now())
    s.add(run)
    s.flush()
    s.add(Score(run_id=run.id, subject_id=subject, score=Decimal("80.00"), grade=grade, colour="green"))
    s.flush()
    return run.id


def _later(s: Session, subject: int, model: str, run: int, grade: str) -> int:
    row = Reevaluation(subject_id=subject, model_name=model, model_version="1", as_of=dt.date(2026, 11, 1),
                       score=Decimal("70.00"), grade=grade, colour="yellow", previous_run_id=run,
                       previous_grade="A", cause="repair:1", created_at=clock.now())
    s.add(row)
    s.flush()
    return row.id


@contextmanager
def _statements(s: Session) -> Iterator[list[str]]:
    """The statements the session's connection sends while the block runs."""
    conn = s.connection()
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(conn, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", note)


def test_the_latest_published_run_of_a_model(store: str) -> None:
    d = dt.date
    with db.session_scope(store) as s:
        subject = _subject(s)
        a1 = _run(s, "a", d(2026, 10, 1), subject=subject, grade="C")
        a2 = _run(s, "a", d(2026, 10, 31), subject=subject, grade="B")
        a3 = _run(s, "a", d(2026, 10, 31), subject=subject, grade="A")  # the same date, later: the latest
        a4 = _run(s, "a", d(2026, 10, 15), subject=subject, grade="D")  # computed later for an earlier date
        _run(s, "a", d(2026, 11, 1), subject=subject, grade="D", publish=False)  # a preview
        _run(s, "a", d(2026, 11, 1), subject=subject, grade="D", status="failed")  # published but not done
        b1 = _run(s, "b", d(2026, 9, 1), subject=subject, grade="B")
        _run(s, "c", d(2026, 10, 1), subject=subject, grade="B", publish=False)  # no published run

        latest = published.latest_run(s, "a")
        assert latest is not None and latest.id == a3
        assert [published.latest_run(s, "a", day) for day in (d(2026, 10, 20), d(2026, 10, 5), d(2026, 9, 1))] \
            == [s.get(EvaluationRun, a4), s.get(EvaluationRun, a1), None]
        assert published.latest_run(s, "c") is None
        assert s.execute(published.latest_run_id("a")).scalar() == a3
        assert s.execute(published.latest_run_id("a", d(2026, 10, 20))).scalar() == a4
        assert s.execute(published.latest_run_id("c")).scalar() is None
        # inside a bigger statement: the subject's grade in the latest run
        grade = select(Score.grade).where(Score.subject_id == subject,
                                          Score.run_id == published.latest_run_id("a").scalar_subquery())
        assert s.execute(grade).scalar() == "A"
        assert list(s.execute(published.newest_first("a").limit(3)).scalars()) == [a3, a2, a4]
        assert list(s.execute(published.newest_first("a", as_of=d(2026, 10, 20))).scalars()) == [a4, a1]
        assert [r.id for r in s.execute(select(EvaluationRun).where(published.PUBLISHED)
                                        .order_by(EvaluationRun.id)).scalars()] == [a1, a2, a3, a4, b1]

        # every model's latest in one statement, as of a date, or for the models named
        with _statements(s) as sent:
            every = {r.model_name: r.id for r in s.execute(published.latest_runs()).scalars()}
        assert (every, len(sent)) == ({"a": a3, "b": b1}, 1)
        on = published.latest_runs(None, EvaluationRun.model_name, EvaluationRun.id, as_of=d(2026, 10, 20))
        assert dict(s.execute(on).tuples().all()) == {"a": a4, "b": b1}
        named = published.latest_runs(["a", "c"], EvaluationRun.model_name, EvaluationRun.id)
        assert s.execute(named).tuples().all() == [("a", a3)]
        assert s.execute(published.latest_runs([], EvaluationRun.id)).all() == []

        # the subject's standing reads the same run
        assert current.latest_published(s, "a", subject) == (a3, "A")
        assert current.latest_published(s, "c", subject) == (None, None)


def test_superseding_reads_every_model_in_one_statement(store: str) -> None:
    with db.session_scope(store) as s:
        subject = _subject(s)
        a1 = _run(s, "a", dt.date(2026, 10, 1), subject=subject, grade="C")
        a2 = _run(s, "a", dt.date(2026, 10, 31), subject=subject, grade="B")
        b1 = _run(s, "b", dt.date(2026, 10, 31), subject=subject, grade="B")
        _later(s, subject, "a", a1, "D")  # against a run the reader does not show
        _later(s, subject, "a", a2, "C")
        newest_a = _later(s, subject, "a", a2, "B")  # the newest against the shown run wins
        only_b = _later(s, subject, "b", b1, "A")
        _later(s, subject, "b", a2, "A")  # another model's run id: not this model's

        with _statements(s) as sent:
            later = current.superseding(s, subject, {"a": a2, "b": b1, "c": 999})
        assert ({m: r.id for m, r in later.items()}, len(sent)) == ({"a": newest_a, "b": only_b}, 1)
        with _statements(s) as sent:
            assert current.superseding(s, subject, {}) == {}
        assert sent == []
        # the one-model rule the credit check runs agrees
        for model, run in (("a", a2), ("b", b1), ("a", a1)):
            one = s.execute(current.Q_LATER, {"subject": subject, "model": model, "run": run}).scalar()
            many = current.superseding(s, subject, {model: run})
            assert (one.id if one else None) == (many[model].id if model in many else None)
