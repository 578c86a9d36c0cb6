"""Departments, data catalogue items (信息目录) and data requests (数据申请)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)


class CatalogItem(Base):
    __tablename__ = "catalog_items"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    polarity: Mapped[str] = mapped_column(String(10), nullable=False)
    severity: Mapped[str | None] = mapped_column(String(10))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    data_class: Mapped[str] = mapped_column(String(12), nullable=False)
    value_kind: Mapped[str] = mapped_column(String(12), nullable=False, default="none")
    unit: Mapped[str | None] = mapped_column(String(20))
    min_publication_months: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_publication_months: Mapped[int | None] = mapped_column(Integer)
    # Whether the item is published at all, and the publication terms resolved from the
    # publication rules with the rule that decided each (`catalog.publication`).
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    publication: Mapped[dict | None] = mapped_column(JSON)
    catalog_version: Mapped[str] = mapped_column(String(30), nullable=False)
    # Shared with credit bureaus: {term, consent_required, citation} from the catalogue's
    # `bureau_sharing` (SQL NULL: never shared; the bureaus domain reads it).
    bureau: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # The item is a rating another body issues: its scheme, levels (best first), validity
    # and basis (`schemas.RatingScheme`; SQL NULL: an ordinary item).
    rating: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


class DataRequestForm(Base):
    """A data request as the credit office files it (数据申请单): one department, the
    items asked of it, the legal basis, the purpose and how often the data should come.
    Each item is a `DataRequest` the department decides on its own."""

    __tablename__ = "data_request_forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False, index=True)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    frequency: Mapped[str] = mapped_column(String(12), nullable=False)  # once/daily/weekly/monthly/quarterly/yearly
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending/decided
    filed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class DataRequest(Base):
    """The standing request for one item from one department and its decision, which
    ingestion reads (`catalog.service.request_status`); its history is in
    `DataRequestEvent`. `form_id` is the form that last asked for it (none when it came
    from an ingestion folder's data_requests.yaml)."""

    __tablename__ = "data_requests"
    __table_args__ = (UniqueConstraint("item_code", "department_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("catalog_items.code"), nullable=False)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # requested/approved/rejected
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)  # the decision's reason
    form_id: Mapped[int | None] = mapped_column(ForeignKey("data_request_forms.id"), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))


class DataRequestEvent(Base):
    """One step in a data request's history: filed, approved, rejected, imported."""

    __tablename__ = "data_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), nullable=False, index=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("data_request_forms.id"))
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
