"""Read logic the finance API, pages and commands share: the bank an officer acts for,
output shapes, the reasons of a match in both languages, the applications a bank has to
decide and the post-loan warnings raised to it.

What a bank sees of a need depends on the subject's consent for that need: without
one, the need's terms and the match's reasons but no name, identifier or contact;
with one in force, the name and the contact (and the file, through the ordinary
audited file read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts.models import Alert, AlertTrigger, ColourCodeChange
from creditgov.catalog.models import CatalogItem
from creditgov.core import labels
from creditgov.core.amounts import yuan
from creditgov.core.errors import NotFound
from creditgov.finance import service
from creditgov.finance.loans import RULE, consented, decline_reason
from creditgov.finance.matching import standing_held
from creditgov.finance.models import (
    Bank,
    FinancingNeed,
    Loan,
    LoanApplication,
    LoanProduct,
    NeedMatch,
)
from creditgov.finance.policy import policy
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Principal, Role, authorize
from creditgov.subjects import service as subject_service
from creditgov.subjects.access import read_file
from creditgov.subjects.models import Subject

BAND_LABELS = {"excellent": ("优", "Excellent"), "good": ("良", "Good"), "fair": ("中", "Fair"),
               "poor": ("差", "Poor")}
STATUS_LABELS = {
    "draft": ("草稿", "Draft"), "submitted": ("待审核", "Submitted"), "approved": ("已通过", "Approved"),
    "rejected": ("已退回", "Returned"), "withdrawn": ("已撤回", "Withdrawn"), "open": ("进行中", "Open"),
    "financed": ("已获贷", "Financed"), "declined": ("已拒绝", "Declined"), "overdue": ("逾期", "Overdue"),
    "default": ("违约", "In default"), "repaid": ("已结清", "Repaid"), "paid": ("已赔付", "Paid"),
}
KIND_LABELS = {"enterprise": ("企业", "Enterprise"), "merchant": ("个体工商户/商户", "Merchant"),
               "homestay": ("民宿", "Homestay"), "social_org": ("社会组织", "Social organisation"),
               "individual": ("自然人", "Individual")}


def label(table: dict[str, tuple[str, str]], code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    zh, en = table.get(code, (code, code))
    return {"code": code, "zh": zh, "en": en}


def bank_of(session: Session, who: Principal) -> Bank:
    """The bank a bank officer acts for (its organisation)."""
    if who.role is not Role.BANK:
        raise NotFound("no bank for this account", code="finance.bank.none")
    return service.bank_by_code(session, who.organisation)


def bank_or_none(session: Session, who: Principal) -> Bank | None:
    """The officer's bank, or None while the office has not registered its organisation
    (its lists are then empty rather than an error)."""
    try:
        return bank_of(session, who)
    except NotFound:
        return None


def product_dict(p: LoanProduct, bank: Bank | None = None) -> dict[str, Any]:
    return {"id": p.id, "bank": bank.code if bank else p.bank_id, "bank_name": bank.name if bank else None,
            "code": p.code, "name": p.name, "description": p.description, "kinds": list(p.kinds),
            "min_bands": dict(p.min_bands), "lists_absent": list(p.lists_absent),
            "amount_min": str(p.amount_min), "amount_max": str(p.amount_max), "term_min": p.term_min,
            "term_max": p.term_max, "rate_min": str(p.rate_min), "rate_max": str(p.rate_max),
            "collateral_free": p.collateral_free, "status": p.status, "status_label": label(STATUS_LABELS, p.status),
            "decision_note": p.decision_note}


def products(session: Session, *, status: str | None = "approved", bank: Bank | None = None) -> list[dict[str, Any]]:
    q = select(LoanProduct, Bank).join(Bank, Bank.id == LoanProduct.bank_id).order_by(LoanProduct.id)
    if status is not None:
        q = q.where(LoanProduct.status == status)
    if bank is not None:
        q = q.where(LoanProduct.bank_id == bank.id)
    return [product_dict(p, b) for p, b in session.execute(q).tuples()]


def need_dict(n: FinancingNeed, *, subject: Subject | None = None, phone: str | None = None) -> dict[str, Any]:
    """A need; `subject` and `phone` only for the subject itself or a consented bank."""
    return {"id": n.id, "amount": str(n.amount), "term_months": n.term_months, "purpose": n.purpose,
            "collateral": n.collateral, "status": n.status, "status_label": label(STATUS_LABELS, n.status),
            "created_at": n.created_at.isoformat(timespec="seconds"),
            "subject": {"id": subject.id, "name": subject.name, "kind": label(KIND_LABELS, subject.kind)}
            if subject is not None else None,
            "contact_name": n.contact_name if subject is not None else None,
            "contact_phone": phone if phone is not None else n.contact_phone_masked}


def _named(kind: str, codes: Any, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(labels.label(kind, c, lang) for c in codes if c) or "—"


def _floors(p: LoanProduct, lang: str) -> str:
    return ("、" if lang == "zh" else "; ").join(
        f"{labels.label('model', model, lang)} ≥ {labels.label('finance_band', band, lang)}"
        for model, band in sorted(p.min_bands.items())) or "—"


def _asks(n: FinancingNeed | None, what: str, lang: str) -> str:
    """What the need asks, as a reason's `got` says it ("需求 24 个月", "asks 24 months")."""
    if n is None:
        return ""
    if what == "amount":
        return f"需求 {yuan(n.amount)} 元" if lang == "zh" else f"asks {yuan(n.amount)} yuan"
    return f"需求 {n.term_months} 个月" if lang == "zh" else f"asks {n.term_months} months"


