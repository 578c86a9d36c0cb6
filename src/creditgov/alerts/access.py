"""Read logic the edges share: which alerts a grant reaches and may handle, an alert
with its history and deliveries in words, and whose inbox a signed-in account reads.

The API routes (`alerts/views.py`) and the pages (`web/supervision_pages.py`) both call
these, so a page and its endpoint cannot disagree. A caller reaches the alerts about
subjects in its data scope (alerts about no subject: whole-county scopes only), except a
department officer: "subjects the department holds a record on" is the whole county for
a water or power company, so a department reaches the alerts addressed to its desk
(`department:<code>`, by a rule, an escalation or a workflow) and the alerts raised by
one of its own records — and handles only those addressed to it. One outside its reach
is NotFound like a missing one. Plain values in, plain values out: no web framework here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts_service
from creditgov.alerts import words
from creditgov.alerts.channels.inbox import REF_KIND as INBOX_REF
from creditgov.alerts.models import Alert, AlertTrigger, InboxMessage, Notification, WarningRule
from creditgov.alerts.recipients import note_subjects, notes_said
from creditgov.alerts.words import Said
from creditgov.core import clock, labels
from creditgov.core.errors import NotFound
from creditgov.ingest import access as ingest_access
from creditgov.records.models import CreditRecord
from creditgov.security.scopes import Forbidden, Grant, Principal, Role, Scope, authorize
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from creditgov.workflows.access import objection_in_scope, repair_in_scope
from creditgov.workflows.eligibility import unmet
from creditgov.workflows.models import RepairApplication

# The credit office's desk: rules address it as `{who: department, code: credit}`.
CREDIT_OFFICE_DESK = "department:credit"


def desk_of(grant: Grant) -> str | None:
    """The department whose desk a department officer's grant reads alerts for (None:
    not a department officer; "" for an officer without a department, who reaches none)."""
    p = grant.principal
    if p.role is not Role.DEPARTMENT or grant.scope is Scope.ALL:
        return None
    return p.department_code or ""


def _addressed(department: str) -> ColumnElement[bool]:
    """Alerts with a delivery to the department's desk (raised or escalated to it)."""
    return Alert.id.in_(select(Notification.alert_id).where(Notification.recipient == f"department:{department}",
                                                            Notification.alert_id.is_not(None)))


def _from_own_records(department: str) -> ColumnElement[bool]:
    """Alerts a rule raised on one of the department's own records (the trigger is the
    record's natural key: `record:<key>`)."""
    key = func.substr(AlertTrigger.evidence_key, len("record:") + 1)
    return Alert.id.in_(select(AlertTrigger.alert_id)
                        .join(CreditRecord, CreditRecord.natural_key == key)
                        .where(AlertTrigger.evidence_key.startswith("record:"),
                               CreditRecord.department_code == department))


def desk_clause(grant: Grant) -> ColumnElement[bool] | None:
    """A condition on `Alert` a department officer's alerts meet (None: not one)."""
    desk = desk_of(grant)
    if desk is None:
        return None
    if not desk:
        return Alert.id.is_(None)
    if grant.permission == "alerts.handle":
        return _addressed(desk)
    return or_(_addressed(desk), _from_own_records(desk))


def alert_scope(grant: Grant) -> dict[str, Any]:
    """`alert_queries.listing` arguments limiting alerts to the grant's reach."""
    if grant.scope is Scope.ALL:
        return {}
    desk = desk_clause(grant)
    if desk is not None:
        return {"where": desk}
    return {"scope": grant.subject_clause(), "include_system": False}


def _reached(session: Session, clause: ColumnElement[bool], alert_id: int) -> bool:
    return session.execute(select(Alert.id).where(Alert.id == alert_id, clause)).first() is not None


def require_alert(session: Session, grant: Grant, alert_id: int, *, lock: bool = False) -> Alert:
    """The alert, or NotFound when it is missing or outside the grant's reach. A
    department officer handling (`alerts.handle`) an alert it may read but that was not
    addressed to its desk is refused (Forbidden)."""
    a = alerts_service.get(session, alert_id, lock=lock)
    if grant.scope is Scope.ALL:
        return a
    missing = NotFound(f"alert {alert_id} not found in your data scope", code="alerts.alert.not_found",
                       params={"id": alert_id})
    desk = desk_of(grant)
    if desk is not None:
        if desk and _reached(session, _addressed(desk), alert_id):
            return a
        if desk and _reached(session, _from_own_records(desk), alert_id):
            if grant.permission == "alerts.handle":
                raise Forbidden(f"alert {alert_id} is not addressed to department {desk}",
                                code="alerts.alert.not_addressed", params={"id": alert_id, "department": desk})
            return a
        raise missing
    if a.subject_id is None or not grant.in_scope(session, a.subject_id):
        raise missing
    return a


