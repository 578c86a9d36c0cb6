"""A record's repair conditions as the API and the pages show and record them: what
is recorded, whether each is met today and who records it, the credit-repair
commitment's text as it would be signed, and one door for recording any condition —
the credit-repair commitment included (the commitments domain's own door refuses it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.commitments import service as commitments_service
from creditgov.core import clock
from creditgov.core.clock import iso
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.workflows.common import get_item, get_record, get_subject, record_versions
from creditgov.workflows.eligibility import obligations_fulfilled, record_condition, training_on
from creditgov.workflows.models import RepairCondition
from creditgov.workflows.notifications import Wording, tell_subject, unit_name
from creditgov.workflows.rules import rules, tier_rules

CONDITION_KINDS = ("obligations-fulfilled", "training", "commitment")


def _repairable(session: Session, record_id: int) -> tuple[CreditRecord, CatalogItem]:
    """A record whose repair conditions can still be recorded: the current version of a
    negative record, not repaired or revoked (a disputed or expired one can)."""
    rec = get_record(session, record_id)
    item = get_item(session, rec.item_code)
    if item.polarity != "negative":
        raise InvalidInput(f"record {record_id} is not a negative record; there is nothing to repair",
                           code="workflows.repair.not_negative", params={"record": record_id})
    if not rec.is_current:
        raise InvalidInput(f"record {record_id} is an old version; record conditions on the current one",
                           code="workflows.repair.old_version", params={"record": record_id})
    if rec.status in ("repaired", "revoked"):
        raise InvalidInput(f"record {record_id} is already {rec.status}", code="workflows.repair.done",
                           params={"record": record_id, "status": rec.status})
    return rec, item


def condition_units(session: Session, rec: CreditRecord) -> dict[str, list[str]]:
    """Who records each condition of a record: the supplying department or the credit
    office confirm obligations and training; the subject signs its commitment itself
    (`subject`), or the credit office's window records a commitment signed there."""
    office = rules(session).credit_office
    officers = list(dict.fromkeys((rec.department_code, office)))
    return {"obligations-fulfilled": officers, "training": officers, "commitment": ["subject", office]}


def repair_conditions(session: Session, *, record_id: int, on: dt.date | None = None) -> dict[str, Any]:
    """Every condition of repair one can record for a record, with what is recorded:
    obligations fulfilled (any version of the record), training attended (the
    subject's, counting from the record's date), the credit-repair commitments the
    subject signed; each with whether the tier requires it, whether it is met today
    (as `eligibility` counts it) and who records it; and the commitment's text as it
    would be signed today."""
    on = on or clock.today()
    rec = get_record(session, record_id)
    item = get_item(session, rec.item_code)
    if item.polarity != "negative":
        raise InvalidInput(f"record {record_id} is not a negative record; there is nothing to repair",
                           code="workflows.repair.not_negative", params={"record": record_id})
    r = rules(session)
    tr = tier_rules(r, item.severity)
    units = condition_units(session, rec)
    versions = record_versions(session, rec)
    obligations = [{"id": c.id, "kind": c.kind, "met_on": c.met_on.isoformat(), "unit": c.department_code,
                    "note": c.note, "counts": c.met_on <= on}
                   for c in session.execute(select(RepairCondition).where(
                       RepairCondition.kind == "obligations-fulfilled", RepairCondition.record_id.in_(versions))
                       .order_by(RepairCondition.met_on, RepairCondition.id)).scalars()]
    trainings = [{"id": c.id, "kind": c.kind, "met_on": c.met_on.isoformat(), "unit": c.department_code,
                  "note": c.note, "counts": rec.occurred_on <= c.met_on <= on}
                 for c in session.execute(select(RepairCondition).where(
                     RepairCondition.kind == "training", RepairCondition.subject_id == rec.subject_id)
                     .order_by(RepairCondition.met_on, RepairCondition.id)).scalars()]
    signed = [{"id": c.id, "kind": "commitment", "met_on": c.signed_on.isoformat(), "unit": None, "note": None,
               "signed_by": c.signed_by, "status": c.status, "text": c.text,
               "counts": c.status in ("signed", "fulfilled") and c.signed_on <= on}
              for c in commitments_service.of_subject(session, rec.subject_id) if c.type == r.repair.commitment_type]
    ob_on = obligations_fulfilled(session, rec, on)
    tr_on = training_on(session, rec, on)
    cm = [c for c in signed if c["counts"]]
    conditions = [
        {"condition": "obligations-fulfilled", "required": tr.obligations_required, "met": ob_on is not None,
         "met_on": iso(ob_on), "recorded_by": units["obligations-fulfilled"], "entries": obligations},
        {"condition": "training", "required": tr.training_required, "met": tr_on is not None,
         "met_on": iso(tr_on), "recorded_by": units["training"], "entries": trainings},
        {"condition": "commitment", "required": tr.commitment_required,
         "met": commitments_service.has_signed(session, subject_id=rec.subject_id, type=r.repair.commitment_type,
                                               on=on),
         "met_on": cm[0]["met_on"] if cm else None, "recorded_by": units["commitment"], "entries": signed},
    ]
    try:
        t = commitments_service.template_of_type(session, r.repair.commitment_type)
        text, due = commitments_service.signing_text(t, on)
        commitment = {"template": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "text": text,
                      "due_on": iso(due), "legal_basis": t.legal_basis}
    except NotFound:
        commitment = None
    return {"record_id": rec.id, "subject_id": rec.subject_id, "tier": item.severity,
            "department": rec.department_code, "credit_office": r.credit_office,
            "open": rec.is_current and rec.status not in ("repaired", "revoked"),
            "conditions": conditions, "commitment": commitment}