def _term_gap(m: NeedMatch, p: LoanProduct, n: FinancingNeed | None, lang: str) -> str:
    """How far the need's term is outside the product's, and on which side."""
    if m.term_ok:
        return ""
    if n is not None and n.term_months > p.term_max:
        return f"超出最长期限 {m.term_gap} 个月" if lang == "zh" else f"{m.term_gap} months over its longest term"
    if n is not None and n.term_months < p.term_min:
        return f"短于最短期限 {m.term_gap} 个月" if lang == "zh" else f"{m.term_gap} months under its shortest term"
    return f"超出期限范围 {m.term_gap} 个月" if lang == "zh" else f"{m.term_gap} months outside its terms"


def reasons(m: NeedMatch, p: LoanProduct, n: FinancingNeed | None = None, *, no_default: bool = False
            ) -> list[dict[str, Any]]:
    """Each criterion of the product: the rule, whether it holds, and how close. `rule`,
    `got` and `gap_text` keep the codes (the API's); `rule_zh`/`rule_en`, `got_zh`/`got_en`
    and `gap_zh`/`gap_en` say the same in words, models, bands and lists by their labels.
    With the need `n`, the amount and term say what it asks beside what the product
    lends. A product without a band floor says no grade is required (and nothing of the
    subject's grade). With `no_default` (the policy excludes borrowers in default), or
    when the match failed it, a sixth row says whether the subject has a loan in default."""
    floors = ", ".join(f"{model} ≥ {band}" for model, band in sorted(p.min_bands.items())) or "—"
    band_got = m.band_got or "ungraded"
    hit = [c for c in (m.lists_hit or "").split(",") if c]

    def got_band(lang: str) -> str:
        if not p.min_bands:
            return ""
        grade = labels.label("finance_band", m.band_got, lang) if m.band_got else ("未评价" if lang == "zh" else
                                                                                     "not graded")
        return f"{labels.label('model', m.band_model, lang)}: {grade}" if m.band_model else grade

    band = ({"rule": f"band: {floors}", "rule_zh": f"信用等级不低于: {_floors(p, 'zh')}",
             "rule_en": f"Credit band at least: {_floors(p, 'en')}", "got": f"{m.band_model or '—'}: {band_got}"}
            if p.min_bands else
            {"rule": "band: any", "rule_zh": "信用等级: 不限", "rule_en": "Credit band: no grade required", "got": ""})
    out = [
        {"criterion": "band", "holds": m.band_ok, **band, "got_zh": got_band("zh"), "got_en": got_band("en"),
         "gap": m.band_gap, "gap_text": "" if m.band_ok else
         (f"{m.band_gap} band(s) short / 差 {m.band_gap} 档" if m.band_got else "not graded / 未评价"),
         # not graded: said once, by what the subject has ("未评价"), not again as the gap
         "gap_zh": "" if m.band_ok or not m.band_got else f"差 {m.band_gap} 档",
         "gap_en": "" if m.band_ok or not m.band_got else f"{m.band_gap} band(s) short"},
        {"criterion": "lists", "holds": m.lists_ok, "rule": "not on: " + (", ".join(p.lists_absent) or "—"),
         "rule_zh": "不在名单: " + _named("list", p.lists_absent, "zh"),
         "rule_en": "Not on: " + _named("list", p.lists_absent, "en"), "got": m.lists_hit or "",
         "got_zh": _named("list", hit, "zh") if hit else "", "got_en": _named("list", hit, "en") if hit else "",
         "gap": 0 if m.lists_ok else 1, "gap_text": "" if m.lists_ok else f"on / 在: {m.lists_hit}",
         "gap_zh": "" if m.lists_ok else "在名单上", "gap_en": "" if m.lists_ok else "on the list"},
        {"criterion": "amount", "holds": m.amount_ok, "rule": f"amount {p.amount_min}–{p.amount_max}",
         "rule_zh": f"金额 {yuan(p.amount_min, fen=False)}–{yuan(p.amount_max, fen=False)} 元",
         "rule_en": f"Amount {yuan(p.amount_min, fen=False)}–{yuan(p.amount_max, fen=False)} yuan",
         "got": f"asks {n.amount}" if n is not None else "", "got_zh": _asks(n, "amount", "zh"),
         "got_en": _asks(n, "amount", "en"), "gap": round(m.amount_gap, 4),
         "gap_text": "" if m.amount_ok else f"{100 * m.amount_gap:.1f}% outside / 超出 {100 * m.amount_gap:.1f}%",
         "gap_zh": "" if m.amount_ok else f"超出 {100 * m.amount_gap:.1f}%",
         "gap_en": "" if m.amount_ok else f"{100 * m.amount_gap:.1f}% outside"},
        {"criterion": "term", "holds": m.term_ok, "rule": f"term {p.term_min}–{p.term_max} months",
         "rule_zh": f"期限 {p.term_min}–{p.term_max} 个月", "rule_en": f"Lends for {p.term_min}–{p.term_max} months",
         "got": f"asks {n.term_months} months" if n is not None else "", "got_zh": _asks(n, "term", "zh"),
         "got_en": _asks(n, "term", "en"), "gap": m.term_gap,
         "gap_text": "" if m.term_ok else f"{_term_gap(m, p, n, 'en')} / {_term_gap(m, p, n, 'zh')}",
         "gap_zh": _term_gap(m, p, n, "zh"), "gap_en": _term_gap(m, p, n, "en")},
        {"criterion": "collateral", "holds": m.collateral_ok,
         "rule": "collateral-free" if p.collateral_free else "collateral required",
         "rule_zh": "免抵押" if p.collateral_free else "需抵押",
         "rule_en": "Collateral-free" if p.collateral_free else "Collateral required", "gap": 0 if m.collateral_ok else 1,
         "gap_text": "" if m.collateral_ok else "no collateral offered / 未提供抵押",
         "gap_zh": "" if m.collateral_ok else "未提供抵押", "gap_en": "" if m.collateral_ok else "no collateral offered"},
    ]
    held = standing_held(m)
    if no_default or not held:
        # failed, said once by what the subject has, as an ungraded band is
        out.append({"criterion": "default", "holds": held, "rule": "no loan in default", "rule_zh": "无违约贷款",
                    "rule_en": "No loan in default", "got": "" if held else "in default",
                    "got_zh": "" if held else "存在违约贷款", "got_en": "" if held else "one is in default",
                    "gap": 0 if held else 1, "gap_text": "" if held else "a loan in default / 存在违约贷款",
                    "gap_zh": "", "gap_en": ""})
    for r in out:
        r["product"] = p.id
    return out


