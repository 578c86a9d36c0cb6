"""信易贷 for a demonstration store (`creditgov finance demo`): two banks with products
approved by the office, needs posted by the best-graded firms, merchants and
homestays, the matches, consents, a few loans — one of them in default with a claim
paid by the fund. Safe to run twice: a store that has the banks is left alone.

The dates hold together as a real book's would: the banks, products, needs, consents,
applications and loans are made `LENT_MONTHS_AGO` months before today (the clock is
pinned to that day for them, as `make demo` pins it for earlier deliveries), so the
loan in default is reported yesterday with its overdue days starting months after its
grant, and the fund's deposit, the claim and its payment are today's. The loans'
consents have run out since; one firm with an open need consents today to the first
bank, so the bank has a need to open.

The first bank is `demo-bank`, the organisation of the demonstration bank officer
(`creditgov users demo`), so signing in as `bank` shows its side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.finance import fund, loans, matching, service
from creditgov.finance.models import Bank, FinancingNeed, Loan, LoanProduct, NeedMatch
from creditgov.finance.schemas import BankIn, DecisionIn, NeedIn, ProductIn, StatusIn
from creditgov.scoring import published
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject

BANKS = [("demo-bank", "县农村商业银行（演示）"), ("demo-bank-2", "县城市商业银行（演示）")]
PRODUCTS: dict[str, list[dict[str, Any]]] = {
    "demo-bank": [
        {"code": "xiaowei-xinyong", "name": "小微信用贷", "kinds": ["enterprise", "merchant"],
         "min_bands": {"public-credit-enterprise": "good"}, "lists_absent": ["serious-dishonesty", "key-attention"],
         "amount_min": "100000", "amount_max": "3000000", "term_min": 6, "term_max": 36,
         "rate_min": "3.450", "rate_max": "4.350", "collateral_free": True,
         "description": "凭公共信用综合评价 B 类及以上免抵押申请"},
        {"code": "minsu-dai", "name": "民宿贷", "kinds": ["homestay"],
         "min_bands": {"changxing-homestay": "good"}, "lists_absent": ["serious-dishonesty"],
         "amount_min": "50000", "amount_max": "1000000", "term_min": 12, "term_max": 60,
         "rate_min": "3.800", "rate_max": "4.800", "collateral_free": True,
         "description": "优质、合格民宿凭信用评价免抵押"}],
    "demo-bank-2": [
        {"code": "shanghu-kuaidai", "name": "商户快贷", "kinds": ["merchant", "enterprise", "homestay"],
         "min_bands": {"public-credit-enterprise": "fair", "changxing-homestay": "good"},
         "lists_absent": ["serious-dishonesty"], "amount_min": "20000", "amount_max": "500000",
         "term_min": 3, "term_max": 12, "rate_min": "4.500", "rate_max": "6.000", "collateral_free": True},
        {"code": "diya-jingying", "name": "抵押经营贷", "kinds": ["enterprise"], "min_bands": {},
         "lists_absent": [], "amount_min": "500000", "amount_max": "10000000", "term_min": 12, "term_max": 60,
         "rate_min": "3.300", "rate_max": "4.000", "collateral_free": False}],
}
OFFICE = "demo:credit-office"
BANKER = "demo:bank-officer"
LENT_MONTHS_AGO = 8  # the loans' grant, before today
OVERDUE_DAYS = 95  # the defaulted loan's, reported yesterday: past the policy's 90
FUND_REF = "县财〔演示〕1号"


def _subjects(session: Session, kind: str, n: int) -> list[int]:
    """The best-scored subjects of a kind in the latest published runs, then any."""
    scored = (select(Score.subject_id).join(EvaluationRun, EvaluationRun.id == Score.run_id)
              .join(Subject, Subject.id == Score.subject_id)
              .where(published.PUBLISHED, Subject.kind == kind)
              .order_by(Score.score.desc(), Score.subject_id).limit(n * 4))
    ids: list[int] = []
    for sid in session.execute(scored).scalars():
        if sid not in ids:
            ids.append(sid)
        if len(ids) == n:
            return ids
    more = session.execute(select(Subject.id).where(Subject.kind == kind, Subject.id.not_in(ids or [0]))
                           .order_by(Subject.id).limit(n - len(ids))).scalars()
    return ids + list(more)


def seed(session: Session, keyring: KeyRing, *, actor: str) -> dict[str, Any]:
    if session.execute(select(Bank.id).where(Bank.code == BANKS[0][0])).first():
        return {"skipped": "the demonstration banks exist"}
    today = clock.today()
    with clock.dated(clock.add_months(today, -LENT_MONTHS_AGO)):
        banks, products, needs, eligible, made_loans = _lend(session, keyring, actor=actor)
    # The loans' consents ran out long ago (`consent_days`); today one firm with an open
    # need consents to the first bank, so the bank's side has a need to open.
    first = banks[BANKS[0][0]]
    for need in needs:
        match = session.execute(select(NeedMatch.need_id).join(LoanProduct, LoanProduct.id == NeedMatch.product_id)
                                .where(NeedMatch.need_id == need.id, NeedMatch.eligible.is_(True),
                                       LoanProduct.bank_id == first.id)).first()
        if need.status == "open" and match is not None:
            service.grant_consent(session, need_id=need.id, subject_id=need.subject_id, bank_code=first.code,
                                  actor=f"demo:subject:{need.subject_id}")
            break
    claims = 0
    fund.deposit(session, amount=Decimal("5000000"), ref=FUND_REF, note="县财政注资（演示）", actor=OFFICE)
    if made_loans:
        loan, bank = made_loans[0]  # the best-graded firm's loan: defaults are not only the worst grades' lot
        loans.report_status(session, bank=bank, loan_id=loan.id, actor=BANKER, data=StatusIn(
            on=today - dt.timedelta(days=1), overdue_days=OVERDUE_DAYS))
        if not fund.eligibility(session, loan):
            c = fund.claim(session, bank=bank, loan_id=loan.id, actor=BANKER)
            fund.review(session, claim_id=c.id, approve=True, note="材料齐全, 符合补偿条件", actor=OFFICE)
            fund.pay(session, claim_id=c.id, actor=OFFICE)
            claims = 1
    return {"banks": len(banks), "products": len(products), "needs": len(needs), "eligible": eligible,
            "loans": len(made_loans), "defaults": 1 if made_loans else 0, "claims_paid": claims}


def _lend(session: Session, keyring: KeyRing, *, actor: str
          ) -> tuple[dict[str, Bank], list[LoanProduct], list[FinancingNeed], int, list[tuple[Loan, Bank]]]:
    """The banks and their approved products, the needs, the matches, and up to four
    loans (each with its consent and application), all on the clock's today (pinned
    by the caller to the day the loans are granted)."""
    banks = {code: service.add_bank(session, BankIn(code=code, name=name), actor=actor) for code, name in BANKS}
    products = []
    for code, items in PRODUCTS.items():
        for item in items:
            p = service.add_product(session, bank=banks[code], data=ProductIn.model_validate(item), actor=BANKER)
            service.submit_product(session, bank=banks[code], product_id=p.id, actor=BANKER)
            service.decide_product(session, product_id=p.id, approve=True, note="符合信易贷产品要求", actor=OFFICE)
            products.append(p)
    plan = [("enterprise", 5, "800000", 24, "扩大生产, 采购原材料"), ("merchant", 3, "150000", 12, "店面装修与备货"),
            ("homestay", 3, "300000", 36, "客房改造, 提升民宿等级")]
    needs = []
    for kind, n, amount, term, purpose in plan:
        for i, sid in enumerate(_subjects(session, kind, n)):
            need = service.post_need(session, keyring, subject_id=sid, data=NeedIn(
                amount=Decimal(amount) + 10000 * i, term_months=term, purpose=purpose, contact_name="财务负责人",
                contact_phone=f"1380000{sid % 10000:04d}"), actor=f"demo:subject:{sid}")
            needs.append(need)
    out = matching.recompute(session, actor=actor)
    made_loans: list[tuple[Loan, Bank]] = []
    for need in needs:
        best = session.execute(select(NeedMatch).where(NeedMatch.need_id == need.id, NeedMatch.eligible.is_(True))
                               .order_by(NeedMatch.score.desc()).limit(1)).scalar_one_or_none()
        if best is None or len(made_loans) >= 4:
            continue
        p = next(x for x in products if x.id == best.product_id)
        bank = next(b for b in banks.values() if b.id == p.bank_id)
        service.grant_consent(session, need_id=need.id, subject_id=need.subject_id, bank_code=bank.code,
                              actor=f"demo:subject:{need.subject_id}")
        app = loans.apply(session, need_id=need.id, product_id=p.id, subject_id=need.subject_id,
                          actor=f"demo:subject:{need.subject_id}")
        principal = min(need.amount, p.amount_max)
        _, loan = loans.decide(session, bank=bank, application_id=app.id, actor=BANKER, data=DecisionIn(
            approve=True, amount=principal, rate=p.rate_min, term_months=min(max(need.term_months, p.term_min),
                                                                          p.term_max)))
        assert loan is not None
        made_loans.append((loan, bank))
    return banks, products, needs, out["eligible"], made_loans
