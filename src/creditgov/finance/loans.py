"""Applications, the bank's decision, the loan book, repayments and overdue status, and
post-loan monitoring.

A subject applies with its need for a product once it has given that product's bank a
consent for the need; the bank approves (amount, rate, term) or declines with a reason
code of the policy. An approval opens a loan in the book with the borrower's grade and
band on that day. Either way the subject is told in its inbox (`tell_decision`, once per
application), with the bank's note. Banks report repayments (idempotent by their own
reference) and overdue days; past the policy's `default_after_days` a loan is in
default. Where the policy excludes them (`in_default` in data/fund.yaml), a subject with
a loan in default cannot apply, and its open needs are matched again when a loan of it
goes into default or is repaid after one.

Post-loan monitoring (`monitor`): while a loan is unpaid, a new negative record, a new
list entry or a colour change of its borrower raises one warning to the lending bank
through the alerts domain's real channels; the evidence key names the loan and the
cause, so a second scan tells nobody again, and a bank with no unpaid loan to the
subject is never told.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from creditgov.alerts import inbox
from creditgov.alerts import service as alerts
from creditgov.alerts.models import ColourCodeChange, InboxMessage
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, labels
from creditgov.core.amounts import yuan
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.finance import matching, service
from creditgov.finance.matching import latest_runs
from creditgov.finance.models import (
    Bank,
    FinancingNeed,
    Loan,
    LoanApplication,
    LoanProduct,
    Repayment,
)
from creditgov.finance.policy import decline_label, policy
from creditgov.finance.schemas import DecisionIn, RepaymentIn, StatusIn
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import Score
from creditgov.scoring.published import band_table
from creditgov.security import service as audit

UNPAID = ("open", "overdue", "default")


def consented(session: Session, *, need_id: int, bank_id: int) -> bool:
    return service.live_consent(session, need_id=need_id, bank_id=bank_id) is not None


def in_default(session: Session, subject_id: int) -> list[Loan]:
    """The subject's loans of this platform in default (any bank's), oldest first."""
    return list(session.execute(select(Loan).where(Loan.subject_id == subject_id, Loan.status == "default")
                                .order_by(Loan.id)).scalars())


def apply(session: Session, *, need_id: int, product_id: int, subject_id: int | None, actor: str
          ) -> LoanApplication:
    """The subject applies with its open need for an approved product, once it has
    given the product's bank a consent for the need; once per need and product. Where
    the policy excludes them (`in_default`), a subject with a loan in default cannot."""
    n = service.need(session, need_id, subject_id=subject_id)
    if n.status != "open":
        raise Conflict(f"need {need_id} is {n.status}", code="finance.apply.need_closed",
                       params={"id": n.id, "status": n.status})
    p = session.get(LoanProduct, product_id)
    if p is None or p.status != "approved":
        raise NotFound(f"product {product_id} not found", code="finance.product.not_found", params={"id": product_id})
    bank = session.get(Bank, p.bank_id)
    assert bank is not None
    if not consented(session, need_id=n.id, bank_id=p.bank_id):
        raise Conflict("give the product's bank a consent for this need first: no consent, no application",
                       code="finance.apply.no_consent", params={"bank": bank.name, "id": n.id})
    if session.execute(select(LoanApplication.id).where(LoanApplication.need_id == n.id,
                                                        LoanApplication.product_id == p.id)).first():
        raise Conflict(f"need {need_id} already applied for product {product_id}", code="finance.apply.already",
                       params={"id": n.id, "product": p.name})
    if policy(session).in_default.exclude and (bad := in_default(session, n.subject_id)):
        raise Conflict(f"loan {bad[0].id} of the subject is in default: no new application until it is repaid",
                       code="finance.apply.in_default", params={"loan": bad[0].id})
    a = LoanApplication(need_id=n.id, product_id=p.id, bank_id=p.bank_id, subject_id=n.subject_id,
                        status="submitted", created_at=clock.now())
    session.add(a)
    session.flush()
    audit.append(session, action="finance.application.submit", actor=actor, subject_id=n.subject_id,
                 detail={"application": a.id, "need": n.id, "product": p.id})
    return a


def bank_application(session: Session, *, bank: Bank, application_id: int, lock: bool = False) -> LoanApplication:
    a = session.get(LoanApplication, application_id, with_for_update=lock)
    if a is None or a.bank_id != bank.id:
        raise NotFound(f"application {application_id} not found", code="finance.application.not_found",
                       params={"id": application_id})
    return a


def standing(session: Session, subject_id: int, models: list[str]) -> tuple[str | None, str | None, str | None]:
    """(model, grade, band) of the subject in the latest published run of the first of
    `models` (else of any model) that graded it."""
    runs = latest_runs(session)
    order = [m for m in models if m in runs] + sorted(m for m in runs if m not in models)
    table = band_table(session.connection())
    for m in order:
        run_id, version = runs[m]
        grade = session.execute(select(Score.grade).where(Score.run_id == run_id,
                                                          Score.subject_id == subject_id)).scalar()
        if grade is not None:
            return m, grade, table.get((m, version), {}).get(grade)
    return None, None, None


def decide(session: Session, *, bank: Bank, application_id: int, data: DecisionIn, actor: str
           ) -> tuple[LoanApplication, Loan | None]:
    """The bank's decision. Approving opens a loan; the need is then financed."""
    a = bank_application(session, bank=bank, application_id=application_id, lock=True)
    if a.status != "submitted":
        raise Conflict(f"application {application_id} is {a.status}", code="finance.application.decided",
                       params={"id": application_id, "status": a.status})
    p = session.get(LoanProduct, a.product_id)
    assert p is not None
    now = clock.now()
    a.decided_at, a.decided_by, a.decision_note = now, actor, data.note
    loan = None
    if not data.approve:
        doc = policy(session)
        if decline_label(doc, str(data.decline_code)) is None:
            raise InvalidInput(f"unknown decline_code {data.decline_code!r}; the policy names "
                               + ", ".join(r.code for r in doc.decline_reasons),
                               code="finance.decline_code.unknown", params={"code": data.decline_code})
        a.status, a.decline_code = "declined", data.decline_code
    else:
        assert data.amount is not None and data.rate is not None and data.term_months is not None
        if not (p.amount_min <= data.amount <= p.amount_max):
            raise InvalidInput(f"amount {data.amount} is outside the product's range {p.amount_min}–{p.amount_max}",
                               code="finance.amount.out_of_range",
                               params={"value": yuan(data.amount), "low": yuan(p.amount_min, fen=False),
                                       "high": yuan(p.amount_max, fen=False)})
        if not (p.rate_min <= data.rate <= p.rate_max):
            raise InvalidInput(f"rate {data.rate} is outside the product's range {p.rate_min}–{p.rate_max}",
                               code="finance.rate.out_of_range",
                               params={"value": data.rate, "low": p.rate_min, "high": p.rate_max})
        if not (p.term_min <= data.term_months <= p.term_max):
            raise InvalidInput(f"term of {data.term_months} months is outside the product's range "
                               f"{p.term_min}–{p.term_max}", code="finance.term.out_of_range",
                               params={"value": data.term_months, "low": p.term_min, "high": p.term_max})
        n = session.get(FinancingNeed, a.need_id, with_for_update=True)
        assert n is not None
        if n.status != "open":
            raise Conflict(f"need {n.id} is {n.status}", code="finance.need.closed",
                           params={"id": n.id, "status": n.status})
        model, grade, band = standing(session, a.subject_id, list(p.min_bands))
        today = clock.today()
        loan = Loan(application_id=a.id, bank_id=a.bank_id, product_id=p.id, subject_id=a.subject_id,
                    principal=data.amount, rate=data.rate, term_months=data.term_months,
                    collateral_free=p.collateral_free, granted_on=today,
                    due_on=clock.add_months(today, data.term_months), outstanding=data.amount, status="open",
                    overdue_days=0, model=model, grade=grade, band=band, created_at=now)
        session.add(loan)
        a.status = "approved"
        n.status = "financed"
        session.flush()
    audit.append(session, action=f"finance.application.{a.status}", actor=actor, subject_id=a.subject_id,
                 detail={"application": a.id, "bank": bank.code, "loan": loan.id if loan else None,
                         "decline_code": a.decline_code,
                         "amount": str(data.amount) if data.amount else None})
    tell_decision(session, a, bank, p, loan)
    return a, loan


