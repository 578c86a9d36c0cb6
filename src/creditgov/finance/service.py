"""Banks, loan products and financing needs, and the consents a subject gives one bank
for one need. Plain functions with keyword-only arguments: the only place that changes
these tables, so the CLI, the API and the pages pass the same checks.

Products: a bank drafts and submits; the credit office approves (or rejects) before a
product is shown or matched. Needs: a firm, merchant or homestay posts its own. A
consent is security's `AccessConsent` (so the existing revocation — CLI, API, own page
— ends it everywhere) tied here to one need and one bank; while it is in force the
bank's officers read the subject's file through the ordinary, audited file read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.finance.models import Bank, FinancingNeed, LoanProduct, NeedConsent
from creditgov.finance.policy import policy
from creditgov.finance.schemas import NEED_KINDS, BankIn, NeedIn, ProductIn
from creditgov.lists.models import CreditList
from creditgov.scoring.models import ModelVersion
from creditgov.security import service as audit
from creditgov.security import users
from creditgov.security.accounts import AccessConsent
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject

#: A need's consent (and a bank's read of the file under it) names its purpose
#: `CONSENT_PURPOSE@<need id>`: readable in the audit as it is, and said in the reader's
#: language by the label catalogue (`finance/labels.py`, kind `purpose`).
CONSENT_PURPOSE = "信易贷 need / credit-based lending need"
NEED_PURPOSE = ("信易贷融资需求", "Credit-based lending, need")


def need_purpose(need_id: int) -> str:
    return f"{CONSENT_PURPOSE}@{need_id}"


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits stay visible."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# ----------------------------------------------------------------------------- banks


def add_bank(session: Session, data: BankIn, *, actor: str) -> Bank:
    if session.execute(select(Bank.id).where(Bank.code == data.code)).first():
        raise Conflict(f"bank {data.code!r} exists", code="finance.bank.exists", params={"code": data.code})
    b = Bank(code=data.code, name=data.name, active=True, created_at=clock.now())
    session.add(b)
    session.flush()
    audit.append(session, action="finance.bank.add", actor=actor, detail={"bank": b.code, "name": b.name})
    return b


def bank_by_code(session: Session, code: str | None) -> Bank:
    b = session.execute(select(Bank).where(Bank.code == code)).scalar_one_or_none() if code else None
    if b is None or not b.active:
        raise NotFound(f"bank {code!r} not found", code="finance.bank.not_found", params={"code": code or ""})
    return b


def banks(session: Session) -> list[Bank]:
    return list(session.execute(select(Bank).order_by(Bank.code)).scalars())


# ----------------------------------------------------------------------------- products


def _check_criteria(session: Session, data: ProductIn) -> None:
    """A product names models and lists the store knows: a misspelt code would silently
    match nobody (or everybody)."""
    models = set(session.execute(select(ModelVersion.name)).scalars())
    for m in data.min_bands:
        if m not in models:
            raise InvalidInput(f"min_bands: unknown model {m!r}", code="finance.product.unknown_model",
                               params={"model": m})
    known = set(session.execute(select(CreditList.code)).scalars())
    for code in data.lists_absent:
        if code not in known:
            raise InvalidInput(f"lists_absent: unknown list {code!r}", code="finance.product.unknown_list",
                               params={"list": code})


def add_product(session: Session, *, bank: Bank, data: ProductIn, actor: str) -> LoanProduct:
    """A draft product of the bank; nobody sees it until submitted and approved."""
    _check_criteria(session, data)
    if session.execute(select(LoanProduct.id).where(LoanProduct.bank_id == bank.id,
                                                    LoanProduct.code == data.code)).first():
        raise Conflict(f"product {data.code!r} exists at bank {bank.code}", code="finance.product.exists",
                       params={"code": data.code})
    p = LoanProduct(bank_id=bank.id, code=data.code, name=data.name, description=data.description,
                    kinds=list(data.kinds), min_bands=dict(data.min_bands), lists_absent=list(data.lists_absent),
                    amount_min=data.amount_min, amount_max=data.amount_max, term_min=data.term_min,
                    term_max=data.term_max, rate_min=data.rate_min, rate_max=data.rate_max,
                    collateral_free=data.collateral_free, status="draft", created_at=clock.now())
    session.add(p)
    session.flush()
    audit.append(session, action="finance.product.add", actor=actor,
                 detail={"product": p.id, "bank": bank.code, "code": p.code})
    return p


def _product(session: Session, product_id: int, *, lock: bool = False) -> LoanProduct:
    p = session.get(LoanProduct, product_id, with_for_update=lock)
    if p is None:
        raise NotFound(f"product {product_id} not found", code="finance.product.not_found", params={"id": product_id})
    return p


def bank_product(session: Session, *, bank: Bank, product_id: int, lock: bool = False) -> LoanProduct:
    """One of the bank's own products (another bank's answers NotFound)."""
    p = _product(session, product_id, lock=lock)
    if p.bank_id != bank.id:
        raise NotFound(f"product {product_id} not found", code="finance.product.not_found", params={"id": product_id})
    return p


def submit_product(session: Session, *, bank: Bank, product_id: int, actor: str) -> LoanProduct:
    """The bank publishes its product: it goes to the credit office for approval."""
    p = bank_product(session, bank=bank, product_id=product_id, lock=True)
    if p.status not in ("draft", "rejected"):
        raise Conflict(f"product {product_id} is {p.status}; only a draft or rejected product is submitted",
                       code="finance.product.not_submittable", params={"id": p.id, "status": p.status})
    p.status, p.submitted_at = "submitted", clock.now()
    audit.append(session, action="finance.product.submit", actor=actor, detail={"product": p.id})
    return p


def decide_product(session: Session, *, product_id: int, approve: bool, note: str | None, actor: str
                   ) -> LoanProduct:
    """The credit office approves a submitted product (it is then shown and matched) or
    rejects it with a note."""
    p = _product(session, product_id, lock=True)
    if p.status != "submitted":
        raise Conflict(f"product {product_id} is {p.status}; only a submitted product is decided",
                       code="finance.product.not_submitted", params={"id": p.id, "status": p.status})
    if not approve and not (note or "").strip():
        raise InvalidInput("a rejection says why (note)", code="finance.product.reject_note")
    p.status = "approved" if approve else "rejected"
    p.decided_at, p.decided_by, p.decision_note = clock.now(), actor, note
    audit.append(session, action="finance.product.approve" if approve else "finance.product.reject",
                 actor=actor, detail={"product": p.id, "note": note})
    return p


def withdraw_product(session: Session, *, bank: Bank, product_id: int, actor: str) -> LoanProduct:
    p = bank_product(session, bank=bank, product_id=product_id, lock=True)
    if p.status == "withdrawn":
        return p
    p.status = "withdrawn"
    audit.append(session, action="finance.product.withdraw", actor=actor, detail={"product": p.id})
    return p


# ----------------------------------------------------------------------------- needs


def post_need(session: Session, keyring: KeyRing, *, subject_id: int, data: NeedIn, actor: str) -> FinancingNeed:
    """A firm, merchant or homestay posts a financing need for itself (see
    `post_need_once`: a retry answers the need it posted)."""
    return post_need_once(session, keyring, subject_id=subject_id, data=data, actor=actor)[0]


def _same_open_need(session: Session, keyring: KeyRing, subject_id: int, data: NeedIn) -> FinancingNeed | None:
    q = (select(FinancingNeed).where(FinancingNeed.subject_id == subject_id, FinancingNeed.status == "open",
                                     FinancingNeed.amount == data.amount,
                                     FinancingNeed.term_months == data.term_months,
                                     FinancingNeed.purpose == data.purpose,
                                     FinancingNeed.collateral == data.collateral,
                                     FinancingNeed.contact_name == data.contact_name)
         .order_by(FinancingNeed.id))
    return next((n for n in session.execute(q).scalars()
                 if keyring.decrypt(n.contact_phone) == data.contact_phone), None)


def post_need_once(session: Session, keyring: KeyRing, *, subject_id: int, data: NeedIn, actor: str
                   ) -> tuple[FinancingNeed, bool]:
    """(need, created). A need identical to one of the subject's open needs (amount,
    term, purpose, collateral and contact alike) is a retry: it answers that need and
    posts nothing, so banks are not shown the same need twice. A need differing in any
    term is a second need. The subject's row is locked first, so two retries at once
    make one need."""
    subject = session.get(Subject, subject_id, with_for_update={"key_share": True})
    if subject is None:
        raise NotFound(f"subject {subject_id} not found", code="finance.subject.not_found", params={"id": subject_id})
    if subject.kind not in NEED_KINDS:
        raise InvalidInput(f"a financing need is posted by a firm, merchant or homestay, not by a {subject.kind}",
                           code="finance.need.kind", params={"kind": subject.kind})
    same = _same_open_need(session, keyring, subject_id, data)
    if same is not None:
        return same, False
    n = FinancingNeed(subject_id=subject_id, amount=data.amount, term_months=data.term_months,
                      purpose=data.purpose, collateral=data.collateral, contact_name=data.contact_name,
                      contact_phone=keyring.encrypt(data.contact_phone),
                      contact_phone_masked=mask_phone(data.contact_phone), status="open",
                      created_at=clock.now(), actor=actor)
    session.add(n)
    session.flush()
    audit.append(session, action="finance.need.post", actor=actor, subject_id=subject_id,
                 detail={"need": n.id, "amount": str(n.amount), "term_months": n.term_months})
    return n, True


def need(session: Session, need_id: int, *, subject_id: int | None = None, lock: bool = False) -> FinancingNeed:
    """A need; with `subject_id`, only that subject's own (another's answers NotFound)."""
    n = session.get(FinancingNeed, need_id, with_for_update=lock)
    if n is None or (subject_id is not None and n.subject_id != subject_id):
        raise NotFound(f"need {need_id} not found", code="finance.need.not_found", params={"id": need_id})
    return n


def withdraw_need(session: Session, *, need_id: int, subject_id: int | None, actor: str) -> FinancingNeed:
    n = need(session, need_id, subject_id=subject_id, lock=True)
    if n.status != "open":
        return n
    n.status = "withdrawn"
    audit.append(session, action="finance.need.withdraw", actor=actor, subject_id=n.subject_id,
                 detail={"need": n.id})
    return n


# ----------------------------------------------------------------------------- consents


def grant_consent(session: Session, *, need_id: int, subject_id: int | None, bank_code: str,
                  days: int | None = None, actor: str) -> NeedConsent:
    """The subject lets one bank read its file for one need (see `grant_consent_once`)."""
    return grant_consent_once(session, need_id=need_id, subject_id=subject_id, bank_code=bank_code, days=days,
                              actor=actor)[0]


def live_consent(session: Session, *, need_id: int, bank_id: int) -> NeedConsent | None:
    """The need's consent to the bank in force today, if any."""
    today = clock.today()
    q = (select(NeedConsent).join(AccessConsent, AccessConsent.id == NeedConsent.consent_id)
         .where(NeedConsent.need_id == need_id, NeedConsent.bank_id == bank_id, AccessConsent.in_force_on(today))
         .order_by(NeedConsent.id))
    return session.execute(q.limit(1)).scalar_one_or_none()


