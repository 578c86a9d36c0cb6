"""Issued credit reports, kept so the QR code on a printed report can be verified."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class CreditReport(Base):
    """One issued PDF: who it is about, who downloaded it, and the digest of its bytes,
    so a verifier can tell an authentic report from an edited one."""

    __tablename__ = "credit_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    issued_to: Mapped[str] = mapped_column(String(100), nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(120))
    grade: Mapped[str | None] = mapped_column(String(10))
