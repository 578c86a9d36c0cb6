"""Builders for the finance tests: banks, approved products, graded subjects and needs in
a real store — through the domain's own services."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from creditgov.finance import loans, matching, service
from creditgov.finance.models import Bank, FinancingNeed, Loan, LoanProduct
from creditgov.finance.schemas import BankIn, DecisionIn, NeedIn, ProductIn
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from tests.lists.helpers import add_run, make_subject

MODEL = "public-credit-enterprise"  # grades A excellent, B good, C fair, D poor
GRANTED_ON = dt.date(2026, 5, 1)  # half a year before the tests' today (2026-11-01, tests/conftest.py)


@contextmanager
def on_day(day: dt.date) -> Iterator[None]:
    """The clock reads `day` as today meanwhile (a loan granted months ago); the tests'
    pinned today comes back after."""
    saved = os.environ.get("CREDITGOV_TODAY")
    os.environ["CREDITGOV_TODAY"] = day.isoformat()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CREDITGOV_TODAY", None)
        else:
            os.environ["CREDITGOV_TODAY"] = saved


def a_bank(session: Session, code: str = "bank-a", name: str = "甲银行") -> Bank:
    return service.add_bank(session, BankIn(code=code, name=name), actor="test")


def a_product(session: Session, bank: Bank, code: str = "p1", **kw: Any) -> LoanProduct:
    data = {"code": code, "name": "小微信用贷", "kinds": ["enterprise", "merchant"],
            "min_bands": {MODEL: "good"}, "lists_absent": ["serious-dishonesty"], "amount_min": "100000",
            "amount_max": "1000000", "term_min": 6, "term_max": 24, "rate_min": "3.5", "rate_max": "4.5",
            "collateral_free": True, **kw}
    p = service.add_product(session, bank=bank, data=ProductIn.model_validate(data), actor="bank-officer")
    service.submit_product(session, bank=bank, product_id=p.id, actor="bank-officer")
    service.decide_product(session, product_id=p.id, approve=True, note=None, actor="office")
    return p


def graded(session: Session, grades: list[tuple[str, str]], *, as_of: dt.date = dt.date(2026, 9, 30)
           ) -> list[Subject]:
    """Firms of the given (kind, grade) in one published run of MODEL."""
    subs = [make_subject(session, kind=kind) for kind, _ in grades]
    add_run(session, MODEL, as_of, [(s, g, "green") for s, (_, g) in zip(subs, grades, strict=True)])
    return subs


def a_need(session: Session, ring: KeyRing, subject: Subject, amount: str = "500000", term: int = 12,
           **kw: Any) -> FinancingNeed:
    data = NeedIn.model_validate({"amount": Decimal(amount), "term_months": term, "purpose": "采购原材料",
                                  "contact_name": "王会计", "contact_phone": "13812345678", **kw})
    n = service.post_need(session, ring, subject_id=subject.id, data=data, actor=f"subject:{subject.id}")
    matching.recompute(session, need_ids=[n.id], actor="test")
    return n


def a_loan(session: Session, ring: KeyRing, bank: Bank, subject: Subject, product: LoanProduct, *,
           amount: str = "300000", term: int = 12, granted_on: dt.date | None = GRANTED_ON, **need: Any) -> Loan:
    """A need, its consent, the application and the bank's approval, all on `granted_on`
    (None: today), so status reports and repayments after it have days to fall on."""
    day: AbstractContextManager[None] = on_day(granted_on) if granted_on is not None else nullcontext()
    with day:
        n = a_need(session, ring, subject, amount=amount, **need)
        service.grant_consent(session, need_id=n.id, subject_id=subject.id, bank_code=bank.code,
                              actor=f"subject:{subject.id}")
        app = loans.apply(session, need_id=n.id, product_id=product.id, subject_id=subject.id,
                          actor=f"subject:{subject.id}")
        _, loan = loans.decide(session, bank=bank, application_id=app.id, actor="officer", data=DecisionIn(
            approve=True, amount=Decimal(amount), rate=product.rate_min, term_months=term))
    assert loan is not None
    return loan
