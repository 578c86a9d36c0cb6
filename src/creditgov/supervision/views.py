"""API routes for graded supervision: policies, random draws (双随机一公开), inspection
tasks and their results, grid patrol lists. Thin: `supervision.service` draws, records
results through the ingestion path and audits every change; the grant decides which
tasks a caller reaches.

Reach of a task: `task_scope` in `supervision/access.py` (whole-county scopes see every
task; others the tasks about subjects in their scope, their department's and those
assigned to them). Recording a result is narrower (`require_recorder`): the inspectors
assigned to the task, its own department's officers or the credit office — anyone else
who reaches it is refused (403). Anyone who may read supervision sees a draw's seed, hashes and
counts, but only the drawn subjects in their own scope or assigned to them
(`draw_items_in_scope`: the list of firms to be inspected is not for every reader).

`task_scope`, `require_task`, `require_recorder`, `draw_view`, `own_department`,
`policy_rows` and `patrol_targets` live in `supervision/access.py`, shared with the pages
(`web/supervision_pages.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from creditgov.api.deps import DB, Id, keyring, require
from creditgov.core import labels
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant
from creditgov.supervision import campaign_files, campaigns, patrols
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision import tasks as supervision_tasks
from creditgov.supervision.access import (
    campaign_department,
    draw_view,
    own_department,
    patrol_targets,
    policy_rows,
    require_recorder,
    require_task,
    task_scope,
)
from creditgov.supervision.schemas import (
    CampaignCloseIn,
    CampaignIn,
    CampaignTargetsIn,
    CampaignTasksIn,
    CancelIn,
    DrawIn,
    DrawOut,
    PatrolAssignIn,
    PatrolTargetOut,
    PolicyOut,
    ReassignIn,
    ResultIn,
    TaskDetailOut,
    TaskOut,
    TaskStatus,
    VerifyOut,
)

router = APIRouter(tags=["supervision"])
SupervisionRead = Annotated[Grant, Depends(require("supervision.read"))]
SupervisionDraw = Annotated[Grant, Depends(require("supervision.draw"))]
InspectionsRecord = Annotated[Grant, Depends(require("inspections.record"))]
PatrolsAssign = Annotated[Grant, Depends(require("patrols.assign"))]
Ring = Annotated[KeyRing, Depends(keyring)]


# ----------------------------------------------------------------------------- labels


def _draw(d: dict[str, Any]) -> dict[str, Any]:
    """A draw with its status named (codes kept, `labels` added)."""
    return labels.annotate(d, status="draw_status")


def _task(d: dict[str, Any]) -> dict[str, Any]:
    """A task with its kind, status, outcome and department named."""
    return labels.annotate(d, kind="task_kind", status="task_status", outcome="task_outcome",
                           department="department")


def _tasks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_task(d) for d in rows]


def _campaign(d: dict[str, Any]) -> dict[str, Any]:
    return labels.annotate(d, status="campaign_status", department="department")


# ----------------------------------------------------------------------------- policies and draws


@router.get("/supervision/policies", response_model=list[PolicyOut], operation_id="supervision_policies")
def supervision_policies(grant: SupervisionRead, session: DB) -> list[dict[str, Any]]:
    """Supervision policies (分级分类监管): bands by credit result, sampling ratios and
    yearly caps, the inspector pool, with the version and content hash draws record."""
    return policy_rows(session)


@router.get("/supervision/draws", response_model=list[DrawOut], operation_id="draws_list")
def draws_list(grant: SupervisionRead, session: DB, policy: Annotated[str | None, Query(max_length=80)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    """Recorded draws, newest first (without their items)."""
    return [_draw(supervision_draws.draw_dict(session, d, with_items=False))
            for d in supervision_draws.draws(session, policy_name=policy, limit=limit)]


@router.post("/supervision/draws", response_model=DrawOut, status_code=201, operation_id="draws_create")
def draws_create(body: DrawIn, grant: SupervisionDraw, session: DB) -> dict[str, Any]:
    """Draw subjects and inspectors under a policy (双随机). The seed — given, or a fresh
    unpredictable one — is published with the draw, its inputs are recorded so anyone
    can re-run it, tasks are created for the drawn subjects, and the draw is audited."""
    row, _p = supervision_service.policy(session, body.policy)
    own_department(grant, row.department, f"policy {row.name}")
    return _draw(supervision_draws.draw(session, policy_name=body.policy,
                                        scope=body.scope.model_dump(exclude_none=True), seed=body.seed,
                                        as_of=body.as_of, create_tasks=body.create_tasks, dry_run=body.dry_run,
                                        actor=grant.principal.actor))


@router.get("/supervision/draws/{draw_id}", response_model=DrawOut, operation_id="draws_get")
def draws_get(draw_id: Id, grant: SupervisionRead, session: DB) -> dict[str, Any]:
    """One draw: seed, policy hash, scope, counts per band, and the subjects drawn in your
    data scope or assigned to you, with their inspectors (the rest are counted in
    `items_outside_scope`)."""
    return _draw(draw_view(session, grant, draw_id))


@router.get("/supervision/draws/{draw_id}/verify", response_model=VerifyOut, operation_id="draws_verify")
def draws_verify(draw_id: Id, grant: SupervisionRead, session: DB) -> dict[str, Any]:
    """Re-run the draw from its recorded inputs: do the hashes and the items match?"""
    v = supervision_draws.verify(session, draw_id=draw_id)
    return {**v, "reproducible": bool(v["inputs_hash_ok"] and v["result_hash_ok"] and v["items_match"])}


# ----------------------------------------------------------------------------- inspection tasks


@router.get("/supervision/tasks", response_model=list[TaskOut], operation_id="tasks_list")
def tasks_list(grant: SupervisionRead, session: DB, status: Annotated[TaskStatus | None, Query()] = None,
               draw_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
               subject_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
               overdue: bool = False, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Inspection and patrol tasks you reach, by due date."""
    rows = supervision_tasks.tasks(session, status=status, draw_id=draw_id, subject_id=subject_id,
                                   overdue=overdue, limit=limit, where=task_scope(session, grant))
    return _tasks(supervision_tasks.task_views(session, rows))