def grant_consent_once(session: Session, *, need_id: int, subject_id: int | None, bank_code: str,
                       days: int | None = None, actor: str) -> tuple[NeedConsent, bool]:
    """(consent, created). The subject lets one bank read its file for one need, for
    the policy's days (or fewer). Recorded as an `AccessConsent` naming the bank and the
    purpose `CONSENT_PURPOSE@<need>`. One bank, one need: while a consent for the pair
    is in force, a second grant answers it and records nothing (so revoking it ends
    the bank's reading); after a revocation or expiry a grant makes a new one. The
    need's row is locked first, so two grants at once make one consent."""
    n = need(session, need_id, subject_id=subject_id, lock=True)
    if n.status != "open":
        raise Conflict(f"need {need_id} is {n.status}", code="finance.consent.need_closed",
                       params={"id": n.id, "status": n.status})
    bank = bank_by_code(session, bank_code)
    limit = policy(session).consent_days
    days = days or limit
    if not (1 <= days <= limit):
        raise InvalidInput(f"a consent for a need lasts 1 to {limit} days", code="finance.consent.days",
                           params={"limit": limit})
    live = live_consent(session, need_id=n.id, bank_id=bank.id)
    if live is not None:
        return live, False
    c = users.grant_consent(session, subject_id=n.subject_id, organisation=bank.code,
                            purpose=need_purpose(n.id), days=days, actor=actor)
    nc = NeedConsent(need_id=n.id, bank_id=bank.id, consent_id=c.id, created_at=clock.now())
    session.add(nc)
    session.flush()
    audit.append(session, action="finance.consent.grant", actor=actor, subject_id=n.subject_id,
                 detail={"need": n.id, "bank": bank.code, "consent": c.id, "days": days})
    return nc, True


