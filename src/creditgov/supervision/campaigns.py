"""Special campaigns (专项整治): a drive with its own scope, period, targets, inspection
tasks, results and a closing summary.

Why on supervision: a campaign's inspections are inspection tasks like a draw's
(`InspectionTask.kind == "campaign"`, `campaign_id` set) and their results go through
`tasks.record_result` — the campaign names a supervision policy whose result items and
department they use — so a campaign's findings come back as credit records through
the ingestion path, in the credit file, the next evaluation and the warning rules like
any inspection's.

Targets come from three places, each kept with its reason: the grades of a model's
latest published run (`grade`), the subjects in force on credit lists (`list`), or the
campaign's own query over kinds and industries (`query`); all within the campaign's
scope (a region subtree, subject kinds, industries). A department acts on its own
campaigns only (`department` given: the acting department); the credit office on any.
Closing keeps the summary as it stood; a campaign with tasks still open closes only
when told to cancel them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from creditgov.core import clock, labels
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.lists.models import CreditList, ListEntry
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import Score
from creditgov.security import service as audit
from creditgov.subjects.models import Region, Subject
from creditgov.supervision.draws import _latest_run, subject_names
from creditgov.supervision.models import Campaign, CampaignTarget, InspectionTask, Inspector
from creditgov.supervision.service import policy

SCOPE_KEYS = ("region", "kind", "industry")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
OUTCOMES = ("passed", "problems", "penalty")


def _scope(scope: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (scope or {}).items():
        if k not in SCOPE_KEYS:
            raise InvalidInput(f"unknown scope {k!r} (use {', '.join(SCOPE_KEYS)})")
        if v in (None, "", []):
            continue
        if k == "region":
            out[k] = str(v)
        else:
            vals = [v] if isinstance(v, str) else list(v)
            out[k] = sorted({x.strip() for part in vals for x in str(part).split(",") if x.strip()})
    return out


def get(session: Session, campaign_id: int, *, department: str | None = None, lock: bool = False) -> Campaign:
    """The campaign, or NotFound — also when a department asks for another's campaign."""
    c = session.get(Campaign, campaign_id, with_for_update=lock)
    if c is None or (department is not None and c.department != department):
        raise NotFound(f"campaign {campaign_id} not found", code="supervision.campaign.not_found",
                       params={"id": campaign_id})
    return c


def campaigns(session: Session, *, department: str | None = None, status: str | None = None) -> list[Campaign]:
    q = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    if department is not None:
        q = q.where(Campaign.department == department)
    if status:
        q = q.where(Campaign.status == status)
    return list(session.execute(q).scalars())


def create(session: Session, *, code: str, title: str, policy_name: str, basis: str, starts_on: dt.date,
           ends_on: dt.date, scope: dict[str, Any] | None = None, department: str | None = None,
           actor: str | None = None) -> Campaign:
    """Open a campaign. Its department is the policy's (the one whose result items its
    findings become); a department may open campaigns under its own policies only."""
    actor = actor or audit.default_actor()
    if not _CODE.match(code or ""):
        raise InvalidInput("a campaign code is 1-40 letters, digits, '-', '_' or '.'", code="supervision.campaign.code")
    if not title.strip() or not basis.strip():
        raise InvalidInput("a campaign needs a title and the notice it carries out (basis)",
                           code="supervision.campaign.no_title")
    if ends_on < starts_on:
        raise InvalidInput("a campaign cannot end before it starts", code="supervision.campaign.dates")
    _, p = policy(session, policy_name)
    if department is not None and p.department != department:
        raise InvalidInput(f"policy {policy_name} belongs to department {p.department}: a department opens "
                           "campaigns under its own policies", code="supervision.campaign.other_policy",
                           params={"department": p.department})
    sc = _scope(scope)
    if "region" in sc and session.execute(select(Region.id).where(Region.code == sc["region"])).first() is None:
        raise NotFound(f"no region {sc['region']!r}", code="supervision.region.unknown", params={"region": sc["region"]})
    if session.execute(select(Campaign.id).where(Campaign.code == code)).first() is not None:
        raise Conflict(f"campaign {code!r} already exists", code="supervision.campaign.exists", params={"code": code})
    c = Campaign(code=code, title=title.strip(), department=p.department, policy_name=policy_name,
                 basis=basis.strip(), scope=sc, starts_on=starts_on, ends_on=ends_on, status="open",
                 created_at=clock.now(), actor=actor)
    session.add(c)
    session.flush()
    audit.append(session, action="supervision.campaign.create", actor=actor,
                 detail={"campaign": c.id, "code": code, "policy": policy_name, "scope": sc})
    return c


