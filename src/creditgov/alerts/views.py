"""API routes for risk warnings (风险预警) and the in-app inbox. Thin: `alerts.service`
changes the state and audits it; the grant decides which alerts a caller reaches —
those about subjects in the caller's data scope (alerts about no subject: whole-county
scopes only), and one outside it answers 404 like a missing one.

The helpers below (`alert_scope`, `require_alert`, `alert_detail`, `inbox_principals`)
are shared with the pages (`web/supervision_pages.py`), so a page and its endpoint
cannot disagree."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts import service as alerts_service
from creditgov.alerts.models import Alert, WarningRule
from creditgov.alerts.schemas import (
    AckIn,
    AlertDetailOut,
    AlertOut,
    AlertStatusFilter,
    CommentIn,
    InboxMessageOut,
    ResolveIn,
    Severity,
)
from creditgov.api.deps import DB, Id, require
from creditgov.core.errors import NotFound
from creditgov.security.scopes import Grant, Principal, Role, Scope
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows import service as workflows_service

router = APIRouter(tags=["alerts"])
AlertsRead = Annotated[Grant, Depends(require("alerts.read"))]
AlertsHandle = Annotated[Grant, Depends(require("alerts.handle"))]
InboxRead = Annotated[Grant, Depends(require("inbox.read"))]

# The credit office's desk: rules address it as `{who: department, code: credit}`.
CREDIT_OFFICE_DESK = "department:credit"


# ----------------------------------------------------------------------------- shared with the pages


def alert_scope(grant: Grant) -> dict[str, Any]:
    """`alerts_service.listing` arguments limiting alerts to the grant's scope."""
    if grant.scope is Scope.ALL:
        return {}
    return {"scope": grant.subject_clause(), "include_system": False}


def require_alert(session: Session, grant: Grant, alert_id: int, *, lock: bool = False) -> Alert:
    """The alert, or NotFound when it is missing or about a subject outside the scope."""
    a = alerts_service.get(session, alert_id, lock=lock)
    if grant.scope is Scope.ALL:
        return a
    if a.subject_id is None or not grant.in_scope(session, a.subject_id):
        raise NotFound(f"alert {alert_id} not found in your data scope")
    return a


def _rule_names(session: Session) -> dict[str, str]:
    return {c: n for c, n in session.execute(select(WarningRule.code, WarningRule.name_zh))}


def _subject_names(session: Session, grant: Grant, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Subject).where(Subject.id.in_(ids))).scalars()
    return {s.id: subject_service.display_name(s, masked=grant.masks_people) for s in rows}


def alert_rows(session: Session, grant: Grant, alerts: list[Alert]) -> list[dict[str, Any]]:
    rules = _rule_names(session)
    names = _subject_names(session, grant, {a.subject_id for a in alerts if a.subject_id is not None})
    return [{**alerts_service.alert_dict(a), "rule_name": rules.get(a.rule_code),
             "subject_name": names.get(a.subject_id) if a.subject_id is not None else None} for a in alerts]


def alert_detail(session: Session, grant: Grant, a: Alert) -> dict[str, Any]:
    """The alert with its history (events) and every delivery of it (the outbox rows)."""
    out = alert_rows(session, grant, [a])[0]
    out["events"] = [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                      "note": e.note, "detail": e.detail or {}} for e in alerts_service.events_of(session, a.id)]
    full = grant.scope is Scope.ALL
    out["notifications"] = [{**alerts_service.notification_dict(n), "address": n.address if full else None}
                            for n in alerts_service.notifications_of(session, a.id)]
    return out