def revoke_consent(session: Session, *, consent_id: int, subject_id: int | None, actor: str) -> AccessConsent:
    """Ends the consent from now on: the bank's next read is refused."""
    return users.revoke_consent(session, consent_id=consent_id, subject_id=subject_id, actor=actor)


def consent_in_force(session: Session, *, subject_id: int, bank_code: str, on: dt.date | None = None) -> bool:
    on = on or clock.today()
    rows = session.execute(select(AccessConsent).where(AccessConsent.subject_id == subject_id,
                                                       AccessConsent.organisation == bank_code)).scalars()
    return any(c.in_force_on(on) for c in rows)


def bank_consents(session: Session, *, subject_id: int) -> list[dict[str, Any]]:
    """The subject's consents in force today to a bank of this platform, newest first:
    those given for one of its needs and those given otherwise (on the credit file's
    page, by the counter): each lets that bank read the subject's file."""
    today = clock.today()
    q = (select(AccessConsent, Bank, NeedConsent.need_id).join(Bank, Bank.code == AccessConsent.organisation)
         .outerjoin(NeedConsent, NeedConsent.consent_id == AccessConsent.id)
         .where(AccessConsent.subject_id == subject_id, AccessConsent.in_force_on(today))
         .order_by(AccessConsent.id.desc()))
    return [{"consent_id": c.id, "bank": b.code, "bank_name": b.name, "purpose": c.purpose, "need_id": need_id,
             "granted_on": c.granted_on.isoformat(), "expires_on": c.expires_on.isoformat() if c.expires_on else None}
            for c, b, need_id in session.execute(q).tuples()]


def need_consents(session: Session, *, need_id: int) -> list[dict[str, Any]]:
    q = (select(NeedConsent, AccessConsent, Bank).join(AccessConsent, AccessConsent.id == NeedConsent.consent_id)
         .join(Bank, Bank.id == NeedConsent.bank_id).where(NeedConsent.need_id == need_id)
         .order_by(NeedConsent.id.desc()))
    today = clock.today()
    out = []
    for nc, c, b in session.execute(q).tuples():
        live = c.in_force_on(today)
        out.append({"consent_id": c.id, "need_id": nc.need_id, "bank": b.code, "bank_name": b.name,
                    "granted_on": c.granted_on.isoformat(),
                    "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                    "revoked_on": c.revoked_on.isoformat() if c.revoked_on else None, "in_force": live})
    return out