def reason_words(reason: str) -> dict[str, str]:
    """Why a subject is a target, in both languages, from the reason kept with it
    (`grade|model|grade|run`, `list|code`, `query|kinds|industries`): codes named by
    their labels, so a page or workbook in either language reads it."""
    kind, _, rest = reason.partition("|")
    parts = rest.split("|")
    out: dict[str, str] = {}
    for lang in ("zh", "en"):
        if kind == "grade" and len(parts) == 3:
            model, grade, run = labels.label("model", parts[0], lang), parts[1], parts[2]
            out[lang] = (f"{model}评价等级为 {grade}（第 {run} 次评价）" if lang == "zh"
                         else f"Graded {grade} by {model} (run {run})")
        elif kind == "list" and len(parts) == 1:
            name = labels.label("list", parts[0], lang)
            out[lang] = f"列入{name}" if lang == "zh" else f"On the {name}"
        elif kind == "query" and len(parts) == 2:
            words = [labels.label("subject_kind", k, lang) for k in parts[0].split(",") if k]
            words += [labels.label("industry", i, lang) for i in parts[1].split(",") if i]
            sep = "、" if lang == "zh" else ", "
            out[lang] = ((f"查询：{sep.join(words)}" if words else "整治范围内全部主体") if lang == "zh"
                         else (f"Query: {sep.join(words)}" if words else "Every subject in the campaign's scope"))
        else:  # a reason kept in words
            out[lang] = reason
    return out


def _in_scope(session: Session, c: Campaign) -> ColumnElement[bool]:
    cond: list[ColumnElement[bool]] = [Subject.status == "confirmed"]
    sc = c.scope or {}
    if "region" in sc:
        root = session.execute(select(Region.path).where(Region.code == sc["region"])).scalar()
        if root is None:
            raise NotFound(f"no region {sc['region']!r}", code="supervision.region.unknown",
                           params={"region": sc["region"]})
        cond.append(Subject.region_id.in_(select(Region.id).where(Region.path.startswith(root))))
    # Only subjects the policy inspects: its result items are written for its kinds, as a draw's are.
    _, p = policy(session, c.policy_name)
    kinds = set(p.subject_kinds) & set(sc["kind"]) if sc.get("kind") else set(p.subject_kinds)
    cond.append(Subject.kind.in_(sorted(kinds)))
    if sc.get("industry"):
        cond.append(Subject.industry.in_(sc["industry"]))
    return and_(*cond)


def _open(session: Session, campaign_id: int, department: str | None) -> Campaign:
    c = get(session, campaign_id, department=department, lock=True)
    if c.status != "open":
        raise InvalidInput(f"campaign {c.code} is closed", code="supervision.campaign.closed", params={"code": c.code})
    return c


