"""The points ledger: accounts, entries, balances, lots and expiry, manual awards.

A balance is always the sum of a subject's entries. Every entry that takes points
away first locks the subject's account row (PostgreSQL `FOR UPDATE`; on SQLite the
unit of work already holds the write lock from `BEGIN IMMEDIATE`), so a spend, a
reversal and an expiry of one subject never read the same balance, and no entry may
take a balance below zero. Points are used oldest first: each credit is a lot with the
date it expires, and whatever takes points away takes them from the lot expiring first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.points.models import PointsAccount, PointsAward, PointsEntry
from creditgov.points.rules import rules
from creditgov.points.schemas import Cap
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

NEVER = dt.date(9999, 12, 31)


def ensure_accounts(session: Session, subject_ids: Iterable[int]) -> None:
    """Open the accounts that do not exist yet; concurrent openers do not collide."""
    rows = [{"subject_id": s, "opened_at": clock.now()} for s in sorted(set(subject_ids))]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(PointsAccount) if dialect == "postgresql" else sqlite.insert(PointsAccount)
    session.execute(ins.values(rows).on_conflict_do_nothing(index_elements=["subject_id"]))


_A = PointsAccount.__table__.c
_LOCK_ACCOUNT = select(_A.subject_id).where(_A.subject_id == bindparam("sid")).with_for_update()


def lock_account(session: Session, subject_id: int) -> None:
    """Hold the subject's account until the transaction ends (see the module docstring).
    An account that exists (the usual case) costs one statement; a missing one is
    opened first."""
    if session.execute(_LOCK_ACCOUNT, {"sid": subject_id}).first() is None:
        ensure_accounts(session, [subject_id])
        session.execute(_LOCK_ACCOUNT, {"sid": subject_id}).one()


def balance(session: Session, subject_id: int) -> int:
    q = select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(PointsEntry.subject_id == subject_id)
    return int(session.execute(q).scalar_one())


def entry_by_key(session: Session, cause_key: str) -> PointsEntry | None:
    return session.execute(select(PointsEntry).where(PointsEntry.cause_key == cause_key)).scalar_one_or_none()


def _must_hold(subject_id: int, have: int, need: int) -> None:
    """The ledger never goes below zero."""
    if have < need:
        raise Conflict(f"subject {subject_id} has {have} points, {need} are needed")


def post(session: Session, *, subject_id: int, amount: int, kind: str, cause: str, ref_type: str,
         ref_id: int | None, cause_key: str, actor: str, rule: str | None = None, period: str | None = None,
         expires_on: dt.date | None = None, reverses_id: int | None = None,
         note: str | None = None) -> PointsEntry | None:
    """Append one entry, or nothing when its cause is already in the ledger (a job run
    twice, a retried request). A debit must find the account locked by the caller and
    the balance enough: the ledger never goes below zero."""
    if amount == 0:
        return None
    if entry_by_key(session, cause_key) is not None:
        return None
    if amount < 0:
        _must_hold(subject_id, balance(session, subject_id), -amount)
    else:
        ensure_accounts(session, [subject_id])
    today = clock.today()
    e = PointsEntry(subject_id=subject_id, amount=amount, kind=kind, cause=cause, ref_type=ref_type, ref_id=ref_id,
                    rule=rule, period=period, earned_on=today, expires_on=expires_on, reverses_id=reverses_id,
                    cause_key=cause_key, note=note, actor=actor, at=clock.now())
    session.add(e)
    session.flush()
    return e


_DEBIT = insert(cast(Table, PointsEntry.__table__))


def debit(session: Session, *, subject_id: int, amount: int, kind: str, cause: str, ref_type: str, ref_id: int,
          cause_key: str, actor: str, note: str | None, have: int) -> None:
    """Take `amount` points for a cause created in this transaction (a redemption):
    one statement, no ORM object. The caller holds the account lock and has just read
    the balance `have`; the ledger still never goes below zero, and the cause key's
    unique index refuses a second entry for the same cause."""
    if amount <= 0:
        raise InvalidInput("a debit takes a positive number of points")
    _must_hold(subject_id, have, amount)
    session.connection().execute(_DEBIT, {"subject_id": subject_id, "amount": -amount, "kind": kind, "cause": cause,
                             "ref_type": ref_type, "ref_id": ref_id, "rule": None, "period": None,
                             "earned_on": clock.today(), "expires_on": None, "reverses_id": None,
                             "cause_key": cause_key, "note": note, "actor": actor, "at": clock.now()})


def expiry_for(session: Session, earned_on: dt.date) -> dt.date:
    return clock.add_months(earned_on, rules(session).expiry.months)


def period_of(cap: Cap | None, day: dt.date) -> str | None:
    if cap is None:
        return None
    return f"{day:%Y}" if cap.period == "year" else f"{day:%Y-%m}"


def earned_in_period(session: Session, subject_id: int, rule: str, period: str) -> int:
    """Net points a rule gave a subject in one cap period (its reversals included)."""
    q = select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
        PointsEntry.subject_id == subject_id, PointsEntry.rule == rule, PointsEntry.period == period)
    return int(session.execute(q).scalar_one())


# ------------------------------------------------------------------ lots (oldest first)
@dataclass
class Lot:
    entry_id: int
    expires_on: dt.date
    remaining: int


_E = PointsEntry.__table__.c
_MOVES = select(_E.id, _E.amount, _E.expires_on, _E.reverses_id).where(_E.subject_id == bindparam("sid")).order_by(_E.id)


def _moves(session: Session, subject_id: int) -> list[tuple[int, int, dt.date | None, int | None]]:
    return [(int(i), int(a), x, r) for i, a, x, r in session.connection().execute(_MOVES, {"sid": subject_id})]


def lots(session: Session, subject_id: int) -> list[Lot]:
    """The subject's credits with what is left of each after every debit, replayed in
    ledger order; the remainders add up to the balance."""
    return _lots(_moves(session, subject_id))


def position(session: Session, subject_id: int) -> tuple[int, dt.date | None]:
    """(balance, when the points a spend takes now would have expired), from one read of
    the subject's entries: the balance is their sum, exactly as `balance` computes it."""
    moves = _moves(session, subject_id)
    left = sorted(_lots(moves), key=lambda x: (x.expires_on, x.entry_id))
    return sum(m[1] for m in moves), (left[0].expires_on if left else None)