def match_dict(m: NeedMatch, p: LoanProduct, bank: Bank, n: FinancingNeed | None = None, *,
               no_default: bool = False) -> dict[str, Any]:
    return {"need_id": m.need_id, "product": product_dict(p, bank), "eligible": m.eligible, "fails": m.fails,
            "score": round(m.score, 2), "reasons": reasons(m, p, n, no_default=no_default)}


def matches_for_need(session: Session, need_id: int) -> list[dict[str, Any]]:
    """The subject's view: products for its need, eligible first, best first."""
    n = session.get(FinancingNeed, need_id)
    no_default = policy(session).in_default.exclude
    q = (select(NeedMatch, LoanProduct, Bank).join(LoanProduct, LoanProduct.id == NeedMatch.product_id)
         .join(Bank, Bank.id == LoanProduct.bank_id)
         .where(NeedMatch.need_id == need_id, LoanProduct.status == "approved")
         .order_by(NeedMatch.eligible.desc(), NeedMatch.score.desc(), NeedMatch.product_id))
    return [match_dict(m, p, b, n, no_default=no_default) for m, p, b in session.execute(q).tuples()]


def matches_for_bank(session: Session, ring: KeyRing, bank: Bank, *, eligible_only: bool = True,
                     limit: int = 200) -> list[dict[str, Any]]:
    """The bank's view: needs matched to its approved products. A need shows who posted
    it only while the subject's consent for it to this bank is in force."""
    q = (select(NeedMatch, LoanProduct, FinancingNeed, Subject)
         .join(LoanProduct, LoanProduct.id == NeedMatch.product_id)
         .join(FinancingNeed, FinancingNeed.id == NeedMatch.need_id)
         .join(Subject, Subject.id == FinancingNeed.subject_id)
         .where(LoanProduct.bank_id == bank.id, LoanProduct.status == "approved", FinancingNeed.status == "open")
         .order_by(NeedMatch.score.desc(), NeedMatch.need_id).limit(limit))
    if eligible_only:
        q = q.where(NeedMatch.eligible.is_(True))
    no_default = policy(session).in_default.exclude
    out = []
    for m, p, n, s in session.execute(q).tuples():
        ok = consented(session, need_id=n.id, bank_id=bank.id)
        out.append({"need": need_dict(n, subject=s if ok else None, phone=ring.decrypt(n.contact_phone) if ok
                                      else None),
                    "consented": ok, "product": {"id": p.id, "code": p.code, "name": p.name},
                    "eligible": m.eligible, "score": round(m.score, 2),
                    "reasons": reasons(m, p, n, no_default=no_default)})
    return out


