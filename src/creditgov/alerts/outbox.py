"""Delivering the outbox: claim, send, record — with leases, retries and backoff.

The life of a notification row: `pending` → (claimed) `sending` → `sent`, or back to
`pending` with a later `next_attempt_at` after a temporary failure, or `dead` after a
permanent one or too many attempts.

Exactly-once, step by step:
- Claiming is a committed update (status `sending`, a lease and a token), taken with
  `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer does the same. Two
  workers never hold the same row.
- A worker killed after the claim leaves a `sending` row whose lease runs out; the
  next claim takes it again. Nothing is lost.
- The message carries the row's idempotency key, the same on every attempt. A worker
  killed after the channel accepted but before recording `sent` causes one more
  attempt with the same key, which the receiver recognises (HTTP `Idempotency-Key`,
  cloud SMS `OutId`, the inbox's unique key; e-mail keeps its Message-ID).
- Recording checks the token, so a worker whose lease was taken over cannot
  overwrite the newer attempt's outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from creditgov.alerts import faults
from creditgov.alerts.channels import Channel, Message, PermanentFailure, TemporaryFailure, plugin
from creditgov.alerts.models import AlertEvent, ChannelConfig, Notification
from creditgov.core import clock, db
from creditgov.core.errors import ConfigError, InvalidInput, NotFound

log = logging.getLogger("creditgov.outbox")
LEASE_SECONDS = 60.0


def wall() -> dt.datetime:
    """Real UTC time, for leases and retry times. Not `clock.now()`: a pinned business
    day (`CREDITGOV_TODAY`) wraps at midnight and may lie weeks away from the real
    date, and a retry scheduled "in two seconds" must mean two real seconds."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    key: str
    channel: str
    recipient: str
    address: str | None
    title: str
    body: str
    subject_id: int | None
    alert_id: int | None
    payload: dict[str, Any]
    attempts: int


@dataclass
class Delivery:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    lost_lease: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "sent": self.sent, "retried": self.retried, "dead": self.dead,
                "lost_lease": self.lost_lease, "errors": self.errors[:20]}


class ChannelPool:
    """Channel instances, rebuilt when their configuration changes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._made: dict[str, tuple[str, Channel]] = {}
        self._lock = threading.Lock()

    def get(self, cfg: ChannelConfig) -> Channel:
        fingerprint = f"{cfg.plugin}|{sorted(cfg.settings.items())!r}"
        with self._lock:
            hit = self._made.get(cfg.name)
            if hit and hit[0] == fingerprint:
                return hit[1]
            if hit:
                hit[1].close()
            ch = plugin(cfg.plugin)(cfg.name, cfg.settings, db_url=self.url)
            self._made[cfg.name] = (fingerprint, ch)
            return ch

    def close(self) -> None:
        with self._lock:
            for _, ch in self._made.values():
                ch.close()
            self._made.clear()


def claim(url: str, *, limit: int = 50, lease_seconds: float = LEASE_SECONDS) -> list[Claimed]:
    """Take up to `limit` due rows (pending and due, or sending with a lapsed lease)."""
    token = uuid.uuid4().hex
    with db.session_scope(url) as s:
        now = wall()
        due = or_(and_(Notification.status == "pending", Notification.next_attempt_at <= now),
                  and_(Notification.status == "sending", Notification.lease_until < now))
        ids = list(s.execute(select(Notification.id).where(due).order_by(Notification.id).limit(limit)
                             .with_for_update(skip_locked=True)).scalars())
        if not ids:
            return []
        s.execute(update(Notification).where(Notification.id.in_(ids), due).values(
            status="sending", lease_until=now + dt.timedelta(seconds=lease_seconds), lease_token=token,
            attempts=Notification.attempts + 1).execution_options(synchronize_session=False))
        rows = s.execute(select(Notification).where(Notification.id.in_(ids), Notification.lease_token == token)
                         .order_by(Notification.id)).scalars()
        return [Claimed(n.id, token, n.idempotency_key, n.channel, n.recipient, n.address, n.title, n.body,
                        n.subject_id, n.alert_id, dict(n.payload or {}), n.attempts) for n in rows]


def backoff(cfg: ChannelConfig | None, key: str, attempts: int) -> float:
    """Exponential backoff with a deterministic 0–25 % jitter (from the key), capped."""
    base = cfg.backoff_seconds if cfg else 2.0
    cap = cfg.backoff_cap_seconds if cfg else 600.0
    jitter = int(hashlib.sha256(f"{key}|{attempts}".encode()).hexdigest()[:4], 16) / 0xFFFF / 4
    return float(min(cap, base * 2 ** max(0, attempts - 1)) * (1 + jitter))


def _spent(c: Claimed) -> dict[str, Any]:
    """What a notice that left the outbox no longer needs: a one-time code's digits."""
    from creditgov.alerts.onetime import ONE_TIME, redacted

    return {"body": redacted(c.body)} if c.payload.get(ONE_TIME) else {}


def _record_sent(url: str, c: Claimed, ref: str | None, handed: dt.datetime) -> bool:
    with db.session_scope(url) as s:
        res = s.execute(update(Notification).where(Notification.id == c.id, Notification.lease_token == c.token)
                        .values(status="sent", sent_at=clock.now(), handed_at=handed, provider_ref=ref,
                                lease_until=None, last_error=None, **_spent(c))
                        .execution_options(synchronize_session=False))
        return bool(res.rowcount)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


