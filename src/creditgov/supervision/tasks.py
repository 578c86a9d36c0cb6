"""Inspection tasks (drawn or patrol) and their results. Which tasks a reader reaches
(`task_clause`), a task as the API and the pages show it, and entering a result,
re-assigning a task to other inspectors or cancelling it.

The closed loop: an inspection's result becomes a credit record through the same path
as ingestion — a registered source spec (`inspection_<department>`), a batch, the
`BatchWriter` with its checks (catalogue, approved data request, natural key,
correction as a new version), the raw row kept for `ingest trace` — so a penalty found
on inspection is in the credit file, the next evaluation and the warning rules like
any department's record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from sqlalchemy import ColumnElement, String, or_, select, true
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import parse_yaml_model
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import Batch
from creditgov.ingest.reasons import reason_code
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.writer import BatchWriter, Lookups
from creditgov.records.models import CreditRecord
from creditgov.scoring import current
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Region, Subject
from creditgov.supervision.draws import subject_names
from creditgov.supervision.models import InspectionTask, Inspector, SupervisionPolicy
from creditgov.supervision.service import people_named, policy

# ----------------------------------------------------------------------------- tasks


def get_task(session: Session, task_id: int, *, lock: bool = False) -> InspectionTask:
    t = session.get(InspectionTask, task_id, with_for_update=lock)
    if t is None:
        raise NotFound(f"inspection task {task_id} not found", code="supervision.task.not_found", params={"id": task_id})
    return t


def task_clause(subject_scope: ColumnElement[bool] | None, *, assignees: Sequence[str] = (),
                department: str | None = None) -> ColumnElement[bool]:
    """The tasks a reader reaches: those about subjects in `subject_scope` (a condition on
    `Subject`; None: every task), those of `department` (the inspecting department sees
    its own inspections) and those assigned to any of `assignees` (the roster codes the
    reader's account acts for — drawn inspectors never work in the subject's own region,
    so their tasks lie outside it)."""
    if subject_scope is None:
        return true()
    parts: list[ColumnElement[bool]] = [InspectionTask.subject_id.in_(select(Subject.id).where(subject_scope))]
    if department:
        parts.append(InspectionTask.department == department)
    for code in assignees:
        parts.append(sql_cast(InspectionTask.assignees, String).contains(json.dumps(code), autoescape=True))
    return or_(*parts)


def tasks(session: Session, *, status: str | None = None, inspector: str | None = None,
          draw_id: int | None = None, overdue: bool = False, limit: int = 200,
          where: ColumnElement[bool] | None = None, subject_id: int | None = None) -> list[InspectionTask]:
    q = select(InspectionTask).order_by(InspectionTask.due_on, InspectionTask.id)
    if where is not None:
        q = q.where(where)
    if subject_id is not None:
        q = q.where(InspectionTask.subject_id == subject_id)
    if status:
        q = q.where(InspectionTask.status == status)
    if draw_id is not None:
        q = q.where(InspectionTask.draw_id == draw_id)
    if overdue:
        q = q.where(InspectionTask.status == "assigned", InspectionTask.due_on < clock.today())
    rows = list(session.execute(q).scalars())
    if inspector:
        rows = [t for t in rows if inspector in (t.assignees or [])]
    return rows[:limit]


def task_dict(t: InspectionTask) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "draw_id": t.draw_id, "campaign_id": t.campaign_id, "policy": t.policy_name,
            "department": t.department, "subject_id": t.subject_id, "band": t.band, "assignees": list(t.assignees or []),
            "due_on": t.due_on.isoformat(), "status": t.status, "outcome": t.outcome, "finding": t.finding,
            "penalty_amount": str(t.penalty_amount) if t.penalty_amount is not None else None,
            "decision_no": t.decision_no, "score": str(t.score) if t.score is not None else None,
            "inspected_on": t.inspected_on.isoformat() if t.inspected_on else None, "record_id": t.record_id,
            "batch_id": t.batch_id, "assigned_at": assigned_at(t).isoformat(timespec="seconds")}


def assigned_at(t: InspectionTask) -> dt.datetime:
    """When the task was last assigned (UTC): made, or re-assigned to other inspectors."""
    return t.assigned_at or t.created_at


def team_of(t: InspectionTask, names: dict[str, str]) -> list[dict[str, str]]:
    """The task's inspectors by code and name (the roster's; "" for a code it lacks)."""
    return [{"code": c, "name": names.get(c, "")} for c in t.assignees or []]


def task_view(session: Session, t: InspectionTask) -> dict[str, Any]:
    """A task for the API and the pages: `task_dict` with the subject's display name, its
    inspectors' names (`team`), the policy's title and the credit record its result became."""
    out = task_dict(t)
    out["subject_name"] = subject_names(session, [t.subject_id]).get(t.subject_id, "")
    out["team"] = team_of(t, people_named(session, t.assignees or []))
    row = session.get(SupervisionPolicy, t.policy_name) if t.policy_name else None
    out["policy_title"] = row.title if row else None
    out["note"] = t.note
    out["created_at"] = t.created_at.isoformat(timespec="seconds")
    out["completed_by"] = t.completed_by
    out["record"] = None
    if t.record_id is not None:
        rec = session.get(CreditRecord, t.record_id)
        if rec is not None:
            out["record"] = {"id": rec.id, "item": rec.item_code, "document_no": rec.document_no,
                             "version": rec.version, "status": rec.status}
    return out


def task_views(session: Session, rows: Sequence[InspectionTask]) -> list[dict[str, Any]]:
    names = subject_names(session, sorted({t.subject_id for t in rows}))
    people = people_named(session, {c for t in rows for c in t.assignees or []})
    return [{**task_dict(t), "subject_name": names.get(t.subject_id, ""), "team": team_of(t, people)}
            for t in rows]


# ----------------------------------------------------------------------------- results → records

RESULT_COLUMNS = {"uscc": "统一社会信用代码", "resident_id": "身份证号码", "name": "名称", "item": "结果事项",
                  "occurred_on": "检查日期", "decided_on": "决定日期", "value": "金额或评分", "text": "检查结果",
                  "document_no": "检查文书号"}


def result_spec(department: str, items: Sequence[str]) -> tuple[SourceSpec, str]:
    """The source spec inspection results go through: one per inspecting department,
    registered like any department's spec (its text is kept with every batch)."""
    # A spec's version names one text (ingest.service.register_spec), and the items
    # differ between policies of one department: the version is the items' digest.
    items_key = ",".join(sorted(set(items)))
    doc = {"name": f"inspection_{department}",
           "version": "1-" + hashlib.sha256(items_key.encode("utf-8")).hexdigest()[:8],
           "title": f"{department} 检查结果 (supervision domain)", "department": department, "kind": "records",
           "file": "inspection-results.jsonl", "format": "jsonl", "columns": RESULT_COLUMNS,
           "steps": [{"field": "*", "op": "trim"}], "items": sorted(set(items)),
           "unknown_subject": "quarantine", "natural_key": ["document_no"]}
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return parse_yaml_model(SourceSpec, text, f"inspection spec {department}"), text


