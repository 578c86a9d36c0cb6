"""API routes for the data catalogue and data requests. Thin: read-only views over
`catalog.service`; the catalogue itself is changed by loading a file (CLI)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from creditgov.api.deps import DB, require
from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.security.scopes import Grant

router = APIRouter(tags=["catalog"])
Read = Annotated[Grant, Depends(require("catalog.read"))]


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
