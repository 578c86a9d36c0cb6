"""What the workflow edges share: the API routes (`workflows/views.py`) and the pages
(`web/workflow_pages.py`, `web/commitment_pages.py`, `commitments/views.py`) reach a
case only inside the caller's data scope (404 outside it, like a missing case), name
the acting unit from the account, show cases the same way and take uploads under the
same limits — so a page and its endpoint agree. Plain values only: the edges turn a
request into them (the store's URL, the uploaded files)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, labels
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Forbidden, Grant, Principal, Role, Scope
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows import calendar, flows
from creditgov.workflows.models import OBJECTION_OPEN, REPAIR_OPEN, Objection, RepairApplication
from creditgov.workflows.objection import objection_dict, objections
from creditgov.workflows.repair import repair_deadline, repair_dict, repairs
from creditgov.workflows.rules import rules

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
# The whole request: the files plus the multipart framing and the other fields.
MAX_UPLOAD_BYTES = MAX_FILES * MAX_FILE_BYTES + 256 * 1024
UPLOAD_FORM_LIMITS: Any = {"max_files": MAX_FILES, "max_fields": 40}


class Upload(Protocol):
    """An uploaded file as the edges receive it (FastAPI's `UploadFile` is one): its
    name as sent and its bytes."""

    @property
    def filename(self) -> str | None: ...

    @property
    def file(self) -> BinaryIO: ...


def acting_unit(session: Session, who: Principal) -> str:
    """The unit a decision is made in: a department officer's department, the credit
    office for its staff. The services check it against the case (who supplied the
    record, the intake, the review authority)."""
    if who.role is Role.DEPARTMENT and who.department_code:
        return who.department_code
    if who.role is Role.CREDIT_OFFICE:
        return who.department_code or rules(session).credit_office
    raise Forbidden(f"role {who.role.value} decides no objection or repair")


def condition_unit(session: Session, who: Principal) -> str | None:
    """Who records a repair condition: None for the subject itself, else the officer's
    acting unit (the service checks it against the record)."""
    return None if who.role is Role.SUBJECT else acting_unit(session, who)


def channel_of(who: Principal) -> str:
    """`self` when the subject files, `window` when staff file on its behalf."""
    return "self" if who.role is Role.SUBJECT else "window"


def _sees(session: Session, grant: Grant, subject_id: int, departments: Iterable[str | None]) -> bool:
    """A case is in scope when its subject is; a department sees only the cases it
    handles (records it supplied), not other departments' cases on the same subject."""
    if not grant.in_scope(session, subject_id):
        return False
    if grant.scope is Scope.DEPARTMENT:
        return grant.principal.department_code in set(departments)
    return True


def objection_in_scope(session: Session, grant: Grant, objection_id: int) -> Objection:
    o = session.get(Objection, objection_id)
    if o is None or not _sees(session, grant, o.subject_id, (o.department_code,)):
        raise NotFound(f"objection {objection_id} not found in your data scope")
    return o


def repair_in_scope(session: Session, grant: Grant, application_id: int) -> RepairApplication:
    a = session.get(RepairApplication, application_id)
    if a is None or not _sees(session, grant, a.subject_id, (a.department_code,)):
        raise NotFound(f"repair application {application_id} not found in your data scope")
    return a


def record_in_scope(session: Session, grant: Grant, record_id: int, subject_id: int | None = None) -> CreditRecord:
    """A record of a subject in scope (and of `subject_id` when given): 404 otherwise,
    so nobody learns of records in another subject's file."""
    rec = session.get(CreditRecord, record_id)
    if rec is None or (subject_id is not None and rec.subject_id != subject_id) \
            or not grant.in_scope(session, rec.subject_id):
        where = f"subject {subject_id}'s file" if subject_id is not None else "your data scope"
        raise NotFound(f"credit record {record_id} not found in {where}")
    return rec


def repair_record_in_scope(session: Session, grant: Grant, record_id: int) -> CreditRecord:
    """A record whose repair a reader follows (the record's repair page): in scope, and
    for a department one it supplied — as it sees only its own cases (404 otherwise)."""
    rec = record_in_scope(session, grant, record_id)
    if grant.scope is Scope.DEPARTMENT and rec.department_code != grant.principal.department_code:
        raise NotFound(f"credit record {record_id} not found in your data scope")
    return rec


def repair_desk(who: Principal, records: Iterable[dict[str, Any]]) -> set[int]:
    """Of a credit file's records (`subjects.access.read_file`), those an officer opens
    the repair page of: the current negative records not repaired or revoked, that the
    reader records conditions for or applies for at the window — the credit office
    every one, a department those it supplied. None for the subject itself (its own
    view has its forms) or a reader with neither permission."""
    if who.role is Role.SUBJECT or not (who.can("repairs.conditions") or who.can("repairs.apply")):
        return set()
    own = who.department_code if who.role is Role.DEPARTMENT else None
    return {int(r["id"]) for r in records
            if r.get("polarity") == "negative" and r.get("is_current", True)
            and r.get("status") not in ("repaired", "revoked", "archived")
            and (own is None or r.get("department") == own)}


def desk_records(session: Session, who: Principal, ids: Iterable[int]) -> list[int]:
    """Of some records (by id, order kept), those `repair_desk` lets the reader open."""
    ids = list(ids)
    if not ids:
        return []
    q = (select(CreditRecord, CatalogItem.polarity).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.id.in_(ids)))
    keep = repair_desk(who, [{"id": r.id, "polarity": polarity, "is_current": r.is_current, "status": r.status,
                              "department": r.department_code} for r, polarity in session.execute(q)])
    return [i for i in ids if i in keep]


