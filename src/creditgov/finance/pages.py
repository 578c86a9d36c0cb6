"""信易贷 pages, in Chinese and English.

- `/me/finance`, the subject's own page: post a need, its matched products with every
  criterion's reason, its consents (give one bank a consent for one need; revoke), its
  applications and loans.
- `/finance/bank`, a bank officer's page: the bank's products (submit a draft), the
  needs matched to them — who posted one shows only under the subject's consent — and
  its loans; `/finance/bank/needs/{id}` opens a consented need and the credit file.
- `/finance/office`, the credit office: products to approve, the fund (claims to review
  and pay, the ledger) and the statistics by band with a chart.

Every form posts with the session's CSRF token; every rule is in the services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from creditgov.api.deps import DB, Id, Who, check_csrf, keyring
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.finance import access, fund, loans, matching, service, stats
from creditgov.finance.models import Bank, FinancingNeed, FundClaim, Loan, LoanApplication
from creditgov.finance.schemas import NeedIn
from creditgov.security.scopes import authorize
from creditgov.web.i18n import pick
from creditgov.web.render import _, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Done = Annotated[str | None, Query(max_length=20, pattern="^[a-z]+$")]
Failure = (Conflict, InvalidInput, NotFound)


def _status(exc: Exception) -> int:
    return 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 422


# ----------------------------------------------------------------------------- the subject


def _me(request: Request, session: DB, who: Who, *, done: str | None = None, error: str | None = None,
        status: int = 200) -> Response:
    grant = authorize(who, "finance.need")
    subject = grant.require_subject(session, who.subject_id or 0)
    needs = list(session.execute(select(FinancingNeed).where(FinancingNeed.subject_id == subject.id)
                                 .order_by(FinancingNeed.id.desc())).scalars())
    rows = [{**access.need_dict(n), "matches": access.matches_for_need(session, n.id),
             "consents": service.need_consents(session, need_id=n.id)} for n in needs]
    my_loans = [loans.loan_dict(x, b) for x, b in session.execute(
        select(Loan, Bank).join(Bank, Bank.id == Loan.bank_id).where(Loan.subject_id == subject.id)).tuples()]
    apps = [access.application_dict(a) for a in session.execute(
        select(LoanApplication).where(LoanApplication.subject_id == subject.id)).scalars()]
    return render(request, "finance_me.html", {"subject": subject, "needs": rows, "loans": my_loans, "apps": apps,
                                               "banks": service.banks(session), "done": done, "error": error,
                                               "kinds": access.KIND_LABELS}, status=status)


@router.get("/me/finance")
def my_finance(request: Request, who: Who, session: DB, done: Done = None) -> Response:
    return _me(request, session, who, done=done)


@router.post("/me/finance/needs")
async def my_need_post(request: Request, who: Who, session: DB,
                       amount: Annotated[str, Form(max_length=20)], term_months: Annotated[int, Form(ge=1, le=360)],
                       purpose: Annotated[str, Form(min_length=1, max_length=2000)],
                       contact_name: Annotated[str, Form(min_length=1, max_length=100)],
                       contact_phone: Annotated[str, Form(min_length=5, max_length=30)],
                       collateral: Annotated[str | None, Form(max_length=3)] = None) -> Response:
    grant = authorize(who, "finance.need")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    try:
        data = NeedIn(amount=Decimal(amount), term_months=term_months, purpose=purpose, contact_name=contact_name,
                      contact_phone=contact_phone, collateral=collateral == "yes")
        n = service.post_need(session, keyring(request), subject_id=subject.id, data=data, actor=who.actor)
    except (ValidationError, InvalidOperation) as exc:
        session.rollback()
        return _me(request, session, who, error=_("请检查金额、期限和联系电话。") + f" ({type(exc).__name__})",
                   status=422)
    except Failure as exc:
        session.rollback()
        return _me(request, session, who, error=str(exc), status=_status(exc))
    matching.recompute(session, need_ids=[n.id], actor=who.actor)
    return RedirectResponse(f"/me/finance?done=posted#need-{n.id}", status_code=303)


@router.post("/me/finance/needs/{need_id}/consents")
async def my_consent(request: Request, need_id: Id, who: Who, session: DB,
                     bank: Annotated[str, Form(min_length=2, max_length=80)],
                     days: Annotated[int | None, Form(ge=1, le=3650)] = None) -> Response:
    grant = authorize(who, "finance.need")
    await check_csrf(request, who)
    try:
        service.grant_consent(session, need_id=need_id, subject_id=grant.principal.subject_id, bank_code=bank,
                              days=days, actor=who.actor)
    except Failure as exc:
        session.rollback()
        return _me(request, session, who, error=str(exc), status=_status(exc))
    return RedirectResponse(f"/me/finance?done=consented#need-{need_id}", status_code=303)


@router.post("/me/finance/consents/{consent_id}/revoke")
async def my_consent_revoke(request: Request, consent_id: Id, who: Who, session: DB) -> Response:
    """Revoked at once: the bank's next read is refused."""
    grant = authorize(who, "finance.need")
    await check_csrf(request, who)
    try:
        service.revoke_consent(session, consent_id=consent_id, subject_id=grant.principal.subject_id,
                               actor=who.actor)
    except Failure as exc:
        session.rollback()
        return _me(request, session, who, error=str(exc), status=_status(exc))
    return RedirectResponse("/me/finance?done=revoked", status_code=303)


