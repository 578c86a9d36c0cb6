"""Credit lists (red, serious-dishonesty, key-attention, …) and their entries.

The evaluation engine reads `list_entries` for its list items and overrides; the
lists domain (entry and exit procedures) fills it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class CreditList(Base):
    __tablename__ = "credit_lists"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # red / black / attention / other
    identifying_unit: Mapped[str] = mapped_column(String(200), nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    publication_months: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(20), nullable=False, default="local")  # local / upper
    definition: Mapped[str | None] = mapped_column(Text)  # the list's YAML definition


class ListEntry(Base):
    """A subject on a list. `status` follows the procedure: proposed → notified →
    approved → published → exited (or rejected). Only `published` entries are in force,
    from `published_on` until `exited_on` (or `expires_on`)."""

    __tablename__ = "list_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_code: Mapped[str] = mapped_column(ForeignKey("credit_lists.code"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    origin: Mapped[str] = mapped_column(String(20), nullable=False, default="local")
    basis: Mapped[str | None] = mapped_column(Text)
    decision_no: Mapped[str | None] = mapped_column(String(120))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    proposed_on: Mapped[dt.date | None] = mapped_column(Date)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    exited_on: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
