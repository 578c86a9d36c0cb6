"""Failed sign-ins: the lock-out and the rate limits, kept in the store.

Every attempt is a row of `signin_attempts` under the name as typed and the client's
address, so the rules hold across server processes and restarts and treat an unknown
name exactly like a real one (the answer never tells which names exist). The figures
are the sign-in policy's (`data/signin.yaml`):

- **rate limits**: at most `rates.per_address` failures from one address and
  `rates.per_account` under one name in a sliding window; past that, attempts are
  refused unchecked (HTTP 429 with Retry-After) until the oldest failure leaves it;
- **lock-out**: `lockout.failures` failures in a row under one name (since its last
  success, lock-out or unlock) lock it for `lockout.minutes` from the failure that
  reached the number; while locked even the right password is refused unchecked.

Refused attempts are recorded too but count toward nothing. Every failure is appended
to the audit chain (`auth.failed`), as are the start of a lock-out (`auth.locked`) and
the first refusal of a run (`auth.refused`), so a flood of refusals does not flood the
chain. A failure must outlive the exception that reports it, so these functions
commit: the caller's unit of work would otherwise roll the record back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import CreditGovError
from creditgov.security import service as audit
from creditgov.security.accounts import SigninAttempt
from creditgov.security.policy import policy

FAILURES = ("password", "code")
RESETS = ("ok", "unlock", "lockout")
REFUSED = ("locked", "limited")
_KEEP = dt.timedelta(days=1)  # attempts older than this are pruned (the audit chain keeps failures)


class TooManyAttempts(CreditGovError):
    """Refused before the password was checked: the name is locked out or a rate limit
    is reached. HTTP 429 with Retry-After."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


def clean_name(username: str) -> str:
    """The name as it is recorded and looked up: at most 80 characters of text every
    store keeps (a lone surrogate or a NUL, which PostgreSQL's text refuses, becomes "?")."""
    return username.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")[:80]


_name = clean_name


def client_key(address: str | None) -> str:
    """The client address as recorded (whatever a proxy header carried: clipped, text)."""
    return clean_name(address or "unknown")[:64]


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return int((moment - now).total_seconds() + 0.999)


def _last_reset_id(session: Session, name: str, outcomes: tuple[str, ...]) -> int:
    return int(session.execute(select(func.max(SigninAttempt.id)).where(
        SigninAttempt.username == name, SigninAttempt.outcome.in_(outcomes))).scalar() or 0)


def lock_ends(session: Session, username: str) -> dt.datetime | None:
    """When the name's current lock-out ends, or None when it is not locked."""
    name = _name(username)
    after = _last_reset_id(session, name, ("ok", "unlock"))
    started = session.execute(select(func.max(SigninAttempt.at)).where(
        SigninAttempt.username == name, SigninAttempt.outcome == "lockout", SigninAttempt.id > after)).scalar()
    if started is None:
        return None
    ends: dt.datetime = started + dt.timedelta(minutes=policy().lockout.minutes)
    return ends if ends > clock.now() else None


def _window(session: Session, column: Any, value: str, seconds: int, limit: int,
            now: dt.datetime) -> int | None:
    """Seconds until the window has room again, or None when it has room now."""
    since = now - dt.timedelta(seconds=seconds)
    rows = list(session.execute(select(SigninAttempt.at).where(
        column == value, SigninAttempt.at > since, SigninAttempt.outcome.in_(FAILURES))
        .order_by(SigninAttempt.at.desc()).limit(limit)).scalars())
    if len(rows) < limit:
        return None
    return _seconds_until(rows[-1] + dt.timedelta(seconds=seconds), now)


def check_allowed(session: Session, *, username: str, client: str) -> None:
    """TooManyAttempts (recorded, committed) when the address or the name has used up
    its failures or the name is locked out; otherwise nothing."""
    pol, now, name, client = policy(), clock.now(), _name(username), client_key(client)
    wait = _window(session, SigninAttempt.client, client, pol.rates.per_address.seconds,
                   pol.rates.per_address.failures, now)
    if wait is not None:
        _refuse(session, name, client, "limited", wait,
                f"too many failed sign-ins from this address: try again in {wait} s")
    wait = _window(session, SigninAttempt.username, name, pol.rates.per_account.seconds,
                   pol.rates.per_account.failures, now)
    if wait is not None:
        _refuse(session, name, client, "limited", wait,
                f"too many failed sign-ins for this user name: try again in {wait} s")
    ends = lock_ends(session, name)
    if ends is not None:
        wait = _seconds_until(ends, now)
        _refuse(session, name, client, "locked", wait,
                f"this user name is locked after {pol.lockout.failures} failed sign-ins: "
                f"try again in {(wait + 59) // 60} min")


def _refuse(session: Session, name: str, client: str, outcome: str, wait: int, message: str) -> None:
    last = session.execute(select(SigninAttempt.outcome).where(SigninAttempt.username == name)
                           .order_by(SigninAttempt.id.desc()).limit(1)).scalar()
    _record(session, name, client, outcome)
    if last not in REFUSED:
        audit.append(session, action="auth.refused", actor=f"user:{name}",
                     detail={"user": name, "client": client, "reason": outcome, "retry_after": wait})
    session.commit()
    raise TooManyAttempts(message, wait)


def _record(session: Session, name: str, client: str, outcome: str) -> None:
    now = clock.now()
    session.add(SigninAttempt(at=now, username=name, client=client, outcome=outcome))
    session.execute(delete(SigninAttempt).where(SigninAttempt.at < now - _KEEP))
    session.flush()


def failed(session: Session, *, username: str, client: str, outcome: str, detail: dict[str, Any]) -> None:
    """Record and audit one failure ("password" or "code"), start a lock-out when it
    is the failure that reaches the number, and commit."""
    name, pol, client = _name(username), policy(), client_key(client)
    _record(session, name, client, outcome)
    audit.append(session, action="auth.failed", actor=f"user:{name}",
                 detail={"user": name, "client": client, "factor": outcome, **detail})
    if in_a_row(session, name) >= pol.lockout.failures:
        _record(session, name, client, "lockout")
        audit.append(session, action="auth.locked", actor=f"user:{name}",
                     detail={"user": name, "client": client, "minutes": pol.lockout.minutes})
    session.commit()


def in_a_row(session: Session, username: str) -> int:
    """Failures under the name since its last success, lock-out or unlock."""
    name = _name(username)
    after = _last_reset_id(session, name, RESETS)
    return int(session.execute(select(func.count()).where(
        SigninAttempt.username == name, SigninAttempt.id > after,
        SigninAttempt.outcome.in_(FAILURES))).scalar_one())


def succeeded(session: Session, *, username: str, client: str) -> None:
    """A complete sign-in: the failures before it no longer count toward a lock-out."""
    _record(session, _name(username), client_key(client), "ok")


def unlock(session: Session, *, username: str, actor: str | None = None, quiet: bool = False) -> bool:
    """Lift a lock-out and forget the failures before it (an administrator's act, or
    part of a password reset); True when the name was locked. Audited, unless `quiet`
    and there was no lock-out to lift."""
    name = _name(username)
    was = lock_ends(session, name) is not None
    _record(session, name, "admin", "unlock")
    if was or not quiet:
        audit.append(session, action="auth.unlock", actor=actor, detail={"user": name, "was_locked": was})
    return was