def handled_by(session: Session, grant: Grant, alert_ids: list[int]) -> set[int]:
    """Which of these alerts (already in the reader's reach) the reader may handle: all
    of them for a grant of `alerts.handle` by scope; a department officer only those
    addressed to its desk."""
    if not alert_ids or not grant.principal.can("alerts.handle"):
        return set()
    desk = desk_of(grant)
    if desk is None:
        return set(alert_ids)
    if not desk:
        return set()
    return set(session.execute(select(Alert.id).where(Alert.id.in_(alert_ids), _addressed(desk))).scalars())


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


def _batch_page(session: Session, who: Principal, batch: int) -> str | None:
    """A source file's batch page, when the reader may open it (a department: its own
    sources' batches only)."""
    if not who.can("ingest.read"):
        return None
    try:
        ingest_access.batch_in_scope(session, ingest_access.unit_of(authorize(who, "ingest.read")), batch)
    except NotFound:
        return None
    return f"/ingest/batches/{batch}"


def evidence_href(session: Session, who: Principal, said: Said) -> str | None:
    """The page a piece of evidence links for this reader, or None. A source's file is
    linked to the data-quality page for whoever may open it (the office); a reader who
    may not (a department) is linked to the file's batch page instead, when it may open
    that."""
    if said.batch is not None and said.permission and not who.can(said.permission):
        return _batch_page(session, who, said.batch)
    return said.href if _opens(session, who, said) else None


def _opens(session: Session, who: Principal, said: Said) -> bool:
    """Whether the reader may open the page a piece of evidence names."""
    if not said.href or not said.permission or not who.can(said.permission):
        return False
    grant = authorize(who, said.permission)
    kind, _sep, rest = said.href.strip("/").partition("/")
    if kind in ("objections", "repairs") and rest.isdigit():
        try:
            (objection_in_scope if kind == "objections" else repair_in_scope)(session, grant, int(rest))
        except NotFound:
            return False
        return True
    return said.subject_id is None or grant.in_scope(session, said.subject_id)


def alert_detail(session: Session, grant: Grant, a: Alert, lang: str | None = None) -> dict[str, Any]:
    """The alert with its history (events) and every delivery of it (the outbox rows).
    With `lang` (a page), also in words in that language: its evidence (`evidence_said`,
    linked where the reader may open the page), each delivery's recipient by name
    (`recipient_name`: a subject's, masked as the reader masks people; an account's
    person) and the message in English when it was raised with it (`english`; its rule's
    basis in English, `words.say_basis`)."""
    out = alert_rows(session, grant, [a])[0]
    who = grant.principal
    events = alert_queries.events_of(session, a.id)
    noted = [dict.fromkeys((e.detail or {}).get("notes") or []) for e in events]
    # A note naming a subject's inbox ("subject:134: no phone …") names the subject as
    # this reader sees it: masked as the reader masks people, its own unmasked.
    named = words.subject_names(session, {i for n in noted for i in note_subjects(n)},
                                masked=grant.masks_people, own=who.subject_id)
    out["events"] = [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                      "note": e.note, "detail": e.detail or {}, "notes": notes_said(n, subjects=named)}
                     for e, n in zip(events, noted, strict=True)]
    full = grant.scope is Scope.ALL
    notes = alert_queries.notifications_of(session, a.id)
    out["notifications"] = [
        labels.annotate({**alert_queries.notification_dict(n), "address": n.address if full else None},
                        channel="channel", status="notification_status")
        for n in notes]
    if lang is None:
        return out
    said = words.evidence_said(session, a.subject_id, list(a.evidence or []), lang)
    out["evidence_said"] = [{"at": (e or {}).get("at") if isinstance(e, dict) else None,
                             **s.as_dict(href=evidence_href(session, who, s))}
                            for e, s in zip(a.evidence or [], said, strict=True)]
    people = words.subject_names(session, words.subject_ids(n.recipient for n in notes),
                                 masked=grant.masks_people, own=who.subject_id)
    for row in out["notifications"]:
        row["recipient_name"] = words.principal_name(row["recipient"], lang, people)
    english = alerts_service.raised_english(session, a.id)
    if english is not None:  # its rule's basis in English, also for an alert raised before the rule had it
        cited = alert_queries.citations(session).get(a.rule_code, (None, None))
        english = {**english, "body": words.say_basis(english["body"], *cited)}
    out["english"] = english
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