def _lots(moves: list[tuple[int, int, dt.date | None, int | None]]) -> list[Lot]:
    out: list[Lot] = []
    by_id: dict[int, Lot] = {}
    for entry_id, amount, expires_on, reverses_id in moves:
        if amount > 0:
            lot = Lot(entry_id, expires_on or NEVER, amount)
            out.append(lot)
            by_id[entry_id] = lot
            continue
        need = -amount
        first = by_id.get(reverses_id) if reverses_id else None
        for lot in ([first] if first else []) + sorted(out, key=lambda x: (x.expires_on, x.entry_id)):
            take = min(need, lot.remaining)
            lot.remaining -= take
            need -= take
            if need == 0:
                break
    return [lot for lot in out if lot.remaining > 0]


def earliest_expiry(session: Session, subject_id: int) -> dt.date | None:
    """When the points a spend takes now (the oldest lot) would have expired."""
    left = sorted(lots(session, subject_id), key=lambda x: (x.expires_on, x.entry_id))
    return left[0].expires_on if left else None


def expire_subject(session: Session, subject_id: int, today: dt.date, actor: str) -> int:
    lock_account(session, subject_id)
    due = sum(lot.remaining for lot in lots(session, subject_id) if lot.expires_on <= today)
    e = post(session, subject_id=subject_id, amount=-due, kind="expire", cause="expiry", ref_type="entry",
             ref_id=None, cause_key=f"expire:{subject_id}:{today.isoformat()}", actor=actor,
             note=f"points earned {rules(session).expiry.months} months ago and not used")
    return due if e is not None else 0


def expire_due(session: Session, *, today: dt.date, actor: str) -> dict[str, int]:
    """Expire, subject by subject, every lot whose date has come. Only subjects with a
    credit expiring after their last expiry entry are looked at."""
    credit, done = aliased(PointsEntry), aliased(PointsEntry)
    later = exists().where(done.subject_id == credit.subject_id, done.kind == "expire",
                           done.earned_on >= credit.expires_on)
    q = (select(credit.subject_id).where(credit.amount > 0, credit.expires_on.is_not(None),
                                         credit.expires_on <= today, ~later).distinct())
    subjects = [s for (s,) in session.execute(q)]
    points = sum(expire_subject(session, s, today, actor) for s in subjects)
    return {"subjects": len(subjects), "points": points}


