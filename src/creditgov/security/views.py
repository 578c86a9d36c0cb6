"""API routes for sign-in, users, tokens, consents and the audit chain. Thin: each
route authorises through `security.scopes` and calls a service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.api.deps import (
    DB,
    SESSION_COOKIE,
    Id,
    Who,
    check_csrf,
    client_address,
    keyring,
    require,
)
from creditgov.api.sessions import set_session_cookie
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security import attempts, mfa, passwords, signin
from creditgov.security import service as audit
from creditgov.security import users as user_service
from creditgov.security.accounts import User
from creditgov.security.crypto import KeyRing
from creditgov.security.models import AuditEntry
from creditgov.security.scopes import (
    ROLE_LABELS,
    Grant,
    Principal,
    Role,
    Scope,
    SignInIncomplete,
    Unauthenticated,
    permissions_of,
)

router = APIRouter(tags=["security"])


Ring = Annotated[KeyRing, Depends(keyring)]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=40,
                             description="The authenticator app's code (or a recovery code), for an account "
                                         "that has one; without it the session waits at POST /auth/second-factor.")


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)


class PasswordChangeIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class PasswordResetIn(BaseModel):
    password: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="Omit for a random temporary password, returned once.")


class PasswordResetOut(BaseModel):
    username: str
    temporary_password: str = Field(description="Shown once; must be changed at the next sign-in.")


class EnrolmentOut(BaseModel):
    secret: str = Field(description="The TOTP key (base32), shown once.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an SVG element.")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Single-use codes, shown once.")


class UnlockOut(BaseModel):
    username: str
    was_locked: bool


class MeOut(BaseModel):
    signed_in: bool
    username: str
    display_name: str
    role: str
    via: str
    region_code: str | None = None
    department_code: str | None = None
    organisation: str | None = None
    subject_id: int | None = None
    permissions: dict[str, str]
    csrf_token: str | None = None
    pending: str | None = Field(default=None, description="A sign-in step left: code, password or enrol.")


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str | None = Field(default=None, min_length=8, max_length=200)
    role: Role
    display_name: str = Field(default="", max_length=200)
    region_code: str | None = Field(default=None, max_length=40)
    department_code: str | None = Field(default=None, max_length=50)
    organisation: str | None = Field(default=None, max_length=80)
    subject_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    region_code: str | None
    department_code: str | None
    organisation: str | None
    subject_id: int | None
    active: bool
    last_login_at: str | None
    second_factor: bool
    must_change_password: bool


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(default=None, ge=1, le=3650,
                             description="Lifetime; the sign-in policy's default (90) when omitted, its maximum "
                                         "(365) at most.")


class RotateIn(BaseModel):
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: str
    expires_at: str | None
    revoked: bool
    token: str | None = Field(default=None, description="The token itself; shown once, on creation.")


class ConsentIn(BaseModel):
    subject_id: int = Field(ge=1, le=2**31 - 1)
    organisation: str = Field(min_length=1, max_length=80)
    purpose: str = Field(min_length=1, max_length=500)
    days: int | None = Field(default=365, ge=1, le=3650)


class ConsentOut(BaseModel):
    id: int
    subject_id: int
    organisation: str
    purpose: str
    granted_on: str
    expires_on: str | None
    revoked_on: str | None


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    subject_id: int | None
    purpose: str | None
    detail: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    broken_id: int | None
    reason: str | None
    purged: int = 0  # entries deleted by retention purges, bridged by their checkpoints


def _me(who: Principal) -> MeOut:
    return MeOut(signed_in=who.signed_in, username=who.username, display_name=who.display_name, role=who.role.value,
                 via=who.via, region_code=who.region_code, department_code=who.department_code,
                 organisation=who.organisation, subject_id=who.subject_id,
                 permissions={} if who.pending else {k: v.value for k, v in permissions_of(who.role).items()},
                 csrf_token=who.csrf_token, pending=who.pending)


def _token_out(t: Any, plain: str | None = None) -> TokenOut:
    return TokenOut(id=t.id, name=t.name, prefix=t.prefix, created_at=t.created_at.isoformat(timespec="seconds"),
                    expires_at=t.expires_at.isoformat(timespec="seconds") if t.expires_at else None,
                    revoked=t.revoked_at is not None, token=plain)


def _consent_out(c: Any) -> ConsentOut:
    return ConsentOut(id=c.id, subject_id=c.subject_id, organisation=c.organisation, purpose=c.purpose,
                      granted_on=c.granted_on.isoformat(),
                      expires_on=c.expires_on.isoformat() if c.expires_on else None,
                      revoked_on=c.revoked_on.isoformat() if c.revoked_on else None)


# ----------------------------------------------------------------------------- auth


@router.post("/auth/login", response_model=MeOut, operation_id="auth_login")
def auth_login(body: LoginIn, request: Request, response: Response, session: DB, ring: Ring) -> MeOut:
    """Sign in with a password (and the authenticator's `code`, if the account has one);
    sets the session cookie and returns the CSRF token. `pending` names a step left —
    `code`, `password` or `enrol` — until which the session acts for nobody. Failures
    are audited; repeated ones lock the name and rate-limit the address (429)."""
    _user, cookie, _csrf = signin.sign_in(session, ring, username=body.username, password=body.password,
                                        code=body.code, client=client_address(request))
    set_session_cookie(request, response, cookie)
    return _me(signin.resolve_session(session, cookie))


@router.post("/auth/second-factor", response_model=MeOut, operation_id="auth_second_factor")
async def auth_second_factor(body: CodeIn, request: Request, who: Who, session: DB, ring: Ring) -> MeOut:
    """The second step of a password sign-in: a code from the authenticator app, or a
    recovery code. A wrong one counts toward the lock-out like a wrong password."""
    cookie = _session_cookie(request, who)
    await check_csrf(request, who)
    return _me(signin.second_factor(session, ring, cookie=cookie, code=body.code, client=client_address(request)))


@router.post("/auth/totp/enrol", response_model=EnrolmentOut, operation_id="auth_totp_enrol")
async def auth_totp_enrol(request: Request, who: Who, session: DB, ring: Ring) -> EnrolmentOut:
    """Start setting up an authenticator app: a new key, shown once as an otpauth URI
    and a QR code. It takes effect at POST /auth/totp/confirm."""
    user = _self_service(request, who, session, allow={"enrol", None})
    await check_csrf(request, who)
    e = mfa.begin(session, ring, user)
    return EnrolmentOut(secret=e.secret, otpauth_uri=e.uri, qr_svg=e.qr_svg)


@router.post("/auth/totp/confirm", response_model=RecoveryCodesOut, operation_id="auth_totp_confirm")
async def auth_totp_confirm(body: CodeIn, request: Request, who: Who, session: DB, ring: Ring) -> RecoveryCodesOut:
    """Prove the app has the key with one of its codes: the second factor is in force
    and this session counts as verified. Returns the recovery codes, shown once."""
    cookie = _session_cookie(request, who)
    user = _self_service(request, who, session, allow={"enrol", None})
    await check_csrf(request, who)
    codes = mfa.confirm(session, ring, user, body.code)
    signin.mark_verified(session, cookie, client=client_address(request))
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/auth/password", response_model=MeOut, operation_id="auth_password_change")
async def auth_password_change(body: PasswordChangeIn, request: Request, who: Who, session: DB) -> MeOut:
    """Change one's own password, proving the current one. Other browser sessions of the
    account end; this one goes on."""
    if not who.signed_in or who.user_id is None or who.pending not in (None, "password"):
        raise _incomplete_or_anonymous(who)
    await check_csrf(request, who)
    cookie = request.cookies.get(SESSION_COOKIE) if who.via == "session" else None
    signin.change_password(session, cookie=cookie, user_id=who.user_id, old_password=body.old_password,
                           new_password=body.new_password, client=client_address(request))
    if cookie:
        return _me(signin.resolve_session(session, cookie))
    return _me(who)


def _session_cookie(request: Request, who: Principal) -> str:
    cookie = request.cookies.get(SESSION_COOKIE)
    if who.via != "session" or not cookie:
        raise Unauthenticated("sign in with a password first (this step belongs to a browser session)")
    return cookie


def _self_service(request: Request, who: Principal, session: Session, *, allow: set[str | None]) -> User:
    cookie = _session_cookie(request, who)
    if who.pending not in allow:
        raise _incomplete_or_anonymous(who)
    return signin.account_of(session, cookie)


def _incomplete_or_anonymous(who: Principal) -> Exception:
    return SignInIncomplete(who.pending) if who.pending else Unauthenticated("sign in first")


@router.post("/auth/logout", status_code=204, operation_id="auth_logout")
async def auth_logout(request: Request, who: Who, session: DB) -> Response:
    """End this browser session."""
    await check_csrf(request, who)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        signin.end_session(session, cookie)
    resp = Response(status_code=204)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/auth/me", response_model=MeOut, operation_id="auth_me")
def auth_me(who: Who) -> MeOut:
    """Who the request is made as, with the data scope of every permission."""
    return _me(who)


@router.get("/roles", operation_id="roles_list")
def roles_list(grant: Annotated[Grant, Depends(require("users.manage"))]) -> list[dict[str, Any]]:
    """Every role with its labels and its permissions' data scopes."""
    return [{"role": r.value, "name_zh": ROLE_LABELS[r][0], "name_en": ROLE_LABELS[r][1],
             "permissions": {k: v.value for k, v in permissions_of(r).items()}} for r in Role]


# ----------------------------------------------------------------------------- users and tokens


@router.get("/users", response_model=list[UserOut], operation_id="users_list")
def users_list(grant: Annotated[Grant, Depends(require("users.manage"))], session: DB) -> list[UserOut]:
    return [UserOut(**user_service.user_dict(u)) for u in user_service.users(session)]


@router.post("/users", response_model=UserOut, status_code=201, operation_id="users_create")
def users_create(body: UserIn, grant: Annotated[Grant, Depends(require("users.manage"))], session: DB) -> UserOut:
    u = user_service.create_user(session, username=body.username, password=body.password, role=body.role.value,
                                 display_name=body.display_name, region_code=body.region_code,
                                 department_code=body.department_code, organisation=body.organisation,
                                 subject_id=body.subject_id, actor=grant.principal.actor)
    return UserOut(**user_service.user_dict(u))


@router.post("/users/{user_id}/deactivate", response_model=UserOut, operation_id="users_deactivate")
def users_deactivate(user_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))],
                     session: DB) -> UserOut:
    """The account can no longer sign in; its sessions and tokens end at once."""
    if user_id == grant.principal.user_id:
        raise InvalidInput("an administrator cannot deactivate the account they are signed in with")
    u = user_service.set_active(session, user_id=user_id, active=False, actor=grant.principal.actor)
    return UserOut(**user_service.user_dict(u))


