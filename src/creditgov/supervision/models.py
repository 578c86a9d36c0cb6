"""Graded supervision: policies, inspectors, random draws (双随机), inspection tasks and
special campaigns (专项整治)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

TASK_STATUSES = ("assigned", "done", "cancelled")
OUTCOMES = ("passed", "problems", "penalty")


class SupervisionPolicy(Base):
    """A loaded supervision policy (data, validated by `schemas.PolicyDef`)."""

    __tablename__ = "supervision_policies"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    basis: Mapped[str] = mapped_column(String(10), nullable=False)  # grade / colour / score
    model: Mapped[str | None] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(50), nullable=False)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    definition: Mapped[str] = mapped_column(Text, nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Inspector(Base):
    """A law-enforcement inspector (执法检查人员) or a grid worker (网格员) in a pool.
    `region_code` is where they live and work: never drawn for a subject there.
    `account` is the user name of the account that acts for the person (the roster
    file's `account`; migration 0036): it reaches the person's tasks and records their
    results. A row naming none is acted for by the account whose user name is its code."""

    __tablename__ = "supervision_inspectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # inspector / grid_worker
    department: Mapped[str] = mapped_column(String(50), nullable=False)
    pool: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    region_code: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    account: Mapped[str | None] = mapped_column(String(80), unique=True)


class Draw(Base):
    """One random draw, published with everything needed to re-run it: the seed, the
    policy text's hash, the scope, the candidates with their bands and the inspector
    pool with its exclusions (`inputs`, canonical JSON), and the result's hash."""

    __tablename__ = "supervision_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    policy_version: Mapped[str] = mapped_column(String(30), nullable=False)
    policy_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    seed: Mapped[str] = mapped_column(String(40), nullable=False)
    scope: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    runs: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    inputs: Mapped[str] = mapped_column(Text, nullable=False)
    inputs_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    result_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    counts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    plan_key: Mapped[str | None] = mapped_column(String(120), unique=True)  # periodic plans: one draw per period
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="drawn")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class DrawItem(Base):
    __tablename__ = "supervision_draw_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("supervision_draws.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    subject_key: Mapped[str] = mapped_column(String(64), nullable=False)
    band: Mapped[str] = mapped_column(String(20), nullable=False)
    rank: Mapped[str] = mapped_column(String(64), nullable=False)
    inspectors: Mapped[list] = mapped_column(JSON, nullable=False, default=list)


class InspectionTask(Base):
    """An inspection assigned to inspectors or grid workers, with a due date; its
    result becomes a credit record through the ingestion path (the closed loop).
    `assigned_at` is when the task was last assigned — made, or re-assigned to other
    inspectors (`tasks.reassign_task`); the inspection notice is dated by it. Tasks
    made before it was kept read `created_at` (migration 0032 copies it)."""

    __tablename__ = "supervision_tasks"
    __table_args__ = (Index("ix_supervision_tasks_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # random / patrol / targeted
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_draws.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_campaigns.id"), index=True)
    policy_name: Mapped[str | None] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(50), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    band: Mapped[str | None] = mapped_column(String(20))
    assignees: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="assigned")
    outcome: Mapped[str | None] = mapped_column(String(12))
    finding: Mapped[str | None] = mapped_column(Text)
    penalty_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    decision_no: Mapped[str | None] = mapped_column(String(120))
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    inspected_on: Mapped[dt.date | None] = mapped_column(Date)
    record_id: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    completed_by: Mapped[str | None] = mapped_column(String(100))


CAMPAIGN_STATUSES = ("open", "closed")
TARGET_SOURCES = ("grade", "list", "query")


class Campaign(Base):
    """A special campaign (专项整治): a department's (or the office's) drive over a scope and
    a period, with its own targets and inspection tasks. Results go through the policy
    `policy_name` names (its result items and department), so they come back as credit
    records like any inspection's; closing keeps the summary as it stood (`summary`)."""

    __tablename__ = "supervision_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    department: Mapped[str] = mapped_column(String(50), nullable=False)
    policy_name: Mapped[str] = mapped_column(String(80), nullable=False)
    basis: Mapped[str] = mapped_column(Text, nullable=False)  # the campaign notice it carries out
    scope: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    starts_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))


class CampaignTarget(Base):
    """A subject a campaign targets, and why: a grade of a model's run, a list it is on,
    or the campaign's query (kind, industry, region)."""

    __tablename__ = "supervision_campaign_targets"
    __table_args__ = (UniqueConstraint("campaign_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("supervision_campaigns.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