def inbox_principals(who: Principal) -> list[str]:
    """Whose messages a signed-in account reads: its own (`user:<name>`) and its desk's —
    the credit office's, its department's, its grid's, its bank's, its own subject's."""
    out = [f"user:{who.username}"]
    if who.role is Role.CREDIT_OFFICE:
        out.append(CREDIT_OFFICE_DESK)
    elif who.role is Role.DEPARTMENT and who.department_code:
        out.append(f"department:{who.department_code}")
    elif who.role is Role.GRID and who.region_code:
        out.append(f"grid:{who.region_code}")
    elif who.role is Role.BANK and who.organisation:
        out.append(f"bank:{who.organisation}")
    elif who.role is Role.SUBJECT and who.subject_id is not None:
        out.append(f"subject:{who.subject_id}")
    return out


# ----------------------------------------------------------------------------- alerts


@router.get("/alerts", response_model=list[AlertOut], operation_id="alerts_list")
def alerts_list(grant: AlertsRead, session: DB,
                status: Annotated[AlertStatusFilter | None, Query()] = None,
                rule: Annotated[str | None, Query(max_length=80)] = None,
                severity: Annotated[Severity | None, Query()] = None,
                subject_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Alerts about subjects in your scope, newest first (`status=unresolved`: open and
    acknowledged)."""
    rows = alerts_service.listing(session, status=status, rule=rule, severity=severity, subject_id=subject_id,
                                  limit=limit, **alert_scope(grant))
    return alert_rows(session, grant, rows)


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut, operation_id="alerts_get")
def alerts_get(alert_id: Id, grant: AlertsRead, session: DB) -> dict[str, Any]:
    """One alert with its events (raised, repeated, acknowledged, commented, escalated,
    resolved) and the delivery status of each notification."""
    return alert_detail(session, grant, require_alert(session, grant, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertDetailOut, operation_id="alerts_acknowledge")
def alerts_acknowledge(alert_id: Id, grant: AlertsHandle, session: DB, body: AckIn | None = None) -> dict[str, Any]:
    """Take an open alert on: its escalation stops. Recorded as an event and audited."""
    require_alert(session, grant, alert_id, lock=True)
    a = alerts_service.acknowledge(session, alert_id=alert_id, note=body.note if body else None,
                                   actor=grant.principal.actor)
    return alert_detail(session, grant, a)


@router.post("/alerts/{alert_id}/comment", response_model=AlertDetailOut, operation_id="alerts_comment")
def alerts_comment(alert_id: Id, body: CommentIn, grant: AlertsHandle, session: DB) -> dict[str, Any]:
    """Add a note to an alert's history (audited)."""
    require_alert(session, grant, alert_id, lock=True)
    a = alerts_service.comment(session, alert_id=alert_id, note=body.note, actor=grant.principal.actor)
    return alert_detail(session, grant, a)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertDetailOut, operation_id="alerts_resolve")
def alerts_resolve(alert_id: Id, body: ResolveIn, grant: AlertsHandle, session: DB) -> dict[str, Any]:
    """Close an alert with what was done (an open alert may be resolved directly)."""
    require_alert(session, grant, alert_id, lock=True)
    a = alerts_service.resolve(session, alert_id=alert_id, resolution=body.resolution, actor=grant.principal.actor)
    return alert_detail(session, grant, a)


# ----------------------------------------------------------------------------- the inbox


@router.get("/inbox", response_model=list[InboxMessageOut], operation_id="inbox_list")
def inbox_list(grant: InboxRead, session: DB, unread: bool = False,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Your own messages (站内信) and your desk's: alert notifications delivered by the
    inbox channel and the steps of objections and repairs, newest first."""
    rows = alerts_service.inbox_of(session, inbox_principals(grant.principal), unread_only=unread, limit=limit)
    return [workflows_service.message_dict(m) for m in rows]


@router.post("/inbox/{message_id}/read", response_model=InboxMessageOut, operation_id="inbox_read")
def inbox_read(message_id: Id, grant: InboxRead, session: DB) -> dict[str, Any]:
    """Mark one of your messages read (another's answers 404)."""
    m = alerts_service.mark_read(session, message_id=message_id, principal=inbox_principals(grant.principal),
                                 actor=grant.principal.actor)
    return workflows_service.message_dict(m)