@router.post("/users/{user_id}/activate", response_model=UserOut, operation_id="users_activate")
def users_activate(user_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))],
                   session: DB) -> UserOut:
    u = user_service.set_active(session, user_id=user_id, active=True, actor=grant.principal.actor)
    return UserOut(**user_service.user_dict(u))


@router.post("/users/{user_id}/password", response_model=PasswordResetOut, operation_id="users_password_reset")
def users_password_reset(user_id: Id, body: PasswordResetIn, grant: Annotated[Grant, Depends(require("users.manage"))],
                         session: DB) -> PasswordResetOut:
    """Set a temporary password (random unless given), shown once: the holder must
    choose a new one at the next sign-in. Ends the account's sessions, lifts a lock-out."""
    u = user_service.get_user(session, user_id)
    temporary = passwords.reset(session, user=u, password=body.password, actor=grant.principal.actor)
    return PasswordResetOut(username=u.username, temporary_password=temporary)


@router.post("/users/{user_id}/unlock", response_model=UnlockOut, operation_id="users_unlock")
def users_unlock(user_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))], session: DB) -> UnlockOut:
    """Lift the account's lock-out after failed sign-ins, before its time-out ends."""
    u = user_service.get_user(session, user_id)
    return UnlockOut(username=u.username, was_locked=attempts.unlock(session, username=u.username,
                                                                      actor=grant.principal.actor))


