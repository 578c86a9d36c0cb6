"""The second factor: TOTP authenticator apps (RFC 6238) and single-use recovery codes.

The TOTP key is the one sign-in secret the server must read back, so it is stored
encrypted with the store's key ring (never in the clear, and useless with the
database alone). Enrolment shows a new key once — as an otpauth:// URI and its QR
code — and takes effect only when a code from the app proves it was copied; then ten
recovery codes are shown once, of which only SHA-256 digests are kept (each carries
80 random bits, so the digests cannot be searched back). A code is accepted once: the
last accepted time step is kept, and an older or equal step is refused (RFC 6238,
section 5.2). Codes are judged by the real clock, as the phone's app keeps it, never
by the pinned demo day (`CREDITGOV_TODAY`).

pyotp does the RFC 6238 arithmetic; the QR code is encoded by reportlab, which the
credit report already uses for its verification code.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy import CursorResult, Update, delete, select, update
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.security import service as audit
from creditgov.security.accounts import RecoveryCode, User, WebSession
from creditgov.security.crypto import KeyRing
from creditgov.security.policy import policy
from creditgov.security.scopes import Role

STEP = 30  # seconds per code (RFC 6238's default; every authenticator app uses it)
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, none confusable
_RECOVERY_LEN = 16  # 80 bits


@dataclass(frozen=True)
class Enrolment:
    """What a person copies into their authenticator app, shown once."""

    secret: str
    uri: str
    qr_svg: str


def required(user: User) -> bool:
    """Whether the account's role must have a second factor to sign in with a password."""
    return Role(user.role) in policy().second_factor.required_roles


def enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def _uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=policy().second_factor.issuer)


def qr_svg(text: str) -> str:
    """An SVG element of the QR code for `text`: reportlab's encoder (the one the
    credit report uses) drawn as a single path with presentation attributes only — no
    inline styles, no text — so it may stand in a page under a strict CSP."""
    from reportlab.graphics.barcode import qrencoder

    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    n, quiet = qr.getModuleCount(), 4
    cells = "".join(f"M{c + quiet} {r + quiet}h1v1h-1z" for r in range(n) for c in range(n) if qr.isDark(r, c))
    size = n + 2 * quiet
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="200" height="200" '
            f'shape-rendering="crispEdges" role="img"><rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path d="{cells}" fill="#000"/></svg>')


def begin(session: Session, keyring: KeyRing, user: User) -> Enrolment:
    """A new key for the account, kept (encrypted) until a code confirms it; a key
    already in use stays in use until then."""
    secret = pyotp.random_base32()
    user.totp_pending = keyring.encrypt(secret)
    uri = _uri(user, secret)
    return Enrolment(secret=secret, uri=uri, qr_svg=qr_svg(uri))


def confirm(session: Session, keyring: KeyRing, user: User, code: str) -> list[str]:
    """Put the pending key in force once `code` proves the app has it; returns the new
    recovery codes (shown once; earlier ones stop working)."""
    if not user.totp_pending:
        raise InvalidInput("no authenticator app is being set up: start the enrolment first")
    secret = keyring.decrypt(user.totp_pending)
    step = _match(secret, _digits(code), after=None)
    if step is None:
        audit.append(session, action="totp.enrol_failed", actor=f"user:{user.username}",
                     detail={"user": user.username})
        raise InvalidInput("the code does not match: check that the phone's clock is right and enter the newest code")
    user.totp_secret, user.totp_pending = user.totp_pending, None
    user.totp_enabled_at, user.totp_last_step = clock.now(), step
    codes = _new_recovery_codes(session, user)
    audit.append(session, action="totp.enrol", actor=f"user:{user.username}", detail={"user": user.username})
    return codes


def enrol_now(session: Session, keyring: KeyRing, user: User, *, actor: str | None = None
              ) -> tuple[Enrolment, list[str]]:
    """Enrol without a confirming code, for accounts set up at the console (the demo
    accounts, a first administrator): the key is printed to whoever runs the command."""
    e = begin(session, keyring, user)
    user.totp_secret, user.totp_pending = user.totp_pending, None
    user.totp_enabled_at, user.totp_last_step = clock.now(), None
    codes = _new_recovery_codes(session, user)
    audit.append(session, action="totp.enrol", actor=actor, detail={"user": user.username, "at_console": True})
    return e, codes


def reset(session: Session, user: User, *, actor: str | None = None) -> None:
    """Remove the account's second factor (a lost phone and no recovery code left):
    its sessions end, and a role that requires one is asked to enrol at the next
    sign-in."""
    user.totp_secret = user.totp_pending = None
    user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.append(session, action="totp.reset", actor=actor, detail={"user": user.username})


def check(session: Session, keyring: KeyRing, user: User, code: str) -> str | None:
    """"totp" or "recovery" when `code` is a valid second factor for the account (and
    marks it used), else None."""
    if not enrolled(user):
        return None
    compact = re.sub(r"[\s-]", "", code).upper()
    if re.fullmatch(r"\d{6}", compact):
        assert user.totp_secret is not None  # enrolled
        step = _match(keyring.decrypt(user.totp_secret), compact, after=user.totp_last_step)
        if step is None:
            return None
        # Conditional, so two requests racing with one code cannot both pass.
        won = _changed(session, update(User).where(User.id == user.id, (User.totp_last_step.is_(None))
                                                   | (User.totp_last_step < step)).values(totp_last_step=step))
        session.expire(user, ["totp_last_step"])
        return "totp" if won else None
    if len(compact) == _RECOVERY_LEN and set(compact) <= set(_RECOVERY_ALPHABET):
        digest = _recovery_digest(compact)
        used = _changed(session, update(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None))
            .values(used_at=clock.now()))
        if used:
            left = recovery_codes_left(session, user)
            audit.append(session, action="totp.recovery_used", actor=f"user:{user.username}",
                         detail={"user": user.username, "left": left})
            return "recovery"
    return None


def _changed(session: Session, stmt: Update) -> int:
    """Rows an UPDATE changed (the in-memory objects are left for the caller to expire)."""
    res: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE answers a CursorResult
        stmt.execution_options(synchronize_session=False))
    return int(res.rowcount)


def recovery_codes_left(session: Session, user: User) -> int:
    return len(list(session.execute(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalars()))


def _digits(code: str) -> str:
    return re.sub(r"\s", "", code)


def _match(secret: str, code: str, *, after: int | None) -> int | None:
    """The time step within the accepted drift whose code is `code`, and later than
    `after`; None when there is none."""
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP
    window = policy().second_factor.valid_window
    for step in range(now - window, now + window + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_digest(compact: str) -> str:
    return hashlib.sha256(compact.encode("ascii")).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = clock.now()
    out = []
    for _ in range(policy().second_factor.recovery_codes):
        compact = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LEN))
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(compact), created_at=now))
        out.append("-".join(compact[i:i + 4] for i in range(0, _RECOVERY_LEN, 4)))
    session.flush()
    return out