def add_targets(session: Session, *, campaign_id: int, source: str, model: str | None = None,
                grades: Sequence[str] = (), lists: Sequence[str] = (), kinds: Sequence[str] = (),
                industries: Sequence[str] = (), department: str | None = None,
                actor: str | None = None) -> dict[str, Any]:
    """Add targets within the campaign's scope: `grade` (subjects whose grade in `model`'s
    latest published run is one of `grades`), `list` (subjects in force on `lists`) or
    `query` (every subject of the scope, narrowed by `kinds` and `industries`). A subject
    already targeted is kept with its first reason. Returns the counts."""
    actor = actor or audit.default_actor()
    c = _open(session, campaign_id, department)
    where = _in_scope(session, c)
    if source == "grade":
        if not model or not grades:
            raise InvalidInput("targets from grades need a model and one or more grades",
                               code="supervision.targets.no_grades")
        run = _latest_run(session, model, clock.today())
        if run is None:
            raise NotFound(f"model {model!r} has no published run", code="supervision.targets.no_run",
                           params={"model": model})
        q = select(Subject.id, Score.grade).join(Score, Score.subject_id == Subject.id).where(
            Score.run_id == run, Score.grade.in_(list(grades)), where)
        found = [(sid, f"grade|{model}|{g}|{run}") for sid, g in session.execute(q)]
    elif source == "list":
        if not lists:
            raise InvalidInput("targets from lists need one or more list codes", code="supervision.targets.no_lists")
        known = set(session.execute(select(CreditList.code).where(CreditList.code.in_(list(lists)))).scalars())
        if missing := sorted(set(lists) - known):
            raise NotFound(f"no list {', '.join(missing)}", code="supervision.targets.unknown_lists",
                           params={"lists": ", ".join(missing)})
        q = select(Subject.id, ListEntry.list_code).join(ListEntry, ListEntry.subject_id == Subject.id).where(
            ListEntry.list_code.in_(list(lists)), ListEntry.status == "published", where)
        found = [(sid, f"list|{code}") for sid, code in session.execute(q)]
    elif source == "query":
        qq = select(Subject.id).where(where)
        if kinds:
            qq = qq.where(Subject.kind.in_(list(kinds)))
        if industries:
            qq = qq.where(Subject.industry.in_(list(industries)))
        found = [(sid, f"query|{','.join(kinds)}|{','.join(industries)}") for sid in session.execute(qq).scalars()]
    else:
        raise InvalidInput("a target source is grade, list or query")
    have = set(session.execute(select(CampaignTarget.subject_id).where(
        CampaignTarget.campaign_id == c.id)).scalars())
    now = clock.now()
    added = 0
    for sid, reason in sorted(found):
        if sid in have:
            continue
        have.add(sid)
        session.add(CampaignTarget(campaign_id=c.id, subject_id=sid, source=source, reason=reason[:300],
                                   added_at=now, actor=actor))
        added += 1
    session.flush()
    audit.append(session, action="supervision.campaign.targets", actor=actor,
                 detail={"campaign": c.id, "source": source, "found": len(found), "added": added})
    return {"campaign": c.id, "source": source, "found": len(found), "added": added, "targets": len(have)}


def assign_tasks(session: Session, *, campaign_id: int, assignees: Sequence[str] = (), due_on: dt.date | None = None,
                 department: str | None = None, actor: str | None = None) -> list[InspectionTask]:
    """An inspection task for every target without one, due by the campaign's end (or
    `due_on`), assigned to the given inspectors (active, by code) or left with the
    department to assign. The inspectors are people of the pool and kinds the
    campaign's policy draws from, as a drawn task's are (a grid worker is no market
    inspector): they record the tasks' results."""
    actor = actor or audit.default_actor()
    c = _open(session, campaign_id, department)
    team = sorted(set(assignees))
    if team:
        found = {i.code: i for i in session.execute(select(Inspector).where(
            Inspector.code.in_(team), Inspector.active.is_(True))).scalars()}
        if missing := [a for a in team if a not in found]:
            raise NotFound(f"no active inspector {', '.join(missing)}", code="supervision.campaign.unknown_inspectors",
                           params={"inspectors": ", ".join(missing)})
        _, p = policy(session, c.policy_name)
        if outside := [a for a in team if found[a].pool != p.inspector_pool
                       or found[a].kind not in p.inspector_kinds]:
            names = ", ".join(outside)
            raise InvalidInput(f"{names}: not in the pool and kinds policy {p.name} draws from",
                               code="supervision.task.not_in_pool", params={"inspectors": names, "policy": p.name})
    due = due_on or c.ends_on
    if due < c.starts_on:
        raise InvalidInput("a task cannot be due before the campaign starts", code="supervision.task.due_early")
    tasked = set(session.execute(select(InspectionTask.subject_id).where(
        InspectionTask.campaign_id == c.id, InspectionTask.status != "cancelled")).scalars())
    now = clock.now()
    out = []
    for sid in session.execute(select(CampaignTarget.subject_id).where(
            CampaignTarget.campaign_id == c.id).order_by(CampaignTarget.subject_id)).scalars():
        if sid in tasked:
            continue
        t = InspectionTask(kind="campaign", campaign_id=c.id, policy_name=c.policy_name, department=c.department,
                           subject_id=sid, assignees=team, due_on=due, status="assigned", created_at=now,
                           updated_at=now, assigned_at=now, actor=actor, note=c.title)
        session.add(t)
        out.append(t)
    session.flush()
    audit.append(session, action="supervision.campaign.tasks", actor=actor,
                 detail={"campaign": c.id, "tasks": [t.id for t in out], "assignees": team})
    return out


