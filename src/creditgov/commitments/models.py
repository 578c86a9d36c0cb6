"""Credit commitments (信用承诺): templates and the commitments subjects sign.

A commitment is signed once and verified once: fulfilled (a positive record) or
breached (exactly one negative record, created by this domain with its own
provenance). Nothing is deleted; the resulting record is linked back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

STATUSES = ("signed", "fulfilled", "breached", "withdrawn")


class CommitmentTemplate(Base):
    __tablename__ = "commitment_templates"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    verifying_department: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    deadline_days: Mapped[int | None] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    definition: Mapped[str] = mapped_column(Text, nullable=False)


class Commitment(Base):
    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_subject_type", "subject_id", "type"),
        Index("ix_commitments_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_code: Mapped[str] = mapped_column(ForeignKey("commitment_templates.code"), nullable=False)
    type: Mapped[str] = mapped_column(String(60), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)  # the text as signed
    signed_by: Mapped[str | None] = mapped_column(String(200))  # who signed for the subject
    signed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    scenario: Mapped[str | None] = mapped_column(String(80))
    check_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="signed")
    verifying_department: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    verified_on: Mapped[dt.date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(100))
    verification_note: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
