"""API routes of 信易贷. Thin: the rules are in `finance.service`, `finance.matching`,
`finance.loans` and `finance.fund`, the shapes in `finance.access`.

Who does what: a bank's system (a token of a `bank_officer` account whose organisation
is the bank) manages the bank's products, reads the needs matched to them, opens a
need and the subject's file only under the subject's consent for that need, decides
applications, reports repayments and overdue days, and claims on the fund. A subject
posts its needs, sees its matches, gives and revokes consents and applies. The credit
office approves products, runs the fund and reads the statistics.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from creditgov.api.deps import DB, Id, Who, keyring, require
from creditgov.core.errors import NotFound
from creditgov.finance import access, fund, loans, matching, service, stats
from creditgov.finance.models import Bank, FinancingNeed, Loan, LoanApplication
from creditgov.finance.schemas import BankIn, DecisionIn, NeedIn, ProductIn, RepaymentIn, StatusIn
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant

router = APIRouter(tags=["finance"], prefix="/finance")
Ring = Annotated[KeyRing, Depends(keyring)]
ProductsRead = Annotated[Grant, Depends(require("finance.products.read"))]
BanksManage = Annotated[Grant, Depends(require("finance.banks.manage"))]
BankG = Annotated[Grant, Depends(require("finance.bank"))]
NeedG = Annotated[Grant, Depends(require("finance.need"))]
Approve = Annotated[Grant, Depends(require("finance.approve"))]
FinanceRead = Annotated[Grant, Depends(require("finance.read"))]


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str | None = Field(default=None, max_length=2000)


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bank: str = Field(min_length=2, max_length=80)
    days: int | None = Field(default=None, ge=1, le=3650)


class ApplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = Field(ge=1, le=2**31 - 1)


class DepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, description="yuan")
    ref: str = Field(min_length=1, max_length=80, pattern=r"\S",
                     description="the office's reference (allocation document or transfer number); the same "
                                 "reference again answers the first deposit")
    note: str = Field(min_length=1, max_length=500)


def _own(grant: Grant) -> int:
    sid = grant.principal.subject_id
    if sid is None:
        raise NotFound("no subject for this account")
    return sid


# ----------------------------------------------------------------------------- banks and products


@router.post("/banks", status_code=201, operation_id="finance_bank_add")
def bank_add(body: BankIn, grant: BanksManage, session: DB) -> dict[str, Any]:
    b = service.add_bank(session, body, actor=grant.principal.actor)
    return {"id": b.id, "code": b.code, "name": b.name}


@router.get("/banks", operation_id="finance_banks")
def banks(grant: ProductsRead, session: DB) -> list[dict[str, Any]]:
    return [{"code": b.code, "name": b.name} for b in service.banks(session) if b.active]


@router.get("/products", operation_id="finance_products")
def products(grant: ProductsRead, session: DB, status: Annotated[str | None, Query(max_length=12)] = None
             ) -> list[dict[str, Any]]:
    """Approved products; a bank sees all of its own, the office any status."""
    p = grant.principal
    if p.role.value == "bank_officer":
        bank = access.bank_or_none(session, p)
        return access.products(session, status=status, bank=bank) if bank else []
    if p.role.value in ("credit_office", "admin"):
        return access.products(session, status=status)
    return access.products(session, status="approved")


@router.post("/products", status_code=201, operation_id="finance_product_add")
def product_add(body: ProductIn, grant: BankG, session: DB) -> dict[str, Any]:
    bank = access.bank_of(session, grant.principal)
    return access.product_dict(service.add_product(session, bank=bank, data=body, actor=grant.principal.actor), bank)


@router.post("/products/{product_id}/submit", operation_id="finance_product_submit")
def product_submit(product_id: Id, grant: BankG, session: DB) -> dict[str, Any]:
    bank = access.bank_of(session, grant.principal)
    return access.product_dict(service.submit_product(session, bank=bank, product_id=product_id,
                                                      actor=grant.principal.actor), bank)


@router.post("/products/{product_id}/withdraw", operation_id="finance_product_withdraw")
def product_withdraw(product_id: Id, grant: BankG, session: DB) -> dict[str, Any]:
    bank = access.bank_of(session, grant.principal)
    p = service.withdraw_product(session, bank=bank, product_id=product_id, actor=grant.principal.actor)
    session.flush()
    matching.recompute(session, product_ids=[p.id], actor=grant.principal.actor)
    return access.product_dict(p, bank)


@router.post("/products/{product_id}/decision", operation_id="finance_product_decide")
def product_decide(product_id: Id, body: DecideIn, grant: Approve, session: DB) -> dict[str, Any]:
    """The credit office approves (then the product is matched at once) or rejects."""
    p = service.decide_product(session, product_id=product_id, approve=body.approve, note=body.note,
                               actor=grant.principal.actor)
    if p.status == "approved":
        matching.recompute(session, product_ids=[p.id], actor=grant.principal.actor)
    return access.product_dict(p)


# ----------------------------------------------------------------------------- needs, matches, consents


@router.post("/needs", status_code=201, operation_id="finance_need_post")
def need_post(body: NeedIn, grant: NeedG, session: DB, ring: Ring, response: Response) -> dict[str, Any]:
    """A need (201); the same need again while it is open answers it (200) and posts nothing."""
    n, created = service.post_need_once(session, ring, subject_id=_own(grant), data=body,
                                        actor=grant.principal.actor)
    if created:
        matching.recompute(session, need_ids=[n.id], actor=grant.principal.actor)
    else:
        response.status_code = 200
    return {**access.need_dict(n), "created": created, "matches": access.matches_for_need(session, n.id)}


@router.get("/needs", operation_id="finance_needs")
def needs(grant: NeedG, session: DB) -> list[dict[str, Any]]:
    sid = _own(grant)
    rows = session.execute(select(FinancingNeed).where(FinancingNeed.subject_id == sid)
                           .order_by(FinancingNeed.id.desc())).scalars()
    return [{**access.need_dict(n), "consents": service.need_consents(session, need_id=n.id)} for n in rows]


@router.post("/needs/{need_id}/withdraw", operation_id="finance_need_withdraw")
def need_withdraw(need_id: Id, grant: NeedG, session: DB) -> dict[str, Any]:
    n = service.withdraw_need(session, need_id=need_id, subject_id=_own(grant), actor=grant.principal.actor)
    matching.recompute(session, need_ids=[n.id], actor=grant.principal.actor)
    return access.need_dict(n)


@router.get("/needs/{need_id}/matches", operation_id="finance_need_matches")
def need_matches(need_id: Id, grant: NeedG, session: DB) -> list[dict[str, Any]]:
    """The subject's matched products for its need, each with every criterion's reason."""
    service.need(session, need_id, subject_id=_own(grant))
    return access.matches_for_need(session, need_id)


@router.post("/needs/{need_id}/consents", status_code=201, operation_id="finance_consent_grant")
def consent_grant(need_id: Id, body: ConsentIn, grant: NeedG, session: DB, response: Response) -> dict[str, Any]:
    """A consent (201); while one to the bank for this need is in force, a grant answers
    it (200) and makes no second."""
    nc, created = service.grant_consent_once(session, need_id=need_id, subject_id=_own(grant), bank_code=body.bank,
                                             days=body.days, actor=grant.principal.actor)
    if not created:
        response.status_code = 200
    return {**next(c for c in service.need_consents(session, need_id=need_id) if c["consent_id"] == nc.consent_id),
            "created": created}


@router.delete("/consents/{consent_id}", operation_id="finance_consent_revoke")
def consent_revoke(consent_id: Id, grant: NeedG, session: DB) -> Response:
    """Revoked at once: the bank's next read of the need or the file is refused."""
    service.revoke_consent(session, consent_id=consent_id, subject_id=_own(grant), actor=grant.principal.actor)
    return Response(status_code=204)


