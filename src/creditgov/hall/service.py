"""The rules of the service-hall windows (办事大厅信用查询、异议窗口).

A visitor comes to the counter; the window's staff open a counter session for it once
it has identified itself on the counter device: its ID number (resident ID number, or a
firm's unified social credit code) and its **own account's password** — plus its
authenticator code when its account has one. The password is checked exactly like a
sign-in (`security.signin.authenticate`: lock-out and rate limits, failures recorded),
the way the points counter already serves residents (`points.pages`). We chose the
visitor's password over a code sent by SMS because the accounts hold no registered,
verified phone number to send one to (a phone typed at the counter proves nothing),
and a password typed by the visitor on the counter keypad is a factor only the visitor
controls; staff never see it.

In the session staff read the visitor's own credit report (the own view, an audited
read) and file objections on its behalf (`workflows.objection`, channel `window`).
Every step is on the audit chain with both names: the staff member as actor, the
visitor's account and subject in the entry. A session belongs to the staff account
that opened it, ends when staff end it, and times out (data/hall.yaml): after
`idle_minutes` without a step and `absolute_minutes` after it opened, whichever first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.hall.models import CounterSession
from creditgov.hall.schemas import HallFile
from creditgov.security import attempts, mfa, signin
from creditgov.security import service as audit
from creditgov.security.accounts import User
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Role, Unauthenticated
from creditgov.subjects import service as subject_service
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Subject
from creditgov.workflows import flows
from creditgov.workflows.models import Objection
from creditgov.workflows.objection import file_objection

POLICY = PolicyFile(HallFile, "creditgov.hall", "data/hall.yaml")
WRONG = "wrong ID number or password"


class CounterClosed(Conflict):
    """The counter session was ended or has timed out: open a new one."""


def policy() -> HallFile:
    return POLICY.shipped()


def _visitor_account(session: Session, subject: Subject, username: str | None) -> User:
    accounts = list(session.execute(select(User).where(
        User.role == Role.SUBJECT.value, User.subject_id == subject.id, User.active.is_(True))
        .order_by(User.id)).scalars())
    if username:
        chosen = [u for u in accounts if u.username == username.strip()]
        if not chosen:
            raise Unauthenticated(WRONG)
        return chosen[0]
    if not accounts:
        raise InvalidInput("this subject has no account: the visitor registers one first", code="hall.no_account")
    if len(accounts) > 1:
        raise InvalidInput("the subject has several accounts: ask the visitor for its user name",
                           code="hall.several_accounts")
    return accounts[0]


def open_session(session: Session, keyring: KeyRing, *, staff: str, id_number: str, password: str, client: str,
                 username: str | None = None, code: str | None = None, window: str | None = None) -> CounterSession:
    """Identify the visitor (ID number + its own password, and its authenticator code
    when its account has one) and open a counter session for it. A wrong ID number
    answers like a wrong password."""
    key = id_number.strip().upper()
    if not (looks_like_resident_id(key) or looks_like_uscc(key)):
        raise InvalidInput("give the visitor's resident ID number or unified social credit code",
                           code="hall.no_identifier")
    try:
        subject = subject_service.resolve(session, keyring, key)
    except NotFound:
        raise Unauthenticated(WRONG) from None
    account = _visitor_account(session, subject, username)
    user = signin.authenticate(session, username=account.username, password=password, client=client)
    if mfa.enrolled(user):
        if not code or mfa.check(session, keyring, user, code.strip()) is None:
            user.failed_logins += 1
            attempts.failed(session, username=user.username, client=client, outcome="code", detail={"known": True})
            raise Unauthenticated("the visitor's authenticator code is missing or wrong")
    now = clock.now()
    cs = CounterSession(subject_id=subject.id, staff=staff, visitor=user.username,
                        window=(window or "").strip()[:40] or None, opened_at=now, last_seen_at=now)
    session.add(cs)
    session.flush()
    _audit(session, cs, "hall.open", {"window": cs.window, "factor": "password+totp" if mfa.enrolled(user)
                                      else "password"})
    return cs


def _audit(session: Session, cs: CounterSession, action: str, extra: dict[str, Any] | None = None) -> None:
    audit.append(session, action=action, actor=cs.staff, subject_id=cs.subject_id, purpose="service-hall window",
                 detail={"counter_session": cs.id, "staff": cs.staff, "visitor": cs.visitor, **(extra or {})})


def ends_at(cs: CounterSession) -> dt.datetime:
    """When the session times out if nothing more happens."""
    pol = policy()
    return min(cs.last_seen_at + dt.timedelta(minutes=pol.idle_minutes),
               cs.opened_at + dt.timedelta(minutes=pol.absolute_minutes))


def _close(session: Session, cs: CounterSession, reason: str) -> None:
    cs.ended_at, cs.end_reason = clock.now(), reason
    _audit(session, cs, f"hall.{'end' if reason == 'ended' else 'timeout'}")


def live(session: Session, session_id: int, *, staff: str) -> CounterSession:
    """The staff member's own open session, its clock restarted; NotFound for another's,
    CounterClosed (after recording the time-out) for one ended or timed out. The caller
    commits on CounterClosed so the time-out is kept."""
    cs = session.execute(select(CounterSession).where(CounterSession.id == session_id).with_for_update()).scalar()
    if cs is None or cs.staff != staff:
        raise NotFound(f"counter session {session_id} not found")
    if cs.ended_at is not None:
        raise CounterClosed("this counter session has ended")
    now = clock.now()
    if now >= ends_at(cs):
        _close(session, cs, "timeout")
        raise CounterClosed("this counter session timed out: the visitor signs in again")
    cs.last_seen_at = now
    return cs


def report(session: Session, keyring: KeyRing, cs: CounterSession) -> dict[str, Any]:
    """The visitor's own credit report, read for it at the window (audited twice: the
    file's read and the window step naming both people)."""
    view = flows.own_view(session, keyring, str(cs.subject_id), actor=cs.staff)
    _audit(session, cs, "hall.query", {"records": len(view["file"]["records"])})
    return view


def object_to(session: Session, cs: CounterSession, *, record_ids: Sequence[int], reason: str,
              evidence: Sequence[Path] = (), files_dir: Path | None = None) -> list[Objection]:
    """An objection filed at the window on the visitor's behalf (channel `window`), to
    records of the visitor's own file only."""
    got = file_objection(session, subject_id=cs.subject_id, record_ids=record_ids, reason=reason, channel="window",
                         evidence=evidence, files_dir=files_dir, actor=cs.staff)
    _audit(session, cs, "hall.objection", {"objections": [o.id for o in got], "records": list(record_ids)})
    return got


def end(session: Session, cs: CounterSession) -> CounterSession:
    _close(session, cs, "ended")
    return cs


def open_sessions(session: Session, *, staff: str) -> list[CounterSession]:
    """The staff member's sessions still open; those past their time-out are closed."""
    rows = list(session.execute(select(CounterSession).where(CounterSession.staff == staff,
                                                             CounterSession.ended_at.is_(None))
                                .order_by(CounterSession.id)).scalars())
    now = clock.now()
    out = []
    for cs in rows:
        if now >= ends_at(cs):
            _close(session, cs, "timeout")
        else:
            out.append(cs)
    return out
