"""The worker's tables: the scheduler's job store and a log of job runs.

`worker_jobs` is APScheduler 3's `SQLAlchemyJobStore` table, declared here so the
migration creates it and schema comparison knows it (the scheduler would otherwise
create it behind Alembic's back).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Float, Integer, LargeBinary, String, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class SchedulerJob(Base):
    __tablename__ = "worker_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class JobRun(Base):
    """One run of a periodic job: when, how long, what it did or why it failed."""

    __tablename__ = "worker_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # running / done / failed
    result: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(120))