@router.get("/supervision/tasks/{task_id}", response_model=TaskDetailOut, operation_id="tasks_get")
def tasks_get(task_id: Id, grant: SupervisionRead, session: DB) -> dict[str, Any]:
    """One task with its result and the credit record the result became."""
    return _task(supervision_tasks.task_view(session, require_task(session, grant, task_id)))


@router.post("/supervision/tasks/{task_id}/result", response_model=TaskDetailOut, operation_id="tasks_result")
def tasks_result(task_id: Id, body: ResultIn, grant: InspectionsRecord, session: DB, ring: Ring) -> dict[str, Any]:
    """Record an inspection's result. It becomes a credit record through the ingestion
    path (a batch of kind `inspection`, natural key = the task's document number, so a
    changed result later is a new version of the same record); audited. Only the
    inspectors assigned to the task, its department's officers or the credit office
    record it (403 for anyone else who reaches the task)."""
    t = require_task(session, grant, task_id, lock=True)
    require_recorder(session, grant, t)
    t, _rec = supervision_tasks.record_result(
        session, ring, task_id=task_id, outcome=body.outcome, finding=body.finding,
        penalty_amount=body.penalty_amount, decision_no=body.decision_no, score=body.score,
        inspected_on=body.inspected_on, actor=grant.principal.actor)
    session.refresh(t)  # amounts as stored (Numeric(18, 2)), the same as a later read
    return _task(supervision_tasks.task_view(session, t))


@router.post("/supervision/tasks/{task_id}/cancel", response_model=TaskDetailOut, operation_id="tasks_cancel")
def tasks_cancel(task_id: Id, body: CancelIn, grant: SupervisionDraw, session: DB) -> dict[str, Any]:
    """Cancel an assigned task, with the reason (audited)."""
    t = require_task(session, grant, task_id, lock=True)
    own_department(grant, t.department, f"task {t.id}")
    t = supervision_tasks.cancel_task(session, task_id=task_id, reason=body.reason, actor=grant.principal.actor)
    return _task(supervision_tasks.task_view(session, t))


@router.post("/supervision/tasks/{task_id}/reassign", response_model=TaskDetailOut, operation_id="tasks_reassign")
def tasks_reassign(task_id: Id, body: ReassignIn, grant: SupervisionDraw, session: DB) -> dict[str, Any]:
    """Give an open task to other inspectors, with the reason (audited); its inspection
    notice is dated by this assignment from now on."""
    t = require_task(session, grant, task_id, lock=True)
    own_department(grant, t.department, f"task {t.id}")
    t = supervision_tasks.reassign_task(session, task_id=task_id, assignees=body.assignees, reason=body.reason,
                                        actor=grant.principal.actor)
    return _task(supervision_tasks.task_view(session, t))


# ----------------------------------------------------------------------------- grid patrols


@router.get("/supervision/patrols", response_model=list[PatrolTargetOut], operation_id="patrols_list")
def patrols_list(grant: SupervisionRead, session: DB,
                 grid: Annotated[str | None, Query(min_length=1, max_length=40)] = None) -> list[dict[str, Any]]:
    """A region's key targets for grid patrols (重点对象): subjects with a red code or on a
    black or key-attention list in force, with the reasons. Default: your own region."""
    return patrol_targets(session, grant, grid)[1]


