"""Tables of the bureau export.

A run is one file for one bureau, numbered per bureau (1, 2, 3 … with no gap: the number
is taken in the transaction that stores the run). The run keeps the exact bytes it
wrote, encrypted with the store's key (they carry identifiers), so writing a run again
gives the same file and the same SHA-256. Status: pending (made, not yet written) →
written (the file is in place, awaiting the bureau's acknowledgement) → acknowledged.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class BureauRun(Base):
    __tablename__ = "bureau_runs"
    __table_args__ = (UniqueConstraint("bureau", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bureau: Mapped[str] = mapped_column(String(40), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    exporter: Mapped[str] = mapped_column(String(40), nullable=False)
    file_name: Mapped[str] = mapped_column(String(200), nullable=False)
    records: Mapped[int] = mapped_column(Integer, nullable=False)
    subjects: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # the file's bytes, encrypted with the store's key
    manifest: Mapped[dict] = mapped_column(JSON, nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(14), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    writes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    written_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    location: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acked_by: Mapped[str | None] = mapped_column(String(100))
    ack_ref: Mapped[str | None] = mapped_column(Text)


class BureauRunSubject(Base):
    """A subject whose records a run carried, how many and on what footing (consent,
    law, or both): the subject's own view lists them."""

    __tablename__ = "bureau_run_subjects"
    __table_args__ = (UniqueConstraint("run_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("bureau_runs.id"), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    records: Mapped[int] = mapped_column(Integer, nullable=False)
    basis: Mapped[str] = mapped_column(String(10), nullable=False)  # consent / law / both
