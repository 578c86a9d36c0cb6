"""What the workflow pages (`web/workflow_pages.py`) show of a case or a record, built
from the workflow services: a record's status changes and supersession, a case's
steps, a record's repair conditions with the forms the reader may use, its eligibility,
and the record's repair page as an officer sees it (`record_desk`). Plain values for
the templates; no routes here, and no words of its own (the templates hold them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.bureaus import access as bureau_access
from creditgov.commitments.access import own_commitments
from creditgov.core import clock, labels
from creditgov.core.errors import InvalidInput
from creditgov.exchange import access as exchange_access
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.scoring import narrative
from creditgov.scoring import service as scoring_service
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Forbidden, Grant, Principal, Role, authorize
from creditgov.security.users import consent_dict, consents
from creditgov.web import i18n
from creditgov.web.i18n import refusal
from creditgov.workflows import flows
from creditgov.workflows.access import (
    MAX_FILE_BYTES,
    MAX_FILES,
    acting_unit,
    condition_unit,
    own_view_of,
    record_refs,
)
from creditgov.workflows.common import get_item, record_versions
from creditgov.workflows.conditions import repair_conditions
from creditgov.workflows.eligibility import eligibility as check_eligibility
from creditgov.workflows.eligibility import schedule_of, unmet
from creditgov.workflows.models import OBJECTION_OPEN, REPAIR_OPEN, Objection, RepairApplication
from creditgov.workflows.rules import rules as workflow_rules

UPLOAD_HINT = {"files": MAX_FILES, "mb": MAX_FILE_BYTES // (1024 * 1024)}


def deciding_unit(session: Session, who: Principal, permission: str) -> str | None:
    """The unit the reader decides in, when it may decide at all."""
    if not who.can(permission):
        return None
    try:
        return acting_unit(session, who)
    except Forbidden:
        return None


def status_history(session: Session, record_ids: list[int]) -> list[dict[str, Any]]:
    """The records' status changes in order, with the moment a version was superseded
    by a newer one (a correction: `superseded_by`) among them — a corrected record
    keeps its last status (back in force), but it is no longer the record in force."""
    ids = [i for i in record_ids if i]
    q = (select(RecordStatusChange).where(RecordStatusChange.record_id.in_(ids))
         .order_by(RecordStatusChange.id))
    out = [{"record_id": c.record_id, "from": c.from_status, "to": c.to_status,
            "at": c.at.isoformat(timespec="seconds"), "actor": c.actor, "reason": c.reason}
           for c in session.execute(q).scalars()]
    newer = select(CreditRecord).where(CreditRecord.supersedes_id.in_(ids)).order_by(CreditRecord.id)
    said = [{"record_id": r.supersedes_id, "superseded_by": r.id, "at": r.created_at.isoformat(timespec="seconds")}
            for r in session.execute(newer).scalars()]
    return sorted(out + said, key=lambda h: h["at"])


def record_base(session: Session, who: Principal, subject_id: int) -> str | None:
    """Where the reader sees a subject's records (each row is `#rec-<id>` there): the own
    view for the subject itself, else the file page when the reader may open it."""
    if who.role is Role.SUBJECT:
        return "/me/credit" if who.subject_id == subject_id and who.can("own.view") else None
    if who.can("subjects.read") and authorize(who, "subjects.read").in_scope(session, subject_id):
        return f"/subjects/{subject_id}"
    return None


def left_sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pending cases first, the nearest deadline first; then the rest, newest first."""
    pending = sorted((r for r in rows if r["deadline"]), key=lambda r: (r["deadline"], r["id"]))
    return pending + [r for r in rows if not r["deadline"]]


def met_on_field(value: str) -> dt.date | None:
    """A form's date field: blank is today (the service's default)."""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", code="workflows.date.malformed",
                           params={"value": value.strip()}) from None


