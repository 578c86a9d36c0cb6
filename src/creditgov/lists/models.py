"""Credit lists (red, serious-dishonesty, key-attention, …) and their entries.

The evaluation engine reads `list_entries` for its list items and overrides; the
lists domain (entry and exit procedures in `service.py`) fills it. An entry is never
deleted or rewritten back: each step of its procedure appends a `ListEntryEvent`, so
the whole history of a listing (who proposed, when the subject was told, what it
answered, who approved, when and why it left) stays readable forever.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

# The procedure. An entry takes effect when `published`; once `exited` it still counts
# for the dates before its exit (`queries.listed_on`), not for evaluations (which count
# standing entries only: `scoring.explain.standing_entry`).
STATUSES = ("proposed", "notified", "approved", "published", "exited", "rejected", "withdrawn")
OPEN_STATUSES = ("proposed", "notified", "approved", "published")
EXIT_KINDS = ("expiry", "repair", "upper", "manual")


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
    definition: Mapped[str | None] = mapped_column(Text)  # the list's validated definition (JSON)


class ListEntry(Base):
    """A subject on a list. `status` follows the procedure: proposed → notified →
    approved → published → exited (or rejected / withdrawn before publication). Only
    `published` entries are in force, from `published_on` (inclusive) until
    `expires_on` or `exited_on` (exclusive)."""

    __tablename__ = "list_entries"
    __table_args__ = (Index("ix_list_entries_subject_status", "subject_id", "status"),)

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
    # --- the procedure (migration 0003) ---
    identifying_unit: Mapped[str | None] = mapped_column(String(60))  # who must approve (认定单位)
    criterion: Mapped[str | None] = mapped_column(String(80))  # which entry criterion proposed it
    # What the proposal rests on ("record:12", "run:7"), so re-running criteria never
    # proposes the same thing twice, even after a rejection.
    evidence_key: Mapped[str | None] = mapped_column(String(80), index=True)
    source: Mapped[str | None] = mapped_column(String(80))  # upper platform for origin 'upper'
    notified_on: Mapped[dt.date | None] = mapped_column(Date)
    response_due: Mapped[dt.date | None] = mapped_column(Date)  # last day for 陈述申辩
    representation: Mapped[str | None] = mapped_column(Text)
    represented_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_unit: Mapped[str | None] = mapped_column(String(60))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    exit_kind: Mapped[str | None] = mapped_column(String(12))
    # The publication period the decision chose within the list's range (49号: 1–3 years).
    publication_months: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ListEntryEvent(Base):
    """One step of an entry's procedure: append-only history."""

    __tablename__ = "list_entry_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("list_entries.id"), nullable=False, index=True)
    step: Mapped[str] = mapped_column(String(20), nullable=False)  # propose/notify/represent/approve/…
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    effective_on: Mapped[dt.date] = mapped_column(Date, nullable=False)  # the business date
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    unit: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