OUTCOMES = ("passed", "problems", "penalty")


def result_outcomes(session: Session, t: InspectionTask) -> tuple[str, ...]:
    """The outcomes `record_result` takes for the task: those its policy turns into a
    result item — `penalty` only where the policy registers penalties here (else the
    deciding department reports its penalty as its own record) — and none for a task
    without a policy (a patrol's findings go through the department's own source). A
    form offers these and no other."""
    if t.policy_name is None:
        return ()
    _, p = policy(session, t.policy_name)
    items = {"passed": p.results.passed, "problems": p.results.problems, "penalty": p.results.penalty}
    return tuple(o for o in OUTCOMES if items[o])


def record_result(session: Session, keyring: KeyRing, *, task_id: int, outcome: str, finding: str | None = None,
                  penalty_amount: Decimal | str | None = None, decision_no: str | None = None,
                  score: Decimal | str | None = None, inspected_on: dt.date | None = None,
                  actor: str | None = None) -> tuple[InspectionTask, CreditRecord]:
    """Enter an inspection's result; it becomes a credit record through ingestion.

    Entering a changed result for the same task later is a correction: the record's
    natural key is the task's document number, so ingestion adds a new version."""
    actor = actor or audit.default_actor()
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome must be passed, problems or penalty")
    t = get_task(session, task_id, lock=True)
    if t.status == "cancelled":
        raise InvalidInput(f"task {task_id} was cancelled", code="supervision.task.cancelled", params={"id": task_id})
    if t.policy_name is None:
        raise InvalidInput(f"task {task_id} ({t.kind}) has no policy, so no result items: record its findings "
                           "through the department's own source", code="supervision.task.no_policy",
                           params={"id": task_id})
    _, p = policy(session, t.policy_name)
    item = {"passed": p.results.passed, "problems": p.results.problems, "penalty": p.results.penalty}[outcome]
    if item is None:  # as `result_outcomes` says it to a form
        raise InvalidInput(f"policy {p.name} records no penalties: the deciding department's penalty is its own record",
                           code="supervision.task.no_penalty")
    if outcome == "penalty" and (penalty_amount is None or not decision_no):
        raise InvalidInput("a penalty needs its amount and the decision's document number",
                           code="supervision.task.penalty_incomplete")
    if outcome == "problems" and not (finding and finding.strip()):
        raise InvalidInput("problems found need a description", code="supervision.task.no_finding")
    when = inspected_on or clock.today()
    subj = session.get(Subject, t.subject_id)
    assert subj is not None
    amount = Decimal(str(penalty_amount)) if penalty_amount is not None else None
    sc = Decimal(str(score)) if score is not None else None
    value = amount if outcome == "penalty" else sc
    words = {"passed": "未发现问题", "problems": "发现问题, 责令整改", "penalty": "依法作出行政处罚"}[outcome]
    text = "; ".join(x for x in (words, (finding or "").strip(), f"处罚决定书 {decision_no}" if decision_no else "")
                     if x)
    raw = {RESULT_COLUMNS["uscc"]: subj.uscc or "",
           RESULT_COLUMNS["resident_id"]: keyring.decrypt(subj.resident_id) if (subj.resident_id and not subj.uscc)
           else "",
           RESULT_COLUMNS["name"]: subj.name, RESULT_COLUMNS["item"]: item,
           RESULT_COLUMNS["occurred_on"]: when.isoformat(), RESULT_COLUMNS["decided_on"]: when.isoformat(),
           RESULT_COLUMNS["value"]: str(value) if value is not None else "", RESULT_COLUMNS["text"]: text,
           RESULT_COLUMNS["document_no"]: f"{p.department.upper()}-JC-{t.id}"}
    spec, spec_text = result_spec(p.department, [i for i in (p.results.passed, p.results.problems,
                                                               p.results.penalty) if i])
    sv = ingest_service.register_spec(session, spec, spec_text)
    batch = Batch(source=spec.name, spec_version_id=sv.id, file_name=f"task:{t.id}", file_hash=None,
                  kind="inspection", started_at=clock.now(), actor=actor)
    session.add(batch)
    session.flush()
    lk = _lookups(session, keyring, subj)
    w = BatchWriter(session, lk, spec, batch, open_quarantine=set())
    w.process(1, raw, tag="result", quarantine=False)
    w.finish()
    verdict, reason = w.outcomes.get("result", ("rejected", "no outcome"))
    if verdict == "rejected":
        raise InvalidInput(f"the result could not become a credit record: {reason}", code="supervision.task.refused",
                           params={"reason": reason_code(reason or ""), "why": reason})
    rec = session.execute(select(CreditRecord).where(
        CreditRecord.source == spec.name, CreditRecord.document_no == raw[RESULT_COLUMNS["document_no"]],
        CreditRecord.is_current.is_(True))).scalar_one()
    t.status, t.outcome, t.finding, t.penalty_amount = "done", outcome, (finding or "").strip() or None, amount
    t.decision_no, t.score, t.inspected_on, t.record_id = decision_no, sc, when, rec.id
    t.batch_id, t.completed_by, t.updated_at = batch.id, actor, clock.now()
    session.flush()
    audit.append(session, action="supervision.result", actor=actor, subject_id=t.subject_id,
                 detail={"task": t.id, "outcome": outcome, "record": rec.id, "batch": batch.id, "verdict": verdict})
    # the finding is on the file now: the subject stands anew (a broken model cannot undo the result)
    current.reevaluate_after(session, subject_id=t.subject_id, cause=f"inspection:{t.id}", actor=actor)
    return t, rec


