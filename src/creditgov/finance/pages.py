"""信易贷 pages, in Chinese and English.

- `/me/finance`, the subject's own page: post a need, its matched products with every
  criterion's reason and what each offers (authorise the bank first, then apply; once
  applied, the application's state), its consents (give one bank a consent for one need;
  revoke) and every other consent in force that lets a bank read its file, its
  applications (status, times, the reason for declining and the bank's note) and loans.
- `/finance/bank`, a bank officer's page: the bank's products (submit a draft), the
  needs matched to them — who posted one shows only under the subject's consent — its
  applications (approve with amount, rate and term, or decline with a reason of the
  policy), its loans (record a repayment, report overdue days) and the post-loan
  warnings about its borrowers; `/finance/bank/needs/{id}` opens a consented need and
  the credit file.
- `/finance/office`, the credit office: products to approve, the fund (claims to review
  and pay, the ledger) and the statistics by band with a chart.

Every form posts with the session's CSRF token; every rule is in the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from creditgov.api.deps import DB, Id, Who, check_csrf, keyring
from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound, status_of
from creditgov.finance import access, fund, loans, matching, service, stats
from creditgov.finance.models import Bank, FinancingNeed, FundClaim, Loan
from creditgov.finance.policy import policy
from creditgov.finance.schemas import DecisionIn, NeedIn, RepaymentIn, StatusIn
from creditgov.security.scopes import authorize
from creditgov.web.forms import invalid_form
from creditgov.web.i18n import pick, refusal
from creditgov.web.render import _, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Done = Annotated[str | None, Query(max_length=20, pattern="^[a-z]+$")]
Failure = (Conflict, InvalidInput, NotFound)


# ----------------------------------------------------------------------------- the subject


def _me(request: Request, session: DB, who: Who, *, done: str | None = None, error: str | None = None,
        status: int = 200, values: dict[str, str] | None = None) -> Response:
    grant = authorize(who, "finance.need")
    subject = grant.require_subject(session, who.subject_id or 0)
    needs = list(session.execute(select(FinancingNeed).where(FinancingNeed.subject_id == subject.id)
                                 .order_by(FinancingNeed.id.desc())).scalars())
    apps = access.subject_applications(session, subject.id)
    applied = {(a["need_id"], a["product"]["id"]): a for a in apps}
    rows = []
    for n in needs:
        consents = service.need_consents(session, need_id=n.id)
        live = {c["bank"] for c in consents if c["in_force"]}
        matches = access.matches_for_need(session, n.id)
        for m in matches:  # what the row offers: the application made, else consent first, then apply
            m["application"] = applied.get((n.id, m["product"]["id"]))
            m["consented"] = m["product"]["bank"] in live
        rows.append({**access.need_dict(n), "matches": matches, "consents": consents})
    my_loans = [loans.loan_dict(x, b) for x, b in session.execute(
        select(Loan, Bank).join(Bank, Bank.id == Loan.bank_id).where(Loan.subject_id == subject.id)
        .order_by(Loan.id)).tuples()]
    return render(request, "finance_me.html", {"subject": subject, "needs": rows, "loans": my_loans, "apps": apps,
                                               "bank_consents": service.bank_consents(session, subject_id=subject.id),
                                               "done": done, "error": error, "values": values or {}}, status=status)


@router.get("/me/finance")
def my_finance(request: Request, who: Who, session: DB, done: Done = None) -> Response:
    return _me(request, session, who, done=done)


@router.post("/me/finance/needs")
async def my_need_post(request: Request, who: Who, session: DB,
                       amount: Annotated[str, Form(max_length=40)] = "",
                       term_months: Annotated[str, Form(max_length=12)] = "",
                       purpose: Annotated[str, Form(max_length=2000)] = "",
                       contact_name: Annotated[str, Form(max_length=100)] = "",
                       contact_phone: Annotated[str, Form(max_length=30)] = "",
                       collateral: Annotated[str | None, Form(max_length=3)] = None) -> Response:
    """A firm's financing need; the schema checks every field (`NeedIn`) so a refused form
    is said field by field in the reader's words (`web.forms.invalid_form`)."""
    grant = authorize(who, "finance.need")
    await check_csrf(request, who)
    subject = grant.require_subject(session, who.subject_id or 0)
    typed = {"amount": amount.strip(), "term_months": term_months.strip(), "purpose": purpose.strip(),
             "contact_name": contact_name.strip(), "contact_phone": contact_phone.strip(),
             "collateral": "yes" if collateral == "yes" else ""}
    try:
        data = NeedIn.model_validate({**typed, "collateral": collateral == "yes"})
        n, created = service.post_need_once(session, keyring(request), subject_id=subject.id, data=data,
                                            actor=who.actor)
    except ValidationError as exc:
        session.rollback()
        return _me(request, session, who, status=422, values=typed, error=invalid_form(exc, {
            "amount": _("金额（元）"), "term_months": _("期限（月）"), "purpose": _("用途"), "contact_name": _("联系人"),
            "contact_phone": _("联系电话")}))
    except Failure as exc:
        session.rollback()
        return _me(request, session, who, error=refusal(exc), status=status_of(exc), values=typed)
    if not created:  # the same need is open already: a retried form adds nothing
        return RedirectResponse(f"/me/finance?done=same#need-{n.id}", status_code=303)
    matching.recompute(session, need_ids=[n.id], actor=who.actor)
    return RedirectResponse(f"/me/finance?done=posted#need-{n.id}", status_code=303)