def reverse(session: Session, entry: PointsEntry, *, actor: str, reason: str) -> PointsEntry | None:
    """Take back what a credit gave by a new entry. At most the balance is taken: points
    already spent are not clawed back, and the entry's note says how many were short."""
    if entry.amount <= 0:
        raise InvalidInput(f"entry {entry.id} is not a credit")
    key = f"{entry.cause_key}:reversed"
    if entry_by_key(session, key) is not None:
        return None
    lock_account(session, entry.subject_id)
    take = min(entry.amount, balance(session, entry.subject_id))
    short = entry.amount - take
    note = reason + (f"; {short} points already used were not taken back" if short else "")
    if take == 0:
        take_note = PointsEntry(subject_id=entry.subject_id, amount=0, kind="reverse", cause="correction",
                                ref_type="entry", ref_id=entry.id, rule=entry.rule, period=entry.period,
                                earned_on=clock.today(), reverses_id=entry.id, cause_key=key, note=note, actor=actor,
                                at=clock.now())
        session.add(take_note)  # a zero entry still records that the credit was reversed
        session.flush()
        return take_note
    return post(session, subject_id=entry.subject_id, amount=-take, kind="reverse", cause="correction",
                ref_type="entry", ref_id=entry.id, cause_key=key, actor=actor, rule=entry.rule,
                period=entry.period, reverses_id=entry.id, note=note)


def unreversed(kind: str, ref_type: str) -> Select[tuple[PointsEntry]]:
    """Credits of one kind and reference not reversed yet."""
    rev = aliased(PointsEntry)
    return select(PointsEntry).where(PointsEntry.kind == kind, PointsEntry.ref_type == ref_type,
                                     ~exists().where(and_(rev.reverses_id == PointsEntry.id)))


# ------------------------------------------------------------------ manual awards
def propose_award(session: Session, *, subject_id: int, points: int, reason: str,
                  actor: str) -> tuple[PointsAward, bool]:
    """A manual award, pending a second person, and whether it is new. The same proposal
    again — same proposer, subject, points and reason while the first still waits — is
    that first proposal (not new), not a second one two approvers could both pass: a
    retried request or a form sent twice awards once."""
    cfg = rules(session).awards
    if session.get(Subject, subject_id) is None:
        raise NotFound(f"subject {subject_id} not found")
    if points > cfg.max_points:
        raise InvalidInput(f"an award is at most {cfg.max_points} points ({cfg.citation})")
    lock_account(session, subject_id)  # two copies of one request wait here, and the second finds the first
    same = session.execute(select(PointsAward).where(
        PointsAward.subject_id == subject_id, PointsAward.status == "pending", PointsAward.points == points,
        PointsAward.reason == reason.strip(), PointsAward.proposed_by == actor).order_by(PointsAward.id)).scalars().first()
    if same is not None:
        return same, False
    a = PointsAward(subject_id=subject_id, points=points, reason=reason.strip(), status="pending",
                    proposed_by=actor, proposed_at=clock.now())
    session.add(a)
    session.flush()
    audit.append(session, action="points.award.propose", actor=actor, subject_id=subject_id,
                 detail={"award": a.id, "points": points})
    return a, True


def decide_award(session: Session, award_id: int, *, approve: bool, actor: str) -> PointsAward:
    """The second person's decision: the proposer may not decide their own award, and
    an award that would pass the period's cap is refused rather than cut."""
    a = session.execute(select(PointsAward).where(PointsAward.id == award_id).with_for_update()).scalar_one_or_none()
    if a is None:
        raise NotFound(f"award {award_id} not found")
    if a.status != "pending":
        raise Conflict(f"award {award_id} is already {a.status}")
    if a.proposed_by == actor:
        raise Conflict("an award needs a second person: the proposer cannot approve it")
    a.status, a.decided_by, a.decided_at = ("approved" if approve else "rejected"), actor, clock.now()
    if approve:
        cfg = rules(session).awards
        today = clock.today()
        period = period_of(cfg.cap, today)
        if cfg.cap is not None and period is not None:
            lock_account(session, a.subject_id)
            room = cfg.cap.points - earned_in_period(session, a.subject_id, "award", period)
            if a.points > room:
                raise Conflict(f"the subject has {max(room, 0)} award points left this {cfg.cap.period} "
                               f"(cap {cfg.cap.points}; {cfg.citation})")
        e = post(session, subject_id=a.subject_id, amount=a.points, kind="award", cause="award", ref_type="award",
                 ref_id=a.id, cause_key=f"award:{a.id}", actor=actor, rule="award", period=period,
                 expires_on=expiry_for(session, today), note=a.reason)
        a.entry_id = e.id if e else None
    session.flush()
    audit.append(session, action=f"points.award.{a.status}", actor=actor, subject_id=a.subject_id,
                 detail={"award": a.id, "points": a.points})
    return a