@router.post("/users/{user_id}/second-factor/reset", response_model=UserOut, operation_id="users_totp_reset")
def users_totp_reset(user_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))],
                     session: DB) -> UserOut:
    """Remove the account's authenticator app (a lost phone): its sessions end, and a role
    that requires a second factor sets up a new one at the next sign-in."""
    u = user_service.get_user(session, user_id)
    mfa.reset(session, u, actor=grant.principal.actor)
    return UserOut(**user_service.user_dict(u))


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201, operation_id="tokens_create")
def tokens_create(user_id: Id, body: TokenIn, grant: Annotated[Grant, Depends(require("users.manage"))],
                  session: DB) -> TokenOut:
    """Issue an API token for a department's or bank's system. Shown once."""
    plain, tok = user_service.issue_token(session, user_id=user_id, name=body.name, days=body.days,
                                          actor=grant.principal.actor)
    return _token_out(tok, plain)


@router.get("/users/{user_id}/tokens", response_model=list[TokenOut], operation_id="tokens_list")
def tokens_list(user_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))],
                session: DB) -> list[TokenOut]:
    user_service.get_user(session, user_id)
    return [_token_out(t) for t in user_service.tokens(session, user_id)]


@router.post("/tokens/{token_id}/rotate", response_model=TokenOut, status_code=201, operation_id="tokens_rotate")
def tokens_rotate(token_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))], session: DB,
                  body: RotateIn | None = None) -> TokenOut:
    """A successor for a live token (same account and name, shown once); the old one is
    revoked in the same step."""
    plain, tok = user_service.rotate_token(session, token_id=token_id, days=body.days if body else None,
                                           actor=grant.principal.actor)
    return _token_out(tok, plain)