@router.post("/me/finance/needs/{need_id}/apply")
async def my_apply(request: Request, need_id: Id, who: Who, session: DB,
                   product_id: Annotated[int, Form(ge=1, le=2**31 - 1)]) -> Response:
    grant = authorize(who, "finance.need")
    await check_csrf(request, who)
    try:
        loans.apply(session, need_id=need_id, product_id=product_id, subject_id=grant.principal.subject_id,
                    actor=who.actor)
    except Failure as exc:
        session.rollback()
        return _me(request, session, who, error=str(exc), status=_status(exc))
    return RedirectResponse(f"/me/finance?done=applied#need-{need_id}", status_code=303)


# ----------------------------------------------------------------------------- the bank


@router.get("/finance/bank")
def bank_page(request: Request, who: Who, session: DB) -> Response:
    grant = authorize(who, "finance.bank")
    try:
        bank = access.bank_of(session, grant.principal)
    except NotFound:  # an officer whose organisation the office has not registered as a bank yet
        return render(request, "finance_bank.html", {"bank": None, "products": [], "matches": [], "apps": [],
                                                     "loans": []})
    ctx: dict[str, Any] = {
        "bank": bank, "products": access.products(session, status=None, bank=bank),
        "matches": access.matches_for_bank(session, keyring(request), bank, eligible_only=True, limit=100),
        "apps": [access.application_dict(a) for a in session.execute(
            select(LoanApplication).where(LoanApplication.bank_id == bank.id)
            .order_by(LoanApplication.id.desc())).scalars()],
        "loans": [loans.loan_dict(x, bank) for x in session.execute(
            select(Loan).where(Loan.bank_id == bank.id).order_by(Loan.id)).scalars()]}
    return render(request, "finance_bank.html", ctx)


@router.get("/finance/bank/needs/{need_id}")
def bank_need(request: Request, need_id: Id, who: Who, session: DB) -> Response:
    """A consented need and the subject's file; without a consent in force: 404."""
    grant = authorize(who, "finance.bank")
    bank = access.bank_of(session, grant.principal)
    out = access.bank_read(session, keyring(request), who, bank, need_id)
    return render(request, "finance_bank_need.html", {"bank": bank, **out})


# ----------------------------------------------------------------------------- the credit office


def _office(request: Request, session: DB, who: Who, *, error: str | None = None, done: str | None = None,
            status: int = 200) -> Response:
    authorize(who, "finance.approve")
    figures = stats.by_grade(session)
    chart = {"what": "loans", "categories": ["performing", "default"], "unit": _("笔数"),
             "labels": {"performing": _("正常"), "default": _("违约")},
             "rows": [{"name": pick(*access.BAND_LABELS.get(r["band"], (r["band"], r["band"]))),
                       "counts": {"performing": r["loans"] - r["defaults"], "default": r["defaults"]}}
                      for r in figures["by_band"]]}
    claims = [fund.claim_dict(c) for c in session.execute(select(FundClaim).order_by(FundClaim.id.desc())).scalars()]
    return render(request, "finance_office.html", {
        "submitted": access.products(session, status="submitted"), "approved": access.products(session),
        "fund": fund.ledger(session), "claims": claims, "stats": figures, "chart": chart,
        "error": error, "done": done}, status=status)


@router.get("/finance/office")
def office_page(request: Request, who: Who, session: DB, done: Done = None) -> Response:
    return _office(request, session, who, done=done)


@router.post("/finance/office/products/{product_id}/decision")
async def office_product(request: Request, product_id: Id, who: Who, session: DB,
                         decision: Annotated[str, Form(pattern="^(approve|reject)$")],
                         note: Annotated[str | None, Form(max_length=2000)] = None) -> Response:
    authorize(who, "finance.approve")
    await check_csrf(request, who)
    try:
        p = service.decide_product(session, product_id=product_id, approve=decision == "approve", note=note,
                                   actor=who.actor)
    except Failure as exc:
        session.rollback()
        return _office(request, session, who, error=str(exc), status=_status(exc))
    if p.status == "approved":
        matching.recompute(session, product_ids=[p.id], actor=who.actor)
    return RedirectResponse("/finance/office?done=decided", status_code=303)


@router.post("/finance/office/claims/{claim_id}/{step}")
async def office_claim(request: Request, claim_id: Id, step: str, who: Who, session: DB,
                       note: Annotated[str | None, Form(max_length=2000)] = None) -> Response:
    authorize(who, "finance.approve")
    await check_csrf(request, who)
    try:
        if step == "pay":
            fund.pay(session, claim_id=claim_id, actor=who.actor)
        elif step in ("approve", "reject"):
            fund.review(session, claim_id=claim_id, approve=step == "approve", note=note, actor=who.actor)
        else:
            raise NotFound(f"no step {step!r}")
    except Failure as exc:
        session.rollback()
        return _office(request, session, who, error=str(exc), status=_status(exc))
    return RedirectResponse("/finance/office?done=claim", status_code=303)
