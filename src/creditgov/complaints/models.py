"""The complaints table: one row per complaint, its deadlines fixed at intake."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

STATUSES = ("received", "assigned", "replied")


class Complaint(Base):
    """A complaint. The complainant's name and contact are personal: encrypted at rest
    and masked in views; the query code is kept only as its SHA-256."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_status_due", "status", "due_on"),
                      Index("ix_complaints_department", "department_code"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), nullable=False, unique=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    respondent_name: Mapped[str] = mapped_column(String(200), nullable=False)
    respondent_code: Mapped[str | None] = mapped_column(String(18))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    content: Mapped[str] = mapped_column(Text, nullable=False)
    complainant_name: Mapped[str | None] = mapped_column(Text)      # encrypted
    contact: Mapped[str | None] = mapped_column(Text)               # encrypted
    contact_kind: Mapped[str | None] = mapped_column(String(10))    # mobile | email
    query_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)      # China Standard Time date
    accept_due: Mapped[dt.date] = mapped_column(Date, nullable=False)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    received_by: Mapped[str] = mapped_column(String(100), nullable=False)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    assigned_by: Mapped[str | None] = mapped_column(String(100))
    assign_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    replied_on: Mapped[dt.date | None] = mapped_column(Date)
    replied_by: Mapped[str | None] = mapped_column(String(100))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    manual_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_manual_entries.id"))
