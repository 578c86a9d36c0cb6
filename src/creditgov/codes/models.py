"""The credit code's tables: the region's signing keys (private halves encrypted with
the store's key), the trust list (own and other regions' public keys), the pinned
province root, every code issued (so it can be revoked), and the revocation lists
imported from other regions.

A code's text is kept beside what it stated, so the subject's page shows its current
code again; the text holds nothing the subject does not show to whoever checks it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base

KEY_STATUSES = ("active", "retired")
REVOKE_REASONS = ("grade_drop", "list_entry", "repair", "manual")


class CodeSigningKey(Base):
    """One of this region's Ed25519 signing keys. The newest active key signs; a
    retired key signs nothing but stays in the trust list until `trust_until`, when
    the last code it signed has expired."""

    __tablename__ = "code_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    issuer: Mapped[str] = mapped_column(String(40), nullable=False)
    issuer_name: Mapped[str] = mapped_column(String(200), nullable=False)
    public_key: Mapped[str] = mapped_column(String(64), nullable=False)  # raw 32 bytes, base64
    private_key: Mapped[str] = mapped_column(Text, nullable=False)  # AES-GCM ciphertext (security/crypto.py)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TrustedKey(Base):
    """A public key verification accepts: this region's own (`origin` own) or one from
    a trust list the province signed (`origin` imported). Verification reads nothing
    else."""

    __tablename__ = "code_trusted_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    issuer: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    issuer_name: Mapped[str] = mapped_column(String(200), nullable=False)
    public_key: Mapped[str] = mapped_column(String(64), nullable=False)
    origin: Mapped[str] = mapped_column(String(10), nullable=False)
    trust_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class TrustRoot(Base):
    """The province root's public key, pinned at the first trust-list import; every
    later list must carry its signature. `list_issued_at` refuses an older list."""

    __tablename__ = "code_trust_roots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    pinned_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    list_issued_at: Mapped[int | None] = mapped_column(Integer)  # seconds since the epoch
    list_text: Mapped[str | None] = mapped_column(Text)  # the last signed list imported, as received


class IssuedCode(Base):
    """A code this region issued: what it stated, so the sweep can tell when the
    subject's standing moved away from it, and whether it was revoked."""

    __tablename__ = "credit_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    kid: Mapped[str] = mapped_column(String(16), nullable=False)
    model: Mapped[str | None] = mapped_column(String(60))
    grade: Mapped[str | None] = mapped_column(String(20))
    band: Mapped[str | None] = mapped_column(String(12))
    colour: Mapped[str | None] = mapped_column(String(10))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    text: Mapped[str | None] = mapped_column(Text)


class ImportedRevocations(Base):
    """Another region's signed revocation list, as received (the newest per issuer),
    checked against the trust list on import and served to verifiers with our own."""

    __tablename__ = "code_revocation_lists"
    __table_args__ = (UniqueConstraint("issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(40), nullable=False)
    kid: Mapped[str] = mapped_column(String(16), nullable=False)
    issued_at: Mapped[int] = mapped_column(Integer, nullable=False)
    revoked: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    document: Mapped[str] = mapped_column(Text, nullable=False)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
