"""Issued credit reports and printed documents, kept so the QR code on either can be
verified."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class CreditReport(Base):
    """One issued PDF: who it is about, who downloaded it, and the digest of its bytes,
    so a verifier can tell an authentic report from an edited one. A printed document
    (a list notice or decision, an objection or repair decision, an inspection notice)
    is kept here too under its identity: `kind`, the document's kind code, and `ref`,
    the id of what it is about (the list entry, the objection, the application, the
    task) — what a reprint finds its first issue by. A credit report has neither."""

    __tablename__ = "credit_reports"
    __table_args__ = (Index("ix_credit_reports_kind_ref", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    issued_to: Mapped[str] = mapped_column(String(100), nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(120))
    grade: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str | None] = mapped_column(String(40))
    ref: Mapped[int | None] = mapped_column(Integer)
