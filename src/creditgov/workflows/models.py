"""Tables of the objection and repair procedures, the working-day calendar's overrides,
the subject's inbox (the exchange outbox is the exchange domain's since 0014).

Every procedure row keeps its dates and its deciding actor; nothing is deleted. A
record's own status is never written here: `records.service.change_status` does that,
called from the procedures (`objection.py`, `outcomes.py`) and `flows.py` only.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

# The exchange outbox and the shares log moved to the exchange domain (migration 0014);
# named here still for readers of the old place.
from creditgov.exchange.models import QueuedChange, RecordShare  # noqa: F401

OBJECTION_STATUSES = ("open", "decided", "reviewing", "reviewed", "withdrawn")
OBJECTION_OPEN = ("open", "reviewing")
OBJECTION_OUTCOMES = ("corrected", "deleted", "upheld")
REPAIR_STATUSES = ("refused", "submitted", "forwarded", "approved", "rejected", "withdrawn")
REPAIR_OPEN = ("submitted", "forwarded")
CONDITION_KINDS = ("obligations-fulfilled", "training")


class WorkingDayOverride(Base):
    """An administrator's word on one day, above the `holidays` package: a holiday or
    an adjusted working weekend of a year whose State Council notice the package does
    not know yet, or a local closure."""

    __tablename__ = "working_day_overrides"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)  # the notice it comes from
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class WorkflowRules(Base):
    """The rules file in force (deadlines, tiers' extra conditions, exchange recipients).
    The newest row wins; without one the shipped `data/rules.yaml` applies."""

    __tablename__ = "workflow_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class Objection(Base):
    """One contested record. A filing that names several records makes one objection
    per record (they share `filing_no`), because each goes to the department that
    supplied it and is decided on its own."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_no: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), nullable=False, index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    channel: Mapped[str] = mapped_column(String(12), nullable=False)  # self / window
    filed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    extended_on: Mapped[dt.date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(12))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    result_record_id: Mapped[int | None] = mapped_column(Integer)  # the corrected version
    review_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    review_reason: Mapped[str | None] = mapped_column(Text)
    review_due_on: Mapped[dt.date | None] = mapped_column(Date)
    review_authority: Mapped[str | None] = mapped_column(String(50))
    review_outcome: Mapped[str | None] = mapped_column(String(12))
    review_decision_reason: Mapped[str | None] = mapped_column(Text)
    review_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    review_decided_by: Mapped[str | None] = mapped_column(String(100))
    overdue_alerted_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class RepairApplication(Base):
    """An application to repair one negative record (信用修复申请).

    `refused` is the automatic answer at the counter when a condition is not met (the
    refusal says which, and from when the minimum period allows it); `submitted` waits
    for the intake to forward or answer, `forwarded` for the identifying department."""

    __tablename__ = "repair_applications"
    __table_args__ = (Index("ix_repair_applications_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), nullable=False, index=True)
    tier: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(12), nullable=False)
    applicant: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    applied_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    eligibility: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    eligible_from: Mapped[dt.date | None] = mapped_column(Date)
    publication_ends: Mapped[dt.date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    intake_due_on: Mapped[dt.date | None] = mapped_column(Date)
    forwarded_on: Mapped[dt.date | None] = mapped_column(Date)
    forwarded_by: Mapped[str | None] = mapped_column(String(100))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), nullable=False)
    decision_due_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    overdue_alerted_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class RepairCondition(Base):
    """A repair condition recorded as met: a department's word that the obligations of
    a record are fulfilled (履行义务、纠正失信行为), or a training attended."""

    __tablename__ = "repair_conditions"
    __table_args__ = (Index("ix_repair_conditions_subject_kind", "subject_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"), index=True)
    met_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Material(Base):
    """An evidence file or repair material: its name and SHA-256 here, its bytes under
    the store's files folder (content-addressed, so a re-upload is not a second copy)."""

    __tablename__ = "workflow_materials"
    __table_args__ = (Index("ix_workflow_materials_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(12), nullable=False)  # objection / repair
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    stored_as: Mapped[str] = mapped_column(String(400), nullable=False)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
