"""Ingestion bookkeeping: registered spec versions, batches and quarantined rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class SpecVersion(Base):
    """Every spec text ever used, so any record's transformation can be replayed."""

    __tablename__ = "ingest_spec_versions"
    __table_args__ = (UniqueConstraint("name", "spec_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    spec_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Batch(Base):
    """One file through one spec version. Committed together with its rows, or not at all."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("ingest_spec_versions.id"), nullable=False)
    file_name: Mapped[str] = mapped_column(String(300), nullable=False)
    file_hash: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # file / retry
    header: Mapped[str | None] = mapped_column(Text)  # the file's columns, JSON; raw rows keep values only
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    read: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    corrected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    filtered: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class QuarantinedRow(Base):
    __tablename__ = "ingest_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    file_name: Mapped[str] = mapped_column(String(300), nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    raw: Mapped[str] = mapped_column(Text, nullable=False)  # JSON; encrypted for personal sources
    raw_hash: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")  # open/resolved
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_batch_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class ManualEntry(Base):
    """A record or a subject registration entered by hand (人工录入), with its reason and
    evidence, waiting for a second person's approval before it counts. Approved, it goes
    through the ingestion pipeline as a one-row batch of a generated spec
    (`ingest/manual.py`), so `ingest trace` shows it like any file's row. The entered
    fields are kept encrypted (they may hold an ID number)."""

    __tablename__ = "ingest_manual_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # record / registration
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # the fields as JSON, encrypted
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [{file, sha256, size, stored_as}]
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # proposed / approved / rejected
    proposed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))


class HandledRow(Base):
    """A row of a `handled` source that its handler applied (e.g. a bank's repayment in
    the loan book), with its raw form for `ingest trace-row`. The same raw row of the
    same source again is a duplicate and is not handed over twice."""

    __tablename__ = "ingest_handled_rows"
    __table_args__ = (UniqueConstraint("source", "raw_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(80), nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    raw: Mapped[str] = mapped_column(Text, nullable=False)  # JSON; encrypted for personal sources
    raw_hash: Mapped[str] = mapped_column(String(32), nullable=False)
    outcome: Mapped[str] = mapped_column(String(12), nullable=False)  # applied / known (already there)
    target: Mapped[str] = mapped_column(String(120), nullable=False)  # what the handler wrote, e.g. finance.repayment:7
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
