"""Data requests as a workflow (数据申请): the credit office files a request form for
some of a department's catalogue items (legal basis, purpose, frequency); the owning
department approves or rejects each item with a reason. A decision takes effect in
ingestion at once — ingestion reads the standing `DataRequest` rows
(`service.request_status`) at the start of every run and retry — and every step is kept
in `DataRequestEvent` and on the audit chain. An ingestion folder's data_requests.yaml
is an import into the same rows (`service.load_requests`), recorded the same way.

The rules live here so the CLI, the API and the pages pass the same checks: only the
owning department decides its items, a decision needs a reason, an item approved or
pending is not asked for again, a rejected one may be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.catalog import departments
from creditgov.catalog.models import (
    CatalogItem,
    DataRequest,
    DataRequestEvent,
    DataRequestForm,
)
from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.security import service as audit

Frequency = Literal["once", "daily", "weekly", "monthly", "quarterly", "yearly"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)
Decision = Literal["approved", "rejected"]
TEXT_MAX = 2000
# The texts a request form and a decision ask for: the English words of the message ->
# its code of kind "request_field" (catalog/labels.py), which a refusal names.
TEXT_FIELDS = {"legal basis": "request.legal_basis", "purpose": "request.purpose", "reason": "request.reason"}


def _text(value: str | None, what: str) -> str:
    v = (value or "").strip()
    if not v:
        raise InvalidInput(f"{what} is required", code="catalog.request.text_missing",
                           params={"field": TEXT_FIELDS[what]})
    if len(v) > TEXT_MAX:
        raise InvalidInput(f"{what} is longer than {TEXT_MAX} characters", code="catalog.request.text_long",
                           params={"field": TEXT_FIELDS[what], "max": TEXT_MAX})
    return v


def record_event(session: Session, req: DataRequest, *, action: str, from_status: str | None,
                 reason: str | None, actor: str) -> None:
    session.add(DataRequestEvent(request_id=req.id, form_id=req.form_id, action=action, from_status=from_status,
                                 to_status=req.status, reason=reason, actor=actor, at=clock.now()))


def file_request(session: Session, *, department: str, items: list[str], legal_basis: str, purpose: str,
                 frequency: str, actor: str | None = None) -> DataRequestForm:
    """File a request form: every item must be the department's own catalogue item, and
    not already approved or pending (a rejected item may be asked for again)."""
    actor = actor or audit.default_actor()
    departments.require(session, department)
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}",
                           code="catalog.request.frequency", params={"frequency": frequency})
    codes = list(dict.fromkeys(i.strip() for i in items if i and i.strip()))
    if not codes:
        raise InvalidInput("a data request names at least one catalogue item", code="catalog.request.no_items")
    basis, why = _text(legal_basis, "legal basis"), _text(purpose, "purpose")
    known = {c.code: c for c in session.execute(select(CatalogItem).where(CatalogItem.code.in_(codes))).scalars()}
    standing = {r.item_code: r for r in session.execute(
        select(DataRequest).where(DataRequest.department_code == department, DataRequest.item_code.in_(codes))
        .with_for_update()).scalars()}
    for code in codes:
        it = known.get(code)
        if it is None:
            raise InvalidInput(f"unknown catalogue item {code!r}", code="catalog.item.unknown", params={"item": code})
        if it.department_code != department:
            raise InvalidInput(f"item {code!r} is supplied by department {it.department_code!r}, not {department!r}",
                               code="catalog.request.other_department",
                               params={"item": code, "owner": it.department_code, "department": department})
        r = standing.get(code)
        if r is not None and r.status == "approved":
            raise Conflict(f"item {code!r} is already approved from department {department!r}",
                           code="catalog.request.approved", params={"item": code, "department": department})
        if r is not None and r.status == "requested":
            raise Conflict(f"item {code!r} is already requested from department {department!r}"
                           + (f" (request form {r.form_id})" if r.form_id else "") + " and awaits a decision",
                           code="catalog.request.pending", params={"item": code, "department": department})
    form = DataRequestForm(department_code=department, legal_basis=basis, purpose=why, frequency=frequency,
                           status="pending", filed_by=actor, filed_at=clock.now())
    session.add(form)
    session.flush()
    today = clock.today()
    for code in codes:
        r = standing.get(code)
        before = r.status if r is not None else None
        if r is None:
            r = DataRequest(item_code=code, department_code=department)
            session.add(r)
        r.status, r.form_id, r.requested_on, r.decided_on, r.decided_by, r.note = (
            "requested", form.id, today, None, None, None)
        session.flush()
        record_event(session, r, action="requested", from_status=before, reason=None, actor=actor)
    audit.append(session, action="catalog.request.file", actor=actor,
                 detail={"form": form.id, "department": department, "items": codes, "frequency": frequency})
    return form


def decide(session: Session, request_id: int, *, decision: str, reason: str, unit: str | None,
           actor: str | None = None) -> DataRequest:
    """The owning department's decision on one item. `unit` is the deciding department
    (the signed-in officer's, or the one the CLI names); it must own the request."""
    actor = actor or audit.default_actor()
    if decision not in get_args(Decision):
        raise InvalidInput(f"decision must be approved or rejected, not {decision!r}")
    why = _text(reason, "reason")
    r = session.execute(select(DataRequest).where(DataRequest.id == request_id).with_for_update()).scalar_one_or_none()
    if r is None or (unit is not None and unit != r.department_code):
        raise NotFound(f"data request {request_id} not found", code="catalog.request.not_found",
                       params={"id": request_id})
    if unit is None:
        raise InvalidInput("only the department that supplies the item decides its data request")
    if r.status != "requested":
        raise Conflict(f"data request {request_id} was already {r.status}", code="catalog.request.decided",
                       params={"id": request_id, "status": r.status})
    before = r.status
    r.status, r.decided_on, r.decided_by, r.note = decision, clock.today(), actor, why
    session.flush()
    record_event(session, r, action=decision, from_status=before, reason=why, actor=actor)
    if r.form_id is not None:
        left = session.execute(select(func.count(DataRequest.id)).where(
            DataRequest.form_id == r.form_id, DataRequest.status == "requested")).scalar_one()
        if not left:
            form = session.get(DataRequestForm, r.form_id)
            if form is not None:
                form.status = "decided"
    audit.append(session, action="catalog.request.decide", actor=actor,
                 detail={"request": r.id, "item": r.item_code, "department": r.department_code,
                         "decision": decision, "form": r.form_id})
    return r


@dataclass
class FormView:
    form: DataRequestForm
    items: list[DataRequest]


def forms(session: Session, *, department: str | None = None, limit: int = 200) -> list[FormView]:
    q = select(DataRequestForm).order_by(DataRequestForm.id.desc()).limit(limit)
    if department is not None:
        q = q.where(DataRequestForm.department_code == department)
    rows = list(session.execute(q).scalars())
    items: dict[int, list[DataRequest]] = {f.id: [] for f in rows}
    if rows:
        for r in session.execute(select(DataRequest).where(DataRequest.form_id.in_(list(items)))
                                 .order_by(DataRequest.item_code)).scalars():
            items[r.form_id or 0].append(r)
    return [FormView(f, items[f.id]) for f in rows]


def form(session: Session, form_id: int, *, department: str | None = None) -> FormView:
    f = session.get(DataRequestForm, form_id)
    if f is None or (department is not None and f.department_code != department):
        raise NotFound(f"data request form {form_id} not found", code="catalog.request_form.not_found",
                       params={"id": form_id})
    items = list(session.execute(select(DataRequest).where(DataRequest.form_id == f.id)
                                 .order_by(DataRequest.item_code)).scalars())
    return FormView(f, items)


def history(session: Session, *, request_ids: list[int]) -> list[DataRequestEvent]:
    if not request_ids:
        return []
    return list(session.execute(select(DataRequestEvent).where(DataRequestEvent.request_id.in_(request_ids))
                                .order_by(DataRequestEvent.id)).scalars())


def get_request(session: Session, request_id: int, *, department: str | None = None) -> DataRequest:
    r = session.get(DataRequest, request_id)
    if r is None or (department is not None and r.department_code != department):
        raise NotFound(f"data request {request_id} not found", code="catalog.request.not_found",
                       params={"id": request_id})
    return r
