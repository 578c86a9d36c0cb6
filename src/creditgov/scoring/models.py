"""Evaluation model versions, evaluation runs and scores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class ModelVersion(Base):
    """A model's YAML at one version: draft, then published (immutable)."""

    __tablename__ = "scoring_model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")  # draft / published
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(100))


class EvaluationRun(Base):
    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    model_version: Mapped[str] = mapped_column(String(30), nullable=False)
    model_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    watermark: Mapped[str | None] = mapped_column(String(200))  # data watermark or snapshot id
    engine: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="running")  # running/done/failed
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    subjects: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    grades: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    timings: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    seconds: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(100))


class Score(Base):
    """One subject's result in one run: score, grade, colour and first-level scores."""

    __tablename__ = "evaluation_scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True, index=True)
    score: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    grade: Mapped[str] = mapped_column(String(10), nullable=False)
    colour: Mapped[str] = mapped_column(String(10), nullable=False)
    dimensions: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


class RecordChange(Base):
    """A credit record whose evaluated columns changed (or that was deleted), written by
    the store's own triggers: what the record segments must re-read (segments.py). On
    PostgreSQL `xid` is the writing transaction (`pg_current_xact_id()`); SQLite orders
    its one writer by `seq`."""

    __tablename__ = "record_changes"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    xid: Mapped[int | None] = mapped_column(BigInteger)


class RecordSegment(Base):
    """One Parquet file of the columnar copy of `credit_records` that evaluation reads
    (segments.py): the records with ids in (after_id, max_id] as they stood when the
    change log was at `change_seq`."""

    __tablename__ = "record_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    after_id: Mapped[int] = mapped_column(Integer, nullable=False)
    max_id: Mapped[int] = mapped_column(Integer, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    change_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    excluded: Mapped[str] = mapped_column(Text, nullable=False)  # the secret items left out, sorted, comma-separated
    snapshot: Mapped[str | None] = mapped_column(Text)  # PostgreSQL: the snapshot the copy was read in
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Reevaluation(Base):
    """A subject's result recomputed at once for one published model after a procedure
    changed its file (`current.reevaluate`). Kept beside the run it was computed against
    (`previous_run_id`), whose row it supersedes for the subject until the next run."""

    __tablename__ = "subject_reevaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    model_name: Mapped[str] = mapped_column(String(80), nullable=False)
    model_version: Mapped[str] = mapped_column(String(30), nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    grade: Mapped[str] = mapped_column(String(10), nullable=False)
    colour: Mapped[str] = mapped_column(String(10), nullable=False)
    previous_run_id: Mapped[int | None] = mapped_column(Integer)
    previous_grade: Mapped[str | None] = mapped_column(String(10))
    cause: Mapped[str] = mapped_column(String(40), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
