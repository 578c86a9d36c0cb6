"""Reading the alerts domain: the warning rules as stored, and alerts with their events
and notifications.

Nothing here changes state (that is `service.py`), so the API, the pages, the CLI, the
rule scanners and the credit check read through the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from creditgov.alerts.models import Alert, AlertEvent, Notification, WarningRule
from creditgov.alerts.schemas import QUALITY_KINDS, RejectionJumpRule, RuleDef, SourceLateRule
from creditgov.core.clock import iso
from creditgov.subjects.models import Subject

_RULE = TypeAdapter(RuleDef)

# ----------------------------------------------------------------------------- rules


@lru_cache(maxsize=512)
def _rule_of(definition: str) -> RuleDef:
    return _RULE.validate_json(definition)


def rule_defs(session: Session, *, kinds: Sequence[str] | None = None, enabled_only: bool = True) -> list[RuleDef]:
    q = select(WarningRule.definition).order_by(WarningRule.code)
    if enabled_only:
        q = q.where(WarningRule.enabled.is_(True))
    if kinds:
        q = q.where(WarningRule.kind.in_(list(kinds)))
    return [_rule_of(d) for (d,) in session.execute(q)]


def citations(session: Session) -> dict[str, tuple[str, str | None]]:
    """Each loaded rule's citation and its English (None: the rules file gives none), by
    rule code: what an alert's "Basis:" line says in each language."""
    return {r.code: (r.citation, r.citation_en) for r in rule_defs(session, enabled_only=False)}


def late_policy(session: Session) -> dict[str, Any]:
    """The enabled `source_late` rule's intervals as `quality.service.sources` takes
    them (`default_days`, `days`), so the data-quality page shows late the sources the
    rule warns about; empty when no such rule is enabled."""
    for r in rule_defs(session, kinds=("source_late",)):
        if isinstance(r, SourceLateRule):
            return {"default_days": r.default_interval_days, "days": dict(r.interval_days)}
    return {}


def jump_policy(session: Session) -> dict[str, Any] | None:
    """The enabled `rejection_jump` rule's measure as `quality.service.sources` takes it
    (`jump`), so the data-quality page marks as a spike the last file the rule warns
    about; None when no such rule is enabled."""
    for r in rule_defs(session, kinds=("rejection_jump",)):
        if isinstance(r, RejectionJumpRule):
            return r.figures()
    return None


def source_alerts(session: Session, *, limit: int = 500) -> dict[str, list[dict[str, Any]]]:
    """Unresolved data-quality alerts by the source they are about (newest first), for
    the data-quality page's links. The source is in each alert's evidence."""
    codes = list(session.execute(select(WarningRule.code).where(WarningRule.kind.in_(QUALITY_KINDS))).scalars())
    out: dict[str, list[dict[str, Any]]] = {}
    if not codes:
        return out
    q = (select(Alert).where(Alert.rule_code.in_(codes), Alert.status != "resolved")
         .order_by(Alert.id.desc()).limit(limit))
    for a in session.execute(q).scalars():
        src = next((e["source"] for e in a.evidence or [] if isinstance(e, dict) and e.get("source")), None)
        if src:
            out.setdefault(str(src), []).append({"id": a.id, "rule": a.rule_code, "severity": a.severity,
                                                 "status": a.status, "raised_at": iso(a.raised_at)})
    return out


# ----------------------------------------------------------------------------- alerts


def listing(session: Session, *, status: str | None = None, rule: str | None = None,
            subject_id: int | None = None, severity: str | None = None, limit: int | None = 100,
            scope: ColumnElement[bool] | None = None, include_system: bool = True,
            where: ColumnElement[bool] | None = None) -> list[Alert]:
    """Newest first (`limit=None`: all, for exports). `scope`: a condition on `Subject` (a
    grant's `subject_clause()`): only alerts about those subjects, plus alerts about no
    subject when `include_system`. `where`: a condition on `Alert` itself (a department
    desk's reach, `access.desk_clause`)."""
    q = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if where is not None:
        q = q.where(where)
    if scope is not None:
        about = Alert.subject_id.in_(select(Subject.id).where(scope))
        q = q.where(or_(about, Alert.subject_id.is_(None)) if include_system else about)
    elif not include_system:
        q = q.where(Alert.subject_id.is_not(None))
    if status:
        q = q.where(Alert.status == status) if status != "unresolved" else q.where(Alert.status != "resolved")
    if rule:
        q = q.where(Alert.rule_code == rule)
    if subject_id is not None:
        q = q.where(Alert.subject_id == subject_id)
    if severity:
        q = q.where(Alert.severity == severity)
    return list(session.execute(q).scalars())


def events_of(session: Session, alert_id: int) -> list[AlertEvent]:
    return list(session.execute(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                                .order_by(AlertEvent.id)).scalars())


def notifications_of(session: Session, alert_id: int) -> list[Notification]:
    return list(session.execute(select(Notification).where(Notification.alert_id == alert_id)
                                .order_by(Notification.id)).scalars())


def counts(session: Session) -> dict[str, Any]:
    by_status = {st: int(n) for st, n in session.execute(select(Alert.status, func.count()).group_by(Alert.status))}
    outbox = {st: int(n) for st, n in session.execute(
        select(Notification.status, func.count()).group_by(Notification.status))}
    return {"alerts": by_status, "outbox": outbox}



def alert_dict(a: Alert) -> dict[str, Any]:
    return {"id": a.id, "rule": a.rule_code, "subject_id": a.subject_id, "severity": a.severity,
            "status": a.status, "title": a.title, "body": a.body, "dedup_key": a.dedup_key,
            "occurrences": a.occurrences, "evidence": a.evidence, "source": a.source,
            "raised_at": iso(a.raised_at), "last_seen_at": iso(a.last_seen_at),
            "ack_due_at": iso(a.ack_due_at), "escalation_level": a.escalation_level,
            "acknowledged_at": iso(a.acknowledged_at), "acknowledged_by": a.acknowledged_by,
            "resolved_at": iso(a.resolved_at), "resolved_by": a.resolved_by, "resolution": a.resolution}


def notification_dict(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "alert_id": n.alert_id, "channel": n.channel, "recipient": n.recipient,
            "address": n.address, "status": n.status, "attempts": n.attempts, "last_error": n.last_error,
            "provider_ref": n.provider_ref, "created_at": iso(n.created_at),
            "sent_at": iso(n.sent_at), "idempotency_key": n.idempotency_key}