#: The inbox messages of a decision refer to the application (`ref_kind`, `ref_id`).
MESSAGE_REF = "finance_application"


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def tell_decision(session: Session, a: LoanApplication, bank: Bank, p: LoanProduct, loan: Loan | None) -> bool:
    """Tell the subject of the bank's decision in its inbox, in Chinese and English: the
    loan's amount, rate and term, or the reason for declining, and the bank's note.
    Once per application: a decision told already is not told again (False)."""
    told = session.execute(select(InboxMessage.id).where(
        InboxMessage.ref_kind == MESSAGE_REF, InboxMessage.ref_id == a.id,
        InboxMessage.recipient_kind == "subject", InboxMessage.recipient == str(a.subject_id))).first()
    if told is not None:
        return False
    head_zh = f"您的贷款申请 #{a.id}（{bank.name} · {p.name}，融资需求 #{a.need_id}）"
    head_en = f"Your loan application #{a.id} ({bank.name}, {p.name}, financing need #{a.need_id})"
    if loan is not None:
        zh = (f"{head_zh}已获批准：金额 {yuan(loan.principal)} 元，年利率 {_rate(loan.rate)}%，"
              f"期限 {loan.term_months} 个月，到期日 {loan.due_on.isoformat()}。")
        en = (f"{head_en} was approved: {yuan(loan.principal)} yuan at {_rate(loan.rate)}% a year for "
              f"{loan.term_months} months, due on {loan.due_on.isoformat()}.")
    else:
        reason = decline_reason(session, a.decline_code) or {"zh": "", "en": ""}
        zh = f"{head_zh}未获批准，原因：{reason['zh']}。"
        en = f"{head_en} was declined: {reason['en']}."
    note = (a.decision_note or "").strip()
    if note:
        zh += f"银行意见：{note}"
        en += f" The bank's note: {note}"
    inbox.deliver(session, recipient_kind="subject", recipient=str(a.subject_id), subject_id=a.subject_id,
                  topic=f"finance.application.{a.status}", body=zh, body_en=en, ref_kind=MESSAGE_REF, ref_id=a.id)
    return True