def sign_repair_commitment(session: Session, *, subject_id: int, unit: str | None, agreed: bool,
                           signed_by: str | None = None, actor: str | None = None) -> Any:
    """The credit-repair commitment (信用修复承诺书), signed today from the template of
    the rules' `commitment_type`: by the subject itself (`unit` None) or recorded by the
    credit office's window (then `signed_by`, who signed, is required). One in force
    is enough; a second is refused."""
    actor = actor or audit.default_actor()
    r = rules(session)
    if unit is not None and unit != r.credit_office:
        raise InvalidInput(f"a credit-repair commitment is the subject's own: it signs it itself, or at the credit "
                           f"office's window ({r.credit_office!r}); {unit!r} does not sign it")
    if not agreed:
        raise InvalidInput("read the commitment's text and agree to it before signing", code="commitments.not_agreed")
    if unit is not None and not (signed_by and signed_by.strip()):
        raise InvalidInput("a commitment signed at the window names who signed it (signed_by)",
                           code="commitments.no_signer")
    get_subject(session, subject_id)
    in_force = [c for c in commitments_service.of_subject(session, subject_id)
                if c.type == r.repair.commitment_type and c.status in ("signed", "fulfilled")]
    if in_force:
        c = in_force[0]
        raise InvalidInput(f"a {r.repair.commitment_type} commitment is already signed "
                           f"(commitment {c.id}, {c.signed_on.isoformat()})", code="workflows.commitment.signed",
                           params={"id": c.id, "on": c.signed_on.isoformat()})
    t = commitments_service.template_of_type(session, r.repair.commitment_type)
    c = commitments_service.sign(session, subject_id=subject_id, template_code=t.code,
                                 signed_by=(signed_by or "").strip() or None, scenario="credit-repair", actor=actor)
    if unit is not None:
        tell_subject(session, subject_id, "repair.commitment", Wording(
            f"信用修复承诺书已在{unit_name(session, unit)}窗口签署 (承诺 {c.id}, 签署人 {c.signed_by}), "
            f"承诺期至 {iso(c.due_on) or '—'}。",
            f"The credit repair commitment was signed at the window of {unit_name(session, unit, 'en')} "
            f"(commitment {c.id}, signed by {c.signed_by}); it runs until {iso(c.due_on) or '—'}."),
            "commitment", c.id)
    return c


def record_repair_condition(session: Session, *, record_id: int, kind: str, unit: str | None,
                            met_on: dt.date | None = None, note: str | None = None, signed_by: str | None = None,
                            agreed: bool = False, actor: str | None = None) -> Any:
    """Record one condition of a record's repair, by whoever may: `unit` is the acting
    unit of an officer (a department code or the credit office), None when the subject
    itself acts. Obligations fulfilled and training: the supplying department or the
    credit office, dated (never ahead) with a note — obligations once per record;
    the commitment: see `sign_repair_commitment`. The subject is told of what an
    officer recorded."""
    actor = actor or audit.default_actor()
    if kind not in CONDITION_KINDS:
        raise InvalidInput(f"kind is one of {list(CONDITION_KINDS)}")
    rec, _item_ = _repairable(session, record_id)
    if kind == "commitment":
        if met_on is not None and met_on != clock.today():
            raise InvalidInput("a commitment is signed today; it takes no other date")
        return sign_repair_commitment(session, subject_id=rec.subject_id, unit=unit, agreed=agreed,
                                      signed_by=signed_by, actor=actor)
    allowed = condition_units(session, rec)[kind]
    what = "obligations fulfilled" if kind == "obligations-fulfilled" else "a training attended"
    if unit is None:
        raise InvalidInput(f"{what} is confirmed by the department that supplied record {rec.id} "
                           f"({rec.department_code!r}) or the credit office, not by the subject",
                           code="workflows.condition.not_yours",
                           params={"record": rec.id, "department": rec.department_code})
    if unit not in allowed:
        raise InvalidInput(f"record {rec.id} was supplied by {rec.department_code!r}: {what} is confirmed by "
                           f"{' or '.join(repr(u) for u in allowed)}, not {unit!r}", code="workflows.condition.other_unit",
                           params={"record": rec.id, "department": rec.department_code})
    if kind == "obligations-fulfilled":
        when = obligations_fulfilled(session, rec, dt.date.max)
        if when is not None:
            raise InvalidInput(f"the obligations of record {rec.id} are already recorded as fulfilled on {when}",
                               code="workflows.condition.recorded", params={"record": rec.id, "on": when})
    row = record_condition(session, kind=kind, subject_id=rec.subject_id,
                           record_id=rec.id if kind == "obligations-fulfilled" else None, department=unit,
                           note=note, met_on=met_on, actor=actor)
    label, label_en = (("履行义务", "obligations fulfilled") if kind == "obligations-fulfilled" else
                       ("信用修复培训", "credit repair training"))
    note = f": {row.note}" if row.note else ""
    tell_subject(session, rec.subject_id, f"repair.condition.{kind}", Wording(
        f"记录 {rec.id} 的信用修复条件“{label}”已由{unit_name(session, unit)}登记 ({row.met_on.isoformat()}){note}。",
        f"The credit repair condition “{label_en}” of record {rec.id} was recorded by {unit_name(session, unit, 'en')} "
        f"({row.met_on.isoformat()}){note}."), "repair-condition", row.id)
    return row
