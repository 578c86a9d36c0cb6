"""Pages for risk warnings, the inbox and graded supervision (alerts and supervision
domains). Same rules as `web/pages.py`: each route authorises, calls the same services
and scope helpers as the API (`alerts.access`, `supervision.access`) and renders a
template; every form that changes state carries the session's CSRF token. Text lives in
the templates (wrapped in `_()`), so the catalogue extraction sees all of it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts_service
from creditgov.alerts.access import (
    EXPORT_HEADER,
    alert_detail,
    alert_rows,
    alert_scope,
    handled_by,
    inbox_principals,
    inbox_view,
    require_alert,
)
from creditgov.alerts.access import (
    export_rows as alert_export_rows,
)
from creditgov.alerts.models import WarningRule
from creditgov.api.deps import DB, Id, Who, check_csrf, ctx
from creditgov.core import clock, labels
from creditgov.core.errors import CreditGovError, status_of
from creditgov.reports import overview
from creditgov.security import service as audit
from creditgov.security.scopes import Grant, Principal, Scope, authorize
from creditgov.subjects.models import Subject
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service
from creditgov.supervision import tasks as supervision_tasks
from creditgov.supervision.access import (
    TASK_HEADER,
    draw_view,
    own_department,
    patrol_targets,
    policy_rows,
    require_task,
    result_refusal,
    task_export_rows,
    task_scope,
)
from creditgov.supervision.models import InspectionTask
from creditgov.supervision.schemas import ResultIn
from creditgov.web import exports, i18n
from creditgov.web.forms import invalid_form
from creditgov.web.i18n import refusal
from creditgov.web.render import _, render, scope_label
from creditgov.web.render import safe_next as _safe_next

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
ALERT_STATUSES = ("unresolved", "open", "acknowledged", "resolved", "all")
TASK_STATUSES = ("assigned", "done", "cancelled", "all")
SEVERITIES = ("critical", "high", "medium", "low", "info")
EVERY = 10**9  # an export's limit: every row the filters select


def _back(default: str, nxt: str | None) -> RedirectResponse:
    target = _safe_next(nxt) if nxt else default
    return RedirectResponse(target, status_code=303)


# ----------------------------------------------------------------------------- alerts


@router.get("/alerts")
def alerts_page(request: Request, who: Who, session: DB,
                status: Annotated[str, Query(pattern="^(unresolved|open|acknowledged|resolved|all)$")] = "unresolved",
                rule: Annotated[str | None, Query(max_length=80)] = None,
                severity: Annotated[str | None, Query(pattern="^(critical|high|medium|low|info)?$")] = None
                ) -> Response:
    grant = authorize(who, "alerts.read")
    rows = alert_queries.listing(session, status=None if status == "all" else status, rule=rule or None,
                                 severity=severity or None, limit=200, **alert_scope(grant))
    rules = list(session.execute(select(WarningRule.code, WarningRule.name_zh).order_by(WarningRule.code)))
    return render(request, "alerts.html", {
        "alerts": alert_rows(session, grant, rows), "status": status, "rule": rule, "severity": severity,
        "statuses": ALERT_STATUSES, "severities": SEVERITIES, "rules": rules, "scope_label": scope_label(grant),
        "can_handle": who.can("alerts.handle"), "handles": handled_by(session, grant, [a.id for a in rows]),
        "next": str(request.url.path) + (
            f"?{request.url.query}" if request.url.query else "")})


@router.get("/alerts/export.{fmt}")
def alerts_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern=exports.FMT)],
                  status: Annotated[str, Query(pattern="^(unresolved|open|acknowledged|resolved|all)$")] = "unresolved",
                  rule: Annotated[str | None, Query(max_length=80)] = None,
                  severity: Annotated[str | None, Query(pattern="^(critical|high|medium|low|info)?$")] = None
                  ) -> Response:
    """The alerts page's list as Excel or CSV (issue 19): the same filters and scope,
    every matching alert (the page shows the newest 200), audited."""
    grant = authorize(who, "alerts.read")
    lang = i18n.page_language(request.cookies)
    found = alert_queries.listing(session, status=None if status == "all" else status, rule=rule or None,
                                  severity=severity or None, limit=None, **alert_scope(grant))
    rows = list(alert_export_rows(session, grant, found, lang))
    audit.append(session, action="alerts.export", actor=who.actor,
                 detail={"format": fmt, "status": status, "rule": rule, "severity": severity, "rows": len(rows)})
    session.commit()  # the entry is written before the file goes out
    return exports.stream(fmt, filename="alerts", title="风险预警" if lang == "zh" else "Alerts",
                          header=EXPORT_HEADER[lang], rows=iter(rows), count=len(rows))


def _alert_page(request: Request, session: Session, grant: Grant, who: Principal, alert_id: int, *,
                error: str | None = None, status: int = 200) -> Response:
    a = require_alert(session, grant, alert_id)
    lang = i18n.page_language(request.cookies)
    return render(request, "alert.html", {"a": alert_detail(session, grant, a, lang), "error": error,
                                          "can_handle": bool(handled_by(session, grant, [a.id])),
                                          "full_scope": grant.scope is Scope.ALL}, status=status)


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "alerts.read")
    return _alert_page(request, session, grant, who, alert_id)


async def _alert_action(request: Request, who: Principal, session: Session, alert_id: int, action: str,
                        text: str, nxt: str | None) -> Response:
    grant = authorize(who, "alerts.handle")
    await check_csrf(request, who)
    require_alert(session, grant, alert_id, lock=True)
    try:
        if action == "acknowledge":
            alerts_service.acknowledge(session, alert_id=alert_id, note=text.strip() or None, actor=who.actor)
        elif action == "comment":
            alerts_service.comment(session, alert_id=alert_id, note=text, actor=who.actor)
        else:
            alerts_service.resolve(session, alert_id=alert_id, resolution=text, actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        return _alert_page(request, session, authorize(who, "alerts.read"), who, alert_id, error=refusal(exc),
                           status=status_of(exc))
    return _back(f"/alerts/{alert_id}", nxt)


@router.post("/alerts/{alert_id}/acknowledge")
async def alert_acknowledge(request: Request, alert_id: Id, who: Who, session: DB,
                            note: Annotated[str, Form(max_length=2000)] = "",
                            next: Annotated[str, Form(max_length=300)] = "") -> Response:
    return await _alert_action(request, who, session, alert_id, "acknowledge", note, next)


@router.post("/alerts/{alert_id}/comment")
async def alert_comment(request: Request, alert_id: Id, who: Who, session: DB,
                        note: Annotated[str, Form(max_length=2000)] = "",
                        next: Annotated[str, Form(max_length=300)] = "") -> Response:
    return await _alert_action(request, who, session, alert_id, "comment", note, next)


@router.post("/alerts/{alert_id}/resolve")
async def alert_resolve(request: Request, alert_id: Id, who: Who, session: DB,
                        resolution: Annotated[str, Form(max_length=2000)] = "",
                        next: Annotated[str, Form(max_length=300)] = "") -> Response:
    return await _alert_action(request, who, session, alert_id, "resolve", resolution, next)


# ----------------------------------------------------------------------------- the inbox


@router.get("/inbox")
def inbox_page(request: Request, who: Who, session: DB, unread: bool = False) -> Response:
    grant = authorize(who, "inbox.read")
    rows = alert_inbox.inbox_of(session, inbox_principals(grant.principal), unread_only=unread, limit=200)
    return render(request, "inbox.html", {**inbox_view(session, grant, rows, i18n.page_language(request.cookies)),
                                          "unread": unread})


@router.post("/inbox/{message_id}/read")
async def inbox_mark_read(request: Request, message_id: Id, who: Who, session: DB) -> Response:
    grant = authorize(who, "inbox.read")
    await check_csrf(request, who)
    alert_inbox.mark_read(session, message_id=message_id, principal=inbox_principals(grant.principal),
                          actor=who.actor)
    return RedirectResponse("/inbox", status_code=303)


# ----------------------------------------------------------------------------- supervision: draws


def _supervision_context(session: Session, who: Principal, grant: Grant, task_status: str) -> dict[str, Any]:
    can_draw = who.can("supervision.draw")
    policies = policy_rows(session)
    if can_draw:
        draw_grant = authorize(who, "supervision.draw")
        drawable = [p for p in policies if draw_grant.scope is not Scope.DEPARTMENT
                    or p["department"] == who.department_code]
    else:
        drawable = []
    tasks = supervision_tasks.tasks(session, status=None if task_status == "all" else task_status, limit=300,
                                    where=task_scope(session, grant))
    patrol: tuple[str, list[dict[str, Any]]] | None = None
    if who.region_code:
        patrol = patrol_targets(session, grant, None)
    return {"policies": policies, "drawable": drawable, "can_draw": can_draw,
            "regions": overview.region_tree(session) if can_draw else [],
            "draws": [supervision_draws.draw_dict(session, d, with_items=False)
                      for d in supervision_draws.draws(session, limit=50)],
            "tasks": supervision_tasks.task_views(session, tasks), "task_status": task_status,
            "tasks_filter": task_status,  # the template's `task_status` is a macro
            "task_statuses": TASK_STATUSES, "patrol": patrol, "scope_label": scope_label(grant),
            "today": clock.today().isoformat()}


@router.get("/supervision")
def supervision_page(request: Request, who: Who, session: DB,
                     tasks: Annotated[str, Query(pattern="^(assigned|done|cancelled|all)$")] = "assigned"
                     ) -> Response:
    grant = authorize(who, "supervision.read")
    return render(request, "supervision.html", _supervision_context(session, who, grant, tasks))


@router.get("/supervision/tasks.{fmt}")
def tasks_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern=exports.FMT)],
                 tasks: Annotated[str, Query(pattern="^(assigned|done|cancelled|all)$")] = "assigned") -> Response:
    """The page's inspection tasks with their results as Excel or CSV (issue 19): the
    same reach and status filter, every task (the page shows 300), audited."""
    grant = authorize(who, "supervision.read")
    lang = i18n.page_language(request.cookies)
    found = supervision_tasks.tasks(session, status=None if tasks == "all" else tasks, limit=EVERY,
                                    where=task_scope(session, grant))
    rows = list(task_export_rows(session, found, lang))
    audit.append(session, action="supervision.export", actor=who.actor,
                 detail={"format": fmt, "tasks": tasks, "rows": len(rows)})
    session.commit()  # the entry is written before the file goes out
    return exports.stream(fmt, filename=f"inspection-tasks-{tasks}", title="检查任务" if lang == "zh"
                          else "Inspection tasks", header=TASK_HEADER[lang], rows=iter(rows), count=len(rows))


@router.post("/supervision/draws")
async def supervision_draw(request: Request, who: Who, session: DB, policy: Annotated[str, Form(max_length=80)],
                           region: Annotated[str, Form(max_length=40)] = "",
                           kind: Annotated[str, Form(max_length=200)] = "",
                           industry: Annotated[str, Form(max_length=400)] = "",
                           seed: Annotated[str, Form(max_length=30)] = "") -> Response:
    grant = authorize(who, "supervision.draw")
    await check_csrf(request, who)
    scope: dict[str, Any] = {}
    if region.strip():
        scope["region"] = region.strip()
    if kind.strip():
        scope["kind"] = kind.strip()
    if industry.strip():
        scope["industry"] = industry.strip()
    try:
        row, _p = supervision_service.policy(session, policy)
    except CreditGovError as exc:
        ctx_ = _supervision_context(session, who, authorize(who, "supervision.read"), "assigned")
        return render(request, "supervision.html", {**ctx_, "error": refusal(exc)}, status=status_of(exc))
    own_department(grant, row.department, f"policy {row.name}")
    try:
        out = supervision_draws.draw(session, policy_name=policy, scope=scope, seed=seed.strip() or None,
                                     actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        ctx_ = _supervision_context(session, who, authorize(who, "supervision.read"), "assigned")
        return render(request, "supervision.html", {**ctx_, "error": refusal(exc)}, status=status_of(exc))
    return RedirectResponse(f"/supervision/draws/{out['draw_id']}", status_code=303)


@router.get("/supervision/draws/{draw_id}")
def draw_page(request: Request, draw_id: Id, who: Who, session: DB, verify: bool = False) -> Response:
    grant = authorize(who, "supervision.read")
    d = draw_view(session, grant, draw_id)
    check = None
    if verify:
        v = supervision_draws.verify(session, draw_id=draw_id)
        check = {**v, "reproducible": bool(v["inputs_hash_ok"] and v["result_hash_ok"] and v["items_match"])}
    tasks = supervision_tasks.tasks(session, draw_id=draw_id, limit=1000, where=task_scope(session, grant))
    task_of = {t.subject_id: t.id for t in tasks}
    reachable = set(session.execute(select(Subject.id).where(
        Subject.id.in_([i["subject_id"] for i in d.get("items", [])]),
        authorize(who, "subjects.read").subject_clause())).scalars()) if who.can("subjects.read") else set()
    people = supervision_service.people_named(session, {c for i in d.get("items", []) for c in i["inspectors"]})
    teams = {i["subject_id"]: [{"code": c, "name": people.get(c, "")} for c in i["inspectors"]]
             for i in d.get("items", [])}
    return render(request, "draw.html", {"d": d, "check": check, "task_of": task_of, "reachable": reachable,
                                         "teams": teams})


# ----------------------------------------------------------------------------- supervision: tasks


def _task_page(request: Request, session: Session, who: Principal, task_id: int, *, error: str | None = None,
               flash: str | None = None, status: int = 200, values: dict[str, str] | None = None,
               reassign: dict[str, Any] | None = None) -> Response:
    """A task's page; after a refused result or re-assignment, its form again with what
    was typed (or ticked)."""
    grant = authorize(who, "supervision.read")
    t = require_task(session, grant, task_id)
    view = supervision_tasks.task_view(session, t)
    can_open = who.can("subjects.read") and authorize(who, "subjects.read").in_scope(session, t.subject_id)
    # Only the outcomes the task's policy records here: a policy that registers no
    # penalties offers no penalty (nor its fields); a task without one, no form. Only
    # for who may record this task's result (`access.result_refusal`): the inspectors
    # assigned to it, its department, the credit office — to anyone else who records
    # results, a sentence saying who does.
    outcomes = supervision_tasks.result_outcomes(session, t)
    can_record = who.can("inspections.record") and t.status != "cancelled"
    not_yours = result_refusal(session, authorize(who, "inspections.record"), t) if can_record else None
    if not_yours is not None:
        can_record = False
    no_result = (labels.say("supervision.task.no_policy", {"id": t.id}, i18n.current.get())
                 if can_record and not outcomes else refusal(not_yours) if not_yours is not None else None)
    return render(request, "task.html", {
        "t": view, "error": error, "flash": flash, "can_open_subject": can_open,
        "can_record": can_record and bool(outcomes), "no_result": no_result,
        "can_cancel": who.can("supervision.draw") and t.status == "assigned",
        "outcomes": outcomes, "today": clock.today().isoformat(),
        "values": values or {}, **_reassign_form(session, who, t, reassign)}, status=status)


def _reassign_form(session: Session, who: Principal, t: InspectionTask,
                   typed: dict[str, Any] | None) -> dict[str, Any]:
    """The re-assignment form of an open task, for who may re-assign it: the inspectors
    it may go to, its present team ticked — or, after a refusal, what was ticked."""
    if not (who.can("supervision.draw") and t.status == "assigned"):
        return {"can_reassign": False}
    chosen = list(typed["assignees"]) if typed else list(t.assignees or [])
    return {"can_reassign": True, "inspectors": supervision_tasks.reassign_choices(session, t, chosen),
            "reassign": {"assignees": chosen, "reason": typed["reason"] if typed else ""}}


@router.get("/supervision/tasks/{task_id}")
def task_page(request: Request, task_id: Id, who: Who, session: DB,
              done: Annotated[str | None, Query(pattern="^(recorded|cancelled|reassigned)$")] = None) -> Response:
    return _task_page(request, session, who, task_id, flash=done)


@router.post("/supervision/tasks/{task_id}/result")
async def task_result(request: Request, task_id: Id, who: Who, session: DB,
                      outcome: Annotated[str, Form(max_length=12)],
                      finding: Annotated[str, Form(max_length=2000)] = "",
                      penalty_amount: Annotated[str, Form(max_length=20)] = "",
                      decision_no: Annotated[str, Form(max_length=120)] = "",
                      score: Annotated[str, Form(max_length=12)] = "",
                      inspected_on: Annotated[str, Form(max_length=10)] = "") -> Response:
    grant = authorize(who, "inspections.record")
    await check_csrf(request, who)
    t = require_task(session, grant, task_id, lock=True)
    typed = {"outcome": outcome, "finding": finding.strip(), "penalty_amount": penalty_amount.strip(),
             "decision_no": decision_no.strip(), "score": score.strip(), "inspected_on": inspected_on.strip()}
    if (refused := result_refusal(session, grant, t)) is not None:  # not drawn, not its department's
        return _task_page(request, session, who, task_id, error=refusal(refused), status=status_of(refused))
    try:
        body = ResultIn.model_validate({"outcome": outcome, "finding": finding.strip() or None,
                                        "penalty_amount": penalty_amount.strip() or None,
                                        "decision_no": decision_no.strip() or None, "score": score.strip() or None,
                                        "inspected_on": inspected_on.strip() or None})
        supervision_tasks.record_result(
            session, ctx(request).keyring, task_id=task_id, outcome=body.outcome, finding=body.finding,
            penalty_amount=body.penalty_amount, decision_no=body.decision_no, score=body.score,
            inspected_on=body.inspected_on, actor=who.actor)
    except ValidationError as exc:
        said = invalid_form(exc, {"outcome": _("检查结果"), "finding": _("发现问题"), "penalty_amount": _("罚款金额（元）"),
                                  "decision_no": _("处罚决定书文号"), "score": _("评分"), "inspected_on": _("检查日期")})
        return _task_page(request, session, who, task_id, error=said, status=422, values=typed)
    except CreditGovError as exc:
        session.rollback()
        return _task_page(request, session, who, task_id, error=refusal(exc), status=status_of(exc), values=typed)
    return RedirectResponse(f"/supervision/tasks/{task_id}?done=recorded", status_code=303)


@router.post("/supervision/tasks/{task_id}/cancel")
async def task_cancel(request: Request, task_id: Id, who: Who, session: DB,
                      reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    grant = authorize(who, "supervision.draw")
    await check_csrf(request, who)
    t = require_task(session, grant, task_id, lock=True)
    own_department(grant, t.department, f"task {t.id}")
    try:
        supervision_tasks.cancel_task(session, task_id=task_id, reason=reason, actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        return _task_page(request, session, who, task_id, error=refusal(exc), status=status_of(exc))
    return RedirectResponse(f"/supervision/tasks/{task_id}?done=cancelled", status_code=303)


@router.post("/supervision/tasks/{task_id}/reassign")
async def task_reassign(request: Request, task_id: Id, who: Who, session: DB,
                        assignees: Annotated[list[str] | None, Form(max_length=20)] = None,
                        reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """The task to the inspectors ticked, with the reason: `tasks.reassign_task`, as the
    API and the command do; a refusal says which rule the choice breaks."""
    grant = authorize(who, "supervision.draw")
    await check_csrf(request, who)
    t = require_task(session, grant, task_id, lock=True)
    own_department(grant, t.department, f"task {t.id}")
    chosen = [a.strip()[:40] for a in assignees or [] if a.strip()]
    try:
        supervision_tasks.reassign_task(session, task_id=task_id, assignees=chosen, reason=reason, actor=who.actor)
    except CreditGovError as exc:
        session.rollback()
        return _task_page(request, session, who, task_id, error=refusal(exc), status=status_of(exc),
                          reassign={"assignees": chosen, "reason": reason})
    return RedirectResponse(f"/supervision/tasks/{task_id}?done=reassigned", status_code=303)


__all__ = ["router"]
