"""信易贷 (credit-based lending): banks and their products, financing needs, the
matches between them, consents per need, applications, the loan book, repayments and
the risk-compensation fund.

Money is `Numeric(18, 2)` in yuan and rates are percent a year, `Numeric(7, 3)`, so
SQLite and PostgreSQL give the same digits. Two rows are updated in place under
concurrency and guarded by conditional statements (see `finance/fund.py`): the fund's
pool (its balance) and each bank's paid total (its cap). A loan has at most one claim
(a unique key), so a loan is never paid twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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

MONEY = Numeric(18, 2)
RATE = Numeric(7, 3)

PRODUCT_STATUSES = ("draft", "submitted", "approved", "rejected", "withdrawn")
NEED_STATUSES = ("open", "financed", "withdrawn")
APPLICATION_STATUSES = ("submitted", "approved", "declined", "withdrawn")
LOAN_STATUSES = ("open", "overdue", "default", "repaid")
CLAIM_STATUSES = ("submitted", "approved", "rejected", "paid")


class FinancePolicy(Base):
    """A copy of `data/fund.yaml` loaded into the store; the newest is in force."""

    __tablename__ = "finance_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(30), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class Bank(Base):
    """A financial institution on the platform. Its officers are users of role
    `bank_officer` whose `organisation` is the bank's `code`; consents name it too."""

    __tablename__ = "finance_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class LoanProduct(Base):
    """A loan product and the criteria a need must meet. Shown to subjects and matched
    only once the credit office approved it (`status` approved)."""

    __tablename__ = "finance_products"
    __table_args__ = (UniqueConstraint("bank_id", "code"),
                      CheckConstraint("amount_min <= amount_max", name="amount_range"),
                      CheckConstraint("term_min <= term_max", name="term_range"),
                      CheckConstraint("rate_min <= rate_max", name="rate_range"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("finance_banks.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    kinds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # subject kinds
    min_bands: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)  # model -> lowest band
    lists_absent: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # list codes
    amount_min: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    amount_max: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    term_min: Mapped[int] = mapped_column(Integer, nullable=False)  # months
    term_max: Mapped[int] = mapped_column(Integer, nullable=False)
    rate_min: Mapped[Decimal] = mapped_column(RATE, nullable=False)  # percent a year
    rate_max: Mapped[Decimal] = mapped_column(RATE, nullable=False)
    collateral_free: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_note: Mapped[str | None] = mapped_column(Text)


class FinancingNeed(Base):
    """A subject's financing need. The contact's phone is personal: encrypted at rest,
    shown masked, and in full only to a bank the subject consented to for this need."""

    __tablename__ = "finance_needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    collateral: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # can offer collateral
    contact_name: Mapped[str] = mapped_column(String(100), nullable=False)
    contact_phone: Mapped[str] = mapped_column(Text, nullable=False)  # AES-GCM ciphertext
    contact_phone_masked: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class NeedMatch(Base):
    """One need against one approved product of a subject kind the product serves:
    each criterion's outcome and how far it misses, so a match explains itself. Rebuilt
    as a whole by `finance.matching.recompute`."""

    __tablename__ = "finance_matches"
    __table_args__ = (Index("ix_finance_matches_product", "product_id", "eligible"),)

    need_id: Mapped[int] = mapped_column(ForeignKey("finance_needs.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("finance_products.id"), primary_key=True)
    eligible: Mapped[bool] = mapped_column(Boolean, nullable=False)
    fails: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)  # the ranking: higher first
    band_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    band_model: Mapped[str | None] = mapped_column(String(80))  # the model whose band decided
    band_got: Mapped[str | None] = mapped_column(String(12))
    band_gap: Mapped[int] = mapped_column(Integer, nullable=False)  # bands short (0: holds)
    lists_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    lists_hit: Mapped[str | None] = mapped_column(String(200))  # the lists the subject is on
    amount_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    amount_gap: Mapped[float] = mapped_column(Float, nullable=False)  # share of the need outside the range
    term_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    term_gap: Mapped[int] = mapped_column(Integer, nullable=False)  # months outside the range
    collateral_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class MatchState(Base):
    """What the current matches were computed from (the latest published runs and the
    products and needs), so the job recomputes only when one of them changed."""

    __tablename__ = "finance_match_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(64), nullable=False)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    pairs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class NeedConsent(Base):
    """A consent (security's `AccessConsent`) given to one bank for one need: the
    bank reads the subject's file while the consent is in force."""

    __tablename__ = "finance_need_consents"
    __table_args__ = (UniqueConstraint("consent_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("finance_needs.id"), nullable=False, index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("finance_banks.id"), nullable=False, index=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("access_consents.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class LoanApplication(Base):
    """A subject applies with a need for a product; the bank decides."""

    __tablename__ = "finance_applications"
    __table_args__ = (UniqueConstraint("need_id", "product_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("finance_needs.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("finance_products.id"), nullable=False)
    bank_id: Mapped[int] = mapped_column(ForeignKey("finance_banks.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="submitted")
    decline_code: Mapped[str | None] = mapped_column(String(40))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))


class Loan(Base):
    """A granted loan in the book, with the borrower's grade and band when granted (the
    statistics and the model back-test read them)."""

    __tablename__ = "finance_loans"
    __table_args__ = (UniqueConstraint("application_id"),
                      CheckConstraint("outstanding >= 0", name="outstanding"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("finance_applications.id"), nullable=False)
    bank_id: Mapped[int] = mapped_column(ForeignKey("finance_banks.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("finance_products.id"), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    principal: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    rate: Mapped[Decimal] = mapped_column(RATE, nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    collateral_free: Mapped[bool] = mapped_column(Boolean, nullable=False)
    granted_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    outstanding: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    overdue_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    overdue_since: Mapped[dt.date | None] = mapped_column(Date)  # the first unpaid day of the last report
    defaulted_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    model: Mapped[str | None] = mapped_column(String(80))
    grade: Mapped[str | None] = mapped_column(String(10))
    band: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Repayment(Base):
    """A repayment reported by the bank (API or file). `ref` is the bank's own reference:
    a file loaded twice or a retried request adds nothing."""

    __tablename__ = "finance_repayments"
    __table_args__ = (UniqueConstraint("loan_id", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("finance_loans.id"), nullable=False, index=True)
    ref: Mapped[str] = mapped_column(String(80), nullable=False)
    paid_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # api / file:<name>
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class FundPool(Base):
    """The risk-compensation fund's balance (one row). Changed only by conditional
    statements in `finance/fund.py`, never read-modify-written."""

    __tablename__ = "finance_fund_pool"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    balance: Mapped[Decimal] = mapped_column(MONEY, nullable=False)


class FundBankTotal(Base):
    """What the fund paid one bank so far: the per-bank cap is checked against it in the
    same statement that raises it."""

    __tablename__ = "finance_fund_bank_totals"

    bank_id: Mapped[int] = mapped_column(ForeignKey("finance_banks.id"), primary_key=True)
    paid: Mapped[Decimal] = mapped_column(MONEY, nullable=False)


class FundClaim(Base):
    """A bank's claim on the fund for a defaulted eligible loan: one per loan."""

    __tablename__ = "finance_fund_claims"
    __table_args__ = (UniqueConstraint("loan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("finance_loans.id"), nullable=False)
    bank_id: Mapped[int] = mapped_column(ForeignKey("finance_banks.id"), nullable=False, index=True)
    loss: Mapped[Decimal] = mapped_column(MONEY, nullable=False)  # principal outstanding at default
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)  # what the policy covers
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="submitted")
    filed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    filed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class FundEntry(Base):
    """The fund's ledger: deposits and payouts (signed amounts); the pool's balance is
    their sum, and a test holds the two equal. A deposit carries the office's reference
    for it (`ref`: the allocation document's or the transfer's number), unique, so a
    retried deposit adds nothing (payouts have none: a claim is paid once)."""

    __tablename__ = "finance_fund_ledger"
    __table_args__ = (Index("ix_finance_fund_ledger_ref", "ref", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # deposit / payout
    ref: Mapped[str | None] = mapped_column(String(80))  # a deposit's reference
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("finance_fund_claims.id"), unique=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("finance_banks.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
