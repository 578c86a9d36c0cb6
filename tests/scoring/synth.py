"""Synthetic subjects, records, status histories and list entries written into a real
store, for tests that need exact control over the data an evaluation sees."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from creditgov.core import db
from creditgov.lists.models import CreditList, ListEntry
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.subjects.models import Subject

NOW = dt.datetime(2026, 11, 1, 9, 0, 0)
LISTS = ("red", "serious-dishonesty", "key-attention")


@dataclass
class Rec:
    item: str
    occurred_on: dt.date
    value: Decimal | None = None
    grade: str | None = None
    status: str = "active"
    published_from: dt.date | None = None
    published_until: dt.date | None = None
    is_current: bool = True
    changes: list[tuple[str | None, str, dt.datetime]] = field(default_factory=list)


@dataclass
class Entry:
    list_code: str
    status: str = "published"
    published_on: dt.date | None = dt.date(2026, 1, 1)
    expires_on: dt.date | None = None
    exited_on: dt.date | None = None


@dataclass
class Subj:
    kind: str = "enterprise"
    industry: str | None = None
    established_on: dt.date | None = None
    status: str = "confirmed"
    attributes: dict[str, Any] = field(default_factory=dict)
    records: list[Rec] = field(default_factory=list)
    lists: list[Entry] = field(default_factory=list)


def ensure_lists(url: str) -> None:
    with db.session_scope(url) as s:
        have = {c for (c,) in s.execute(select(CreditList.code))}
        for code in LISTS:
            if code not in have:
                s.add(CreditList(code=code, name_zh=code, name_en=code, kind="other", identifying_unit="test",
                                 legal_basis="test"))


def clear(url: str) -> None:
    """Empty the tables an evaluation reads (and the runs that point at subjects)."""
    with db.session_scope(url) as s:
        for t in (Score, EvaluationRun, ListEntry, RecordStatusChange, CreditRecord, Subject):
            s.execute(delete(t))


def write(url: str, subjects: list[Subj]) -> list[int]:
    """Insert the subjects and everything they carry; returns their ids in order."""
    ensure_lists(url)
    ids: list[int] = []
    with db.session_scope(url) as s:
        for n, sj in enumerate(subjects):
            row = Subject(kind=sj.kind, name=f"主体{n}", industry=sj.industry, established_on=sj.established_on,
                          status=sj.status, attributes=sj.attributes, created_at=NOW, updated_at=NOW)
            s.add(row)
            s.flush()
            ids.append(row.id)
            for k, r in enumerate(sj.records):
                key = hashlib.md5(f"{row.id}-{k}".encode()).hexdigest()
                rec = CreditRecord(subject_id=row.id, item_code=r.item, occurred_on=r.occurred_on, value=r.value,
                                   grade=r.grade, department_code="market", status=r.status,
                                   published_from=r.published_from, published_until=r.published_until,
                                   natural_key=key, version=1, is_current=r.is_current, content_hash=key,
                                   source="test", created_at=NOW)
                s.add(rec)
                s.flush()
                for frm, to, at in r.changes:
                    s.add(RecordStatusChange(record_id=rec.id, from_status=frm, to_status=to, at=at, actor="test"))
            for e in sj.lists:
                s.add(ListEntry(list_code=e.list_code, subject_id=row.id, status=e.status,
                                published_on=e.published_on, expires_on=e.expires_on, exited_on=e.exited_on,
                                created_at=NOW))
        s.flush()
    return ids