def _scoped(session: Session, grant: Grant, subject_id: int | None) -> tuple[int | None, str | None, bool]:
    """(subject filter, department filter, nothing-to-show) for a grant's listing."""
    p = grant.principal
    if grant.scope is Scope.SELF:
        if p.subject_id is None or subject_id not in (None, p.subject_id):
            return None, None, True
        return p.subject_id, None, False
    return subject_id, p.department_code if grant.scope is Scope.DEPARTMENT else None, False


def _in_clause(session: Session, grant: Grant, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.execute(select(Subject.id).where(Subject.id.in_(ids), grant.subject_clause())).scalars())


def scoped_objections(session: Session, grant: Grant, *, status: str | None = None, subject_id: int | None = None,
                      limit: int = 200) -> list[Objection]:
    sid, department, empty = _scoped(session, grant, subject_id)
    if empty:
        return []
    statuses = OBJECTION_OPEN if status == "pending" else None if status == "all" else status
    rows = objections(session, subject_id=sid, status=statuses, department=department, limit=limit)
    visible = _in_clause(session, grant, {o.subject_id for o in rows})
    return [o for o in rows if o.subject_id in visible]


def scoped_repairs(session: Session, grant: Grant, *, status: str | None = None, subject_id: int | None = None,
                   limit: int = 200) -> list[RepairApplication]:
    sid, department, empty = _scoped(session, grant, subject_id)
    if empty:
        return []
    statuses = REPAIR_OPEN if status == "pending" else None if status == "all" else status
    rows = repairs(session, subject_id=sid, status=statuses, department=department, limit=limit)
    visible = _in_clause(session, grant, {a.subject_id for a in rows})
    return [a for a in rows if a.subject_id in visible]


def _names(session: Session, ids: set[int], masked: bool) -> dict[int, str]:
    if not ids:
        return {}
    return {s.id: subject_service.display_name(s, masked=masked)
            for s in session.execute(select(Subject).where(Subject.id.in_(ids))).scalars()}


def record_refs(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    """What a case page shows of its record: item, date, document number, status, and
    for a version no longer current (corrected after an objection, or by a later
    delivery) the version that superseded it and is current now (`superseded_by`)."""
    if not ids:
        return {}
    q = (select(CreditRecord, CatalogItem).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.id.in_(ids)))
    rows = session.execute(q).all()
    stale = {r.natural_key for r, _i in rows if not r.is_current}
    now: dict[tuple[int, str], int] = {}
    if stale:
        now = {(sid, nk): rid for sid, nk, rid in session.execute(
            select(CreditRecord.subject_id, CreditRecord.natural_key, CreditRecord.id).where(
                CreditRecord.natural_key.in_(stale), CreditRecord.is_current.is_(True)))}
    return {r.id: {"id": r.id, "item": r.item_code, "item_name": i.name_zh, "item_name_en": i.name_en,
                   "occurred_on": r.occurred_on.isoformat(), "document_no": r.document_no,
                   "department": r.department_code, "status": r.status, "is_current": r.is_current,
                   "superseded_by": None if r.is_current else now.get((r.subject_id, r.natural_key))}
            for r, i in rows}