def bank_loan(session: Session, *, bank: Bank, loan_id: int, lock: bool = False) -> Loan:
    loan = session.get(Loan, loan_id, with_for_update=lock)
    if loan is None or loan.bank_id != bank.id:
        raise NotFound(f"loan {loan_id} not found", code="finance.loan.not_found", params={"id": loan_id})
    return loan


def repay(session: Session, *, bank: Bank, loan_id: int, data: RepaymentIn, source: str, actor: str
          ) -> tuple[Repayment, bool]:
    """(repayment, created). The same reference twice answers the first repayment."""
    loan = bank_loan(session, bank=bank, loan_id=loan_id, lock=True)
    old = session.execute(select(Repayment).where(Repayment.loan_id == loan.id,
                                                  Repayment.ref == data.ref)).scalar_one_or_none()
    if old is not None:
        if old.amount != data.amount or old.paid_on != data.paid_on:
            raise Conflict(f"repayment {data.ref!r} of loan {loan_id} was reported with other figures",
                           code="finance.repayment.other_figures", params={"ref": data.ref, "id": loan_id})
        return old, False
    if loan.status == "repaid":
        raise Conflict(f"loan {loan_id} is repaid", code="finance.loan.repaid", params={"id": loan_id})
    today = clock.today()
    if data.paid_on < loan.granted_on:
        raise InvalidInput(f"paid_on {data.paid_on} is before loan {loan_id} was granted ({loan.granted_on})",
                           code="finance.repayment.before_grant",
                           params={"id": loan.id, "paid_on": data.paid_on.isoformat(),
                                   "granted_on": loan.granted_on.isoformat()})
    if data.paid_on > today:
        raise InvalidInput(f"paid_on {data.paid_on} is after today ({today})", code="finance.repayment.in_future",
                           params={"paid_on": data.paid_on.isoformat(), "today": today.isoformat()})
    if data.amount > loan.outstanding:
        raise InvalidInput(f"repayment {data.amount} is more than the outstanding {loan.outstanding}",
                           code="finance.repayment.above_outstanding",
                           params={"value": yuan(data.amount), "outstanding": yuan(loan.outstanding)})
    r = Repayment(loan_id=loan.id, ref=data.ref, paid_on=data.paid_on, amount=data.amount, source=source,
                  created_at=clock.now(), actor=actor)
    session.add(r)
    loan.outstanding = loan.outstanding - data.amount
    was_default = loan.status == "default"
    if loan.outstanding == 0:
        loan.status, loan.closed_on, loan.overdue_days = "repaid", data.paid_on, 0
    session.flush()
    if was_default and loan.status == "repaid" and policy(session).in_default.exclude:
        _rematch(session, loan.subject_id, actor)
    audit.append(session, action="finance.loan.repay", actor=actor, subject_id=loan.subject_id,
                 detail={"loan": loan.id, "ref": data.ref, "amount": str(data.amount), "source": source,
                         "outstanding": str(loan.outstanding)})
    return r, True


