"""The audit chain: append, verify, and purge what has outlived its retention.

Each entry's hash covers its own fields and the previous entry's hash, so editing or
deleting any row breaks every hash after it. Appends are serialised: SQLite writes
are already exclusive; on PostgreSQL a transaction-scoped advisory lock orders them.

Query logs must go after 10 years while the chain must stay verifiable, so a purge
never just deletes: it checks every doomed entry against its hash, groups them into
runs of consecutive entries, keeps each run's two boundary hashes and a digest of its
hashes (`AuditPurgedSegment`), and appends an `audit.purge` checkpoint entry whose
detail holds a digest of all the run records. `verify` walks the chain across each
gap through those runs, and recomputes each checkpoint's digest, so a run record added,
removed or altered afterwards breaks verification just as an edited entry does. (Like
any hash chain kept in the store it guards, this proves integrity against edits, not
against someone who rewrites the whole tail; anchor the latest hash elsewhere for that.)
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput
from creditgov.security.models import AuditEntry, AuditPurgedSegment

GENESIS = "0" * 64
_LOCK_KEY = 7_431_001
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def default_actor() -> str:
    return os.environ.get("CREDITGOV_ACTOR") or f"cli:{getpass.getuser()}"


def _tail(at: dt.datetime, actor: str, action: str, subject_id: int | None, purpose: str | None,
          detail: str) -> str:
    """The hashed JSON array after its first element, the previous hash: a hash is
    hex, so the array is '["' + prev + '",' + this (what `creditgov_audit_append`
    concatenates on PostgreSQL)."""
    return json.dumps([at.isoformat(timespec="microseconds"), actor, action, subject_id, purpose, detail],
                      ensure_ascii=False, separators=(",", ":"))[1:]


def _digest(prev: str, at: dt.datetime, actor: str, action: str, subject_id: int | None,
            purpose: str | None, detail: str) -> str:
    body = '["' + prev + '",' + _tail(at, actor, action, subject_id, purpose, detail)
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


_APPEND_PG = text("SELECT out_id, out_prev, out_hash FROM creditgov_audit_append("
                  ":at, :actor, :action, :subject_id, :purpose, :detail, :tail)"
                  ).bindparams(bindparam("at", type_=DateTime()))


def append(session: Session, *, action: str, actor: str | None = None, subject_id: int | None = None,
           purpose: str | None = None, detail: dict[str, Any] | None = None) -> Appended:
    """Add one entry to the chain inside the session's transaction.

    Written with plain statements on the session's connection, not through the ORM's
    unit of work: an audited read (a credit check, a personal file) appends one entry
    per request, and a flush costs more than the rest of the check. On PostgreSQL one
    call does it (`creditgov_audit_append`, migration 0028): the lock, the last hash and
    the insert in one round trip, hashing the same bytes `_digest` hashes."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # callers rely on rows added before the entry having their ids
    conn = session.connection()
    at = clock.now()
    actor = actor or default_actor()
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    if conn.dialect.name == "postgresql":
        new_id, prev, digest = conn.execute(_APPEND_PG, {
            "at": at, "actor": actor, "action": action, "subject_id": subject_id, "purpose": purpose,
            "detail": body, "tail": _tail(at, actor, action, subject_id, purpose, body)}).one()
        return Appended(id=int(new_id), at=at, hash=str(digest), prev_hash=str(prev))
    db.begin_writing(conn)  # the last hash must be read under the write lock
    prev = conn.execute(_LAST_HASH).scalar() or GENESIS
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
    purged: int = 0  # entries deleted by retention purges, bridged by their checkpoints


