"""Departments, data catalogue items (信息目录) and data requests (数据申请)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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


class DataRequest(Base):
    __tablename__ = "data_requests"
    __table_args__ = (UniqueConstraint("item_code", "department_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("catalog_items.code"), nullable=False)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # requested/approved/rejected
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