def consented_need(session: Session, bank: Bank, need_id: int) -> FinancingNeed:
    """A need the bank may open: only with the subject's consent in force for it."""
    n = session.get(FinancingNeed, need_id)
    if n is None or not consented(session, need_id=n.id, bank_id=bank.id):
        raise NotFound(f"need {need_id} not found, or no consent for it is in force", code="finance.need.no_consent",
                       params={"id": need_id})
    return n


def bank_read(session: Session, ring: KeyRing, who: Principal, bank: Bank, need_id: int) -> dict[str, Any]:
    """A bank opens a need it holds the subject's consent for: the need, its contact and
    the credit file. The file read (`subjects.access.read_file` under the bank's consented
    scope) is audited as `subject.read` whether the subject is a person or a firm, so the
    subject sees every bank read among its file's readers."""
    n = consented_need(session, bank, need_id)
    subject = session.get(Subject, n.subject_id)
    assert subject is not None
    purpose = service.need_purpose(n.id)
    file = read_file(session, ring, authorize(who, "subjects.read"), n.subject_id, purpose)
    return {"need": need_dict(n, subject=subject, phone=ring.decrypt(n.contact_phone)), "file": file}


def application_dict(a: LoanApplication) -> dict[str, Any]:
    return {"id": a.id, "need_id": a.need_id, "product_id": a.product_id, "bank_id": a.bank_id,
            "subject_id": a.subject_id, "status": a.status, "status_label": label(STATUS_LABELS, a.status),
            "decline_code": a.decline_code, "note": a.decision_note,
            "created_at": a.created_at.isoformat(timespec="seconds"),
            "decided_at": a.decided_at.isoformat(timespec="seconds") if a.decided_at else None}


