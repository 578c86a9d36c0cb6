"""Small builders shared by the lists, measures and commitments tests: real rows in a
real store (subjects, records, published evaluation runs), no stand-ins."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from creditgov.commitments import service as commitments_service
from creditgov.core import clock
from creditgov.ingest.values import short_hash
from creditgov.lists import service as lists_service
from creditgov.measures import service as measures_service
from creditgov.records.models import CreditRecord
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun, ModelVersion, Score
from creditgov.subjects.models import Subject

_seq = itertools.count(1)


def load_domain_data(session: Session) -> None:
    """The shipped lists, measures, scenarios and commitment templates."""
    lists_service.load_lists(session, actor="test")
    measures_service.load_measures(session, actor="test")
    commitments_service.load_templates(session, actor="test")


def make_uscc(n: int) -> str:
    body = f"91330100MA{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def make_subject(session: Session, *, kind: str = "enterprise", name: str | None = None) -> Subject:
    n = next(_seq) + 1000 * (hash(kind) % 97)
    now = clock.now()
    s = Subject(kind=kind, name=name or f"测试主体{n}", status="confirmed", attributes={},
                uscc=make_uscc(n) if kind != "individual" else None, created_at=now, updated_at=now)
    session.add(s)
    session.flush()
    return s


def add_record(session: Session, subject: Subject, item: str, *, occurred_on: dt.date,
               department: str = "market", months: int | None = 36, status: str = "active") -> CreditRecord:
    n = next(_seq)
    rec = CreditRecord(
        subject_id=subject.id, item_code=item, occurred_on=occurred_on, decided_on=occurred_on,
        department_code=department, document_no=f"T-{n}", status=status, published_from=occurred_on,
        published_until=clock.add_months(occurred_on, months) if months else None,
        natural_key=short_hash(f"test|{n}"), version=1, is_current=True,
        content_hash=short_hash(f"c|{n}"), source="test", created_at=clock.now())
    session.add(rec)
    session.flush()
    return rec


def add_run(session: Session, model: str, as_of: dt.date, grades: Iterable[tuple[Subject, str, str]],
            *, published: bool = True) -> EvaluationRun:
    """A finished evaluation run with the given (subject, grade, colour) rows, of the
    model's latest published version (so a check reads that version's bands)."""
    rows = list(grades)
    scoring_service.ensure_shipped(session, actor="test")
    mv = session.execute(select(ModelVersion).where(ModelVersion.name == model, ModelVersion.status == "published")
                         .order_by(ModelVersion.id.desc()).limit(1)).scalar_one()
    run = EvaluationRun(model_name=model, model_version=mv.version, model_hash=mv.content_hash, as_of=as_of,
                        engine="test", status="done", published=published, subjects=len(rows),
                        grades={}, timings={}, started_at=clock.now(), finished_at=clock.now())
    session.add(run)
    session.flush()
    for s, grade, colour in rows:
        session.add(Score(run_id=run.id, subject_id=s.id, score=50, grade=grade, colour=colour, dimensions={}))
    session.flush()
    return run


def publish_manual_entry(url: str, monkeypatch, list_code: str, subject_id: int, *,
                         unit: str = "credit", start: str = "2026-10-01") -> int:
    """Put a subject on a list through the whole procedure (manual identification),
    moving the clock past the response window; leaves the clock at the publish day."""
    from creditgov.core import db

    monkeypatch.setenv("CREDITGOV_TODAY", start)
    with db.session_scope(url) as s:
        e = lists_service.propose(s, list_code=list_code, subject_id=subject_id, criterion="manual",
                                  basis="测试认定", decision_no=f"T-{list_code}-{subject_id}")
        lists_service.notify(s, entry_id=e.id)
        due = e.response_due
        entry_id = e.id
    assert due is not None
    monkeypatch.setenv("CREDITGOV_TODAY", (due + dt.timedelta(days=1)).isoformat())
    with db.session_scope(url) as s:
        lists_service.approve(s, entry_id=entry_id, unit=unit)
        lists_service.publish(s, entry_id=entry_id)
    return entry_id
