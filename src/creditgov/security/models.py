"""The audit chain table (append-only, each row holding the previous row's hash), the
store's key record (the fingerprint of the key the store was initialised with) and the
keys of requests a client may send again (answered once, replayed after)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    purpose: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class StoreKey(Base):
    """The key a store was initialised with, by fingerprint (never the key): a command
    or the server given any other key refuses it (`security/keys.py`). One row, id 1;
    `source` is where the key was read from when it was recorded, a hint for whoever
    later runs a command without it."""

    __tablename__ = "store_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(500), nullable=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(100), nullable=False)


class AuditPurgedSegment(Base):
    """A run of consecutive audit entries deleted when their retention ended (query
    logs after 10 years), kept as its two boundary hashes and a digest of every hash
    in it: the chain still verifies across the gap, and the purge's own audit entry
    (`audit.purge`, itself in the chain) holds a digest of its segments, so a segment
    row cannot be added or altered without `audit verify` saying so."""

    __tablename__ = "audit_purged_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkpoint_entry_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    first_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    entries: Mapped[int] = mapped_column(Integer, nullable=False)
    after_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)  # prev_hash of the first
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # hash of the last
    digest: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 over the run's hashes


class KeyRotation(Base):
    """A rotation of the store's key (`security/rotation.py`): which key is replaced by
    which, and how far the re-keying has come (`progress`: JSON, the last row id done
    per table), so a rotation cut short by a crash resumes where it stopped."""

    __tablename__ = "key_rotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    new_key_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    old_fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    new_fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)  # rekeying / retiring / done
    progress: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    rekeyed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class RequestKey(Base):
    """A request a client may send again (`security/request_keys.py`): an API request's
    `Idempotency-Key` or a page form's hidden key, scoped to the caller (`caller`: a
    SHA-256 of its bearer token or session cookie, never the credential). Claimed
    (`state` running) before the handler runs, the unique constraint letting one claim
    win; the answer kept when it is done (`answer`: its body and redirect target,
    encrypted with the store's key, since an answer may show a secret once — a new API
    token); purged after 24 hours."""

    __tablename__ = "request_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(2000), nullable=False)
    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)  # running / done
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