def _check_report_day(loan: Loan, data: StatusIn) -> None:
    today = clock.today()
    granted = loan.granted_on.isoformat()
    if data.on < loan.granted_on:
        raise InvalidInput(f"the report's day {data.on} is before loan {loan.id} was granted ({granted})",
                           code="finance.status.before_grant",
                           params={"id": loan.id, "on": data.on.isoformat(), "granted_on": granted})
    if data.on > today:
        raise InvalidInput(f"the report's day {data.on} is after today ({today})", code="finance.status.in_future",
                           params={"on": data.on.isoformat(), "today": today.isoformat()})
    most = (data.on - loan.granted_on).days
    if data.overdue_days > most:
        raise InvalidInput(f"{data.overdue_days} days overdue on {data.on} would start before loan {loan.id} was "
                           f"granted ({granted}): at most {most}", code="finance.status.overdue_before_grant",
                           params={"id": loan.id, "days": data.overdue_days, "on": data.on.isoformat(),
                                   "granted_on": granted, "most": most})


def report_status(session: Session, *, bank: Bank, loan_id: int, data: StatusIn, actor: str) -> Loan:
    """The bank's report of overdue days (and the outstanding principal, if it changed
    otherwise). Past the policy's threshold the loan is in default; a default stays.
    The report's day falls between the grant and today, and the first unpaid day it
    implies (`on` less the overdue days) not before the grant."""
    loan = bank_loan(session, bank=bank, loan_id=loan_id, lock=True)
    if loan.status == "repaid":
        raise Conflict(f"loan {loan_id} is repaid", code="finance.loan.repaid", params={"id": loan_id})
    _check_report_day(loan, data)
    doc = policy(session)
    before = loan.status
    if data.outstanding is not None:
        if data.outstanding > loan.principal:
            raise InvalidInput("outstanding is above the principal", code="finance.outstanding.above_principal",
                               params={"principal": yuan(loan.principal)})
        loan.outstanding = data.outstanding
    loan.overdue_days = data.overdue_days
    if data.overdue_days > 0:
        loan.overdue_since = data.on - dt.timedelta(days=data.overdue_days)
    elif loan.status != "default":
        loan.overdue_since = None
    if loan.status != "default":
        if data.overdue_days >= doc.fund.default_after_days:
            loan.status, loan.defaulted_on = "default", data.on
        elif data.overdue_days > 0:
            loan.status = "overdue"
        else:
            loan.status = "open"
    elif (data.overdue_days >= doc.fund.default_after_days and loan.defaulted_on is not None
          and loan.defaulted_on < loan.granted_on):
        # A default stays; but one dated before its own grant (reported before the dates
        # were checked) cannot be claimed on (fund.claim), and the bank's next possible
        # report dates it, so the claim the refusal advises can be made.
        loan.defaulted_on = data.on
    audit.append(session, action="finance.loan.status", actor=actor, subject_id=loan.subject_id,
                 detail={"loan": loan.id, "from": before, "to": loan.status, "overdue_days": data.overdue_days,
                         "on": data.on.isoformat()})
    if before != "default" and loan.status == "default" and doc.in_default.exclude:
        _rematch(session, loan.subject_id, actor)
    return loan


def _rematch(session: Session, subject_id: int, actor: str) -> None:
    """The subject's open needs matched again at once (a loan of it went into default or
    was repaid after one), so its page and the banks' agree with the policy's rule."""
    open_needs = list(session.execute(select(FinancingNeed.id).where(FinancingNeed.subject_id == subject_id,
                                                                    FinancingNeed.status == "open")).scalars())
    if open_needs:
        session.flush()
        matching.recompute(session, need_ids=open_needs, actor=actor)