def summary(session: Session, c: Campaign) -> dict[str, Any]:
    """Targets (by source), tasks, inspected, findings by outcome, penalties, the credit
    records the results became, and per target its task and result."""
    targets = list(session.execute(select(CampaignTarget).where(CampaignTarget.campaign_id == c.id)
                                   .order_by(CampaignTarget.subject_id)).scalars())
    tasks = list(session.execute(select(InspectionTask).where(InspectionTask.campaign_id == c.id)
                                 .order_by(InspectionTask.id)).scalars())
    by_status = Counter(t.status for t in tasks)
    done = [t for t in tasks if t.status == "done"]
    findings = {o: sum(1 for t in done if t.outcome == o) for o in OUTCOMES}
    record_ids = sorted({t.record_id for t in done if t.record_id is not None})
    items = Counter(session.execute(select(CreditRecord.item_code).where(CreditRecord.id.in_(record_ids))).scalars()) \
        if record_ids else Counter()
    penalties = sum((t.penalty_amount or Decimal(0) for t in done if t.outcome == "penalty"), Decimal(0))
    names = subject_names(session, [t.subject_id for t in targets])
    latest: dict[int, InspectionTask] = {}
    for t in tasks:
        if t.status != "cancelled" or t.subject_id not in latest:
            latest[t.subject_id] = t
    rows = []
    for tg in targets:
        lt = latest.get(tg.subject_id)
        rows.append({"subject_id": tg.subject_id, "subject_name": names.get(tg.subject_id, ""), "source": tg.source,
                     "reason": reason_words(tg.reason), "task": lt.id if lt else None, "status": lt.status if lt else None,
                     "outcome": lt.outcome if lt else None, "record_id": lt.record_id if lt else None})
    return {"targets": len(targets), "targets_by_source": dict(Counter(t.source for t in targets)),
            "tasks": len(tasks), "inspected": len(done), "open": by_status.get("assigned", 0),
            "cancelled": by_status.get("cancelled", 0),
            "overdue": sum(1 for t in tasks if t.status == "assigned" and t.due_on < clock.today()),
            "findings": findings, "penalty_total": f"{penalties:.2f}", "records_created": len(record_ids),
            "records_by_item": dict(sorted(items.items())), "rows": rows}


def close(session: Session, *, campaign_id: int, cancel_open: bool = False, department: str | None = None,
          actor: str | None = None) -> Campaign:
    """Close the campaign and keep its summary. Open tasks stop the closing unless
    `cancel_open`, which cancels them (their targets count as not inspected)."""
    actor = actor or audit.default_actor()
    c = _open(session, campaign_id, department)
    still = list(session.execute(select(InspectionTask).where(InspectionTask.campaign_id == c.id,
                                                              InspectionTask.status == "assigned")).scalars())
    if still and not cancel_open:
        raise InvalidInput(f"{len(still)} task(s) of campaign {c.code} are still open: record their results or "
                           "close with cancel_open", code="supervision.campaign.open_tasks",
                           params={"code": c.code, "count": len(still)})
    now = clock.now()
    for t in still:
        t.status, t.note, t.updated_at = "cancelled", f"专项整治结束: {c.title}", now
    session.flush()
    c.summary = summary(session, c)
    c.status, c.closed_at, c.closed_by = "closed", now, actor
    session.flush()
    audit.append(session, action="supervision.campaign.close", actor=actor,
                 detail={"campaign": c.id, "cancelled": [t.id for t in still],
                         "records_created": c.summary["records_created"]})
    return c


def campaign_dict(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "code": c.code, "title": c.title, "department": c.department, "policy": c.policy_name,
            "basis": c.basis, "scope": dict(c.scope or {}), "starts_on": c.starts_on.isoformat(),
            "ends_on": c.ends_on.isoformat(), "status": c.status, "created_at": c.created_at.isoformat(
                timespec="seconds"), "actor": c.actor,
            "closed_at": c.closed_at.isoformat(timespec="seconds") if c.closed_at else None, "closed_by": c.closed_by}


def view(session: Session, c: Campaign) -> dict[str, Any]:
    """The campaign with its summary: as kept at closing, or as it stands."""
    return {**campaign_dict(c), "summary": c.summary if c.status == "closed" and c.summary else summary(session, c)}

