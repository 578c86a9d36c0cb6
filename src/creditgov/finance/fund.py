"""The risk-compensation fund (风险补偿资金池): deposits, claims, review, payout, the
ledger and the balance.

A bank claims on one of its defaulted loans inside the policy's window; the loan must
be eligible (borrower kind, collateral-free, principal within the limit). The amount
covered is the policy's share of the outstanding principal, at most the per-loan cap.
The credit office (or the finance bureau acting as it) approves or rejects; payout moves
the money. Under concurrent calls nothing is paid twice or over a cap:

- one claim per loan (a unique key on `loan_id`);
- a claim is paid by the one statement that moves it from approved to paid;
- the bank's total rises only by `UPDATE … SET paid = paid + x WHERE paid + x <= cap`
  and the pool falls only by `UPDATE … SET balance = balance - x WHERE balance >= x`,
  each checked for one row changed, all in the payout's transaction.

Every step appends to the audit chain and payouts and deposits to the fund's ledger.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creditgov.core import clock, labels
from creditgov.core.amounts import yuan
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.finance.models import Bank, FundBankTotal, FundClaim, FundEntry, FundPool, Loan
from creditgov.finance.policy import policy
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

CENT = Decimal("0.01")


def _pool(session: Session) -> None:
    if session.get(FundPool, 1) is None:
        try:
            with session.begin_nested():
                session.execute(insert(FundPool).values(id=1, balance=Decimal(0)))
        except IntegrityError:
            pass


def _deposit_by_ref(session: Session, ref: str) -> FundEntry | None:
    return session.execute(select(FundEntry).where(FundEntry.kind == "deposit", FundEntry.ref == ref)
                           ).scalar_one_or_none()


def _same_deposit(old: FundEntry, amount: Decimal) -> FundEntry:
    if old.amount != amount:
        raise Conflict(f"deposit {old.ref!r} was recorded with another amount ({old.amount})",
                       code="finance.deposit.other_amount", params={"ref": old.ref, "amount": yuan(old.amount)})
    return old


def deposit(session: Session, *, amount: Decimal, ref: str, note: str, actor: str) -> tuple[FundEntry, bool]:
    """Money into the pool (a budget allocation) under the office's reference for it
    (the allocation document's or the transfer's number): (the ledger entry, created).
    The same reference again answers the first deposit and adds nothing, as a bank's
    repayment reference does; with another amount it is refused (a Conflict). Two
    concurrent deposits of one reference meet the ledger's unique index: one adds."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("a deposit names its reference", code="finance.deposit.no_ref")
    if amount <= 0:
        raise InvalidInput("a deposit is positive", code="finance.deposit.not_positive", params={"value": amount})
    if amount != amount.quantize(CENT):  # stored to the fen: 100.005 would be kept as another amount
        raise InvalidInput("a deposit is in yuan and fen (two decimals at most)", code="finance.deposit.fen",
                           params={"value": amount})
    old = _deposit_by_ref(session, ref)
    if old is not None:
        return _same_deposit(old, amount), False
    _pool(session)
    entry = FundEntry(kind="deposit", ref=ref, amount=amount, note=note, at=clock.now(), actor=actor)
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        old = _deposit_by_ref(session, ref)
        if old is None:
            raise
        return _same_deposit(old, amount), False
    session.execute(update(FundPool).where(FundPool.id == 1).values(balance=FundPool.balance + amount))
    audit.append(session, action="finance.fund.deposit", actor=actor,
                 detail={"entry": entry.id, "ref": ref, "amount": str(amount), "note": note})
    return entry, True


def deposit_dict(session: Session, entry: FundEntry, created: bool) -> dict[str, Any]:
    return {"deposit": entry.id, "ref": entry.ref, "amount": str(entry.amount), "note": entry.note,
            "created": created, "balance": str(balance(session))}


def balance(session: Session) -> Decimal:
    row = session.get(FundPool, 1, populate_existing=True)
    return row.balance if row is not None else Decimal(0)