@router.post("/supervision/patrols/assign", response_model=list[TaskOut], status_code=201,
             operation_id="patrols_assign")
def patrols_assign(body: PatrolAssignIn, grant: PatrolsAssign, session: DB) -> list[dict[str, Any]]:
    """Create patrol tasks for a grid's key targets, assigned to its grid workers (a
    subject with an open patrol task gets no second one); audited."""
    rows = patrols.assign_patrols(session, grid=body.grid, due_days=body.due_days, actor=grant.principal.actor)
    return _tasks(supervision_tasks.task_views(session, rows))


# ----------------------------------------------------------------------------- special campaigns (专项整治)

CampaignsRead = Annotated[Grant, Depends(require("campaigns.read"))]
CampaignsManage = Annotated[Grant, Depends(require("campaigns.manage"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/supervision/campaigns", operation_id="campaigns_list")
def campaigns_list(grant: CampaignsRead, session: DB,
                   status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None) -> list[dict[str, Any]]:
    """Campaigns (yours only, for a department)."""
    return [_campaign(campaigns.campaign_dict(c)) for c in campaigns.campaigns(
        session, department=campaign_department(grant), status=status)]


@router.post("/supervision/campaigns", status_code=201, operation_id="campaigns_create")
def campaigns_create(body: CampaignIn, grant: CampaignsManage, session: DB) -> dict[str, Any]:
    """Open a campaign over a scope and a period, under a supervision policy (whose
    result items its findings become; a department uses its own policies)."""
    c = campaigns.create(session, code=body.code, title=body.title, policy_name=body.policy, basis=body.basis,
                         starts_on=body.starts_on, ends_on=body.ends_on,
                         scope={"region": body.region, "kind": body.kind, "industry": body.industry},
                         department=campaign_department(grant), actor=grant.principal.actor)
    return _campaign(campaigns.view(session, c))


@router.get("/supervision/campaigns/{campaign_id}", operation_id="campaigns_get")
def campaigns_get(campaign_id: Id, grant: CampaignsRead, session: DB) -> dict[str, Any]:
    """A campaign with its summary: targets, tasks, inspected, findings by outcome and the
    credit records its results became (as kept at closing, or as it stands)."""
    return _campaign(campaigns.view(session, campaigns.get(session, campaign_id,
                                                           department=campaign_department(grant))))


@router.get("/supervision/campaigns/{campaign_id}/summary.xlsx", operation_id="campaigns_summary_xlsx")
def campaigns_summary_xlsx(campaign_id: Id, grant: CampaignsRead, session: DB,
                           lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> Response:
    v = campaigns.view(session, campaigns.get(session, campaign_id, department=campaign_department(grant)))
    return Response(campaign_files.workbook(v, lang), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.xlsx"'})


@router.post("/supervision/campaigns/{campaign_id}/targets", operation_id="campaigns_targets")
def campaigns_targets(campaign_id: Id, body: CampaignTargetsIn, grant: CampaignsManage, session: DB) -> dict[str, Any]:
    """Add targets within the campaign's scope from grades, lists or a query."""
    return campaigns.add_targets(session, campaign_id=campaign_id, source=body.source, model=body.model,
                                 grades=body.grades, lists=body.lists, kinds=body.kinds, industries=body.industries,
                                 department=campaign_department(grant), actor=grant.principal.actor)


@router.post("/supervision/campaigns/{campaign_id}/tasks", response_model=list[TaskOut], status_code=201,
             operation_id="campaigns_tasks")
def campaigns_tasks(campaign_id: Id, body: CampaignTasksIn, grant: CampaignsManage,
                    session: DB) -> list[dict[str, Any]]:
    """An inspection task for every target without one; results are recorded like any
    task's (`POST /supervision/tasks/{id}/result`) and become credit records."""
    made = campaigns.assign_tasks(session, campaign_id=campaign_id, assignees=body.assignees, due_on=body.due_on,
                                  department=campaign_department(grant), actor=grant.principal.actor)
    return _tasks(supervision_tasks.task_views(session, made))


@router.post("/supervision/campaigns/{campaign_id}/close", operation_id="campaigns_close")
def campaigns_close(campaign_id: Id, body: CampaignCloseIn, grant: CampaignsManage, session: DB) -> dict[str, Any]:
    """Close the campaign and keep its summary (open tasks: refused unless `cancel_open`)."""
    c = campaigns.close(session, campaign_id=campaign_id, cancel_open=body.cancel_open,
                        department=campaign_department(grant), actor=grant.principal.actor)
    return _campaign(campaigns.view(session, c))