def loan_dict(loan: Loan, bank: Bank | None = None) -> dict[str, Any]:
    return {"id": loan.id, "bank": bank.code if bank else loan.bank_id, "bank_name": bank.name if bank else None,
            "product_id": loan.product_id,
            "subject_id": loan.subject_id, "principal": str(loan.principal), "rate": str(loan.rate),
            "term_months": loan.term_months, "granted_on": loan.granted_on.isoformat(),
            "due_on": loan.due_on.isoformat(), "outstanding": str(loan.outstanding), "status": loan.status,
            "status_label": labels.labelled("finance_status", loan.status),
            "overdue_days": loan.overdue_days,
            "defaulted_on": loan.defaulted_on.isoformat() if loan.defaulted_on else None,
            "closed_on": loan.closed_on.isoformat() if loan.closed_on else None,
            "model": loan.model, "grade": loan.grade, "band": loan.band}


# ----------------------------------------------------------------------------- monitoring

RULE = "finance.post_loan"


def _causes(session: Session, loan: Loan) -> list[tuple[str, str, str]]:
    """(evidence key, Chinese, English) for each new adverse fact of the borrower since
    the loan was granted."""
    out: list[tuple[str, str, str]] = []
    since = loan.created_at
    q = (select(CreditRecord.id, CatalogItem.name_zh, CatalogItem.name_en, CreditRecord.occurred_on)
         .join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.subject_id == loan.subject_id, CatalogItem.polarity == "negative",
                CreditRecord.is_current.is_(True), CreditRecord.status == "active",
                CreditRecord.created_at >= since, CatalogItem.data_class != "secret")
         .order_by(CreditRecord.id))
    for rid, zh, en, on in session.execute(q):
        out.append((f"record:{rid}", f"新增失信记录: {zh} ({on})", f"new negative record: {en} ({on})"))
    q2 = (select(ListEntry.id, ListEntry.list_code, ListEntry.published_on)
          .where(ListEntry.subject_id == loan.subject_id, ListEntry.status == "published",
                 ListEntry.published_on.is_not(None), ListEntry.published_on >= loan.granted_on)
          .order_by(ListEntry.id))
    for eid, code, on in session.execute(q2):
        out.append((f"list:{eid}", f"列入名单: {code} ({on})", f"listed: {code} ({on})"))
    q3 = (select(ColourCodeChange.id, ColourCodeChange.previous, ColourCodeChange.colour,
                 ColourCodeChange.effective_on)
          .where(ColourCodeChange.subject_id == loan.subject_id, ColourCodeChange.effective_on >= loan.granted_on,
                 and_(ColourCodeChange.previous.is_not(None), ColourCodeChange.previous != ColourCodeChange.colour))
          .order_by(ColourCodeChange.id))
    for cid, prev, colour, on in session.execute(q3):
        out.append((f"colour:{cid}", f"信用码 {prev} → {colour} ({on})", f"colour code {prev} → {colour} ({on})"))
    return out


def monitor(session: Session, *, actor: str = "system:finance") -> dict[str, Any]:
    """Warn each lender of its unpaid loans' new adverse facts, once per loan and fact."""
    alerts.ensure_inbox_channel(session)
    channels = list(policy(session).monitoring_channels)
    raised = repeated = 0
    loans = list(session.execute(select(Loan, Bank).join(Bank, Bank.id == Loan.bank_id)
                                 .where(Loan.status.in_(UNPAID)).order_by(Loan.id)).tuples())
    for loan, bank in loans:
        for key, zh, en in _causes(session, loan):
            r = alerts.raise_alert(
                session, rule_code=RULE, subject_id=loan.subject_id, severity="high",
                title=f"贷后预警 / post-loan warning: loan {loan.id} — {zh} / {en}",
                body=f"{zh}\n{en}", recipients=[{"who": "principal_id", "code": f"bank:{bank.code}",
                                                 "channels": channels}],
                dedup_key=f"{RULE}:{loan.id}:{key}", window_days=0, evidence_key=f"loan:{loan.id}:{key}",
                evidence={"loan": loan.id, "bank": bank.code}, source="finance",
                payload={"loan": loan.id, "bank": bank.code, "cause": key}, actor=actor)
            if r.created:
                raised += 1
            else:
                repeated += 1
    return {"loans": len(loans), "raised": raised, "already": repeated}


def decline_reason(session: Session, code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    label = decline_label(policy(session), code)
    return {"code": code, "zh": label[0], "en": label[1]} if label else {"code": code, "zh": code, "en": code}
