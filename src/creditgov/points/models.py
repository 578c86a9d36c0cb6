"""The points ledger, manual awards, partner shops, offers and redemptions.

The ledger is append-only: a balance is the sum of a subject's entries and is never
stored, and a mistake is corrected by a new entry that reverses the old one. The one
counter that is updated in place is an offer's `taken` (reserved plus settled), since
"is one left?" must be checked and taken in the same statement under concurrency.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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

#: Entry kinds (what moved the points) and causes (why): see docs/points.md.
KINDS = ("earn", "award", "redeem", "refund", "expire", "reverse")
CAUSES = ("evaluation", "record", "award", "redemption", "expiry", "correction")
REDEMPTION_STATUSES = ("reserved", "settled", "cancelled", "expired")


class PointsRules(Base):
    """A copy of the earning rules loaded into the store; the newest one is in force,
    and without one the shipped `points/data/rules.yaml` applies."""

    __tablename__ = "points_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class PointsAccount(Base):
    """One row per subject that ever held points. It holds no balance: it is the row a
    spending transaction locks (PostgreSQL `FOR UPDATE`), so two spends of one subject
    cannot both read the same balance."""

    __tablename__ = "points_accounts"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class PointsEntry(Base):
    """One movement of points. `cause_key` names the cause uniquely (e.g.
    `record:812:earn`), so a job run twice or a retried request adds nothing."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_subject_at", "subject_id", "id"),
                      Index("ix_points_entries_ref", "ref_type", "ref_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("points_accounts.subject_id"), nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)  # signed
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    cause: Mapped[str] = mapped_column(String(12), nullable=False)
    ref_type: Mapped[str] = mapped_column(String(12), nullable=False)  # run / record / award / redemption / entry
    ref_id: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(String(60))
    period: Mapped[str | None] = mapped_column(String(10))  # the cap's period: 2026-09 or 2026
    earned_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))
    cause_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class PointsAward(Base):
    """A manual award proposed by one person and credited only once a second person
    approves it (four eyes)."""

    __tablename__ = "points_awards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")  # pending/approved/rejected
    proposed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))


class Shop(Base):
    """A partner shop of the points supermarket; a credit merchant is linked to its own
    subject, whose accounts (role subject) confirm its redemption codes."""

    __tablename__ = "points_shops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    address: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Offer(Base):
    __tablename__ = "points_offers"
    __table_args__ = (CheckConstraint("taken >= 0 AND taken <= stock", name="stock"),
                      CheckConstraint("price > 0", name="price"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("points_shops.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False)
    taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[dt.date] = mapped_column(Date, nullable=False)
    kinds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # subject kinds; empty: any
    min_band: Mapped[str | None] = mapped_column(String(12))
    per_subject: Mapped[int | None] = mapped_column(Integer)  # most open or settled redemptions per subject
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Redemption(Base):
    __tablename__ = "points_redemptions"
    __table_args__ = (UniqueConstraint("subject_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("points_offers.id"), nullable=False, index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("points_shops.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="reserved")
    code: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), nullable=False)
    reserved_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    settled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    extra: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


# ------------------------------------------------------------------ boards and credit-merchant awards
class BoardOptIn(Base):
    """A resident's choice to appear (name masked) on the public boards. Residents are
    left off every board unless they opted in; withdrawing takes effect at once. One
    row per resident holds the current choice; every change is in the audit chain."""

    __tablename__ = "points_board_optins"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(Boolean, nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


SELECTION_STATUSES = ("open", "decided")
CANDIDATE_STATUSES = ("candidate", "awarded", "rejected")


class MerchantSelection(Base):
    """One round of the credit-merchant selection (诚信商户评选): candidates are drawn
    from grades and clean records, published for nomination and objection until
    `objection_until` (working days), then decided by the credit office."""

    __tablename__ = "merchant_selections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    criteria: Mapped[dict] = mapped_column(JSON, nullable=False)  # the criteria in force when it opened
    opened_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    objection_until: Mapped[dt.date] = mapped_column(Date, nullable=False)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_no: Mapped[str | None] = mapped_column(String(120))
    opened_by: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class MerchantCandidate(Base):
    """A subject in a selection: drawn by the criteria or nominated (and then checked
    against the same criteria). An award points at the credit record it made."""

    __tablename__ = "merchant_candidates"
    __table_args__ = (UniqueConstraint("selection_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("merchant_selections.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    origin: Mapped[str] = mapped_column(String(12), nullable=False)  # criteria / nomination
    basis: Mapped[dict] = mapped_column(JSON, nullable=False)  # model, run, grade, band, score
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="candidate")
    nominated_by: Mapped[str | None] = mapped_column(String(100))
    nomination: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # the office's reason for a rejection
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class MerchantObjection(Base):
    """An objection to a candidate during the public period, answered by the decision."""

    __tablename__ = "merchant_objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("merchant_candidates.id"), nullable=False, index=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    filed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(10))  # upheld / dismissed
