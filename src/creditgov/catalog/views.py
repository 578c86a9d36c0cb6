"""API routes for the data catalogue and data requests. Thin: the catalogue is read
here and changed by loading a file (CLI); data requests are filed by the credit office
and decided by the owning department through `catalog.requests`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from creditgov.api.deps import DB, Id, require
from creditgov.catalog import access
from creditgov.catalog import requests as wf
from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.security.scopes import Grant

router = APIRouter(tags=["catalog"])
Read = Annotated[Grant, Depends(require("catalog.read"))]
RequestsRead = Annotated[Grant, Depends(require("data_requests.read"))]
RequestsFile = Annotated[Grant, Depends(require("data_requests.file"))]
RequestsDecide = Annotated[Grant, Depends(require("data_requests.decide"))]


class ItemOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    polarity: str
    severity: str | None
    department: str
    legal_basis: str
    data_class: str
    value_kind: str
    unit: str | None
    min_publication_months: int
    max_publication_months: int | None
    catalog_version: str


class RequestOut(BaseModel):
    item: str
    department: str
    status: str
    requested_on: str | None
    decided_on: str | None
    note: str | None


def _item(it: CatalogItem) -> ItemOut:
    return ItemOut(code=it.code, name_zh=it.name_zh, name_en=it.name_en, polarity=it.polarity,
                   severity=it.severity, department=it.department_code, legal_basis=it.legal_basis,
                   data_class=it.data_class, value_kind=it.value_kind, unit=it.unit,
                   min_publication_months=it.min_publication_months,
                   max_publication_months=it.max_publication_months, catalog_version=it.catalog_version)


@router.get("/catalog/items", response_model=list[ItemOut], operation_id="catalog_items")
def catalog_items(grant: Read, session: DB) -> list[ItemOut]:
    """Every catalogue item (信息目录) with its polarity, severity, class and legal basis."""
    return [_item(it) for it in catalog_service.items(session)]


@router.get("/catalog/items/{code}", response_model=ItemOut, operation_id="catalog_item")
def catalog_item(code: str, grant: Read, session: DB) -> ItemOut:
    return _item(catalog_service.item(session, code))


@router.get("/catalog/requests", response_model=list[RequestOut], operation_id="catalog_requests")
def catalog_requests(grant: Read, session: DB) -> list[RequestOut]:
    """Data requests (数据申请) per item and department, and their decisions."""
    return [RequestOut(item=r.item_code, department=r.department_code, status=r.status,
                       requested_on=r.requested_on.isoformat() if r.requested_on else None,
                       decided_on=r.decided_on.isoformat() if r.decided_on else None, note=r.note)
            for r in catalog_service.requests(session)]


# ----------------------------------------------------------------------------- data requests as a workflow

class FormIn(BaseModel):
    department: str = Field(min_length=1, max_length=50)
    items: list[str] = Field(min_length=1, max_length=200)
    legal_basis: str = Field(min_length=1, max_length=wf.TEXT_MAX)
    purpose: str = Field(min_length=1, max_length=wf.TEXT_MAX)
    frequency: Literal["once", "daily", "weekly", "monthly", "quarterly", "yearly"]


class DecisionIn(BaseModel):
    decision: Literal["approved", "rejected"]
    reason: str = Field(min_length=1, max_length=wf.TEXT_MAX)


@router.post("/data-requests", status_code=201, operation_id="data_request_file")
def data_request_file(body: FormIn, grant: RequestsFile, session: DB) -> dict[str, Any]:
    """File a data request (数据申请) with a department: its items, legal basis, purpose
    and frequency. Each item then awaits the department's decision."""
    f = wf.file_request(session, department=body.department, items=body.items, legal_basis=body.legal_basis,
                        purpose=body.purpose, frequency=body.frequency, actor=grant.principal.actor)
    return access.form_dict(session, wf.form(session, f.id), with_history=True)


@router.get("/data-requests", operation_id="data_request_forms")
def data_request_forms(grant: RequestsRead, session: DB) -> list[dict[str, Any]]:
    """Request forms, newest first (a department sees those made of it)."""
    return [access.form_dict(session, v) for v in wf.forms(session, department=access.department_of(grant))]


@router.get("/data-requests/{form_id}", operation_id="data_request_form")
def data_request_form(form_id: Id, grant: RequestsRead, session: DB) -> dict[str, Any]:
    """One request form with its items and every step of their history."""
    v = wf.form(session, form_id, department=access.department_of(grant))
    return access.form_dict(session, v, with_history=True)


@router.post("/data-requests/items/{request_id}/decision", operation_id="data_request_decide")
def data_request_decide(request_id: Id, body: DecisionIn, grant: RequestsDecide, session: DB) -> dict[str, Any]:
    """The owning department approves or rejects one item, with a reason; ingestion
    reads the decision from its next run."""
    r = wf.decide(session, request_id, decision=body.decision, reason=body.reason,
                  unit=access.department_of(grant), actor=grant.principal.actor)
    out = access.item_dict(r)
    out["history"] = [access.event_dict(e) for e in wf.history(session, request_ids=[r.id])]
    return out


@router.get("/data-requests/items/{request_id}/history", operation_id="data_request_history")
def data_request_history(request_id: Id, grant: RequestsRead, session: DB) -> list[dict[str, Any]]:
    r = wf.get_request(session, request_id, department=access.department_of(grant))
    return [access.event_dict(e) for e in wf.history(session, request_ids=[r.id])]
