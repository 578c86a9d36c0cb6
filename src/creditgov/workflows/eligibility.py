"""Repair's dates and conditions: a negative record's schedule (from the catalogue's
periods), the conditions recorded as met (obligations fulfilled, training), and the
automatic check of every condition of repair for one record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.commitments import service as commitments_service
from creditgov.core import clock, labels
from creditgov.core.clock import iso
from creditgov.core.errors import InvalidInput
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.workflows.common import get_item, get_record, get_subject, record_versions
from creditgov.workflows.models import RepairCondition
from creditgov.workflows.rules import rules, tier_rules


@dataclass
class Schedule:
    """A negative record's repair dates, all from the catalogue's periods."""

    record_id: int
    item: str
    tier: str | None
    min_months: int
    max_months: int | None
    publication_start: dt.date
    repairable_from: dt.date
    publication_ends: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "item": self.item, "tier": self.tier, "min_months": self.min_months,
                "max_months": self.max_months, "publication_start": self.publication_start.isoformat(),
                "repairable_from": self.repairable_from.isoformat(),
                "publication_ends": iso(self.publication_ends)}


def schedule_of(rec: CreditRecord, item: CatalogItem) -> Schedule:
    """Periods count from the publication date (published_from; else the decision or
    occurrence date, as ingestion does)."""
    start = rec.published_from or rec.decided_on or rec.occurred_on
    lo = item.min_publication_months or 0
    hi = item.max_publication_months
    return Schedule(rec.id, rec.item_code, item.severity, lo, hi, start, clock.add_months(start, lo),
                    clock.add_months(start, hi) if hi is not None else None)


def repair_schedule(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """Every current negative record of a subject with its tier, the date repair can
    be applied for and the date its publication ends."""
    q = (select(CreditRecord, CatalogItem).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True),
                CatalogItem.polarity == "negative")
         .order_by(CreditRecord.occurred_on, CreditRecord.id))
    today = clock.today()
    out = []
    for rec, item in session.execute(q):
        sch = schedule_of(rec, item)
        out.append({**sch.as_dict(), "item_name": item.name_zh, "status": rec.status,
                    "occurred_on": rec.occurred_on.isoformat(), "department": rec.department_code,
                    "repairable_now": rec.status in ("active", "expired") and today >= sch.repairable_from})
    return out


def record_condition(session: Session, *, kind: str, subject_id: int, record_id: int | None = None,
                     department: str | None = None, note: str | None = None, met_on: dt.date | None = None,
                     actor: str | None = None) -> RepairCondition:
    """Record a repair condition as met: a record's obligations fulfilled (by the
    department that supplied it, or the credit office on seeing the proof) or a
    training attended. `department` is the unit that records it (default: the
    supplier for obligations)."""
    actor = actor or audit.default_actor()
    if met_on is not None and met_on > clock.today():
        raise InvalidInput(f"a condition is recorded once met: {met_on.isoformat()} is after today",
                           code="workflows.condition.ahead", params={"on": met_on.isoformat()})
    if kind == "obligations-fulfilled":
        if record_id is None:
            raise InvalidInput("obligations are fulfilled for a record: name it")
        rec = get_record(session, record_id)
        if rec.subject_id != subject_id:
            raise InvalidInput(f"record {record_id} is not in this subject's file")
        office = rules(session).credit_office
        if department is not None and department not in (rec.department_code, office):
            raise InvalidInput(f"record {record_id} was supplied by {rec.department_code!r}; that department "
                               f"or the credit office ({office!r}) records its obligations as fulfilled, "
                               f"not {department!r}")
        department = department or rec.department_code
    elif kind == "training":
        get_subject(session, subject_id)
        if not (note and note.strip()):
            raise InvalidInput("a training needs its name (note)", code="workflows.condition.no_course")
    else:
        raise InvalidInput("kind is 'obligations-fulfilled' or 'training'")
    row = RepairCondition(kind=kind, subject_id=subject_id, record_id=record_id, met_on=met_on or clock.today(),
                          department_code=department, note=(note or "").strip() or None, actor=actor,
                          created_at=clock.now())
    session.add(row)
    session.flush()
    audit.append(session, action=f"repair.condition.{kind}", actor=actor, subject_id=subject_id,
                 detail={"condition": row.id, "record": record_id, "department": department,
                         "met_on": row.met_on.isoformat(), "note": row.note})
    return row


def obligations_fulfilled(session: Session, rec: CreditRecord, on: dt.date) -> dt.date | None:
    """When the obligations of a record (any version) were recorded as fulfilled."""
    ids = record_versions(session, rec)
    return session.execute(select(RepairCondition.met_on).where(
        RepairCondition.kind == "obligations-fulfilled", RepairCondition.record_id.in_(ids),
        RepairCondition.met_on <= on).order_by(RepairCondition.met_on).limit(1)).scalar()


def training_on(session: Session, rec: CreditRecord, on: dt.date) -> dt.date | None:
    return session.execute(select(RepairCondition.met_on).where(
        RepairCondition.kind == "training", RepairCondition.subject_id == rec.subject_id,
        RepairCondition.met_on >= rec.occurred_on, RepairCondition.met_on <= on)
        .order_by(RepairCondition.met_on).limit(1)).scalar()


def _iso_day(day: dt.date, lang: str) -> str:
    """A date as the inbox messages write one: ISO, set off by spaces in Chinese."""
    return f" {day.isoformat()} " if lang == "zh" else day.isoformat()


#: How a check's wording writes a date: `clock.day_in_words` (pages) or `_iso_day` (the
#: inbox messages); the Chinese wording sets it between words with no spaces of its own.
DayWords = Callable[[dt.date, str], str]


@dataclass
class Eligibility:
    """The check of every condition of repair: `checks` as stored with the application
    (each unmet or met condition's `detail`, the plain English the API and the command
    line give with ISO dates, and `detail_zh` / `detail_en`, the pages' words with dates
    written out); `told` the same conditions as the inbox message tells them (its dates
    ISO, as every procedure message writes a date)."""

    record_id: int
    tier: str | None
    eligible: bool
    eligible_from: dt.date
    publication_ends: dt.date | None
    checks: list[dict[str, Any]] = field(default_factory=list)
    told: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) per check, as the message says it

    @property
    def failures(self) -> list[str]:
        return [c["detail"] for c in self.checks if not c["met"]]

    @property
    def failures_zh(self) -> list[str]:
        """The unmet conditions as the subject is told them, in Chinese."""
        return [zh for c, (zh, _en) in zip(self.checks, self.told, strict=True) if not c["met"]]

    @property
    def failures_en(self) -> list[str]:
        """The unmet conditions as the subject is told them, in English."""
        return [en for c, (_zh, en) in zip(self.checks, self.told, strict=True) if not c["met"]]

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "tier": self.tier, "eligible": self.eligible,
                "eligible_from": self.eligible_from.isoformat(), "publication_ends": iso(self.publication_ends),
                "checks": self.checks}


def unmet(eligibility: dict[str, Any] | None, lang: str = "zh") -> str:
    """A stored check's (`Eligibility.as_dict`) unmet conditions in `lang`, for pages and
    documents (the stored `refusal_reason` is the English the API and CLI show)."""
    checks = (eligibility or {}).get("checks") or []
    said = [(c.get("detail_en") or c.get("detail")) if lang == "en" else (c.get("detail_zh") or c.get("detail"))
            for c in checks if not c.get("met")]
    return ("; " if lang == "en" else "；").join(s for s in said if s)


def eligibility(session: Session, *, record_id: int, on: dt.date | None = None) -> Eligibility:
    """Check every condition of repair for one record, automatically: the minimum
    period (from the catalogue), obligations recorded as fulfilled, a credit
    commitment signed, and training where the tier's rules require it."""
    on = on or clock.today()
    rec = get_record(session, record_id)
    item = get_item(session, rec.item_code)
    if item.polarity != "negative":
        raise InvalidInput(f"record {record_id} is not a negative record; there is nothing to repair",
                           code="workflows.repair.not_negative", params={"record": record_id})
    if not rec.is_current:
        raise InvalidInput(f"record {record_id} is an old version; apply for the current one",
                           code="workflows.repair.old_version", params={"record": record_id})
    if rec.status in ("repaired", "revoked"):
        raise InvalidInput(f"record {record_id} is already {rec.status}", code="workflows.repair.done",
                           params={"record": record_id, "status": rec.status})
    if rec.status == "disputed":
        raise InvalidInput(f"record {record_id} is under objection; repair waits for the decision",
                           code="workflows.repair.disputed", params={"record": record_id})
    sch = schedule_of(rec, item)
    r = rules(session)
    tr = tier_rules(r, item.severity)
    period_ok = on >= sch.repairable_from
    sev_zh, sev_en = (labels.label("severity", item.severity, lang) for lang in ("zh", "en"))
    start = sch.repairable_from.isoformat()
    # Each condition: whether it is met, its plain English (ISO dates), and its words in
    # both languages with a date written by `day` (the pages' or the message's).
    said: list[tuple[str, bool, str, Callable[[DayWords], tuple[str, str]]]] = []

    def period(day: DayWords) -> tuple[str, str]:
        zh, en = day(sch.repairable_from, "zh"), day(sch.repairable_from, "en")
        return ((f"{sev_zh}记录最短公示期 {sch.min_months} 个月，"
                 + (f"已于{zh}届满" if period_ok else f"将于{zh}届满，届时可申请修复")),
                (f"the minimum publication of {sch.min_months} months ({sev_en.lower()}) "
                 f"{'ended' if period_ok else 'ends'} on {en}"
                 + ("" if period_ok else f": repair can be applied for from {en}")))

    said.append(("minimum-period", period_ok,
                 f"the minimum publication of {sch.min_months} months ({item.severity}) "
                 f"{'ended' if period_ok else 'ends'} on {start}"
                 + ("" if period_ok else f": repair can be applied for from {sch.repairable_from}"), period))
    if tr.obligations_required:
        fulfilled = obligations_fulfilled(session, rec, on)
        dept_zh, dept_en = (labels.label("department", rec.department_code, lang) for lang in ("zh", "en"))

        def obligations(day: DayWords) -> tuple[str, str]:
            if fulfilled is None:
                return (f"尚无履行法定义务的登记（由{dept_zh}登记）",
                        f"no record that the obligations are fulfilled ({dept_en} records it)")
            return (f"已于{day(fulfilled, 'zh')}登记履行法定义务",
                    f"obligations recorded as fulfilled on {day(fulfilled, 'en')}")

        said.append(("obligations-fulfilled", fulfilled is not None,
                     f"obligations recorded as fulfilled on {fulfilled}" if fulfilled else
                     f"no record that the obligations are fulfilled ({rec.department_code} records it)", obligations))
    if tr.commitment_required:
        signed = commitments_service.has_signed(session, subject_id=rec.subject_id,
                                                type=r.repair.commitment_type, on=on)
        kind_zh, kind_en = (labels.label("commitment_template", r.repair.commitment_type, lang) for lang in ("zh", "en"))

        def commitment(_day: DayWords) -> tuple[str, str]:
            return (f"已签署{kind_zh}", f"{kind_en} signed") if signed else (f"尚未签署{kind_zh}", f"no signed {kind_en}")

        said.append(("commitment", signed,
                     f"a {r.repair.commitment_type} commitment is signed" if signed else
                     f"no signed {r.repair.commitment_type} commitment (信用修复承诺书)", commitment))
    if tr.training_required:
        trained = training_on(session, rec, on)

        def training(day: DayWords) -> tuple[str, str]:
            if trained is None:
                return "该记录之后尚未参加信用修复培训", "no training attended since the record"
            return f"已于{day(trained, 'zh')}参加信用修复培训", f"training attended on {day(trained, 'en')}"

        said.append(("training", trained is not None,
                     f"training attended on {trained}" if trained else "no training attended since the record",
                     training))
    checks: list[dict[str, Any]] = []
    for condition, met, detail, words in said:
        zh, en = words(clock.day_in_words)
        checks.append({"condition": condition, "met": met, "detail": detail, "detail_zh": zh, "detail_en": en})
    ok = all(c["met"] for c in checks)
    return Eligibility(rec.id, item.severity, ok, sch.repairable_from, sch.publication_ends, checks,
                       [words(_iso_day) for _c, _m, _d, words in said])