def _lookups(session: Session, keyring: KeyRing, subj: Subject) -> Lookups:
    """Ingestion's look-ups for one subject (the whole register is not needed for one row)."""
    from creditgov.catalog import service as catalog_service

    items = {i.code: i for i in catalog_service.items(session)}
    for i in items.values():
        session.expunge(i)
    return Lookups(
        today=clock.today(), keyring=keyring, items=items, requests=catalog_service.request_status(session),
        regions={}, by_uscc={subj.uscc: subj.id} if subj.uscc else {},
        by_index={subj.resident_id_index: subj.id} if subj.resident_id_index else {})


# ----------------------------------------------------------------------------- re-assignment


@dataclass(frozen=True)
class TeamRules:
    """What the assignment of a task keeps, as the draw keeps it (`draw.conflicts`, the
    pool and the load cap): who may inspect the subject, and how many of them.

    A task of a policy goes to the policy's pool and kinds of inspector
    (`inspector_pool`, `inspector_kinds`), never to one who works in the subject's region
    (`exclusions.own_region`) or inspected it last time (`exclusions.previous_inspectors`:
    the team of the subject's last task before this one that was not cancelled), never to
    one holding `max_tasks_per_inspector` tasks of the task's draw already, and to
    `inspectors_per_task` of them. A patrol goes to grid workers of the subject's grid."""

    policy: str | None
    pool: str | None
    kinds: tuple[str, ...]
    regions: frozenset[str]  # the subject's region and its ancestors
    own_region: bool
    previous: frozenset[str]
    load: dict[str, int]  # tasks of the task's draw each inspector holds, this one aside
    max_load: int | None
    size: int | None
    grid_workers: bool

    def broken(self, i: Inspector) -> str | None:
        """The first rule an (active) inspector breaks for the task, by its code; None: eligible."""
        if self.grid_workers and not (i.kind == "grid_worker" and i.region_code in self.regions):
            return "not_grid_worker"
        if self.pool is not None and (i.pool != self.pool or i.kind not in self.kinds):
            return "not_in_pool"
        if self.own_region and i.region_code is not None and i.region_code in self.regions:
            return "own_region"
        if i.code in self.previous:
            return "previous_inspectors"
        if self.max_load is not None and self.load.get(i.code, 0) >= self.max_load:
            return "load_cap"
        return None