@router.post("/me/finance/needs/{need_id}/consents")
async def my_consent(request: Request, need_id: Id, who: Who, session: DB,
                     bank: Annotated[str, Form(min_length=2, max_length=80)],
                     days: Annotated[int | None, Form(ge=1, le=3650)] = None) -> Response:
    grant = authorize(who, "finance.need")
    await check_csrf(request, who)
    try:
        _nc, created = service.grant_consent_once(session, need_id=need_id, subject_id=grant.principal.subject_id,
                                                  bank_code=bank, days=days, actor=who.actor)
    except Failure as exc:
        session.rollback()
        return _me(request, session, who, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/me/finance?done={'consented' if created else 'inforce'}#need-{need_id}",
                            status_code=303)


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
        return _me(request, session, who, error=refusal(exc), status=status_of(exc))
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
        return _me(request, session, who, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/me/finance?done=applied#need-{need_id}", status_code=303)


# ----------------------------------------------------------------------------- the bank


def _bank(request: Request, session: DB, who: Who, *, done: str | None = None, error: str | None = None,
          status: int = 200, values: dict[str, Any] | None = None) -> Response:
    """The bank's page; after a refused form, `values` keeps what was typed into it
    (`form`: approve, repay or status; `id`: the application's or the loan's)."""
    grant = authorize(who, "finance.bank")
    try:
        bank = access.bank_of(session, grant.principal)
    except NotFound:  # an officer whose organisation the office has not registered as a bank yet
        return render(request, "finance_bank.html", {"bank": None, "products": [], "matches": [], "apps": [],
                                                     "loans": [], "warnings": [], "error": error}, status=status)
    masked = grant.principal.masks_people
    book = list(session.execute(select(Loan).where(Loan.bank_id == bank.id).order_by(Loan.id)).scalars())
    names = access.subject_names(session, {x.subject_id for x in book}, masked=masked)
    doc = policy(session)
    ctx: dict[str, Any] = {
        "bank": bank, "products": access.products(session, status=None, bank=bank),
        "matches": access.matches_for_bank(session, keyring(request), bank, eligible_only=True, limit=100),
        "apps": access.bank_applications(session, bank),
        "loans": [{**loans.loan_dict(x, bank), "borrower": names.get(x.subject_id)} for x in book],
        "warnings": access.post_loan_warnings(session, bank, masked=masked),
        "decline_reasons": doc.decline_reasons, "default_after_days": doc.fund.default_after_days,
        "today": clock.today().isoformat(), "done": done, "error": error, "values": values or {}}
    return render(request, "finance_bank.html", ctx, status=status)


@router.get("/finance/bank")
def bank_page(request: Request, who: Who, session: DB, done: Done = None) -> Response:
    return _bank(request, session, who, done=done)


def _bank_failed(request: Request, session: DB, who: Who, exc: Exception,
                 values: dict[str, Any] | None = None) -> Response:
    session.rollback()
    return _bank(request, session, who, error=refusal(exc), status=status_of(exc), values=values)


def _blank(value: str) -> str | None:
    return value.strip() or None


Text20 = Annotated[str, Form(max_length=20)]


@router.post("/finance/bank/applications/{application_id}/decision")
async def bank_decide(request: Request, application_id: Id, who: Who, session: DB,
                      decision: Annotated[str, Form(pattern="^(approve|decline)$")],
                      amount: Text20 = "", rate: Text20 = "", term_months: Text20 = "",
                      decline_code: Annotated[str, Form(max_length=40)] = "",
                      note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Approve (amount, rate, term) or decline with a reason of the policy, through
    `loans.decide` as the API does: another bank's application is not found."""
    grant = authorize(who, "finance.bank")
    await check_csrf(request, who)
    approve = decision == "approve"
    fields = ({"amount": _blank(amount), "rate": _blank(rate), "term_months": _blank(term_months)} if approve
              else {"decline_code": _blank(decline_code)})
    typed = {"form": decision, "id": application_id, "amount": amount.strip(), "rate": rate.strip(),
             "term_months": term_months.strip(), "decline_code": decline_code.strip(), "note": note.strip()}
    try:
        bank = access.bank_of(session, grant.principal)
        data = DecisionIn.model_validate({"approve": approve, "note": _blank(note), **fields})
        a, loan = loans.decide(session, bank=bank, application_id=application_id, data=data, actor=who.actor)
    except ValidationError:
        session.rollback()
        why = (_("请填写批准金额（元）、年利率（0–100）和期限（1–360 个月）。") if approve
               else _("请选择拒绝原因。"))
        return _bank(request, session, who, error=_("申请 #%(id)s：", id=application_id) + why, status=422,
                     values=typed)
    except Failure as exc:
        return _bank_failed(request, session, who, exc, values=typed)
    done = "approved" if loan is not None else "declined"
    return RedirectResponse(f"/finance/bank?done={done}#app-{a.id}", status_code=303)


@router.post("/finance/bank/loans/{loan_id}/repayments")
async def bank_repay(request: Request, loan_id: Id, who: Who, session: DB,
                     ref: Annotated[str, Form(max_length=80)] = "", paid_on: Text20 = "",
                     amount: Text20 = "") -> Response:
    """A repayment through `loans.repay` (source "web"); the same reference with the same
    figures again adds nothing."""
    grant = authorize(who, "finance.bank")
    await check_csrf(request, who)
    typed = {"form": "repay", "id": loan_id, "ref": ref.strip(), "paid_on": paid_on.strip(), "amount": amount.strip()}
    try:
        bank = access.bank_of(session, grant.principal)
        data = RepaymentIn.model_validate({"ref": ref.strip(), "paid_on": paid_on.strip(), "amount": amount.strip()})
        _r, created = loans.repay(session, bank=bank, loan_id=loan_id, data=data, source="web", actor=who.actor)
    except ValidationError:
        session.rollback()
        return _bank(request, session, who, status=422, values=typed, error=_("贷款 #%(id)s：", id=loan_id)
                     + _("请填写还款流水号、还款日期和大于 0 的还款金额（元）。"))
    except Failure as exc:
        return _bank_failed(request, session, who, exc, values=typed)
    return RedirectResponse(f"/finance/bank?done={'repaid' if created else 'repeated'}#loan-{loan_id}",
                            status_code=303)


@router.post("/finance/bank/loans/{loan_id}/status")
async def bank_loan_status(request: Request, loan_id: Id, who: Who, session: DB,
                           on: Text20 = "", overdue_days: Text20 = "", outstanding: Text20 = "") -> Response:
    """The loan's standing on a day through `loans.report_status`: its overdue days (0:
    back to normal; from the policy's threshold on, in default) and, if it changed
    otherwise, the outstanding principal. The day falls between the grant and today,
    and the overdue days start no earlier than the grant (the service's rules); a
    refused form comes back with what was typed."""
    grant = authorize(who, "finance.bank")
    await check_csrf(request, who)
    typed = {"form": "status", "id": loan_id, "on": on.strip(), "overdue_days": overdue_days.strip(),
             "outstanding": outstanding.strip()}
    try:
        bank = access.bank_of(session, grant.principal)
        data = StatusIn.model_validate({"on": on.strip(), "overdue_days": overdue_days.strip(),
                                        "outstanding": _blank(outstanding)})
        loans.report_status(session, bank=bank, loan_id=loan_id, data=data, actor=who.actor)
    except ValidationError:
        session.rollback()
        return _bank(request, session, who, status=422, values=typed, error=_("贷款 #%(id)s：", id=loan_id)
                     + _("请填写报告日期和逾期天数（0 或正整数）；余额可不填。"))
    except Failure as exc:
        return _bank_failed(request, session, who, exc, values=typed)
    return RedirectResponse(f"/finance/bank?done=reported#loan-{loan_id}", status_code=303)


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
        return _office(request, session, who, error=refusal(exc), status=status_of(exc))
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
            raise NotFound(f"no step {step!r}", code="finance.claim.no_step")
    except Failure as exc:
        session.rollback()
        return _office(request, session, who, error=refusal(exc), status=status_of(exc))
    return RedirectResponse("/finance/office?done=claim", status_code=303)
