"""Read logic the edges share: which alerts a grant reaches, an alert with its history
and deliveries, and whose inbox a signed-in account reads.

The API routes (`alerts/views.py`) and the pages (`web/supervision_pages.py`) both call
these, so a page and its endpoint cannot disagree: a caller reaches the alerts about
subjects in its data scope (alerts about no subject: whole-county scopes only), and one
outside it is NotFound like a missing one. Plain values in, plain values out: no web
framework here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts_service
from creditgov.alerts.models import Alert, WarningRule
from creditgov.alerts.recipients import notes_said
from creditgov.core import clock, labels
from creditgov.core.errors import NotFound
from creditgov.security.scopes import Grant, Principal, Role, Scope
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

# The credit office's desk: rules address it as `{who: department, code: credit}`.
CREDIT_OFFICE_DESK = "department:credit"


def alert_scope(grant: Grant) -> dict[str, Any]:
    """`alert_queries.listing` arguments limiting alerts to the grant's scope."""
    if grant.scope is Scope.ALL:
        return {}
    return {"scope": grant.subject_clause(), "include_system": False}


def require_alert(session: Session, grant: Grant, alert_id: int, *, lock: bool = False) -> Alert:
    """The alert, or NotFound when it is missing or about a subject outside the scope."""
    a = alerts_service.get(session, alert_id, lock=lock)
    if grant.scope is Scope.ALL:
        return a
    if a.subject_id is None or not grant.in_scope(session, a.subject_id):
        raise NotFound(f"alert {alert_id} not found in your data scope", code="alerts.alert.not_found",
                       params={"id": alert_id})
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
    return [labels.annotate({**alert_queries.alert_dict(a), "rule_name": rules.get(a.rule_code),
                             "subject_name": names.get(a.subject_id) if a.subject_id is not None else None},
                            rule="warning_rule", severity="alert_severity", status="alert_status")
            for a in alerts]


def alert_detail(session: Session, grant: Grant, a: Alert) -> dict[str, Any]:
    """The alert with its history (events) and every delivery of it (the outbox rows)."""
    out = alert_rows(session, grant, [a])[0]
    out["events"] = [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                      "note": e.note, "detail": e.detail or {},
                      "notes": notes_said((e.detail or {}).get("notes") or [])}
                     for e in alert_queries.events_of(session, a.id)]
    full = grant.scope is Scope.ALL
    out["notifications"] = [
        labels.annotate({**alert_queries.notification_dict(n), "address": n.address if full else None},
                        channel="channel", status="notification_status")
        for n in alert_queries.notifications_of(session, a.id)]
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


EXPORT_HEADER = {"zh": ["编号", "触发时间(北京时间)", "最近触发(北京时间)", "级别", "预警规则", "预警", "主体编号", "主体",
                        "次数", "状态", "签收时间(北京时间)", "办结时间(北京时间)", "处置结果"],
                 "en": ["Alert", "Raised (CST)", "Last seen (CST)", "Severity", "Warning rule", "Alert", "Subject",
                        "Name", "Occurrences", "Status", "Acknowledged (CST)", "Resolved (CST)", "Resolution"]}


def export_rows(session: Session, grant: Grant, alerts: list[Alert], lang: str = "zh") -> Iterator[list[Any]]:
    """The alerts list as export rows (issue 19), as the page shows them to this reader:
    subjects' names masked where the grant masks people, codes named in `lang`, the
    heading as the page writes it (the stored message in Chinese; rule and subject in
    English), times in China Standard Time."""
    def when(v: Any) -> str:
        return clock.show(v, lang, label=False, seconds=True) if v else ""

    for a in alert_rows(session, grant, alerts):
        rule = labels.label("warning_rule", a["rule"], lang)
        name = a["subject_name"]
        heading = a["title"] if lang == "zh" else (f"{rule}: {name}" if name else rule)
        yield [a["id"], when(a["raised_at"]), when(a["last_seen_at"]), labels.label("alert_severity", a["severity"], lang),
               rule, heading, a["subject_id"], name or "", a["occurrences"],
               labels.label("alert_status", a["status"], lang), when(a["acknowledged_at"]), when(a["resolved_at"]),
               a["resolution"] or ""]