def team_rules(session: Session, t: InspectionTask) -> TeamRules:
    """The rules a team for `t` keeps, read from its policy, its subject and its draw."""
    path = session.execute(select(Region.path).join(Subject, Subject.region_id == Region.id)
                           .where(Subject.id == t.subject_id)).scalar()
    regions = frozenset(c for c in (path or "").strip("/").split("/") if c)
    if t.policy_name is None:
        return TeamRules(None, None, (), regions, False, frozenset(), {}, None, None, t.kind == "patrol")
    _, p = policy(session, t.policy_name)
    previous: frozenset[str] = frozenset()
    if p.exclusions.previous_inspectors:
        last = session.execute(select(InspectionTask.assignees).where(
            InspectionTask.subject_id == t.subject_id, InspectionTask.id < t.id, InspectionTask.status != "cancelled")
            .order_by(InspectionTask.id.desc()).limit(1)).scalar()
        previous = frozenset(last or [])
    load: Counter[str] = Counter()
    if t.draw_id is not None and p.max_tasks_per_inspector is not None:
        for team in session.execute(select(InspectionTask.assignees).where(
                InspectionTask.draw_id == t.draw_id, InspectionTask.id != t.id,
                InspectionTask.status != "cancelled")).scalars():
            load.update(set(team or []))
    return TeamRules(p.name, p.inspector_pool, tuple(p.inspector_kinds), regions, p.exclusions.own_region,
                     previous, dict(load), p.max_tasks_per_inspector if t.draw_id is not None else None,
                     p.inspectors_per_task, False)


def eligible_inspectors(session: Session, t: InspectionTask) -> list[Inspector]:
    """The inspectors on duty a task may go to (by code): every rule of `team_rules` kept.
    Its present inspectors are among them where they keep the rules too."""
    rules = team_rules(session, t)
    q = select(Inspector).where(Inspector.active.is_(True)).order_by(Inspector.code)
    if rules.pool is not None:
        q = q.where(Inspector.pool == rules.pool, Inspector.kind.in_(rules.kinds))
    elif rules.grid_workers:
        q = q.where(Inspector.kind == "grid_worker", Inspector.region_code.in_(sorted(rules.regions)))
    return [i for i in session.execute(q).scalars() if rules.broken(i) is None]


def reassign_choices(session: Session, t: InspectionTask, chosen: Sequence[str]) -> list[dict[str, Any]]:
    """What a re-assignment form offers: the eligible inspectors (code, name, the region
    they work in), then any of `chosen` (what was ticked) the rules keep away, marked
    `eligible: False` so the form shows why it was refused and lets it be unticked."""
    eligible = eligible_inspectors(session, t)
    codes = {i.code for i in eligible}
    rest = [c for c in chosen if c not in codes]
    others = {i.code: i for i in session.execute(select(Inspector).where(Inspector.code.in_(rest))).scalars()}
    people = [(i, True) for i in eligible] + [(others[c], False) for c in rest if c in others]
    regions = dict(session.execute(select(Region.code, Region.name).where(
        Region.code.in_({i.region_code for i, _ in people if i.region_code}))).tuples().all())
    out = [{"code": i.code, "name": i.name, "region": regions.get(i.region_code or ""), "eligible": ok}
           for i, ok in people]
    return out + [{"code": c, "name": "", "region": None, "eligible": False} for c in rest if c not in others]