def subject_applications(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """The subject's own applications, newest first: the product and its bank, the
    need's amount and term, the status, when it was submitted and decided, the reason
    for declining and the bank's note, and the loan an approval opened."""
    q = (select(LoanApplication, FinancingNeed, LoanProduct, Bank, Loan)
         .join(FinancingNeed, FinancingNeed.id == LoanApplication.need_id)
         .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
         .join(Bank, Bank.id == LoanApplication.bank_id)
         .outerjoin(Loan, Loan.application_id == LoanApplication.id)
         .where(LoanApplication.subject_id == subject_id).order_by(LoanApplication.id.desc()))
    return [{**application_dict(a), "need": {"amount": str(n.amount), "term_months": n.term_months},
             "product": {"id": p.id, "name": p.name}, "bank_name": b.name,
             "decline_reason": decline_reason(session, a.decline_code),
             "loan": {"id": loan.id, "principal": str(loan.principal), "rate": f"{loan.rate.normalize():f}",
                      "term_months": loan.term_months, "due_on": loan.due_on.isoformat()} if loan else None}
            for a, n, p, b, loan in session.execute(q).tuples()]


#: The department the catalogue names for loans (`finance.loan`, `finance.overdue`): its
#: negative records are the ones a bank deciding an application is warned of.
FINANCE_DEPARTMENT = "finance"
RECORDS_SHOWN = 10


def applicant_standing(session: Session, subject_id: int) -> dict[str, Any]:
    """What a bank deciding an application is warned of: the applicant's loans of this
    platform overdue or in default (any bank's), and its negative records of the
    finance department still in effect (current, active, not secret), newest first."""
    bad = [{"id": x.id, "bank_name": b.name, "principal": str(x.principal), "outstanding": str(x.outstanding),
            "status": x.status, "overdue_days": x.overdue_days,
            "overdue_since": x.overdue_since.isoformat() if x.overdue_since else None,
            "defaulted_on": x.defaulted_on.isoformat() if x.defaulted_on else None}
           for x, b in session.execute(select(Loan, Bank).join(Bank, Bank.id == Loan.bank_id)
                                       .where(Loan.subject_id == subject_id, Loan.status.in_(("overdue", "default")))
                                       .order_by(Loan.id)).tuples()]
    q = (select(CreditRecord).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.subject_id == subject_id, CatalogItem.department_code == FINANCE_DEPARTMENT,
                CatalogItem.polarity == "negative", CatalogItem.data_class != "secret",
                CreditRecord.is_current.is_(True), CreditRecord.status == "active")
         .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc()).limit(RECORDS_SHOWN))
    records = [{"id": r.id, "item": r.item_code, "occurred_on": r.occurred_on.isoformat(),
                "value": str(r.value) if r.value is not None else None} for r in session.execute(q).scalars()]
    return {"loans": bad, "records": records, "warn": bool(bad or records)}


def subject_names(session: Session, ids: set[int], *, masked: bool) -> dict[int, str]:
    """Names as the viewer's masking policy shows them (a bank: residents masked)."""
    if not ids:
        return {}
    rows = session.execute(select(Subject).where(Subject.id.in_(ids))).scalars()
    return {s.id: subject_service.display_name(s, masked=masked) for s in rows}