def said_texts(session: Session, messages: list[InboxMessage], lang: str) -> dict[int, str]:
    """Each message's text in `lang` (`words.say_message`), by message id: in English the
    English stored with it; for a message written before revision 0034, the English its
    notification was sent with, else its known shape (a refused repair's conditions in
    English from its stored check). An alert's (topic `alert.<rule>`) gives its rule's
    basis in English (`words.say_basis`), also when it was sent before the rule had it."""
    if lang != "en":
        return {m.id: m.body for m in messages}
    old = [m for m in messages if not m.body_en]
    english: dict[int, Any] = {}
    sent = [m.ref_id for m in old if m.ref_kind == INBOX_REF and m.ref_id is not None]
    if sent:
        for nid, payload in session.execute(select(Notification.id, Notification.payload)
                                            .where(Notification.id.in_(sent))):
            english[nid] = (payload or {}).get("en") if isinstance(payload, dict) else None
    refused = [m.ref_id for m in old if m.topic == "repair.refused" and m.ref_kind == "repair" and m.ref_id]
    failures: dict[int, str] = {}
    if refused:
        for aid, checks in session.execute(select(RepairApplication.id, RepairApplication.eligibility)
                                           .where(RepairApplication.id.in_(refused))):
            failures[aid] = unmet(checks, "en")
    cited = alert_queries.citations(session) if any(m.topic.startswith("alert.") for m in messages) else {}
    out: dict[int, str] = {}
    for m in messages:
        said = words.say_message(m.body, lang, body_en=m.body_en,
                                 english=english.get(m.ref_id or -1) if m.ref_kind == INBOX_REF else None,
                                 extra={"failures_en": failures.get(m.ref_id or -1)})
        kind, _sep, rule = m.topic.partition(".")
        out[m.id] = words.say_basis(said, *cited.get(rule, (None, None))) if kind == "alert" else said
    return out


def category(topic: str, lang: str) -> str:
    """A message's category in words: an alert's by its warning rule ("预警 · 逾期未还款",
    "Alert: Overdue repayment"), a notice queued without a rule as a notice, a procedure
    step's by its topic's label (`message_topic`)."""
    kind, _sep, rule = topic.partition(".")
    if kind != "alert":
        return labels.label("message_topic", topic, lang)
    if rule in ("", "notice"):
        return ("通知", "Notice")[lang == "en"]
    name = labels.label("warning_rule", rule, lang)
    return f"预警 · {name}" if lang != "en" else f"Alert: {name}"


def inbox_view(session: Session, grant: Grant, messages: list[InboxMessage], lang: str) -> dict[str, Any]:
    """The inbox page's rows and heading in `lang`: each message's text in the reader's
    language (`said_texts`) and its category in words (`category`), whom it is about by
    name (masked as the reader masks people; linked when the reader may open the file)
    and whom it went to by name; the heading's inboxes (`principals`) likewise — an
    account by its person's name."""
    who = grant.principal
    mine = inbox_principals(who)
    about = {m.subject_id for m in messages if m.subject_id is not None}
    people = words.subject_names(session, about | words.subject_ids([*mine, *(f"{m.recipient_kind}:{m.recipient}"
                                                                               for m in messages)]),
                                 masked=grant.masks_people, own=who.subject_id)
    files: set[int] = set()
    if about and who.can("subjects.read"):
        files = set(session.execute(select(Subject.id).where(
            Subject.id.in_(sorted(about)), authorize(who, "subjects.read").subject_clause())).scalars())
    said = said_texts(session, messages, lang)
    rows = []
    for m in messages:
        row = alert_inbox.message_dict(m)
        row["said"] = said[m.id]
        row["category"] = category(m.topic, lang)
        row["subject_name"] = people.get(m.subject_id) if m.subject_id is not None else None
        row["subject_href"] = f"/subjects/{m.subject_id}" if m.subject_id in files else None
        row["to_name"] = words.principal_name(row["to"], lang, people)
        rows.append(row)
    heading = [{"address": p, "name": (who.display_name or words.principal_name(p, lang, people))
                if p == f"user:{who.username}" else words.principal_name(p, lang, people)} for p in mine]
    return {"messages": rows, "principals": heading}


EXPORT_HEADER = {"zh": ["编号", "触发时间(北京时间)", "最近触发(北京时间)", "级别", "预警规则", "预警", "主体编号", "主体",
                        "次数", "状态", "签收时间(北京时间)", "办结时间(北京时间)", "处置结果"],
                 "en": ["No.", "Raised (CST)", "Last seen (CST)", "Severity", "Warning rule", "Alert", "Subject",
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
