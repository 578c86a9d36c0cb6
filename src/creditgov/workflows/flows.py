"""Use cases of objection and repair that reach other domains: lists, evaluation,
publication and the subject's own view.

Kept apart from the procedures (`objection.py`, `repair.py`, …) so the workflow's own
state machine stays readable and each cross-domain effect is one named step here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from creditgov.alerts.inbox import message_dict
from creditgov.alerts.inbox import messages as inbox
from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, labels
from creditgov.lists import exits as lists_service
from creditgov.lists import queries as lists_queries
from creditgov.records import service as records_service
from creditgov.records.models import CreditRecord
from creditgov.scoring import current
from creditgov.scoring.models import Reevaluation as ReevaluationRow
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.security.models import AuditEntry
from creditgov.subjects import service as subject_service
from creditgov.workflows import calendar, objection
from creditgov.workflows.common import get_objection, get_record, record_versions
from creditgov.workflows.eligibility import obligations_fulfilled, repair_schedule, schedule_of
from creditgov.workflows.exchange import package_dict, queue_exchange
from creditgov.workflows.models import Objection, RepairApplication, RepairCondition
from creditgov.workflows.notifications import Wording, tell_subject
from creditgov.workflows.repair import claim_approval, repair_dict, repairs
from creditgov.workflows.rules import rules

# ----------------------------------------------------------------------------- lists


def exit_lists_for(session: Session, *, rec: CreditRecord, kind: str, reason: str, actor: str) -> dict[str, list[int]]:
    """Entries resting on any version of the record leave their lists (the lists
    domain's own procedure does the exit and keeps the history)."""
    out: dict[str, list[int]] = {"exited": [], "withdrawn": []}
    for rid in record_versions(session, rec):
        got = lists_service.exit_for_record(session, record_id=rid, reason=reason, kind=kind, actor=actor)
        out["exited"] += got["exited"]
        out["withdrawn"] += got["withdrawn"]
    return out


# ----------------------------------------------------------------------------- objection


def decide_objection(session: Session, *, objection_id: int, outcome: str, reason: str, department: str,
                     corrections: dict[str, str] | None = None, actor: str | None = None) -> Objection:
    """The department's decision; a deletion also takes off the lists every entry that
    rested on the deleted record (its basis no longer stands)."""
    actor = actor or audit.default_actor()
    o = objection.decide_objection(session, objection_id=objection_id, outcome=outcome, reason=reason,
                                   department=department, corrections=corrections, actor=actor)
    if outcome == "deleted":
        exit_lists_for(session, rec=get_record(session, o.record_id), kind="manual", actor=actor,
                       reason=f"record deleted after objection {o.id}: {reason.strip()}")
    # the record is back in evaluation, corrected, or gone: the subject stands anew
    current.reevaluate_after(session, subject_id=o.subject_id, cause=f"objection:{o.id}", actor=actor)
    return o


def decide_review(session: Session, *, objection_id: int, outcome: str, reason: str, unit: str,
                  corrections: dict[str, str] | None = None, actor: str | None = None) -> Objection:
    actor = actor or audit.default_actor()
    target = get_objection(session, objection_id)
    target_id = target.result_record_id or target.record_id
    o = objection.decide_review(session, objection_id=objection_id, outcome=outcome, reason=reason, unit=unit,
                                corrections=corrections, actor=actor)
    if outcome == "deleted":
        exit_lists_for(session, rec=get_record(session, target_id), kind="manual", actor=actor,
                       reason=f"record deleted on review of objection {o.id}: {reason.strip()}")
    current.reevaluate_after(session, subject_id=o.subject_id, cause=f"objection:{o.id}", actor=actor)
    return o


# ----------------------------------------------------------------------------- evaluation


def reevaluate_subject(session: Session, *, subject_id: int, cause: str, actor: str | None = None,
                       as_of: dt.date | None = None) -> list[ReevaluationRow]:
    """The subject recomputed at once after a procedure changed its file, in the name
    of the decision's actor (`scoring.current.reevaluate`: its result stands on the
    file, the report, checks and codes until the next run)."""
    return current.reevaluate(session, subject_id=subject_id, cause=cause, actor=actor, as_of=as_of)


# ----------------------------------------------------------------------------- repair


def approve_repair(session: Session, *, application_id: int, department: str, reason: str | None = None,
                   actor: str | None = None) -> dict[str, Any]:
    """Approval and everything it sets off, in one unit of work: the record becomes
    repaired (stops being published, shared and used), list entries resting on it
    exit (their linked measures with them), the subject is re-evaluated for every
    published model, one exchange package is queued per place the record went, and
    the subject is told. Exactly one approval can win (see `common.claim`)."""
    actor = actor or audit.default_actor()
    a = claim_approval(session, application_id=application_id, department=department, reason=reason,
                       actor=actor)
    rec = get_record(session, a.record_id, lock=True)
    records_service.change_status(session, record_id=rec.id, to_status="repaired", actor=actor,
                                  reason=f"credit repair application {a.id} approved by {department}")
    lists = exit_lists_for(session, rec=rec, kind="repair", actor=actor,
                           reason=f"record {rec.id} repaired (application {a.id})")
    packages = queue_exchange(session, rec=rec, kind="record.repaired", cause=f"repair:{a.id}",
                              payload={"decided_by": department})
    # A repair is a legal decision; a broken model pack must not undo it.
    reevals, reeval_error = current.reevaluate_after(session, subject_id=a.subject_id, cause=f"repair:{a.id}",
                                                     actor=actor)
    audit.append(session, action="repair.approve", actor=actor, subject_id=a.subject_id,
                 detail={"application": a.id, "record": rec.id, "department": department,
                         "lists_exited": lists["exited"], "lists_withdrawn": lists["withdrawn"],
                         "exchange": [p.id for p in packages], "reevaluated": [r.model_name for r in reevals],
                         "reevaluation_error": reeval_error})
    grades = {lang: ("，" if lang == "zh" else ", ").join(
        f"{labels.label('model', f'{r.model_name}@{r.model_version}', lang)}: {r.previous_grade or '—'} → {r.grade}"
        for r in reevals) for lang in ("zh", "en")}
    n = len(lists["exited"])
    tell_subject(session, a.subject_id, "repair.approved", Wording(
        f"信用修复申请 {a.id} 已通过: 记录 {rec.id} 已修复, 停止公示和共享"
        + (f"; 移出名单 {n} 项" if n else "") + (f"; 评价已重新计算 ({grades['zh']})" if reevals else "") + "。",
        f"Repair application {a.id} is approved: record {rec.id} is repaired, no longer published or shared"
        + (f"; taken off {n} list{'s' if n != 1 else ''}" if n else "")
        + (f"; evaluations recalculated ({grades['en']})" if reevals else "") + "."), "repair", a.id)
    return {"application": repair_dict(session, a), "record": {"id": rec.id, "status": rec.status},
            "lists": lists, "exchange": [package_dict(p) for p in packages],
            "reevaluations": [reevaluation_dict(r) for r in reevals], "reevaluation_error": reeval_error}


def reevaluation_dict(r: ReevaluationRow) -> dict[str, Any]:
    return {"model": f"{r.model_name}@{r.model_version}", "as_of": r.as_of.isoformat(), "score": str(r.score),
            "grade": r.grade, "colour": r.colour, "previous_run_id": r.previous_run_id,
            "previous_grade": r.previous_grade, "cause": r.cause}


def end_publication(session: Session, *, actor: str | None = None) -> list[int]:
    """Publication ends by itself at the maximum period once the behaviour is corrected
    (Order 36): every current negative record in force whose maximum period has run
    out — and whose obligations are recorded as fulfilled, when the rules ask it —
    becomes `expired`, and the change is queued for every place it went. The worker
    runs this daily; running it twice changes nothing more."""
    actor = actor or "worker:end-publication"
    today = clock.today()
    needs_obligations = rules(session).repair.end_publication_requires_obligations
    items = list(session.execute(select(CatalogItem).where(
        CatalogItem.polarity == "negative", CatalogItem.max_publication_months.is_not(None))
        .order_by(CatalogItem.code)).scalars())
    start = func.coalesce(CreditRecord.published_from, CreditRecord.decided_on, CreditRecord.occurred_on)
    candidates: list[tuple[CreditRecord, CatalogItem]] = []
    for item in items:
        # A loose cut-off in SQL (month ends clip, so allow a few days); the exact
        # date is checked below with the same arithmetic as the repair schedule.
        cutoff = clock.add_months(today, -(item.max_publication_months or 0)) + dt.timedelta(days=3)
        q = (select(CreditRecord).where(CreditRecord.item_code == item.code, CreditRecord.is_current.is_(True),
                                        CreditRecord.status == "active", start <= cutoff)
             .order_by(CreditRecord.id))
        candidates += [(rec, item) for rec in session.execute(q).scalars()]
    ended = []
    for rec, item in sorted(candidates, key=lambda c: c[0].id):
        sch = schedule_of(rec, item)
        if sch.publication_ends is None or sch.publication_ends > today:
            continue
        if needs_obligations and obligations_fulfilled(session, rec, today) is None:
            continue
        records_service.change_status(
            session, record_id=rec.id, to_status="expired", actor=actor,
            reason=f"publication ended on {sch.publication_ends} ({item.max_publication_months} months, "
                   f"{item.severity}); obligations fulfilled")
        queue_exchange(session, rec=rec, kind="record.publication-ended", cause=f"expiry:{today}",
                       payload={"publication_ends": sch.publication_ends.isoformat()})
        ended.append(rec.id)
    return ended


# ----------------------------------------------------------------------------- publication


def published_records(session: Session, subject_id: int, on: dt.date | None = None) -> list[CreditRecord]:
    """The records a public page may show on a date: current, in force (so not
    disputed, repaired, revoked, expired or archived), public data class, of a kind the
    publication rules publish at all, inside the publication period. The web and report
    domains should publish through this."""
    on = on or clock.today()
    q = (select(CreditRecord).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True),
                CreditRecord.status == "active", CatalogItem.published.is_(True),
                CatalogItem.data_class.in_(tuple(catalog_service.PUBLICATION_CLASSES)),
                or_(CreditRecord.published_from.is_(None), CreditRecord.published_from <= on),
                or_(CreditRecord.published_until.is_(None), CreditRecord.published_until >= on))
         .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc()))
    return list(session.execute(q).scalars())


