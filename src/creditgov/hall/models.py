"""The counter sessions of the service-hall windows: one row per visit, opened by a
staff member for a visitor who signed in at the counter, ended explicitly or by the
time-out. A session is bound to the staff account that opened it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

END_REASONS = ("ended", "timeout")


class CounterSession(Base):
    __tablename__ = "counter_sessions"
    __table_args__ = (Index("ix_counter_sessions_staff_open", "staff", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    staff: Mapped[str] = mapped_column(String(100), nullable=False)            # the audit actor of the staff member
    visitor: Mapped[str] = mapped_column(String(100), nullable=False)          # the visitor's own account (user name)
    window: Mapped[str | None] = mapped_column(String(40))                     # the counter's name, as staff typed it
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(10))                 # ended | timeout
