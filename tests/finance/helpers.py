"""Builders for the finance tests: banks, approved products, graded subjects and needs in
a real store — through the domain's own services."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.finance import loans, matching, service
from creditgov.finance.models import Bank, FinancingNeed, Loan, LoanProduct
from creditgov.finance.schemas import BankIn, DecisionIn, NeedIn, ProductIn
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.subjects.models import Subject
from tests.lists.helpers import add_run, make_subject

MODEL = "public-credit-enterprise"  # grades A excellent, B good, C fair, D poor
PASSWORD = "correct horse battery"
GRANTED_ON = dt.date(2026, 5, 1)  # half a year before the tests' today (2026-11-01, tests/conftest.py)


def on_day(day: dt.date) -> AbstractContextManager[None]:
    """The clock reads `day` as today meanwhile (a loan granted months ago); the tests'
    pinned today comes back after."""
    return clock.dated(day)


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def signed_in(client: TestClient, username: str, next_page: str = "/finance/bank") -> TestClient:
    """The client signed in on the page (PASSWORD), landing on `next_page`."""
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf(page.text),
                                    "next": next_page})
    assert r.status_code == 303 and r.headers["location"] == next_page, r.text
    return client


def firm_and_two_banks(county: str, tmp_path: Path, *, officers: tuple[str, ...] = ("bank_a",),
                       password: str | None = None, **client: Any) -> tuple[TestClient, dict[str, str], int]:
    """A firm graded A, two banks with a product each, a subject user `firm`, the named
    bank officers (`bank_a`, `bank_b`) and the credit office `office`, each with a
    token; the application's client, the tokens and the firm's id."""
    key = tmp_path / "f.key"
    create_key_file(key)
    with db.session_scope(county) as s:
        bank_a, bank_b = a_bank(s), a_bank(s, "bank-b", "乙银行")
        (firm,) = graded(s, [("enterprise", "A")])
        a_product(s, bank_a)
        a_product(s, bank_b, "pb")
        people = [("firm", "subject", {"subject_id": firm.id})]
        people += [(o, "bank_officer", {"organisation": o.replace("_", "-")}) for o in officers]
        tokens = {}
        for name, role, extra in [*people, ("office", "credit_office", {})]:
            u = users.create_user(s, username=name, password=password, role=role, actor="test", **extra)
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
        firm_id = firm.id
    return TestClient(create_app(county, key), base_url="https://testserver", **client), tokens, firm_id


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
