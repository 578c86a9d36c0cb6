"""Joint measures (联合奖惩措施), check scenarios, credit checks (信用核查) and the
departments' feedback on them.

Measures and scenarios are data loaded from YAML (`data/measures.yaml`,
`data/scenarios.yaml`); the tables keep the validated definition so an administrator's
edits survive and every check can say which version of the catalogue it used.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

MEASURE_KINDS = ("incentive", "punishment", "supervision")


class Measure(Base):
    __tablename__ = "measures"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    measure_kind: Mapped[str] = mapped_column(String(12), nullable=False)
    department: Mapped[str] = mapped_column(String(60), nullable=False)  # implementing department
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    scenarios: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)  # the catalogue file's version
    definition: Mapped[str] = mapped_column(Text, nullable=False)  # validated definition (JSON)


class Scenario(Base):
    """Where a credit check happens: an approval, a refund, a loan, an inspection …"""

    __tablename__ = "check_scenarios"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    department: Mapped[str] = mapped_column(String(60), nullable=False)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    definition: Mapped[str] = mapped_column(Text, nullable=False)


class CreditCheck(Base):
    """One credit check as it was answered: kept so the answer can be shown again,
    and so feedback and statistics refer to what the department actually saw."""

    __tablename__ = "credit_checks"
    __table_args__ = (Index("ix_credit_checks_department_scenario", "department", "scenario"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    scenario: Mapped[str] = mapped_column(String(80), nullable=False)
    department: Mapped[str] = mapped_column(String(60), nullable=False)
    model_name: Mapped[str | None] = mapped_column(String(80))
    run_id: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(10))
    colour: Mapped[str | None] = mapped_column(String(10))
    lists: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    measures: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # measure codes that applied
    measure_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # for stats without JSON
    purpose: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    checked_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class CheckFeedback(Base):
    """What the department did with one measure of one check (the closed loop)."""

    __tablename__ = "check_feedback"
    __table_args__ = (UniqueConstraint("check_id", "measure_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("credit_checks.check_id"), nullable=False)
    measure_code: Mapped[str] = mapped_column(String(80), nullable=False)
    applied: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(60), nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