def conditions_for(session: Session, who: Principal, record_id: int, subject_id: int) -> dict[str, Any]:
    """A record's repair conditions and what the reader may record of them: an officer
    whose unit fits confirms obligations (until recorded) and training; the subject
    signs the commitment; the credit office records one signed at its window."""
    cs = repair_conditions(session, record_id=record_id)
    by = {c["condition"]: c for c in cs["conditions"]}
    unit: str | None = None
    may = who.can("repairs.conditions") and authorize(who, "repairs.conditions").in_scope(session, subject_id)
    if may:
        try:
            unit = condition_unit(session, who)
        except Forbidden:
            may = False
    officer = may and cs["open"] and unit is not None
    kinds = [k for k in ("obligations-fulfilled", "training")
             if officer and unit in by[k]["recorded_by"] and not (k == "obligations-fulfilled" and by[k]["met"])]
    sign = may and cs["open"] and cs["commitment"] is not None and not by["commitment"]["met"] \
        and (unit is None or unit in by["commitment"]["recorded_by"])
    return {**cs, "by": by, "kinds": kinds, "can_sign": sign, "window": sign and unit is not None,
            "today": clock.today().isoformat()}


def eligibility_for(session: Session, record_id: int) -> dict[str, Any]:
    """A record's eligibility for the pages, with whether the minimum period has passed."""
    try:
        e = check_eligibility(session, record_id=record_id).as_dict()
    except InvalidInput as exc:
        return {"error": refusal(exc)}
    e["period_ok"] = all(c["met"] for c in e["checks"] if c["condition"] == "minimum-period")
    return e


def record_desk(session: Session, who: Principal, rec: CreditRecord) -> dict[str, Any]:
    """A record's repair as the department that supplied it or the credit office sees
    it (`/records/{id}/repair`): the record, its repair dates, eligibility, each
    condition with the forms the reader may use (register obligations fulfilled or a
    training; the office's window records a commitment signed there), the record's
    objections and applications, and whether the window may apply on the subject's
    behalf (no application open, the record not under objection, every condition met)."""
    item = get_item(session, rec.item_code)
    ref = record_refs(session, {rec.id})[rec.id]
    versions = record_versions(session, rec)
    apps = list(session.execute(select(RepairApplication).where(RepairApplication.record_id.in_(versions))
                                .order_by(RepairApplication.id.desc())).scalars())
    objs = list(session.execute(select(Objection).where(Objection.record_id.in_(versions))
                                .order_by(Objection.id.desc())).scalars())
    lang = i18n.current.get()
    out: dict[str, Any] = {
        "r": ref, "item": item, "severity": item.severity, "subject_id": rec.subject_id,
        "applications": [{"id": a.id, "status": a.status, "applied_on": a.applied_on.isoformat(),
                          "channel": labels.label("channel", a.channel, lang), "open": a.status in REPAIR_OPEN}
                         for a in apps],
        "objections": [{"id": o.id, "status": o.status, "open": o.status in OBJECTION_OPEN} for o in objs],
        "status_history": status_history(session, versions),
        "schedule": None, "eligibility": None, "conditions": None, "not_repairable": None,
        "can_apply": False, "open_case": False, "intake": workflow_rules(session).repair.intake_unit,
    }
    if item.polarity != "negative":
        out["not_repairable"] = "not_negative"
        return out
    out["schedule"] = schedule_of(rec, item).as_dict()
    if not rec.is_current or rec.status in ("repaired", "revoked", "archived"):
        out["not_repairable"] = "old_version" if not rec.is_current else "closed"
        return out
    out["eligibility"] = eligibility_for(session, rec.id)
    out["conditions"] = conditions_for(session, who, rec.id, rec.subject_id)
    open_case = any(a["open"] for a in out["applications"]) or rec.status == "disputed"
    out["can_apply"] = (who.role is not Role.SUBJECT and who.can("repairs.apply")
                        and authorize(who, "repairs.apply").in_scope(session, rec.subject_id)
                        and not open_case and bool(out["eligibility"].get("eligible")))
    out["open_case"] = open_case
    return out