def bank_applications(session: Session, bank: Bank) -> list[dict[str, Any]]:
    """The bank's applications, newest first, each with what its decision needs: the
    need's amount and term, the product's ranges and, once declined, the reason. One
    awaiting the decision carries the applicant's standing (`applicant_standing`: its
    loans overdue or in default, its negative finance records) while the subject's
    consent for the need to this bank is in force (`consented`)."""
    q = (select(LoanApplication, FinancingNeed, LoanProduct)
         .join(FinancingNeed, FinancingNeed.id == LoanApplication.need_id)
         .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
         .where(LoanApplication.bank_id == bank.id).order_by(LoanApplication.id.desc()))
    out = []
    for a, n, p in session.execute(q).tuples():
        row = {**application_dict(a), "need": {"amount": str(n.amount), "term_months": n.term_months},
               "product": {"id": p.id, "name": p.name, "amount_min": str(p.amount_min),
                           "amount_max": str(p.amount_max), "term_min": p.term_min, "term_max": p.term_max,
                           "rate_min": str(p.rate_min), "rate_max": str(p.rate_max)},
               "decline_reason": decline_reason(session, a.decline_code), "standing": None, "consented": None}
        if a.status == "submitted":
            row["consented"] = consented(session, need_id=a.need_id, bank_id=bank.id)
            row["standing"] = applicant_standing(session, a.subject_id) if row["consented"] else None
        out.append(row)
    return out


def _cause(session: Session, key: str) -> dict[str, Any]:
    """What a warning is about, from its evidence key (`loans._causes`): a new negative
    record (its catalogue item), a list entry (its list) or a colour change, as codes
    the page names by label."""
    kind, _, ref = key.partition(":")
    rid = int(ref) if ref.isdigit() else 0
    if kind == "record" and (r := session.get(CreditRecord, rid)) is not None:
        return {"kind": kind, "code": r.item_code, "on": r.occurred_on.isoformat()}
    if kind == "list" and (e := session.get(ListEntry, rid)) is not None:
        return {"kind": kind, "code": e.list_code, "on": e.published_on.isoformat() if e.published_on else None}
    if kind == "colour" and (c := session.get(ColourCodeChange, rid)) is not None:
        return {"kind": kind, "code": c.colour, "previous": c.previous, "on": c.effective_on.isoformat()}
    return {"kind": "other", "code": None, "on": None}


def post_loan_warnings(session: Session, bank: Bank, *, masked: bool, limit: int = 200) -> list[dict[str, Any]]:
    """The post-loan warnings `loans.monitor` raised to this bank, newest first: alerts of
    the rule `loans.RULE` whose trigger names one of the bank's own loans (evidence key
    `loan:<loan id>:<cause>`). A borrower who also owes another bank has that bank's
    warnings too; they are not this bank's and are left out."""
    own = {i: sid for i, sid in session.execute(select(Loan.id, Loan.subject_id).where(Loan.bank_id == bank.id))}
    if not own:
        return []
    q = (select(Alert, AlertTrigger.evidence_key).join(AlertTrigger, AlertTrigger.alert_id == Alert.id)
         .where(AlertTrigger.rule_code == RULE, Alert.rule_code == RULE,
                Alert.subject_id.in_(select(Loan.subject_id).where(Loan.bank_id == bank.id)))
         .order_by(Alert.raised_at.desc(), Alert.id.desc()))
    found: list[tuple[Alert, int, str]] = []
    for a, key in session.execute(q).tuples():
        head, loan_ref, cause = key.split(":", 2) if key.count(":") >= 2 else ("", "", "")
        if head == "loan" and loan_ref.isdigit() and int(loan_ref) in own and own[int(loan_ref)] == a.subject_id:
            found.append((a, int(loan_ref), cause))
        if len(found) >= limit:
            break
    names = subject_names(session, {a.subject_id for a, _, _ in found if a.subject_id is not None}, masked=masked)
    return [{"id": a.id, "raised_at": a.raised_at, "subject_id": a.subject_id,
             "subject_name": names.get(a.subject_id) if a.subject_id is not None else None, "loan_id": loan_id,
             "rule": a.rule_code, "status": a.status, "severity": a.severity, "cause": _cause(session, cause)}
            for a, loan_id, cause in found]