@router.post("/needs/{need_id}/applications", status_code=201, operation_id="finance_apply")
def apply(need_id: Id, body: ApplyIn, grant: NeedG, session: DB) -> dict[str, Any]:
    a = loans.apply(session, need_id=need_id, product_id=body.product_id, subject_id=_own(grant),
                    actor=grant.principal.actor)
    return access.application_dict(a)


@router.get("/loans/mine", operation_id="finance_my_loans")
def my_loans(grant: NeedG, session: DB) -> list[dict[str, Any]]:
    rows = session.execute(select(Loan, Bank).join(Bank, Bank.id == Loan.bank_id)
                           .where(Loan.subject_id == _own(grant)).order_by(Loan.id)).tuples()
    return [loans.loan_dict(loan, b) for loan, b in rows]


# ----------------------------------------------------------------------------- the bank's side


@router.get("/matches", operation_id="finance_bank_matches")
def bank_matches(grant: BankG, session: DB, ring: Ring,
                 all_: Annotated[bool, Query(alias="all")] = False) -> list[dict[str, Any]]:
    """Needs matched to the bank's products; who posted one shows only under consent."""
    bank = access.bank_or_none(session, grant.principal)
    return access.matches_for_bank(session, ring, bank, eligible_only=not all_) if bank else []


@router.get("/needs/{need_id}/file", operation_id="finance_need_file")
def need_file(need_id: Id, grant: BankG, who: Who, session: DB, ring: Ring) -> dict[str, Any]:
    """The need, its contact and the subject's credit file — only while the subject's
    consent for this need to this bank is in force. The file read is audited and the
    subject sees it among its file's readers."""
    return access.bank_read(session, ring, who, access.bank_of(session, grant.principal), need_id)