def eligibility(session: Session, loan: Loan) -> list[str]:
    """Why the loan is not eligible (empty: eligible)."""
    doc = policy(session).fund
    why = []
    kind = session.execute(select(Subject.kind).where(Subject.id == loan.subject_id)).scalar()
    if kind not in doc.kinds:
        why.append(f"borrower kind {kind} is not covered")
    if doc.collateral_free_only and not loan.collateral_free:
        why.append("only collateral-free loans are covered")
    if loan.principal > doc.max_principal.value:
        why.append(f"principal {loan.principal} is above {doc.max_principal.value}")
    return why


def claim(session: Session, *, bank: Bank, loan_id: int, actor: str) -> FundClaim:
    """A bank's claim on a defaulted eligible loan of its own, inside the window."""
    loan = session.get(Loan, loan_id)
    if loan is None or loan.bank_id != bank.id:
        raise NotFound(f"loan {loan_id} not found", code="finance.loan.not_found", params={"id": loan_id})
    if loan.status != "default" or loan.defaulted_on is None:
        raise Conflict(f"loan {loan_id} is {loan.status}; only a loan in default is claimed",
                       code="finance.claim.not_default", params={"id": loan.id, "status": loan.status})
    why = eligibility(session, loan)
    if why:
        raise Conflict(f"loan {loan_id} is not eligible: " + "; ".join(why), code="finance.claim.not_eligible",
                       params={"id": loan.id})
    doc = policy(session).fund
    today = clock.today()
    if (loan.defaulted_on < loan.granted_on or loan.defaulted_on > today
            or (loan.overdue_since is not None and loan.overdue_since < loan.granted_on)):
        # a report from before the dates were checked (loans.report_status): not a default to pay on
        raise Conflict(f"loan {loan_id}'s default ({loan.defaulted_on}, overdue since {loan.overdue_since}) does "
                       f"not fall between its grant ({loan.granted_on}) and today",
                       code="finance.claim.default_dates",
                       params={"id": loan.id, "defaulted_on": loan.defaulted_on.isoformat(),
                               "granted_on": loan.granted_on.isoformat()})
    if (today - loan.defaulted_on).days > doc.claim_window_days:
        raise Conflict(f"the claim window ({doc.claim_window_days} days from default) has passed",
                       code="finance.claim.window", params={"id": loan.id, "days": doc.claim_window_days,
                                                            "defaulted_on": loan.defaulted_on.isoformat()})
    covered = min((loan.outstanding * doc.share.value).quantize(CENT, ROUND_HALF_UP), doc.cap_per_loan.value)
    c = FundClaim(loan_id=loan.id, bank_id=bank.id, loss=loan.outstanding, amount=covered, status="submitted",
                  filed_on=today, filed_by=actor)
    try:
        with session.begin_nested():
            session.add(c)
            session.flush()
    except IntegrityError:
        raise Conflict(f"loan {loan_id} has a claim already", code="finance.claim.exists",
                       params={"id": loan_id}) from None
    audit.append(session, action="finance.fund.claim", actor=actor, subject_id=loan.subject_id,
                 detail={"claim": c.id, "loan": loan.id, "bank": bank.code, "loss": str(c.loss),
                         "amount": str(c.amount)})
    return c


def review(session: Session, *, claim_id: int, approve: bool, note: str | None, actor: str) -> FundClaim:
    c = session.get(FundClaim, claim_id, with_for_update=True)
    if c is None:
        raise NotFound(f"claim {claim_id} not found", code="finance.claim.not_found", params={"id": claim_id})
    if c.filed_by == actor:
        raise Conflict("a claim is reviewed by someone other than who filed it", code="finance.claim.own",
                       params={"id": claim_id})
    if not approve and not (note or "").strip():
        raise InvalidInput("a rejection says why (note)", code="finance.claim.reject_note")
    moved = session.execute(update(FundClaim).where(FundClaim.id == claim_id, FundClaim.status == "submitted")
                            .values(status="approved" if approve else "rejected", decided_at=clock.now(),
                                    decided_by=actor, note=note))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult has rowcount
        session.refresh(c)
        raise Conflict(f"claim {claim_id} is {c.status}", code="finance.claim.decided",
                       params={"id": claim_id, "status": c.status})
    audit.append(session, action="finance.fund.approve" if approve else "finance.fund.reject", actor=actor,
                 detail={"claim": claim_id, "note": note})
    session.refresh(c)
    return c


