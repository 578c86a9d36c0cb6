"""The counter's second factor (柜台兑换的第二因素).

Staff redeem at the counter for a resident who signs in there. The resident's password
(typed by the resident, checked like a sign-in with its lock-out) is one factor; a
second one the resident controls is asked before anything is redeemed:

- **its authenticator app** (`security.mfa`) when its account has one: the resident
  reads out or types the app's current code, or a recovery code;
- else **a one-time code by SMS** to the resident's registered phone — the subject's
  entry in the office's contact directory, never a number typed at the counter — sent
  through the deployment's SMS channel plugin (the outbox) by a seam to the alerts
  domain (`register_code_sender`, wired in the composition root).

A resident with neither cannot redeem at the counter (it can on its own page). The
challenge is sealed with the store's key ring and handed to the page: it names the
account, the subject, the offer, the idempotency key, the staff member who asked and
when it ends, and holds only a salted digest of the SMS code, so the page (and the
staff member reading it) learns nothing of the code, and a challenge cannot be moved to
another offer, key or staff account. Wrong codes are recorded and audited as failed
sign-ins (`security.attempts`, factor "code"): `counter.attempts` of them end the
challenge, and they count towards the account's lock-out, so asking for new codes does
not give more guesses. The figures are policy (`counter` in `data/rules.yaml`).
Every step is on the audit chain with both names: the staff member as actor, the
resident's account and subject in the entry; the code itself never is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.points.rules import rules
from creditgov.security import attempts, mfa
from creditgov.security import service as audit
from creditgov.security.accounts import SigninAttempt, User
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Unauthenticated

# (session, *, subject_id, title, body, key) -> the masked phone it was queued for, or None
CodeSender = Callable[..., str | None]
_SENDERS: list[CodeSender] = []


def register_code_sender(fn: CodeSender) -> None:
    """The seam: how a one-time code reaches a subject's registered phone. The sender
    queues the message in the caller's transaction and returns the masked number, or
    None when the subject cannot be reached."""
    if fn not in _SENDERS:
        _SENDERS.append(fn)


class NoSecondFactor(Conflict):
    """The resident has neither an authenticator app nor a registered phone."""


@dataclass(frozen=True)
class Challenge:
    token: str              # sealed; the page carries it to the second step
    factor: str             # "totp" or "sms"
    sent_to: str | None     # the masked phone an SMS code went to
    expires_at: dt.datetime


@dataclass(frozen=True)
class Verified:
    user: User
    subject_id: int
    offer_id: int
    key: str
    factor: str             # "totp", "recovery" or "sms"


def _digest(nonce: str, code: str) -> str:
    return hashlib.sha256(f"{nonce}:{code}".encode()).hexdigest()


def start(session: Session, keyring: KeyRing, *, user: User, subject_id: int, offer_id: int, key: str,
          staff: str, lang: str = "zh") -> Challenge:
    """After the resident's password: ask for its second factor (module docstring)."""
    cfg = rules(session).counter
    now = clock.now()
    ends = now + dt.timedelta(minutes=cfg.code_minutes)
    nonce = secrets.token_hex(16)
    digest = sent_to = None
    if mfa.enrolled(user):
        factor = "totp"
    else:
        factor = "sms"
        code = f"{secrets.randbelow(10**6):06d}"
        if lang == "en":
            title = "Points counter code"
            body = (f"Your code is {code}. Give it to the counter staff only to redeem points; it is valid for "
                    f"{cfg.code_minutes} minutes. If you are not at a counter, do not give it to anyone.")
        else:
            title = "积分柜台验证码"
            body = (f"您的验证码为 {code}，仅用于在柜台兑换积分，{cfg.code_minutes} 分钟内有效。"
                    "如非本人在柜台办理，请勿告诉任何人。")
        for send in _SENDERS:
            sent_to = send(session, subject_id=subject_id, title=title, body=body, key=f"points-counter:{nonce}")
            if sent_to:
                break
        if not sent_to:
            audit.append(session, action="points.counter.no_factor", actor=staff, subject_id=subject_id,
                         detail={"user": user.username, "offer": offer_id})
            raise NoSecondFactor("the resident has no authenticator app and no registered mobile phone: it can "
                                 "redeem on its own page (/me/points), or register a phone with the office")
        digest = _digest(nonce, code)
    sealed = json.dumps({"u": user.id, "s": subject_id, "o": offer_id, "k": key, "by": staff, "f": factor,
                         "n": nonce, "d": digest, "at": now.isoformat(), "ends": ends.isoformat()},
                        separators=(",", ":"))
    audit.append(session, action="points.counter.challenge", actor=staff, subject_id=subject_id,
                 detail={"user": user.username, "offer": offer_id, "factor": factor, "sent_to": sent_to,
                         "until": ends.isoformat(timespec="seconds")})
    return Challenge(token=keyring.encrypt(sealed), factor=factor, sent_to=sent_to, expires_at=ends)


def _opened(keyring: KeyRing, token: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(keyring.decrypt(token))
    except Exception:  # a token not sealed by this store's key ring, or altered
        raise InvalidInput("this counter form is not valid any more: start again") from None
    return body


def _failures_since(session: Session, username: str, since: dt.datetime) -> int:
    return int(session.execute(select(func.count()).where(
        SigninAttempt.username == attempts.clean_name(username), SigninAttempt.outcome == "code",
        SigninAttempt.at >= since)).scalar_one())


def finish(session: Session, keyring: KeyRing, *, token: str, code: str, staff: str, client: str) -> Verified:
    """Check the resident's second factor for a challenge `start` made. Raises
    InvalidInput (not this store's, or another staff member's), Conflict (ended, or its
    attempts used up), TooManyAttempts (the account is locked out) or Unauthenticated
    (a wrong code: recorded, audited and committed)."""
    body = _opened(keyring, token)
    if body.get("by") != staff:
        raise InvalidInput("this code was asked for by another staff account: start again")
    started, ends = dt.datetime.fromisoformat(body["at"]), dt.datetime.fromisoformat(body["ends"])
    if clock.now() > ends:
        raise Conflict("the code has expired: start again")
    user = session.get(User, int(body["u"]))
    if user is None or not user.active or user.subject_id != body["s"]:
        raise Unauthenticated("the resident's account is not active")
    attempts.check_allowed(session, username=user.username, client=client)
    limit = rules(session).counter.attempts
    used = _failures_since(session, user.username, started)
    if used >= limit:
        raise Conflict(f"{limit} wrong codes: start again")
    typed = code.strip()
    method: str | None
    if body["f"] == "totp":
        method = mfa.check(session, keyring, user, typed)
    else:
        method = "sms" if hmac.compare_digest(_digest(str(body["n"]), typed), str(body["d"])) else None
    if method is None:
        user.failed_logins += 1
        attempts.failed(session, username=user.username, client=client, outcome="code",
                        detail={"known": True, "where": "points counter", "factor": body["f"], "staff": staff})
        left = limit - used - 1
        raise Unauthenticated(f"wrong code: {left} attempts left" if left > 0 else f"{limit} wrong codes: start again")
    attempts.succeeded(session, username=user.username, client=client)
    user.failed_logins = 0
    audit.append(session, action="points.counter.verified", actor=staff, subject_id=int(body["s"]),
                 detail={"user": user.username, "offer": body["o"], "factor": method})
    return Verified(user=user, subject_id=int(body["s"]), offer_id=int(body["o"]), key=str(body["k"]),
                    factor=method)