@router.get("/applications", operation_id="finance_applications")
def applications(grant: BankG, session: DB) -> list[dict[str, Any]]:
    bank = access.bank_or_none(session, grant.principal)
    if bank is None:
        return []
    rows = session.execute(select(LoanApplication).where(LoanApplication.bank_id == bank.id)
                           .order_by(LoanApplication.id.desc())).scalars()
    return [access.application_dict(a) for a in rows]


@router.post("/applications/{application_id}/decision", operation_id="finance_application_decide")
def application_decide(application_id: Id, body: DecisionIn, grant: BankG, session: DB) -> dict[str, Any]:
    bank = access.bank_of(session, grant.principal)
    a, loan = loans.decide(session, bank=bank, application_id=application_id, data=body,
                           actor=grant.principal.actor)
    return {**access.application_dict(a), "loan": loans.loan_dict(loan, bank) if loan else None,
            "decline_reason": loans.decline_reason(session, a.decline_code)}


@router.get("/loans", operation_id="finance_bank_loans")
def bank_loans(grant: BankG, session: DB) -> list[dict[str, Any]]:
    bank = access.bank_or_none(session, grant.principal)
    if bank is None:
        return []
    rows = session.execute(select(Loan).where(Loan.bank_id == bank.id).order_by(Loan.id)).scalars()
    return [loans.loan_dict(loan, bank) for loan in rows]


@router.post("/loans/{loan_id}/repayments", status_code=201, operation_id="finance_repay")
def repay(loan_id: Id, body: RepaymentIn, grant: BankG, session: DB, response: Response) -> dict[str, Any]:
    """A repayment; the same `ref` again answers the first (200) and adds nothing."""
    bank = access.bank_of(session, grant.principal)
    r, created = loans.repay(session, bank=bank, loan_id=loan_id, data=body, source="api",
                             actor=grant.principal.actor)
    if not created:
        response.status_code = 200
    loan = session.get(Loan, loan_id)
    assert loan is not None
    return {"repayment": r.id, "created": created, "loan": loans.loan_dict(loan, bank)}


@router.post("/loans/{loan_id}/status", operation_id="finance_loan_status")
def loan_status(loan_id: Id, body: StatusIn, grant: BankG, session: DB) -> dict[str, Any]:
    bank = access.bank_of(session, grant.principal)
    return loans.loan_dict(loans.report_status(session, bank=bank, loan_id=loan_id, data=body,
                                               actor=grant.principal.actor), bank)


@router.post("/loans/{loan_id}/claim", status_code=201, operation_id="finance_fund_claim")
def fund_claim(loan_id: Id, grant: BankG, session: DB) -> dict[str, Any]:
    bank = access.bank_of(session, grant.principal)
    return fund.claim_dict(fund.claim(session, bank=bank, loan_id=loan_id, actor=grant.principal.actor))


# ----------------------------------------------------------------------------- the credit office


@router.post("/fund/claims/{claim_id}/review", operation_id="finance_fund_review")
def fund_review(claim_id: Id, body: DecideIn, grant: Approve, session: DB) -> dict[str, Any]:
    return fund.claim_dict(fund.review(session, claim_id=claim_id, approve=body.approve, note=body.note,
                                       actor=grant.principal.actor))


@router.post("/fund/claims/{claim_id}/pay", operation_id="finance_fund_pay")
def fund_pay(claim_id: Id, grant: Approve, session: DB) -> dict[str, Any]:
    return fund.claim_dict(fund.pay(session, claim_id=claim_id, actor=grant.principal.actor))


@router.post("/fund/deposits", status_code=201, operation_id="finance_fund_deposit")
def fund_deposit(body: DepositIn, grant: Approve, session: DB, response: Response) -> dict[str, Any]:
    """A deposit (201); the same `ref` again answers the first (200) and adds nothing,
    with another amount it is refused (409, `finance.deposit.other_amount`)."""
    entry, created = fund.deposit(session, amount=body.amount, ref=body.ref, note=body.note,
                                  actor=grant.principal.actor)
    if not created:
        response.status_code = 200
    return fund.deposit_dict(session, entry, created)


@router.get("/fund", operation_id="finance_fund")
def fund_ledger(grant: FinanceRead, session: DB) -> dict[str, Any]:
    return fund.ledger(session)


@router.get("/statistics", operation_id="finance_statistics")
def statistics(grant: FinanceRead, session: DB,
               model: Annotated[str | None, Query(max_length=80)] = None) -> dict[str, Any]:
    return stats.by_grade(session, model=model)