def _refuse_broken(rules: TeamRules, team: Sequence[str], roster: dict[str, Inspector]) -> None:
    """Refuse a team breaking a rule the draw keeps, naming the rule (by its code) and
    who breaks it."""
    broken = {a: rules.broken(roster[a]) for a in team}

    def who(rule: str) -> str:
        return ", ".join(a for a in team if broken[a] == rule)

    if names := who("not_grid_worker"):
        raise InvalidInput(f"{names}: not grid workers of the subject's grid", code="supervision.task.not_grid_worker",
                           params={"inspectors": names})
    if names := who("not_in_pool"):
        raise InvalidInput(f"{names}: not in the pool and kinds policy {rules.policy} draws from",
                           code="supervision.task.not_in_pool", params={"inspectors": names, "policy": rules.policy})
    if names := who("own_region"):
        raise InvalidInput(f"inspector(s) {names} work in the subject's own region",
                           code="supervision.task.own_region", params={"inspectors": names})
    if names := who("previous_inspectors"):
        raise InvalidInput(f"inspector(s) {names} inspected the subject last time",
                           code="supervision.task.previous_inspectors", params={"inspectors": names})
    if names := who("load_cap"):
        raise InvalidInput(f"inspector(s) {names} already hold {rules.max_load} tasks of this draw",
                           code="supervision.task.load_cap", params={"inspectors": names, "max": rules.max_load})
    if rules.size is not None and len(team) != rules.size:
        raise InvalidInput(f"the policy gives a task to {rules.size} inspectors, not {len(team)}",
                           code="supervision.task.team_size", params={"n": rules.size, "given": len(team)})


def reassign_task(session: Session, *, task_id: int, assignees: Sequence[str], reason: str,
                  actor: str | None = None) -> InspectionTask:
    """Give an open task to other inspectors (active ones of the roster, by code), with
    the reason (回避, leave, workload …). The new team keeps every rule the draw keeps
    (`team_rules`): a refusal names the rule broken and who breaks it. The assignment's
    moment is kept: the inspection notice printed afterwards is dated by it, not by the
    first assignment. Audited with the team before and after."""
    actor = actor or audit.default_actor()
    if not reason.strip():
        raise InvalidInput("re-assigning a task needs a reason", code="supervision.task.reassign_no_reason")
    team = sorted({a.strip() for a in assignees if a.strip()})
    if not team:
        raise InvalidInput("name the inspectors the task goes to", code="supervision.task.no_assignees")
    t = get_task(session, task_id, lock=True)
    if t.status != "assigned":
        raise InvalidInput(f"task {task_id} is {t.status}", code="supervision.task.not_open",
                           params={"id": task_id, "status": t.status})
    if team == sorted(t.assignees or []):
        raise InvalidInput(f"task {task_id} is already assigned to {', '.join(team)}",
                           code="supervision.task.same_assignees", params={"id": task_id})
    roster = {i.code: i for i in session.execute(select(Inspector).where(
        Inspector.code.in_(team), Inspector.active.is_(True))).scalars()}
    if missing := [a for a in team if a not in roster]:
        raise NotFound(f"no active inspector {', '.join(missing)}", code="supervision.task.unknown_inspectors",
                       params={"inspectors": ", ".join(missing)})
    _refuse_broken(team_rules(session, t), team, roster)
    before = list(t.assignees or [])
    now = clock.now()
    t.assignees, t.assigned_at, t.updated_at = team, now, now
    session.flush()
    audit.append(session, action="supervision.task.reassign", actor=actor, subject_id=t.subject_id,
                 detail={"task": t.id, "from": before, "to": team, "reason": reason.strip()[:500]})
    return t


def cancel_task(session: Session, *, task_id: int, reason: str, actor: str | None = None) -> InspectionTask:
    actor = actor or audit.default_actor()
    if not reason.strip():
        raise InvalidInput("cancelling a task needs a reason", code="supervision.task.no_reason")
    t = get_task(session, task_id, lock=True)
    if t.status != "assigned":
        raise InvalidInput(f"task {task_id} is {t.status}", code="supervision.task.not_open",
                           params={"id": task_id, "status": t.status})
    t.status, t.note, t.updated_at = "cancelled", reason.strip(), clock.now()
    audit.append(session, action="supervision.task.cancel", actor=actor, subject_id=t.subject_id,
                 detail={"task": t.id, "reason": reason})
    return t