def objections_out(session: Session, grant: Grant, rows: Sequence[Objection]) -> list[dict[str, Any]]:
    """Objections as the API and the pages show them: deadlines in working days, the
    subject's name (masked where the grant masks people) and the record."""
    cal = calendar.load(session)
    today = clock.today()
    names = _names(session, {o.subject_id for o in rows}, grant.masks_people)
    recs = record_refs(session, {o.record_id for o in rows} | {o.result_record_id for o in rows if o.result_record_id})
    out = []
    for o in rows:
        d = labels.annotate({**objection_dict(session, o, today, cal=cal), "subject_name": names.get(o.subject_id),
                             "record": recs.get(o.record_id),
                             "result_record": recs.get(o.result_record_id) if o.result_record_id else None},
                            status="objection_status", outcome="objection_outcome", department="department")
        if d.get("review"):
            labels.annotate(d["review"], outcome="objection_outcome", authority="department")
        out.append(d)
    return out


def repairs_out(session: Session, grant: Grant, rows: Sequence[RepairApplication]) -> list[dict[str, Any]]:
    cal = calendar.load(session)
    today = clock.today()
    names = _names(session, {a.subject_id for a in rows}, grant.masks_people)
    recs = record_refs(session, {a.record_id for a in rows})
    out = []
    for a in rows:
        d = repair_dict(session, a, today)
        due = repair_deadline(a)
        left = None
        if due is not None:
            left = cal.working_days_between(today, due) if due >= today else -cal.working_days_between(due, today)
        out.append(labels.annotate({**d, "working_days_left": left, "subject_name": names.get(a.subject_id),
                                    "record": recs.get(a.record_id)},
                                   status="repair_status", tier="severity", department="department"))
    return out


def _clean_name(name: str | None) -> str:
    """A file name safe to keep: no folders, no control characters, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")
    if not base:
        return "material"
    if len(base) > 120:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[:110] + dot + suffix[:9]) if dot and len(suffix) < 10 else base[:120]
    return base


@contextmanager
def saved_uploads(uploads: Sequence[Upload]) -> Iterator[list[Path]]:
    """The uploaded files written to a temporary folder under their own (cleaned) names,
    for `materials.store_materials`, which copies them into the store by content. Empty
    file inputs (a form sent without a file) are skipped; an oversized file is refused."""
    chosen = [u for u in uploads if u.filename]
    if len(chosen) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files per upload", code="workflows.upload.too_many",
                           params={"n": MAX_FILES})
    with tempfile.TemporaryDirectory(prefix="creditgov-upload-") as tmp:
        out = []
        for i, up in enumerate(chosen):
            name = _clean_name(up.filename)
            dst = Path(tmp) / str(i) / name
            dst.parent.mkdir()
            size = 0
            with dst.open("wb") as fh:
                up.file.seek(0)
                for chunk in iter(partial(up.file.read, 1 << 20), b""):
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        mb = MAX_FILE_BYTES // (1024 * 1024)
                        raise InvalidInput(f"{name} is larger than {mb} MB", code="workflows.upload.too_large",
                                           params={"name": name, "mb": mb})
                    fh.write(chunk)
            if size == 0:
                raise InvalidInput(f"{name} is empty", code="workflows.upload.empty", params={"name": name})
            out.append(dst)
        yield out


def own_view_of(session: Session, ring: KeyRing, grant: Grant) -> dict[str, Any]:
    """The signed-in subject's own view (the read is audited, purpose 'own view')."""
    p = grant.principal
    if p.subject_id is None:
        raise NotFound("this account is not linked to a subject", code="workflows.account.no_subject")
    grant.require_subject(session, p.subject_id)
    return flows.own_view(session, ring, str(p.subject_id), actor=p.actor)
