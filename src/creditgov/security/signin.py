"""Signing in with a password and the second factor, and browser sessions.

A sign-in passes the lock-out and the rate limits (`attempts.py`), then the password
(argon2, with the same work for an unknown name), then — for an account that has an
authenticator app — its code, in the same request or as a second step. The session a
password opens may still have a step left (`next_step`): the code, a new password
(reset by an administrator, or expired), or setting up an app that the role requires;
until then it acts for nobody (`scopes.SignInIncomplete`). API tokens skip all of this:
they are for machines, and are rotated rather than typed.

Sessions end after the policy's idle time and absolute time (`sessions` in
`data/signin.yaml`); the cookie holds a random value and the store only its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import NoReturn

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.security import attempts, mfa, passwords
from creditgov.security import service as audit
from creditgov.security.accounts import User, WebSession
from creditgov.security.crypto import KeyRing
from creditgov.security.policy import policy
from creditgov.security.scopes import Principal, Unauthenticated
from creditgov.security.users import principal_of

_TOUCH = dt.timedelta(seconds=60)  # how stale `last_seen_at` may get before it is written again


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def session_seconds() -> int:
    """The cookie's lifetime: the absolute time-out."""
    return policy().sessions.absolute_hours * 3600


def authenticate(session: Session, *, username: str, password: str, client: str) -> User:
    """The active account whose password this is, or Unauthenticated with the same
    message for an unknown name and a wrong password (and the same work: argon2
    against a dummy hash). Refused unchecked, as TooManyAttempts, when the name is
    locked out or a rate limit is reached; every failure is recorded and audited."""
    username = attempts.clean_name(username)
    attempts.check_allowed(session, username=username, client=client)
    user = session.execute(select(User).where(User.username == username)).scalar()
    usable = user is not None and user.active and user.password_hash is not None
    if not passwords.verify(user.password_hash if usable and user is not None else None, password):
        if user is not None:
            user.failed_logins += 1
        attempts.failed(session, username=username, client=client, outcome="password",
                        detail={"known": user is not None})
        raise Unauthenticated("wrong user name or password")
    assert user is not None and user.password_hash is not None  # verified above
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def sign_in(session: Session, keyring: KeyRing, *, username: str, password: str, client: str,
            code: str | None = None) -> tuple[User, str, str]:
    """Password (and, when given, the second factor's code) → (account, cookie, CSRF
    token) of a new session, which may still have a step left."""
    user = authenticate(session, username=username, password=password, client=client)
    method = None
    if code and mfa.enrolled(user):
        method = mfa.check(session, keyring, user, code)
        if method is None:
            _wrong_code(session, user, client)
    cookie, csrf = start_session(session, user, client=client, verified_with=method)
    return user, cookie, csrf


def _wrong_code(session: Session, user: User, client: str) -> NoReturn:
    user.failed_logins += 1
    attempts.failed(session, username=user.username, client=client, outcome="code", detail={"known": True})
    raise Unauthenticated("wrong code: enter the newest code from your authenticator app, or a recovery code")