def pay(session: Session, *, claim_id: int, actor: str) -> FundClaim:
    """Pay an approved claim: once, within the bank's cap and the pool's balance."""
    c = session.get(FundClaim, claim_id)
    if c is None:
        raise NotFound(f"claim {claim_id} not found", code="finance.claim.not_found", params={"id": claim_id})
    cap = policy(session).fund.cap_per_bank.value
    moved = session.execute(update(FundClaim).where(FundClaim.id == claim_id, FundClaim.status == "approved")
                            .values(status="paid", paid_at=clock.now()))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult has rowcount
        session.refresh(c)
        raise Conflict(f"claim {claim_id} is {c.status}; only an approved claim is paid",
                       code="finance.claim.not_approved", params={"id": claim_id, "status": c.status})
    if session.get(FundBankTotal, c.bank_id) is None:
        try:
            with session.begin_nested():
                session.execute(insert(FundBankTotal).values(bank_id=c.bank_id, paid=Decimal(0)))
        except IntegrityError:
            pass
    raised = session.execute(update(FundBankTotal)
                             .where(FundBankTotal.bank_id == c.bank_id, FundBankTotal.paid + c.amount <= cap)
                             .values(paid=FundBankTotal.paid + c.amount))
    if raised.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult has rowcount
        raise Conflict(f"paying claim {claim_id} would take bank {c.bank_id} over its cap of {cap}",
                       code="finance.claim.over_cap", params={"id": claim_id, "cap": yuan(cap)})
    _pool(session)
    taken = session.execute(update(FundPool).where(FundPool.id == 1, FundPool.balance >= c.amount)
                            .values(balance=FundPool.balance - c.amount))
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult has rowcount
        raise Conflict(f"the fund's balance does not cover claim {claim_id}", code="finance.claim.balance",
                       params={"id": claim_id})
    session.add(FundEntry(kind="payout", amount=-c.amount, claim_id=c.id, bank_id=c.bank_id, at=clock.now(),
                          actor=actor, note=f"claim {c.id}, loan {c.loan_id}"))
    session.flush()
    audit.append(session, action="finance.fund.pay", actor=actor,
                 detail={"claim": c.id, "loan": c.loan_id, "bank": c.bank_id, "amount": str(c.amount)})
    session.refresh(c)
    return c


def claim_dict(c: FundClaim) -> dict[str, Any]:
    return {"id": c.id, "loan_id": c.loan_id, "bank_id": c.bank_id, "loss": str(c.loss), "amount": str(c.amount),
            "status": c.status, "status_label": labels.labelled("fund_claim_status", c.status), "filed_on": c.filed_on.isoformat(), "decided_by": c.decided_by, "note": c.note,
            "paid_at": c.paid_at.isoformat(timespec="seconds") if c.paid_at else None}


def ledger(session: Session) -> dict[str, Any]:
    entries = list(session.execute(select(FundEntry).order_by(FundEntry.id)).scalars())
    total = session.execute(select(func.coalesce(func.sum(FundEntry.amount), 0))).scalar_one()
    return {"balance": str(balance(session)), "ledger_sum": str(Decimal(total).quantize(CENT)),
            "entries": [{"id": e.id, "kind": e.kind, "ref": e.ref, "amount": str(e.amount), "claim_id": e.claim_id,
                         "bank_id": e.bank_id, "note": e.note, "at": e.at.isoformat(timespec="seconds"),
                         "actor": e.actor} for e in entries],
            "paid_per_bank": {str(b): str(p) for b, p in session.execute(select(FundBankTotal.bank_id,
                                                                                FundBankTotal.paid))}}