# ----------------------------------------------------------------------------- the subject's own view

# Audit actions that are a read of a subject's data by someone.
READ_ACTIONS = ("subject.read", "check", "report.download")


def _readers(session: Session, subject_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Who read the file and why, from the audit chain: reads of the file or of a
    score's explanation, credit checks by departments, credit report downloads."""
    q = (select(AuditEntry).where(AuditEntry.subject_id == subject_id,
                                  AuditEntry.action.in_(READ_ACTIONS))
         .order_by(AuditEntry.id.desc()).limit(limit))
    return [{"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action, "purpose": e.purpose}
            for e in session.execute(q).scalars()]


def _explanations(session: Session, subject_id: int, on: dt.date) -> list[dict[str, Any]]:
    from creditgov.scoring import explain
    from creditgov.scoring import service as scoring_service

    out = []
    for name in current.published_models(session):
        mv, p = scoring_service.prepared_for(session, name, on)
        data = explain.load_subject_data(session, [subject_id], items=p.used_items).get(subject_id)
        if data is None or not explain.in_scope(p, data):
            continue
        run_id, grade = current.latest_published(session, name, subject_id)
        out.append({"model": f"{mv.name}@{mv.version}", "published_run": run_id, "published_grade": grade,
                    "explanation": explain.evaluate(p, data).as_dict()})
    return out


def own_view(session: Session, keyring: KeyRing, key: str, *, actor: str | None = None) -> dict[str, Any]:
    """What a signed-in subject sees of itself: its credit file, each score with its
    explanation, its list entries, its objections and repairs with their deadlines,
    the repair dates of each negative record, its inbox, and who read its file and
    why. The read itself is audited (purpose 'own view') like any read of a file."""
    subject = subject_service.resolve(session, keyring, key)
    actor = actor or f"subject:{subject.id}"
    today = clock.today()
    file = subject_service.credit_file(session, keyring, str(subject.id), actor=actor, purpose="own view").as_dict()
    file.pop("readers", None)
    entries = [lists_queries.entry_dict(e) for e in lists_queries.entries(session, subject_id=subject.id)]
    reevals = session.execute(select(ReevaluationRow).where(ReevaluationRow.subject_id == subject.id)
                              .order_by(ReevaluationRow.id.desc()).limit(20)).scalars()
    cal = calendar.load(session)
    conditions = session.execute(select(RepairCondition).where(RepairCondition.subject_id == subject.id)
                                 .order_by(RepairCondition.id)).scalars()
    return {
        "as_of": today.isoformat(),
        "file": file,
        "published_record_ids": [r.id for r in published_records(session, subject.id, today)],
        "scores": _explanations(session, subject.id, today),
        "reevaluations": [reevaluation_dict(r) for r in reevals],
        "lists": entries,
        "objections": [objection.objection_dict(session, o, today, cal=cal)
                       for o in objection.objections(session, subject_id=subject.id)],
        "repairs": [repair_dict(session, a, today) for a in repairs(session, subject_id=subject.id)],
        "repair_schedule": repair_schedule(session, subject.id),
        "repair_conditions": [{"kind": c.kind, "record_id": c.record_id, "met_on": c.met_on.isoformat(),
                               "department": c.department_code, "note": c.note} for c in conditions],
        "inbox": [message_dict(m) for m in inbox(session, recipient_kind="subject",
                                                 recipient=str(subject.id))],
        "readers": _readers(session, subject.id),
    }


def open_cases(session: Session, subject_id: int) -> dict[str, int]:
    """Counts of open objections and repairs (for a summary line)."""
    objs = session.execute(select(Objection.id).where(Objection.subject_id == subject_id,
                                                      Objection.status.in_(("open", "reviewing")))).all()
    reps = session.execute(select(RepairApplication.id).where(and_(
        RepairApplication.subject_id == subject_id,
        RepairApplication.status.in_(("submitted", "forwarded"))))).all()
    return {"objections": len(objs), "repairs": len(reps)}
