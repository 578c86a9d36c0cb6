"""Passwords: hashing, the strength rule, history, expiry, change and reset.

Hashes are argon2id at the cost the sign-in policy names (`hashing`: memory, passes,
lanes; argon2-cffi's defaults when a deployment's file has none); a hash made at another
cost is made again at its holder's next sign-in. Strength is judged by zxcvbn's estimate
(its score 0–4 knows common passwords, dictionary words, keyboard walks, dates and the
account's own names), not by composition rules, which push people to `Passw0rd!` and
forbid nothing that matters (NIST SP 800-63B 5.1.1.2). The figures — the hashing cost,
length and score per role, how many earlier passwords may not come back, days before
expiry — are the sign-in policy's (`data/signin.yaml`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.security import attempts
from creditgov.security import service as audit
from creditgov.security.accounts import PasswordHistory, User, WebSession
from creditgov.security.policy import Hashing, policy
from creditgov.security.scopes import Role, Unauthenticated

MAX_LENGTH = 200
_ESTIMATED = 72  # characters the strength estimator reads
# Words any password of this product should not lean on, besides the account's own names.
_CONTEXT = ["creditgov", "credit", "xinyong", "changxing", "admin", "password"]


@lru_cache(maxsize=4)
def _hasher_for(cost: Hashing | None) -> tuple[PasswordHasher, str]:
    """The hasher at `cost`, and a hash it made that is verified against when the account
    does not exist (so a wrong name costs the same time as a wrong password)."""
    hasher = PasswordHasher() if cost is None else PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism)
    return hasher, hasher.hash("not-a-real-password")


def _hasher() -> tuple[PasswordHasher, str]:
    return _hasher_for(policy().hashing)


def _text(password: str) -> bool:
    """Whether the password is text that can be stored (a JSON body may carry a lone
    UTF-16 surrogate, which no UTF-8 encoder accepts)."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; with no stored hash (or text that could never
    have been a password), the same work is done against a dummy so the answer takes as
    long either way."""
    usable = _text(password)
    hasher, dummy = _hasher()
    try:
        return (hasher.verify(stored if stored and usable else dummy, password if usable else "-")
                and stored is not None and usable)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher()[0].check_needs_rehash(stored)


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def check_strength(password: str, *, role: Role, username: str, display_name: str = "") -> None:
    """InvalidInput naming what is wrong, or nothing: long enough and hard enough to
    guess for the role (`passwords` in the sign-in policy)."""
    min_length, min_score = policy().passwords.rules_for(role)
    if len(password) < min_length:
        raise InvalidInput(f"a password for a {role.value} account needs at least {min_length} characters",
                           code="security.password.too_short", params={"role": role.value, "n": min_length})
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password may have at most {MAX_LENGTH} characters",
                           code="security.password.too_long", params={"n": MAX_LENGTH})
    if not password.strip():
        raise InvalidInput("a password cannot be blank", code="security.password.blank")
    if not _text(password):
        raise InvalidInput("a password must be Unicode text (a lone surrogate is not)",
                           code="security.password.not_text")
    # zxcvbn refuses more than 72 characters (its matching grows fast with length); the
    # first 72 are what it judges, and a prefix is never stronger than the whole.
    result = zxcvbn(password[:_ESTIMATED], user_inputs=[username, display_name, *_CONTEXT])
    score = int(result["score"])
    if score < min_score:
        feedback = result.get("feedback") or {}
        hint = " ".join(x for x in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])] if x)
        raise InvalidInput(f"password too easy to guess (strength {score} of 4, a {role.value} account needs "
                           f"{min_score}){': ' + hint if hint else ''}", code="security.password.weak",
                           params={"score": score, "need": min_score, "role": role.value,
                                   "hint": f" {hint}" if hint else ""})


def expired(user: User) -> bool:
    """Whether the account's password is older than the policy allows (never, with
    `expiry_days: 0` or no password)."""
    days = policy().passwords.expiry_days
    if not days or not user.password_hash or user.password_changed_at is None:
        return False
    return clock.now() >= user.password_changed_at + dt.timedelta(days=days)


def initial(user: User, password: str) -> None:
    """The first password of a new account (checked against the policy)."""
    check_strength(password, role=Role(user.role), username=user.username, display_name=user.display_name)
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()


def _remember(session: Session, user: User) -> None:
    """Keep the current hash in the history and drop what lies beyond its length."""
    keep = policy().passwords.history
    if user.password_hash and keep:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, changed_at=clock.now()))
        session.flush()
    old = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id) \
        .order_by(PasswordHistory.id.desc()).offset(keep)
    stale = list(session.execute(old).scalars())
    if stale:
        session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(stale)))


def _reused(session: Session, user: User, password: str) -> bool:
    keep = policy().passwords.history
    if user.password_hash and verify(user.password_hash, password):
        return True
    if not keep:
        return False
    rows = session.execute(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                           .order_by(PasswordHistory.id.desc()).limit(keep)).scalars()
    return any(verify(h, password) for h in rows)


def change(session: Session, *, user: User, old_password: str, new_password: str, client: str,
           keep_session: str | None = None) -> User:
    """The holder changes their own password, proving the old one. A wrong old password
    counts as a failed sign-in (lock-out included), since a stolen session must not
    become a way to guess it; the account's other browser sessions end."""
    attempts.check_allowed(session, username=user.username, client=client)
    if not verify(user.password_hash, old_password):
        attempts.failed(session, username=user.username, client=client, outcome="password",
                        detail={"during": "password change"})
        raise Unauthenticated("the current password is wrong")
    check_strength(new_password, role=Role(user.role), username=user.username, display_name=user.display_name)
    if _reused(session, user, new_password):
        n = policy().passwords.history
        raise InvalidInput(f"choose a password that is not the current one nor one of the last {n}",
                           code="security.password.reused", params={"n": n})
    _remember(session, user)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    user.must_change_password = False
    q = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session is not None:
        q = q.where(WebSession.id != keep_session)
    session.execute(q)
    audit.append(session, action="password.change", actor=f"user:{user.username}", detail={"user": user.username})
    return user


def reset(session: Session, *, user: User, password: str | None = None, temporary: bool = True,
          actor: str | None = None) -> str:
    """An administrator sets a password — by default a random temporary one, returned
    once, that must be changed at the next sign-in. Ends the account's sessions and
    lifts a lock-out. History is not checked (the holder chooses the next one) but the
    old hash joins it."""
    if password is None:
        password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    check_strength(password, role=Role(user.role), username=user.username, display_name=user.display_name)
    _remember(session, user)
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    user.must_change_password = temporary
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    attempts.unlock(session, username=user.username, actor=actor, quiet=True)
    audit.append(session, action="password.reset", actor=actor,
                 detail={"user": user.username, "temporary": temporary})
    return password
