"""Warning rules, alerts, the notification outbox, inboxes, contacts, channel settings,
scan cursors and colour codes.

Why an outbox: an alert and the notifications it causes are rows written in the same
transaction as whatever raised it, so either both exist or neither does. Delivery is a
separate step (the worker) that reads `notifications`, hands each to its channel with
a stable idempotency key and records the outcome; a crash anywhere leaves a row that
is still pending (or whose lease runs out) and is delivered on restart.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
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

ALERT_STATUSES = ("open", "acknowledged", "resolved")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "dead", "cancelled")


class WarningRule(Base):
    """A loaded warning rule (data, validated by `schemas.RuleDef`)."""

    __tablename__ = "alert_rules"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    severity: Mapped[str] = mapped_column(String(10), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    definition: Mapped[str] = mapped_column(Text, nullable=False)  # the validated definition (JSON)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Alert(Base):
    """One warning about one subject (or about the system): open → acknowledged → resolved."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_dedup_key_status", "dedup_key", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    severity: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(14), nullable=False, default="open", index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    dedup_key: Mapped[str] = mapped_column(String(200), nullable=False)
    occurrences: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    evidence: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    source: Mapped[str] = mapped_column(String(40), nullable=False, default="rule")  # rule / workflow / manual
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    ack_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The escalation steps as raised (a rule changed later does not change a raised alert).
    escalation: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class AlertEvent(Base):
    """An alert's history: raised, repeated, notified, acknowledged, commented,
    escalated, resolved, delivery failed. Append-only."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


class AlertTrigger(Base):
    """What set a rule off (a record's natural key, a run, a list entry). Unique per
    rule, so a re-scan, a second worker or a retry can never raise twice for the same
    cause: the database refuses the second row."""

    __tablename__ = "alert_triggers"
    __table_args__ = (UniqueConstraint("rule_code", "evidence_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(80), nullable=False)
    evidence_key: Mapped[str] = mapped_column(String(120), nullable=False)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Notification(Base):
    """The outbox: one message to one recipient on one channel.

    Indexed by recipient with its alert: a department officer's alerts are those with a
    delivery to its desk (`access._addressed`: `recipient = 'department:<code>'`, the
    alert ids), read on every alerts page and answer; without it each read scans the
    whole outbox."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),
                      Index("ix_notifications_recipient_alert", "recipient", "alert_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(40), nullable=False)
    recipient: Mapped[str] = mapped_column(String(120), nullable=False)  # a principal: grid:CODE, department:market …
    address: Mapped[str | None] = mapped_column(String(300))  # e-mail, phone, URL; none for the inbox
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Real UTC time (not the pinnable business clock): when a retry may happen, how long a claim holds.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    handed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the successful attempt reached the channel
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Contact(Base):
    """Where a recipient is reached: a grid worker for a region, a department, a bank
    that holds a subject's consent (`watch_subject_id`), a subject (firm or person), a
    user. Deployment data, loaded from YAML."""

    __tablename__ = "alert_contacts"
    __table_args__ = (Index("ix_alert_contacts_kind_key", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    webhook_url: Mapped[str | None] = mapped_column(String(400))
    watch_subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class ChannelConfig(Base):
    """A configured channel: a name rules refer to, the plugin behind it and its
    settings (secrets are never stored: settings name environment variables)."""

    __tablename__ = "alert_channels"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(40), nullable=False)
    settings: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=8)
    backoff_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=2.0)
    backoff_cap_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=600.0)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class ScanCursor(Base):
    """How far a scanner has read an append-only table (records, list events, runs),
    with the holes it still watches (PostgreSQL can commit a lower id after a higher
    one), so a scan never skips a row and never needs to re-read everything."""

    __tablename__ = "alert_cursors"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class ColourCode(Base):
    """A subject's current red/yellow/green code (红黄绿三色码)."""

    __tablename__ = "colour_codes"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    colour: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    grade: Mapped[str | None] = mapped_column(String(10))
    score: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    model: Mapped[str] = mapped_column(String(80), nullable=False)
    run_id: Mapped[int] = mapped_column(Integer, nullable=False)
    since: Mapped[dt.date] = mapped_column(Date, nullable=False)
    updated_on: Mapped[dt.date] = mapped_column(Date, nullable=False)


class ColourCodeChange(Base):
    """History: one row each time a subject's code is first set or changes colour."""

    __tablename__ = "colour_code_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    colour: Mapped[str] = mapped_column(String(10), nullable=False)
    previous: Mapped[str | None] = mapped_column(String(10))
    grade: Mapped[str | None] = mapped_column(String(10))
    model: Mapped[str] = mapped_column(String(80), nullable=False)
    run_id: Mapped[int] = mapped_column(Integer, nullable=False)
    effective_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    generation_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)


class ColourGeneration(Base):
    """One regeneration of every subject's code: which runs it read and what changed."""

    __tablename__ = "colour_generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    runs: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    subjects: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    by_colour: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class InboxMessage(Base):
    """The product's one inbox (站内信): a message to a subject, a department's desk, a
    grid or a user. The alerts domain owns it (`alerts/inbox.py` writes and reads it;
    its inbox channel delivers notifications into it); the objection and repair steps
    are written through `alerts.inbox.deliver`.

    `body` is the message as it was sent, in Chinese (the record of what the recipient
    was told); `body_en` its English, written by the producer from the same values
    (a procedure step's `workflows.notifications.tell`, an alert's `payload["en"]`)
    and shown on the English pages. None for a message written before revision 0034,
    which the English pages say by its known shape (`words.MESSAGE_SHAPES`)."""

    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_messages_recipient", "recipient_kind", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(12), nullable=False)  # subject / department / grid / user
    recipient: Mapped[str] = mapped_column(String(60), nullable=False)  # subject id, department code, …
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)  # whom it is about
    topic: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    body_en: Mapped[str | None] = mapped_column(Text)
    ref_kind: Mapped[str | None] = mapped_column(String(20))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
