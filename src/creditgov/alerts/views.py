"""API routes for risk warnings (风险预警) and the in-app inbox. Thin: `alerts.service`
changes the state and audits it; the grant decides which alerts a caller reaches —
those about subjects in the caller's data scope (alerts about no subject: whole-county
scopes only), and one outside it answers 404 like a missing one.

The scope helpers (`alert_scope`, `require_alert`, `alert_detail`, `inbox_principals`)
live in `alerts/access.py`, shared with the pages (`web/supervision_pages.py`), so a
page and its endpoint cannot disagree."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts_service
from creditgov.alerts.access import (
    alert_detail,
    alert_rows,
    alert_scope,
    inbox_principals,
    require_alert,
    said_texts,
)
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
from creditgov.security.scopes import Grant

router = APIRouter(tags=["alerts"])
AlertsRead = Annotated[Grant, Depends(require("alerts.read"))]
AlertsHandle = Annotated[Grant, Depends(require("alerts.handle"))]
InboxRead = Annotated[Grant, Depends(require("inbox.read"))]


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
    rows = alert_queries.listing(session, status=status, rule=rule, severity=severity, subject_id=subject_id,
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
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               lang: Annotated[str, Query(pattern="^(zh|en)$", description="language of `said`")] = "zh",
               ) -> list[dict[str, Any]]:
    """Your own messages (站内信) and your desk's: alert notifications delivered by the
    inbox channel and the steps of objections and repairs, newest first. `body` is the
    message as sent (Chinese), `body_en` the English kept with it (null for a message
    written without one), `said` the message in `lang` as the inbox page says it (for
    `en`: the English kept with it, else an older message's English by its shape)."""
    rows = alert_inbox.inbox_of(session, inbox_principals(grant.principal), unread_only=unread, limit=limit)
    said = said_texts(session, rows, lang)
    return [{**alert_inbox.message_dict(m), "said": said[m.id]} for m in rows]


@router.post("/inbox/{message_id}/read", response_model=InboxMessageOut, operation_id="inbox_read")
def inbox_read(message_id: Id, grant: InboxRead, session: DB) -> dict[str, Any]:
    """Mark one of your messages read (another's answers 404)."""
    m = alert_inbox.mark_read(session, message_id=message_id, principal=inbox_principals(grant.principal),
                              actor=grant.principal.actor)
    return alert_inbox.message_dict(m)