@router.delete("/tokens/{token_id}", response_model=TokenOut, operation_id="tokens_revoke")
def tokens_revoke(token_id: Id, grant: Annotated[Grant, Depends(require("users.manage"))],
                  session: DB) -> TokenOut:
    return _token_out(user_service.revoke_token(session, token_id=token_id, actor=grant.principal.actor))


# ----------------------------------------------------------------------------- consents


@router.post("/consents", response_model=ConsentOut, status_code=201, operation_id="consents_grant")
def consents_grant(body: ConsentIn, grant: Annotated[Grant, Depends(require("consents.grant"))],
                   session: DB) -> ConsentOut:
    """A subject authorises an organisation (a bank) to read its file. A subject
    grants only for itself."""
    grant.require_subject(session, body.subject_id)
    c = user_service.grant_consent(session, subject_id=body.subject_id, organisation=body.organisation,
                                   purpose=body.purpose, days=body.days, actor=grant.principal.actor)
    return _consent_out(c)


@router.get("/consents", response_model=list[ConsentOut], operation_id="consents_list")
def consents_list(grant: Annotated[Grant, Depends(require("consents.grant"))], session: DB) -> list[ConsentOut]:
    if grant.scope is Scope.SELF:
        return [_consent_out(c) for c in user_service.consents(session, subject_id=grant.principal.subject_id)]
    return [_consent_out(c) for c in user_service.consents(session)]


@router.delete("/consents/{consent_id}", response_model=ConsentOut, operation_id="consents_revoke")
def consents_revoke(consent_id: Id, grant: Annotated[Grant, Depends(require("consents.grant"))],
                    session: DB) -> ConsentOut:
    """End a consent from today. A subject revokes only its own (another's answers 404);
    revoking twice answers the same consent and changes nothing."""
    own = grant.principal.subject_id if grant.scope is Scope.SELF else None
    if grant.scope is Scope.SELF and own is None:
        raise NotFound(f"consent {consent_id} not found")
    c = user_service.revoke_consent(session, consent_id=consent_id, subject_id=own, actor=grant.principal.actor)
    return _consent_out(c)


# ----------------------------------------------------------------------------- audit


@router.get("/audit/entries", response_model=list[AuditOut], operation_id="audit_entries")
def audit_entries(grant: Annotated[Grant, Depends(require("audit.read"))], session: DB,
                  subject_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                  action: Annotated[str | None, Query(max_length=100)] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[AuditOut]:
    """The newest audit entries, optionally about one subject or of one action."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject_id is not None:
        q = q.where(AuditEntry.subject_id == subject_id)
    if action:
        q = q.where(AuditEntry.action == action)
    return [AuditOut(id=e.id, at=e.at.isoformat(timespec="seconds"), actor=e.actor, action=e.action,
                     subject_id=e.subject_id, purpose=e.purpose, detail=e.detail)
            for e in session.execute(q).scalars()]


@router.get("/audit/verify", response_model=VerifyOut, operation_id="audit_verify")
def audit_verify(grant: Annotated[Grant, Depends(require("audit.read"))], session: DB) -> VerifyOut:
    """Recompute the hash chain; `ok` false names the first broken entry."""
    r = audit.verify(session)
    return VerifyOut(ok=r.ok, checked=r.checked, broken_id=r.broken_id, reason=r.reason, purged=r.purged)