def _record_failure(url: str, c: Claimed, cfg: ChannelConfig | None, error: str, permanent: bool) -> str:
    with db.session_scope(url) as s:
        max_attempts = cfg.max_attempts if cfg else 8
        dead = permanent or c.attempts >= max_attempts
        values: dict[str, Any] = {"last_error": error[:2000], "lease_until": None}
        if dead:
            values["status"] = "dead"
            values.update(_spent(c))
        else:
            values["status"] = "pending"
            values["next_attempt_at"] = wall() + dt.timedelta(seconds=backoff(cfg, c.key, c.attempts))
        res = s.execute(update(Notification).where(Notification.id == c.id, Notification.lease_token == c.token)
                        .values(**values).execution_options(synchronize_session=False))
        if not res.rowcount:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
            return "lost"
        if dead and c.alert_id is not None:
            s.add(AlertEvent(alert_id=c.alert_id, at=clock.now(), actor="system:outbox", action="delivery_failed",
                             note=error[:500], detail={"notification": c.id, "channel": c.channel,
                                                       "recipient": c.recipient, "attempts": c.attempts}))
        return "dead" if dead else "retry"


def _configs(url: str) -> dict[str, ChannelConfig]:
    with db.session_scope(url) as s:
        out = {c.name: c for c in s.execute(select(ChannelConfig)).scalars()}
        for c in out.values():
            s.expunge(c)
        return out


def _deliver_one(url: str, pool: ChannelPool, cfgs: dict[str, ChannelConfig], c: Claimed) -> str:
    cfg = cfgs.get(c.channel)
    from creditgov.alerts.onetime import expired

    if expired(c.payload):  # a one-time code no longer accepted: never sent late, given up blanked
        return _record_failure(url, c, cfg, "the one-time code expired before it could be sent", True)
    if cfg is None or not cfg.enabled:
        return _record_failure(url, c, cfg, f"channel {c.channel!r} is not configured or disabled", False)
    try:
        ch = pool.get(cfg)
    except ConfigError as exc:
        return _record_failure(url, c, cfg, str(exc), False)
    handed = clock.now()
    msg = Message(idempotency_key=c.key, recipient=c.recipient, address=c.address, title=c.title, body=c.body,
                  subject_id=c.subject_id, alert_id=c.alert_id, payload=c.payload,
                  notification_id=c.id)
    try:
        ref = ch.send(msg)
    except PermanentFailure as exc:
        return _record_failure(url, c, cfg, str(exc), True)
    except TemporaryFailure as exc:
        return _record_failure(url, c, cfg, str(exc), False)
    except Exception as exc:  # a plugin's own bug: keep the row, retry, say what happened
        log.exception("channel %s failed unexpectedly", c.channel)
        return _record_failure(url, c, cfg, f"{type(exc).__name__}: {exc}", False)
    faults.crash_point("channel.sent", c.channel)
    return "sent" if _record_sent(url, c, ref, handed) else "lost"


def deliver_due(url: str, *, pool: ChannelPool | None = None, limit: int = 50, threads: int = 4,
                lease_seconds: float = LEASE_SECONDS) -> Delivery:
    """Claim due notifications and deliver them (in a few threads: one slow SMTP
    server must not hold up the inbox and the SMS)."""
    own = pool is None
    pool = pool or ChannelPool(url)
    out = Delivery()
    try:
        claimed = claim(url, limit=limit, lease_seconds=lease_seconds)
        out.claimed = len(claimed)
        if not claimed:
            return out
        cfgs = _configs(url)
        if len(claimed) == 1 or threads <= 1:
            results = [_deliver_one(url, pool, cfgs, c) for c in claimed]
        else:
            with ThreadPoolExecutor(max_workers=min(threads, len(claimed))) as ex:
                results = list(ex.map(lambda c: _deliver_one(url, pool, cfgs, c), claimed))
        for r in results:
            if r == "sent":
                out.sent += 1
            elif r == "retry":
                out.retried += 1
            elif r == "dead":
                out.dead += 1
            else:
                out.lost_lease += 1
        return out
    finally:
        if own:
            pool.close()


def drain(url: str, *, pool: ChannelPool | None = None, max_rounds: int = 100) -> Delivery:
    """Deliver until nothing is due now (retries scheduled later stay for later)."""
    total = Delivery()
    own = pool is None
    pool = pool or ChannelPool(url)
    try:
        for _ in range(max_rounds):
            d = deliver_due(url, pool=pool)
            for k in ("claimed", "sent", "retried", "dead", "lost_lease"):
                setattr(total, k, getattr(total, k) + getattr(d, k))
            if d.claimed == 0:
                break
        return total
    finally:
        if own:
            pool.close()


def requeue(session: Session, *, notification_id: int) -> Notification:
    """An operator sends a dead notification again (after fixing an address)."""
    n = session.get(Notification, notification_id, with_for_update=True)
    if n is None:
        raise NotFound(f"notification {notification_id} not found")
    if n.status not in ("dead", "cancelled"):
        raise InvalidInput(f"notification {notification_id} is {n.status}; only dead or cancelled ones are requeued")
    n.status, n.attempts, n.next_attempt_at, n.last_error = "pending", 0, wall(), None
    return n


def outbox(session: Session, *, status: str | None = None, limit: int = 100) -> list[Notification]:
    q = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        q = q.where(Notification.status == status)
    return list(session.execute(q).scalars())
