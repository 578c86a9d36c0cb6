"""The audit chain: append and verify.

Each entry's hash covers its own fields and the previous entry's hash, so editing or
deleting any row breaks every hash after it. Appends are serialised: SQLite writes
are already exclusive; on PostgreSQL a transaction-scoped advisory lock orders them.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.orm import Session

from creditgov.core import clock, db
from creditgov.security.models import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 7_431_001
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def default_actor() -> str:
    return os.environ.get("CREDITGOV_ACTOR") or f"cli:{getpass.getuser()}"


def _digest(prev: str, at: dt.datetime, actor: str, action: str, subject_id: int | None,
            purpose: str | None, detail: str) -> str:
    body = json.dumps(
        [prev, at.isoformat(timespec="microseconds"), actor, action, subject_id, purpose, detail],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Appended:
    """The entry just written: its id and its place in the chain."""

    id: int
    at: dt.datetime
    hash: str
    prev_hash: str


_LAST_HASH = text("SELECT hash FROM audit_entries ORDER BY id DESC LIMIT 1")
_INSERT = text("INSERT INTO audit_entries (at, actor, action, subject_id, purpose, detail, prev_hash, hash) "
               "VALUES (:at, :actor, :action, :subject_id, :purpose, :detail, :prev_hash, :hash) RETURNING id"
               ).bindparams(bindparam("at", type_=DateTime()))


def append(session: Session, *, action: str, actor: str | None = None, subject_id: int | None = None,
           purpose: str | None = None, detail: dict[str, Any] | None = None) -> Appended:
    """Add one entry to the chain inside the session's transaction.

    Written with two plain statements on the session's connection, not through the
    ORM's unit of work: an audited read (a credit check, a personal file) appends one
    entry per request, and a flush costs more than the rest of the check."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # callers rely on rows added before the entry having their ids
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_ADVISORY_LOCK, {"k": _LOCK_KEY})
    else:
        db.begin_writing(conn)  # the last hash must be read under the write lock
    prev = conn.execute(_LAST_HASH).scalar() or GENESIS
    at = clock.now()
    actor = actor or default_actor()
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    digest = _digest(prev, at, actor, action, subject_id, purpose, body)
    new_id = conn.execute(_INSERT, {"at": at, "actor": actor, "action": action, "subject_id": subject_id,
                                    "purpose": purpose, "detail": body, "prev_hash": prev,
                                    "hash": digest}).scalar_one()
    return Appended(id=int(new_id), at=at, hash=digest, prev_hash=prev)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def verify(session: Session) -> VerifyResult:
    prev = GENESIS
    checked = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
    for e in rows:
        if e.prev_hash != prev:
            reason = "previous-hash link broken (an entry before it was deleted or edited)"
            return VerifyResult(False, checked, e.id, reason)
        expected = _digest(e.prev_hash, e.at, e.actor, e.action, e.subject_id, e.purpose, e.detail)
        if expected != e.hash:
            return VerifyResult(False, checked, e.id, "content does not match its hash (entry edited)")
        prev = e.hash
        checked += 1
    return VerifyResult(True, checked)


def entries_for_subject(session: Session, subject_id: int, limit: int = 50) -> list[AuditEntry]:
    q = (select(AuditEntry).where(AuditEntry.subject_id == subject_id)
         .order_by(AuditEntry.id.desc()).limit(limit))
    return list(session.execute(q).scalars())
