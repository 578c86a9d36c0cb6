"""Credit records (信用记录) and their status history: the body of the credit file.

Nothing is overwritten. A correction adds a new version of the record (same natural
key, version + 1) and leaves the old one in place with `is_current` false; a status
change (disputed, repaired, revoked, expired, archived) appends a `RecordStatusChange`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

# `archived`: the retention period ended (adverse information, 5 years after the
# behaviour): out of evaluation, publication and the credit file, kept for audit.
STATUSES = ("active", "disputed", "repaired", "revoked", "expired", "archived")


class CreditRecord(Base):
    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("natural_key", "version"),
        Index("ix_credit_records_subject_item", "subject_id", "item_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    item_code: Mapped[str] = mapped_column(ForeignKey("catalog_items.code"), nullable=False)
    occurred_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    grade: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str | None] = mapped_column(Text)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    document_no: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="active")
    published_from: Mapped[dt.date | None] = mapped_column(Date)
    published_until: Mapped[dt.date | None] = mapped_column(Date)
    # Provenance: where the row came from and how to replay its transformation.
    natural_key: Mapped[str] = mapped_column(String(32), nullable=False)  # indexed by the unique key
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    supersedes_id: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(32), nullable=False)
    source: Mapped[str] = mapped_column(String(80), nullable=False)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    spec_version: Mapped[str | None] = mapped_column(String(30))
    line_no: Mapped[int | None] = mapped_column(Integer)
    raw_hash: Mapped[str | None] = mapped_column(String(32))
    raw: Mapped[str | None] = mapped_column(Text)  # the raw row as JSON; encrypted when it holds personal IDs
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class RecordStatusChange(Base):
    __tablename__ = "record_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), nullable=False, index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