def start_session(session: Session, user: User, *, client: str, verified_with: str | None = None
                  ) -> tuple[str, str]:
    """(cookie value, CSRF token) for a browser whose password was right."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = clock.now()
    ws = WebSession(id=digest(cookie), user_id=user.id, csrf_token=csrf, created_at=now, last_seen_at=now,
                    expires_at=now + dt.timedelta(hours=policy().sessions.absolute_hours),
                    verified_at=now if verified_with else None)
    session.add(ws)
    step = next_step(user, ws)
    if step != "code":
        _complete(session, user, client)
    audit.append(session, action="auth.login", actor=f"user:{user.username}",
                 detail={"via": "session", "second_factor": verified_with, "pending": step, "client": client})
    return cookie, csrf


def _complete(session: Session, user: User, client: str) -> None:
    """Every factor the account has was shown: earlier failures stop counting."""
    attempts.succeeded(session, username=user.username, client=client)
    user.failed_logins = 0
    user.last_login_at = clock.now()


def next_step(user: User, ws: WebSession) -> str | None:
    """What the session must still do before it acts for anyone, or None."""
    if mfa.enrolled(user) and ws.verified_at is None:
        return "code"
    if user.must_change_password or passwords.expired(user):
        return "password"
    if mfa.required(user) and not mfa.enrolled(user):
        return "enrol"
    return None


def _live(session: Session, cookie: str) -> tuple[WebSession, User]:
    """The session and its account, or Unauthenticated when it is unknown, idle too
    long, past its absolute time-out, or its account is deactivated (an ended session
    is deleted)."""
    row = session.execute(select(WebSession, User).join(User, WebSession.user_id == User.id)
                          .where(WebSession.id == digest(cookie))).first()
    if row is None:
        raise Unauthenticated("session expired or unknown: sign in again")
    ws, user = row
    now = clock.now()
    idle = dt.timedelta(minutes=policy().sessions.idle_minutes)
    if ws.expires_at < now or (ws.last_seen_at or ws.created_at) + idle < now or not user.active:
        session.execute(delete(WebSession).where(WebSession.id == ws.id))
        raise Unauthenticated("session expired: sign in again")
    if ws.last_seen_at is None or now - ws.last_seen_at > _TOUCH:
        session.execute(update(WebSession).where(WebSession.id == ws.id).values(last_seen_at=now))
    return ws, user


def resolve_session(session: Session, cookie: str) -> Principal:
    ws, user = _live(session, cookie)
    return principal_of(session, user, via="session", csrf=ws.csrf_token, pending=next_step(user, ws))


def second_factor(session: Session, keyring: KeyRing, *, cookie: str, code: str, client: str) -> Principal:
    """The session's second step: a TOTP code or a recovery code. A wrong code is a
    failed sign-in (audited, counted toward the lock-out); a session whose name gets
    locked is ended."""
    ws, user = _live(session, cookie)
    if not mfa.enrolled(user):
        raise InvalidInput("this account has no authenticator app to check a code against")
    if ws.verified_at is None:
        try:
            attempts.check_allowed(session, username=user.username, client=client)
        except attempts.TooManyAttempts:
            _end_and_commit(session, ws)
            raise
        method = mfa.check(session, keyring, user, code)
        if method is None:
            try:
                _wrong_code(session, user, client)
            finally:
                if attempts.lock_ends(session, user.username) is not None:
                    _end_and_commit(session, ws)
        ws.verified_at = clock.now()
        _complete(session, user, client)
        audit.append(session, action="auth.second_factor", actor=f"user:{user.username}",
                     detail={"method": method, "client": client})
    return principal_of(session, user, via="session", csrf=ws.csrf_token, pending=next_step(user, ws))


def mark_verified(session: Session, cookie: str, *, client: str) -> None:
    """The session's account has just proved its new authenticator app (enrolment):
    the session counts as having passed the second factor."""
    ws, user = _live(session, cookie)
    if ws.verified_at is None:
        ws.verified_at = clock.now()
        _complete(session, user, client)


def _end_and_commit(session: Session, ws: WebSession) -> None:
    session.execute(delete(WebSession).where(WebSession.id == ws.id))
    session.commit()


def account_of(session: Session, cookie: str) -> User:
    """The account of a live session (for the steps a pending session may take)."""
    return _live(session, cookie)[1]


def change_password(session: Session, *, cookie: str | None, user_id: int, old_password: str,
                    new_password: str, client: str) -> User:
    """The signed-in holder changes their own password (the browser session it is done
    from stays signed in; the account's others end)."""
    user = session.get(User, user_id)
    if user is None or not user.password_hash:
        raise InvalidInput("this account signs in with an API token only and has no password to change",
                           code="security.password.token_only")
    return passwords.change(session, user=user, old_password=old_password, new_password=new_password,
                            client=client, keep_session=digest(cookie) if cookie else None)


def end_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == digest(cookie)))