def own_context(session: Session, keyring: KeyRing, who: Principal, grant: Grant) -> dict[str, Any]:
    """The own view (`/me/credit`) as its page shows it: each record with its publication,
    repair dates, eligibility and conditions, open cases and the forms the subject may use."""
    v = own_view_of(session, keyring, grant)
    # The explanation in the same words as the file page and the PDF report.
    v = {**v, "scores": [{**sc, "explanation": narrative.narrate(
        session, sc["explanation"], scoring_service.get(session, sc["model"])[1], i18n.current.get())}
        for sc in v["scores"]]}
    published = set(v["published_record_ids"])
    schedule = {r["record_id"]: r for r in v["repair_schedule"]}
    open_objections = {o["record_id"]: o for o in v["objections"] if o["status"] in OBJECTION_OPEN}
    open_repairs = {a["record_id"]: a for a in v["repairs"] if a["status"] in REPAIR_OPEN}
    rows = []
    commitment = None  # the credit-repair commitment to sign, while a record waits for it
    for r in v["file"]["records"]:
        sch = schedule.get(r["id"])
        eligibility = conditions = None
        if sch and r["status"] in ("active", "expired") and r["id"] not in open_repairs:
            eligibility = eligibility_for(session, r["id"])
            conditions = conditions_for(session, who, r["id"], v["file"]["id"])
            if conditions["can_sign"] and commitment is None:
                commitment = conditions
        rows.append({**r, "published": r["id"] in published, "schedule": sch, "eligibility": eligibility,
                     "conditions": conditions,
                     "open_objection": open_objections.get(r["id"]), "open_repair": open_repairs.get(r["id"]),
                     "can_object": r["status"] == "active" and r["is_current"]})
    return {"v": v, "f": v["file"], "rows": rows, "counts": flows.open_cases(session, v["file"]["id"]),
            "can_file": who.can("objections.file"), "can_apply": who.can("repairs.apply"),
            "commitment": commitment, "upload": UPLOAD_HINT,
            "consents": [consent_dict(c) for c in consents(session, subject_id=v["file"]["id"])],
            "exchanged": exchange_access.for_subject(session, v["file"]["id"]),
            "bureau_runs": bureau_access.for_subject(session, v["file"]["id"]),
            **own_commitments(session, who, v["file"]["id"])}


def objection_history(o: dict[str, Any], withdrawn_on: str | None) -> list[dict[str, Any]]:
    h = [{"step": "received", "on": o["received_on"], "by": o["filed_by"], "note": o["reason"],
          "due": o["due_on"] if not o["extended_on"] else None}]
    if o["extended_on"]:
        h.append({"step": "extended", "on": o["extended_on"], "by": o["department"], "note": o["extension_reason"],
                  "due": o["due_on"]})
    if o["decided_on"]:
        h.append({"step": "decided", "on": o["decided_on"], "by": o["decided_by"], "outcome": o["outcome"],
                  "note": o["decision_reason"]})
    r = o["review"]
    if r:
        h.append({"step": "review_requested", "on": r["requested_on"], "by": o["filed_by"], "note": r["reason"],
                  "due": r["due_on"]})
        if r["decided_on"]:
            h.append({"step": "reviewed", "on": r["decided_on"], "by": r["decided_by"], "outcome": r["outcome"],
                      "note": r["decision_reason"]})
    if o["status"] == "withdrawn":
        h.append({"step": "withdrawn", "on": withdrawn_on, "by": o["filed_by"]})
    return h


def repair_history(a: dict[str, Any], intake: str) -> list[dict[str, Any]]:
    """The application's steps, units and channels by their names, a refusal's unmet
    conditions in the reader's language."""
    lang = i18n.current.get()
    h = [{"step": "applied", "on": a["applied_on"], "by": a["applicant"] or labels.label("channel", a["channel"], lang),
          "due": a["intake_due_on"]}]
    if a["status"] == "refused":
        h.append({"step": "refused", "on": a["decided_on"], "by": a["decided_by"],
                  "note": unmet(a["eligibility"], lang) or a["refusal_reason"]})
    if a["forwarded_on"]:
        h.append({"step": "forwarded", "on": a["forwarded_on"], "by": labels.label("department", intake, lang),
                  "due": a["decision_due_on"], "note": labels.label("department", a["department"], lang)})
    if a["status"] in ("approved", "rejected"):
        h.append({"step": a["status"], "on": a["decided_on"], "by": a["decided_by"], "note": a["decision_reason"]})
    return h
