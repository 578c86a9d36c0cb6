"""Builders for the workflow tests: real subjects and records in a real store."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, db
from creditgov.ingest.values import short_hash
from creditgov.lists import service as lists_service
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.subjects.models import Subject

_seq = itertools.count(1)


def make_uscc(n: int) -> str:
    body = f"91330100MB{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def make_firm(session: Session, name: str | None = None, **attributes: object) -> Subject:
    n = next(_seq)
    now = clock.now()
    s = Subject(kind="enterprise", name=name or f"工作流测试企业{n}", status="confirmed", attributes=dict(attributes),
                uscc=make_uscc(n), created_at=now, updated_at=now)
    session.add(s)
    session.flush()
    return s


def add_record(session: Session, subject: Subject, item: str, *, published: dt.date,
               department: str | None = None, text: str | None = None) -> CreditRecord:
    """A record as ingestion would write it: publication from the decision date, until
    the item's maximum period (read from the catalogue)."""
    n = next(_seq)
    it = session.get(CatalogItem, item)
    assert it is not None, item
    until = clock.add_months(published, it.max_publication_months) if it.max_publication_months else None
    rec = CreditRecord(
        subject_id=subject.id, item_code=item, occurred_on=published, decided_on=published,
        department_code=department or it.department_code, document_no=f"WF-{n}", text=text or f"测试记录{n}",
        status="active", published_from=published, published_until=until,
        natural_key=short_hash(f"wf-test|{n}"), version=1, is_current=True,
        content_hash=short_hash(f"wf-c|{n}"), source="test", created_at=clock.now())
    session.add(rec)
    session.flush()
    return rec


def status_changes(session: Session, record_id: int) -> list[tuple[str | None, str]]:
    q = select(RecordStatusChange.from_status, RecordStatusChange.to_status).where(
        RecordStatusChange.record_id == record_id).order_by(RecordStatusChange.id)
    return [(a, b) for a, b in session.execute(q)]


def count(session: Session, model: type, *where: object) -> int:
    return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def put_on_serious_list(url: str, move: Callable[[str | dt.date], dt.date], subject_id: int, record_id: int, start: str) -> int:
    """A record-based serious-dishonesty entry through the whole lists procedure
    (propose → notify → window passes → approve by the identifying unit → publish)."""
    move(start)
    with db.session_scope(url) as s:
        e = lists_service.propose(s, list_code="serious-dishonesty", subject_id=subject_id,
                                  criterion="market-serious-violation", record_id=record_id,
                                  decision_no=f"WF-SD-{record_id}")
        lists_service.notify(s, entry_id=e.id)
        entry_id, due = e.id, e.response_due
    assert due is not None
    move(due + dt.timedelta(days=1))
    with db.session_scope(url) as s:
        lists_service.approve(s, entry_id=entry_id, unit="market")
        lists_service.publish(s, entry_id=entry_id)
    return entry_id
