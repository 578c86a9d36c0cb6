"""What the objection and repair procedures share: the lookups that answer 404, ISO
dates for output, the listing of cases, and the claim that settles a race.

Decisions are claimed with a conditional UPDATE (`... WHERE id = :id AND status IN
(...)`): of two officers deciding the same case at once, the second's UPDATE waits
for the first to commit, then matches no row, and gets `AlreadyDecided` — exactly
one outcome on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.errors import ConfigError, Conflict, InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.subjects.models import Subject
from creditgov.workflows.models import Objection, RepairApplication

Case = TypeVar("Case", Objection, RepairApplication)


class AlreadyDecided(Conflict, InvalidInput):
    """Someone else moved the case first; this decision was not applied. The API
    answers 409 Conflict (the request was valid, the case's state changed under it);
    a page shows the message on its form like any refusal (an InvalidInput too)."""


def get_record(session: Session, record_id: int, *, lock: bool = False) -> CreditRecord:
    rec = session.get(CreditRecord, record_id, with_for_update=lock)
    if rec is None:
        raise NotFound(f"credit record {record_id} not found")
    return rec


def get_item(session: Session, code: str) -> CatalogItem:
    item = session.get(CatalogItem, code)
    if item is None:
        raise ConfigError(f"catalogue item {code!r} is missing: load the catalogue")
    return item


def get_subject(session: Session, subject_id: int) -> Subject:
    s = session.get(Subject, subject_id)
    if s is None:
        raise NotFound(f"subject {subject_id} not found")
    return s


def get_objection(session: Session, objection_id: int) -> Objection:
    o = session.get(Objection, objection_id)
    if o is None:
        raise NotFound(f"objection {objection_id} not found")
    return o


def get_application(session: Session, application_id: int) -> RepairApplication:
    a = session.get(RepairApplication, application_id)
    if a is None:
        raise NotFound(f"repair application {application_id} not found")
    return a


def record_versions(session: Session, rec: CreditRecord) -> list[int]:
    """Ids of every version of a record (same natural key): a share, a list entry or an
    application may point at any of them."""
    return list(session.execute(select(CreditRecord.id).where(CreditRecord.natural_key == rec.natural_key)
                                .order_by(CreditRecord.version)).scalars())


def claim(session: Session, model: type[Objection] | type[RepairApplication], row_id: int,
          from_status: Iterable[str], values: dict[str, Any], what: str) -> None:
    """Move a case out of `from_status` only if nobody has moved it yet (see module doc)."""
    res: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE answers a CursorResult
        update(model).where(model.id == row_id, model.status.in_(tuple(from_status)))
        .values(**values, updated_at=clock.now()).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        now = session.execute(select(model.status).where(model.id == row_id)).scalar()
        raise AlreadyDecided(f"{what} {row_id} is {now} now: another decision came first; nothing was changed")
    session.expire_all()


def cases(session: Session, model: type[Case], *, subject_id: int | None, status: str | Sequence[str] | None,
          department: str | None, limit: int) -> list[Case]:
    """Objections or repair applications, newest first; `status` is one or several."""
    q = select(model).order_by(model.id.desc()).limit(limit)
    if subject_id is not None:
        q = q.where(model.subject_id == subject_id)
    if isinstance(status, str):
        q = q.where(model.status == status)
    elif status:
        q = q.where(model.status.in_(tuple(status)))
    if department:
        q = q.where(model.department_code == department)
    return list(session.execute(q).scalars())
