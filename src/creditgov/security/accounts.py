"""Accounts: users, browser sessions, API tokens and access consents.

Kept apart from the audit chain's table (models.py) because their lifecycles differ:
audit rows are append-only forever, accounts are edited by administrators. Secrets
are never stored: passwords as argon2 hashes, session cookies and API tokens as
SHA-256 digests, so a copy of the database cannot be replayed as a login.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
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


class WebSession(Base):
    """A signed-in browser. The cookie holds a random value; only its digest is here."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


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
