"""Users, API tokens and consents: the services. Signing in and browser sessions are
`signin.py`; passwords `passwords.py`; the second factor `mfa.py`.

API tokens are random 256-bit values handed out once; the store keeps only their
SHA-256, so the database alone lets nobody in. Their lifetime is the sign-in policy's
(`tokens` in `data/signin.yaml`: 90 days unless asked otherwise, a year at most) and
they are rotated — a successor issued as the old one is revoked — rather than made to
last. Resolved tokens are cached for a few seconds because banks and departments call
the API in bursts and the lookup would otherwise dominate a credit check; revoking
clears the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security import passwords
from creditgov.security import service as audit
from creditgov.security.accounts import AccessConsent, ApiToken, User, WebSession
from creditgov.security.policy import policy
from creditgov.security.scopes import Principal, Role, Unauthenticated
from creditgov.subjects.models import Region, Subject

TOKEN_PREFIX = "cg_"
_TOKEN_TTL = 10.0  # seconds a resolved token is cached
_token_cache: dict[str, tuple[float, Principal, int]] = {}
_cache_lock = threading.Lock()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------- users


def create_user(session: Session, *, username: str, password: str | None, role: str, display_name: str = "",
                region_code: str | None = None, department_code: str | None = None,
                organisation: str | None = None, subject_id: int | None = None,
                actor: str | None = None) -> User:
    """Create an account. The scope columns a role needs must be given, so an account
    can never exist whose scope is silently empty."""
    try:
        r = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; one of {[x.value for x in Role]}",
                           code="users.role.unknown") from None
    if r is Role.PUBLIC:
        raise InvalidInput("the public role needs no account", code="users.role.public")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise InvalidInput(f"user {username!r} already exists", code="users.exists", params={"username": username})
    need = {Role.GRID: region_code, Role.INSPECTOR: region_code, Role.DEPARTMENT: department_code,
            Role.BANK: organisation, Role.SUBJECT: subject_id}
    if r in need and need[r] is None:
        what = {Role.GRID: "a region", Role.INSPECTOR: "a region", Role.DEPARTMENT: "a department",
                Role.BANK: "an organisation", Role.SUBJECT: "a subject"}[r]
        need_code = {Role.GRID: "region", Role.INSPECTOR: "region", Role.DEPARTMENT: "department",
                     Role.BANK: "organisation", Role.SUBJECT: "subject"}
        raise InvalidInput(f"a {r.value} account needs {what}", code="users.needs_scope",
                           params={"role": r.value, "what": need_code[r]})
    if region_code and session.execute(select(Region.id).where(Region.code == region_code)).first() is None:
        raise InvalidInput(f"unknown region {region_code!r}", code="users.region.unknown",
                           params={"region": region_code})
    if subject_id is not None and session.get(Subject, subject_id) is None:
        raise InvalidInput(f"unknown subject {subject_id}", code="users.subject.unknown", params={"id": subject_id})
    user = User(username=username, display_name=display_name or username, password_hash=None, role=r.value,
                region_code=region_code, department_code=department_code, organisation=organisation,
                subject_id=subject_id, active=True, created_at=clock.now(), failed_logins=0,
                must_change_password=False)
    if password:
        passwords.initial(user, password)
    session.add(user)
    session.flush()
    audit.append(session, action="user.create", actor=actor,
                 detail={"user": username, "role": r.value, "region": region_code,
                         "department": department_code, "organisation": organisation, "subject": subject_id})
    return user


def users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.role, User.username)).scalars())


def user_by_name(session: Session, username: str) -> User:
    row = session.execute(select(User).where(User.username == username)).scalar()
    if row is None:
        raise NotFound(f"user {username!r} not found")
    return row


def get_user(session: Session, user_id: int) -> User:
    row = session.get(User, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row


def set_active(session: Session, *, user_id: int, active: bool, actor: str | None = None) -> User:
    """Deactivate (or reactivate) an account: a deactivated one cannot sign in, and its
    sessions and API tokens stop working at once. Accounts are never deleted — the
    audit chain names them."""
    user = get_user(session, user_id)
    if user.active == active:
        return user
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        _forget_tokens(user_id)
    audit.append(session, action="user.activate" if active else "user.deactivate", actor=actor,
                 detail={"user": user.username})
    return user


def principal_of(session: Session, user: User, *, via: str, csrf: str | None = None,
                 pending: str | None = None) -> Principal:
    path = None
    if user.region_code:
        path = session.execute(select(Region.path).where(Region.code == user.region_code)).scalar()
    return Principal(role=Role(user.role), user_id=user.id, username=user.username,
                     display_name=user.display_name, region_code=user.region_code, region_path=path,
                     department_code=user.department_code, organisation=user.organisation,
                     subject_id=user.subject_id, via=via, csrf_token=csrf, pending=pending)


# ----------------------------------------------------------------------------- tokens


def issue_token(session: Session, *, user_id: int, name: str, days: int | None = None,
                actor: str | None = None) -> tuple[str, ApiToken]:
    """A new bearer token; the plain value is returned once and never stored. `days`
    defaults to the policy's lifetime and may not exceed its maximum: every token
    expires."""
    user = get_user(session, user_id)
    rules = policy().tokens
    days = rules.default_days if days is None else days
    if not 1 <= days <= rules.max_days:
        raise InvalidInput(f"a token lasts 1 to {rules.max_days} days (the sign-in policy's maximum)")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    tok = ApiToken(user_id=user.id, name=name, token_hash=_digest(plain), prefix=plain[:10], created_at=now,
                   expires_at=now + dt.timedelta(days=days))
    session.add(tok)
    session.flush()
    audit.append(session, action="token.issue", actor=actor,
                 detail={"user": user.username, "token": tok.id, "name": name, "prefix": tok.prefix,
                         "days": days})
    return plain, tok


def rotate_token(session: Session, *, token_id: int, days: int | None = None, actor: str | None = None
                 ) -> tuple[str, ApiToken]:
    """A successor for a live token — same account, same name — issued as the old one
    is revoked, in one unit of work, so the system using it swaps one for the other."""
    old = session.get(ApiToken, token_id, with_for_update=True)
    if old is None:
        raise NotFound(f"token {token_id} not found")
    if old.revoked_at is not None or (old.expires_at is not None and old.expires_at < clock.now()):
        raise InvalidInput(f"token {token_id} is revoked or expired: issue a new one instead")
    plain, new = issue_token(session, user_id=old.user_id, name=old.name, days=days, actor=actor)
    revoke_token(session, token_id=old.id, actor=actor)
    audit.append(session, action="token.rotate", actor=actor, detail={"token": old.id, "successor": new.id})
    return plain, new


def live_tokens(session: Session, user_id: int, name: str) -> list[ApiToken]:
    now = clock.now()
    return [t for t in tokens(session, user_id) if t.name == name and t.revoked_at is None
            and (t.expires_at is None or t.expires_at >= now)]


def tokens(session: Session, user_id: int | None = None) -> list[ApiToken]:
    q = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        q = q.where(ApiToken.user_id == user_id)
    return list(session.execute(q).scalars())


def revoke_token(session: Session, *, token_id: int, actor: str | None = None) -> ApiToken:
    tok = session.get(ApiToken, token_id)
    if tok is None:
        raise NotFound(f"token {token_id} not found")
    tok.revoked_at = clock.now()
    with _cache_lock:
        _token_cache.pop(tok.token_hash, None)
    audit.append(session, action="token.revoke", actor=actor, detail={"token": token_id})
    return tok


def _forget_tokens(user_id: int) -> None:
    with _cache_lock:
        for k in [k for k, (_, _, uid) in _token_cache.items() if uid == user_id]:
            _token_cache.pop(k, None)


def cached_token(plain: str) -> Principal | None:
    """The token's principal when it was resolved in the last few seconds, without
    touching the database (the API's hot path); None when it must be looked up."""
    with _cache_lock:
        hit = _token_cache.get(_digest(plain))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def resolve_token(session: Session, plain: str) -> Principal:
    key = _digest(plain)
    now_mono = time.monotonic()
    with _cache_lock:
        hit = _token_cache.get(key)
    if hit is not None and hit[0] > now_mono:
        return hit[1]
    row = session.execute(select(ApiToken, User).join(User, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == key)).first()
    if row is None:
        raise Unauthenticated("unknown API token")
    tok, user = row
    now = clock.now()
    if tok.revoked_at is not None or (tok.expires_at is not None and tok.expires_at < now) or not user.active:
        raise Unauthenticated("API token revoked or expired")
    session.execute(update(ApiToken).where(ApiToken.id == tok.id).values(last_used_at=now))
    p = principal_of(session, user, via="token")
    with _cache_lock:
        _token_cache[key] = (now_mono + _TOKEN_TTL, p, user.id)
    return p


# ----------------------------------------------------------------------------- consents


def grant_consent(session: Session, *, subject_id: int, organisation: str, purpose: str,
                  days: int | None = 365, actor: str | None = None) -> AccessConsent:
    """A subject lets an organisation (a bank) read its credit file."""
    if session.get(Subject, subject_id) is None:
        raise NotFound(f"subject {subject_id} not found")
    if not purpose.strip():
        raise InvalidInput("a consent names its purpose")
    today = clock.today()
    c = AccessConsent(subject_id=subject_id, organisation=organisation, purpose=purpose.strip(),
                      granted_on=today, expires_on=today + dt.timedelta(days=days) if days else None,
                      actor=actor or audit.default_actor())
    session.add(c)
    session.flush()
    audit.append(session, action="consent.grant", actor=actor, subject_id=subject_id,
                 detail={"organisation": organisation, "purpose": c.purpose,
                         "expires_on": c.expires_on.isoformat() if c.expires_on else None})
    return c


def revoke_consent(session: Session, *, consent_id: int, subject_id: int | None = None,
                   actor: str | None = None) -> AccessConsent:
    """End a consent from today: the organisation reads the file no more. A subject
    revokes only its own consents (`subject_id` is then the caller's subject, and
    another's consent answers NotFound like a missing one). Revoking a revoked consent
    changes nothing and writes nothing, so a retried request is harmless."""
    c = session.get(AccessConsent, consent_id, with_for_update=True)
    if c is None or (subject_id is not None and c.subject_id != subject_id):
        raise NotFound(f"consent {consent_id} not found")
    if c.revoked_on is not None:
        return c
    c.revoked_on = clock.today()
    audit.append(session, action="consent.revoke", actor=actor, subject_id=c.subject_id,
                 detail={"consent": consent_id, "organisation": c.organisation})
    return c


def consents(session: Session, *, subject_id: int | None = None, organisation: str | None = None
             ) -> list[AccessConsent]:
    q = select(AccessConsent).order_by(AccessConsent.id.desc())
    if subject_id is not None:
        q = q.where(AccessConsent.subject_id == subject_id)
    if organisation is not None:
        q = q.where(AccessConsent.organisation == organisation)
    return list(session.execute(q).scalars())


def consent_status(c: AccessConsent, today: dt.date | None = None) -> str:
    """`revoked`, `expired` (its last day has passed), `not_yet` (granted from a later
    day) or `in_force`: `AccessConsent.in_force_on`, the rule the scope check reads."""
    today = today or clock.today()
    if c.revoked_on is not None:
        return "revoked"
    if c.expires_on is not None and c.expires_on < today:
        return "expired"
    return "in_force" if c.in_force_on(today) else "not_yet"


def consent_dict(c: AccessConsent) -> dict[str, Any]:
    return {"id": c.id, "subject_id": c.subject_id, "organisation": c.organisation, "purpose": c.purpose,
            "granted_on": c.granted_on.isoformat(), "expires_on": c.expires_on.isoformat() if c.expires_on else None,
            "revoked_on": c.revoked_on.isoformat() if c.revoked_on else None, "status": consent_status(c)}


def user_dict(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "region_code": u.region_code, "department_code": u.department_code,
            "organisation": u.organisation, "subject_id": u.subject_id, "active": u.active,
            "last_login_at": u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else None,
            "second_factor": u.totp_enabled_at is not None, "must_change_password": u.must_change_password}
