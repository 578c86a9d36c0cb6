"""Accounts: users, browser sessions, API tokens and access consents.

Kept apart from the audit chain's table (models.py) because their lifecycles differ:
audit rows are append-only forever, accounts are edited by administrators. Secrets
are never stored: passwords as argon2 hashes, session cookies, API tokens and recovery
codes as SHA-256 digests, so a copy of the database cannot be replayed as a login; the
one secret the server must read back, an account's TOTP key, is encrypted with the
store's key ring (security/crypto.py), which lives outside the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    false,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class User(Base):
    """A person or system that signs in. The role names the permissions; the scope
    columns (region, department, organisation, subject) name the data they reach."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None: token-only account
    role: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    region_code: Mapped[str | None] = mapped_column(String(40))  # grid workers, inspectors
    department_code: Mapped[str | None] = mapped_column(String(50))  # department officers
    organisation: Mapped[str | None] = mapped_column(String(80))  # banks: who consents name
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))  # a firm or resident
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Password policy (security/passwords.py): when it was last set, and whether the
    # holder must choose a new one at the next sign-in (set by an administrator's reset).
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                       server_default=false())
    # The second factor (security/mfa.py): the TOTP key, encrypted with the key ring;
    # a key shown for enrolment and not yet confirmed; and the last time step accepted,
    # so a code is never accepted twice (RFC 6238, section 5.2).
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_pending: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random value; only its digest is here."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)  # the absolute time-out
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # for the idle time-out
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # when the second factor passed


class ApiToken(Base):
    """A bearer token for a department's or bank's system."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccessConsent(Base):
    """A subject's authorisation for an organisation (a bank) to read its credit file:
    the data scope of bank officers. Revocable; dated."""

    __tablename__ = "access_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    organisation: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    granted_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)

    # The one statement of "in force on a day", for Python (a page, the CLI) and for
    # SQL (the scope check, a bank's or a bureau's reading) alike: granted by then, not
    # revoked, and its last day not passed. A revocation ends it from the day it is made.
    @hybrid_method
    def in_force_on(self, day: dt.date) -> bool:
        return (self.granted_on <= day and self.revoked_on is None
                and (self.expires_on is None or self.expires_on >= day))

    @in_force_on.expression  # type: ignore[no-redef]  # the SQL twin of the method above
    def in_force_on(cls: type[AccessConsent], day: dt.date) -> ColumnElement[bool]:  # noqa: N805 - the class
        return and_(cls.granted_on <= day, cls.revoked_on.is_(None),
                    or_(cls.expires_on.is_(None), cls.expires_on >= day))


class SigninAttempt(Base):
    """One sign-in attempt by name and client address, kept for the lock-out and the
    rate limits (security/signin.py). Names are stored as typed, known or not, so an
    unknown name is locked and limited exactly like a real one. Rows older than the
    longest window are pruned as new ones arrive."""

    __tablename__ = "signin_attempts"
    __table_args__ = (Index("ix_signin_attempts_username_at", "username", "at"),
                      Index("ix_signin_attempts_client_at", "client", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    username: Mapped[str] = mapped_column(String(80), nullable=False)
    client: Mapped[str] = mapped_column(String(64), nullable=False)
    # ok, password (wrong password or unknown name), code (wrong second factor),
    # locked, limited (refused unchecked), unlock (an administrator lifted a lock-out)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)


class PasswordHistory(Base):
    """An account's earlier password hashes, so a change cannot go back to one of the
    last few (security/passwords.py)."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class RecoveryCode(Base):
    """A single-use code that stands in for the authenticator app when it is lost;
    only its SHA-256 is kept (the codes carry 80 random bits)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