def _runs_digest(runs: list[AuditPurgedSegment]) -> str:
    body = json.dumps([[r.first_id, r.last_id, r.entries, r.after_hash, r.last_hash, r.digest]
                       for r in sorted(runs, key=lambda r: r.first_id)], separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _checkpoints_hold(session: Session) -> tuple[dict[str, AuditPurgedSegment], VerifyResult | None]:
    """The purged runs by the hash they follow, after checking each checkpoint entry
    still holds the digest of its runs."""
    runs = list(session.execute(select(AuditPurgedSegment)).scalars())
    by_checkpoint: dict[int, list[AuditPurgedSegment]] = {}
    for r in runs:
        by_checkpoint.setdefault(r.checkpoint_entry_id, []).append(r)
    checkpoints = {e.id: e for e in session.execute(select(AuditEntry).where(AuditEntry.action == "audit.purge"))
                   .scalars()}
    for cp_id in sorted(set(by_checkpoint) | set(checkpoints)):
        cp = checkpoints.get(cp_id)
        rs = by_checkpoint.get(cp_id, [])
        detail = json.loads(cp.detail) if cp is not None else {}
        if detail.get("segments_digest") != _runs_digest(rs) or detail.get("segments") != len(rs):
            return {}, VerifyResult(False, 0, cp_id, "purged segments do not match their checkpoint entry")
    return {r.after_hash: r for r in runs}, None


def verify(session: Session) -> VerifyResult:
    """Walk the chain from the genesis; a gap passes only through the purged runs a
    checkpoint vouches for."""
    runs, bad = _checkpoints_hold(session)
    if bad is not None:
        return bad
    prev = GENESIS
    checked = purged = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
    for e in rows:
        while e.prev_hash != prev and prev in runs:  # across purged runs, one after another
            purged += runs[prev].entries
            prev = runs.pop(prev).last_hash
        if e.prev_hash != prev:
            reason = "previous-hash link broken (an entry before it was deleted or edited)"
            return VerifyResult(False, checked, e.id, reason, purged)
        expected = _digest(e.prev_hash, e.at, e.actor, e.action, e.subject_id, e.purpose, e.detail)
        if expected != e.hash:
            return VerifyResult(False, checked, e.id, "content does not match its hash (entry edited)", purged)
        prev = e.hash
        checked += 1
    return VerifyResult(True, checked, purged=purged)


def purge(session: Session, *, actions: Sequence[str], before: dt.datetime, reason: str,
          actor: str | None = None) -> dict[str, Any]:
    """Delete the entries of `actions` written before `before` (never the newest
    entry), leaving a checkpoint so the chain still verifies. Refuses when a doomed
    entry does not match its own hash: a purge must not launder an edit."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_ADVISORY_LOCK, {"k": _LOCK_KEY})
    else:
        db.begin_writing(conn)
    newest = session.execute(select(func.max(AuditEntry.id))).scalar() or 0
    doomed = session.execute(select(AuditEntry).where(AuditEntry.action.in_(list(actions)), AuditEntry.at < before,
                                                      AuditEntry.id < newest).order_by(AuditEntry.id)).scalars()
    runs: list[AuditPurgedSegment] = []
    hashes: list[list[str]] = []
    ids: list[int] = []
    for e in doomed:
        if _digest(e.prev_hash, e.at, e.actor, e.action, e.subject_id, e.purpose, e.detail) != e.hash:
            raise InvalidInput(f"audit entry {e.id} does not match its hash: run `audit verify` before a purge")
        if runs and runs[-1].last_hash == e.prev_hash:  # the very next entry of the chain: same run
            run = runs[-1]
            run.last_id, run.last_hash, run.entries = e.id, e.hash, run.entries + 1
            hashes[-1].append(e.hash)
        else:
            runs.append(AuditPurgedSegment(first_id=e.id, last_id=e.id, entries=1, after_hash=e.prev_hash,
                                           last_hash=e.hash, digest=""))
            hashes.append([e.hash])
        ids.append(e.id)
    if not ids:
        return {"purged": 0, "segments": 0}
    for run, hs in zip(runs, hashes, strict=True):
        run.digest = hashlib.sha256("".join(hs).encode("ascii")).hexdigest()
    for start in range(0, len(ids), 5000):
        session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[start:start + 5000])))
    cp = append(session, action="audit.purge", actor=actor,
                detail={"reason": reason, "actions": sorted(actions), "before": before.isoformat(),
                        "entries": len(ids), "segments": len(runs), "segments_digest": _runs_digest(runs)})
    for run in runs:
        run.checkpoint_entry_id = cp.id
        session.add(run)
    session.flush()
    return {"purged": len(ids), "segments": len(runs), "checkpoint": cp.id}


def entries_for_subject(session: Session, subject_id: int, limit: int = 50) -> list[AuditEntry]:
    q = (select(AuditEntry).where(AuditEntry.subject_id == subject_id)
         .order_by(AuditEntry.id.desc()).limit(limit))
    return list(session.execute(q).scalars())
