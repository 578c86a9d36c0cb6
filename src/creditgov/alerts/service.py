"""Alerts and notifications: the one place that changes alert state.

Other domains call two functions inside their own transaction:

- `raise_alert(session, ...)` — an alert with its notifications (the outbox rows),
  de-duplicated by key and window and, when given an evidence key, never twice for
  the same cause;
- `notify(session, ...)` — a notice without an alert (e.g. "your objection was
  received"), through the same outbox and channels.

Both only write rows; nothing is sent until the transaction commits and the worker
delivers (`outbox.deliver_due`). That is what makes an alert and its messages atomic.

This module also loads the warning rules (`load_rules`), applies due escalations and
gives the credit check (measures domain) a subject's open warnings (`open_warnings`,
wired into it by the composition root, `creditgov.bootstrap`). Around it: reading
rules and alerts in `queries.py`; who a recipient spec reaches in `recipients.py`;
the deployment's channels and contact directory in `contacts.py`; the inbox in
`inbox.py`; the rule scanners in `rules.py` and delivery in `outbox.py`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from creditgov.alerts.models import (
    Alert,
    AlertEvent,
    AlertTrigger,
    ChannelConfig,
    Notification,
    WarningRule,
)
from creditgov.alerts.recipients import Target, resolve_targets
from creditgov.alerts.schemas import EscalationStep, Recipient, RulesFile
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.clock import iso
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.security import service as audit

# ----------------------------------------------------------------------------- rules as data


WARNING_RULES = PolicyFile(RulesFile, "creditgov.alerts", "data/warning_rules.yaml")


def read_rules(path: Path | None = None) -> RulesFile:
    return WARNING_RULES.load(path)


def load_rules(session: Session, *, path: Path | None = None, actor: str | None = None) -> dict[str, Any]:
    """Upsert the rules. Items must be in the catalogue and lists defined (when any
    list is), so a typo fails the load instead of silently never firing. Also makes
    sure the inbox channel and the scan cursors exist: rules watch everything that
    arrives after they are first loaded."""
    doc = read_rules(path)
    src = str(path) if path else "warning_rules.yaml (shipped)"
    known_items = {c for (c,) in session.execute(select(CatalogItem.code))}
    if not known_items:
        raise ConfigError(f"{src}: the data catalogue is empty: load it first (`creditgov init`)")
    from creditgov.lists.models import CreditList

    known_lists = {c for (c,) in session.execute(select(CreditList.code))}
    for n, r in enumerate(doc.rules):
        for item in getattr(r, "items", []):
            if item not in known_items:
                raise ConfigError(f"{src}: rules[{n}] ({r.code}): unknown catalogue item {item!r}")
        for lst in getattr(r, "lists", []):
            if known_lists and lst not in known_lists:
                raise ConfigError(f"{src}: rules[{n}] ({r.code}): unknown list {lst!r}")
    now = clock.now()
    for r in doc.rules:
        session.merge(WarningRule(code=r.code, name_zh=r.name_zh, kind=r.kind, severity=r.severity,
                                  enabled=r.enabled, version=doc.version, definition=r.model_dump_json(),
                                  loaded_at=now))
    ensure_inbox_channel(session)
    from creditgov.alerts import rules as rules_engine

    rules_engine.ensure_cursors(session)
    session.flush()
    audit.append(session, action="alerts.rules.load", actor=actor,
                 detail={"version": doc.version, "rules": [r.code for r in doc.rules]})
    return {"version": doc.version, "rules": len(doc.rules)}


def set_enabled(session: Session, *, code: str, enabled: bool, actor: str | None = None) -> WarningRule:
    row = session.get(WarningRule, code)
    if row is None:
        raise NotFound(f"warning rule {code!r} not found")
    row.enabled = enabled
    audit.append(session, action="alerts.rule.enable" if enabled else "alerts.rule.disable", actor=actor,
                 detail={"rule": code})
    return row


# ----------------------------------------------------------------------------- the inbox channel


def ensure_inbox_channel(session: Session) -> None:
    """The inbox needs no settings, so it always exists unless an operator disabled it."""
    if session.get(ChannelConfig, "inbox") is None:
        session.add(ChannelConfig(name="inbox", plugin="inbox", settings={}, enabled=True, max_attempts=8,
                                  backoff_seconds=1.0, backoff_cap_seconds=60.0, loaded_at=clock.now()))
        session.flush()


# ----------------------------------------------------------------------------- notices


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:40]


def _queue(session: Session, targets: Sequence[Target], *, stem: str, title: str, body: str,
           subject_id: int | None, alert_id: int | None, payload: dict[str, Any] | None,
           fresh: bool = False) -> list[Notification]:
    """Outbox rows, one per target; the idempotency key is derived from the cause
    (`stem`) and the target, so queueing the same thing twice adds nothing. `fresh`:
    the stem names something created in this transaction, so nothing can exist yet."""
    now = clock.now()
    due = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the outbox's clock (real time; see outbox.wall)
    out: list[Notification] = []
    keys = [_key(stem, t.principal, t.channel, t.address or "") for t in targets]
    existing = set(session.execute(select(Notification.idempotency_key).where(
        Notification.idempotency_key.in_(keys))).scalars()) if keys and not fresh else set()
    for t, k in zip(targets, keys, strict=True):
        if k in existing:
            continue
        n = Notification(idempotency_key=k, alert_id=alert_id, subject_id=subject_id, channel=t.channel,
                         recipient=t.principal, address=t.address, title=title[:300], body=body,
                         payload=payload or {}, status="pending", attempts=0, next_attempt_at=due, created_at=now)
        session.add(n)
        out.append(n)
    session.flush()
    return out


def _recipients(items: Iterable[Recipient | dict[str, Any] | str]) -> list[Recipient]:
    """Accept specs, dicts or bare principals ("department:credit") from callers."""
    out = []
    for r in items:
        if isinstance(r, Recipient):
            out.append(r)
        elif isinstance(r, str):
            out.append(Recipient(who="principal_id", code=r))
        else:
            out.append(Recipient.model_validate(r))
    return out


def notify(session: Session, *, recipients: Iterable[Recipient | dict[str, Any] | str], title: str, body: str,
           subject_id: int | None = None, alert_id: int | None = None, department: str | None = None,
           key: str | None = None, payload: dict[str, Any] | None = None) -> list[Notification]:
    """Queue a notice in the caller's transaction. Give `key` (e.g. "objection:12:received")
    to make it idempotent: the same key and recipients never queue twice.

    Recipients: `Recipient` specs or dicts ({"who": "subject", "channels": ["inbox", "sms"]}),
    or principals as strings ("department:credit") for the inbox."""
    targets, _ = resolve_targets(session, _recipients(recipients), subject_id=subject_id, department=department)
    return _queue(session, targets, stem=key or f"notice:{uuid.uuid4().hex}", title=title, body=body,
                  subject_id=subject_id, alert_id=alert_id, payload=payload)


def notify_address(session: Session, *, principal: str, channel: str, address: str, title: str, body: str,
                   key: str, payload: dict[str, Any] | None = None) -> list[Notification]:
    """Queue a notice to an address a person gave for this one matter (a complainant's
    mobile or e-mail, not a directory contact), on a configured and enabled channel;
    nothing is queued when the channel is not (the caller shows the answer instead)."""
    from creditgov.alerts.recipients import channel_configs

    cfg = channel_configs(session).get(channel)
    if cfg is None or not cfg.enabled:
        return []
    return _queue(session, [Target(principal, channel, address)], stem=key, title=title, body=body,
                  subject_id=None, alert_id=None, payload=payload)


# ----------------------------------------------------------------------------- alerts


@dataclass
class Raised:
    alert: Alert
    created: bool
    repeated: bool = False
    notifications: list[Notification] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _lock(session: Session, key: str) -> None:
    """Serialise raises of one dedup key (PostgreSQL; SQLite writers are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        k = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})


def _event(session: Session, alert: Alert, action: str, actor: str, note: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    session.add(AlertEvent(alert_id=alert.id, at=clock.now(), actor=actor, action=action, note=note,
                           detail=detail or {}))


def raise_alert(session: Session, *, rule_code: str, title: str, subject_id: int | None = None,
                severity: str = "medium", body: str = "",
                recipients: Iterable[Recipient | dict[str, Any] | str] = (),
                dedup_key: str | None = None, window_days: int = 30, evidence_key: str | None = None,
                evidence: dict[str, Any] | None = None,
                escalation: Sequence[EscalationStep | dict[str, Any]] = (), source: str = "rule",
                department: str | None = None, payload: dict[str, Any] | None = None,
                actor: str | None = None, audit_each: bool = True,
                english: dict[str, str] | None = None) -> Raised:
    """Raise an alert and queue its notifications in the caller's transaction.

    - `evidence_key` (a record's natural key, "run:7", "objection:12:overdue"): the
      same rule never fires twice for the same cause — a second call returns the
      first alert untouched.
    - `dedup_key` and `window_days`: a repeat while an alert with that key is still
      unresolved and seen within the window folds into it (occurrences + 1, evidence
      appended) and tells nobody again.
    - `escalation`: steps ({after_hours, to}) the worker applies when nobody
      acknowledges in time.
    - `audit_each`: append an audit entry for this alert (the rule scanners pass
      False and append one entry per pass naming all the alerts it raised).
    - `english`: the message in English (`{"title", "body"}`), kept on the `raised`
      event and with each notification (`payload["en"]`), so the English pages (the
      alert's page, the inbox) say it in English; without it they show it as stored.
    """
    actor = actor or "system:alerts"
    dedup_key = dedup_key or f"{rule_code}:{subject_id}"
    _lock(session, dedup_key)
    now = clock.now()
    if evidence_key is not None:
        hit = session.execute(select(AlertTrigger.alert_id).where(
            AlertTrigger.rule_code == rule_code, AlertTrigger.evidence_key == evidence_key)).scalar()
        if hit is not None:
            alert = session.get(Alert, hit)
            assert alert is not None
            return Raised(alert, created=False)
    ev = {"key": evidence_key, **(evidence or {}), "at": now.isoformat(timespec="seconds")}
    since = now - dt.timedelta(days=window_days)
    existing = session.execute(select(Alert).where(
        Alert.dedup_key == dedup_key, Alert.status != "resolved", Alert.last_seen_at >= since)
        .order_by(Alert.id.desc()).limit(1)).scalar_one_or_none() if window_days > 0 else None
    if existing is not None:
        existing.occurrences += 1
        existing.last_seen_at, existing.updated_at = now, now
        existing.evidence = [*existing.evidence, ev][-50:]
        _event(session, existing, "repeated", actor, detail={"evidence": ev})
        if evidence_key is not None:
            session.add(AlertTrigger(rule_code=rule_code, evidence_key=evidence_key, alert_id=existing.id, at=now))
        session.flush()
        return Raised(existing, created=False, repeated=True)
    steps = [s if isinstance(s, EscalationStep) else EscalationStep.model_validate(s) for s in escalation]
    alert = Alert(rule_code=rule_code, subject_id=subject_id, severity=severity, status="open", title=title[:300],
                  body=body, dedup_key=dedup_key, occurrences=1, evidence=[ev], source=source, raised_at=now,
                  last_seen_at=now, escalation=[s.model_dump(mode="json") for s in steps],
                  ack_due_at=now + dt.timedelta(hours=steps[0].after_hours) if steps else None,
                  escalation_level=0, updated_at=now)
    session.add(alert)
    session.flush()
    if evidence_key is not None:
        session.add(AlertTrigger(rule_code=rule_code, evidence_key=evidence_key, alert_id=alert.id, at=now))
    targets, notes = resolve_targets(session, _recipients(recipients), subject_id=subject_id, department=department)
    notes = list(dict.fromkeys(notes))  # a channel missing for two recipients is one note
    en = {"en": {"title": english["title"][:300], "body": english["body"]}} if english else {}
    queued = _queue(session, targets, stem=f"alert:{alert.id}:raise", title=title, body=body,
                    subject_id=subject_id, alert_id=alert.id,
                    payload={"severity": severity, "rule": rule_code, **(payload or {}), **en}, fresh=True)
    _event(session, alert, "raised", actor, detail={"evidence": ev, "notifications": len(queued), "notes": notes,
                                                    **en})
    if audit_each:
        audit.append(session, action="alert.raise", actor=actor, subject_id=subject_id,
                     detail={"alert": alert.id, "rule": rule_code, "severity": severity, "evidence": evidence_key,
                             "notifications": len(queued)})
    return Raised(alert, created=True, notifications=queued, notes=notes)


def raised_english(session: Session, alert_id: int) -> dict[str, str] | None:
    """The alert's message in English as it was raised (`raise_alert(english=...)`), or None."""
    detail = session.execute(select(AlertEvent.detail).where(AlertEvent.alert_id == alert_id,
                                                             AlertEvent.action == "raised")
                             .order_by(AlertEvent.id).limit(1)).scalar()
    en = (detail or {}).get("en") if isinstance(detail, dict) else None
    return en if isinstance(en, dict) and en.get("title") and en.get("body") is not None else None


def get(session: Session, alert_id: int, *, lock: bool = False) -> Alert:
    a = session.get(Alert, alert_id, with_for_update=lock)
    if a is None:
        raise NotFound(f"alert {alert_id} not found", code="alerts.alert.not_found", params={"id": alert_id})
    return a


def acknowledge(session: Session, *, alert_id: int, note: str | None = None, actor: str | None = None) -> Alert:
    """Someone has seen it and owns it: escalation stops."""
    actor = actor or audit.default_actor()
    a = get(session, alert_id, lock=True)
    if a.status != "open":
        raise InvalidInput(f"alert {alert_id} is {a.status}; only an open alert can be acknowledged",
                           code="alerts.alert.not_open", params={"id": alert_id, "status": a.status})
    now = clock.now()
    a.status, a.acknowledged_at, a.acknowledged_by, a.updated_at = "acknowledged", now, actor, now
    _event(session, a, "acknowledged", actor, note)
    session.flush()
    audit.append(session, action="alert.acknowledge", actor=actor, subject_id=a.subject_id,
                 detail={"alert": a.id, "note": note})
    return a


def comment(session: Session, *, alert_id: int, note: str, actor: str | None = None) -> Alert:
    actor = actor or audit.default_actor()
    if not note.strip():
        raise InvalidInput("a comment needs text", code="alerts.alert.no_comment")
    a = get(session, alert_id)
    a.updated_at = clock.now()
    _event(session, a, "commented", actor, note.strip())
    session.flush()
    audit.append(session, action="alert.comment", actor=actor, subject_id=a.subject_id, detail={"alert": a.id})
    return a


def resolve(session: Session, *, alert_id: int, resolution: str, actor: str | None = None) -> Alert:
    """Closed with what was done; an open alert may be resolved directly."""
    actor = actor or audit.default_actor()
    if not resolution.strip():
        raise InvalidInput("resolving an alert needs a resolution (what was done)", code="alerts.alert.no_resolution")
    a = get(session, alert_id, lock=True)
    if a.status == "resolved":
        raise InvalidInput(f"alert {alert_id} is already resolved", code="alerts.alert.resolved", params={"id": alert_id})
    now = clock.now()
    a.status, a.resolved_at, a.resolved_by, a.resolution, a.updated_at = "resolved", now, actor, resolution, now
    _event(session, a, "resolved", actor, resolution.strip())
    session.flush()
    audit.append(session, action="alert.resolve", actor=actor, subject_id=a.subject_id,
                 detail={"alert": a.id, "resolution": resolution})
    return a


def escalate_due(session: Session, *, actor: str | None = None) -> list[tuple[int, int]]:
    """Apply every escalation step that has come due on an unacknowledged alert.
    Safe to run twice: each step is applied once (the level is the bookmark, taken
    under a row lock) and its notifications carry the level in their keys."""
    actor = actor or "system:escalation"
    now = clock.now()
    done: list[tuple[int, int]] = []
    ids = list(session.execute(select(Alert.id).where(
        Alert.status == "open", Alert.ack_due_at.is_not(None), Alert.ack_due_at <= now).order_by(Alert.id)).scalars())
    for aid in ids:
        a = get(session, aid, lock=True)
        steps = [EscalationStep.model_validate(s) for s in a.escalation]
        english = raised_english(session, a.id)
        while a.status == "open" and a.escalation_level < len(steps) and \
                a.raised_at + dt.timedelta(hours=steps[a.escalation_level].after_hours) <= now:
            step = steps[a.escalation_level]
            a.escalation_level += 1
            targets, notes = resolve_targets(session, step.to, subject_id=a.subject_id)
            notes = list(dict.fromkeys(notes))
            title = f"[升级{a.escalation_level}] {a.title}"
            since = f"{a.raised_at:%Y-%m-%d %H:%M}"
            en = {"en": {"title": f"[Escalation {a.escalation_level}] {english['title']}"[:300],
                         "body": english["body"] + f"\n\nNobody has acknowledged this alert since {since}; "
                                                   "it was escalated as the rule says."}} if english else {}
            queued = _queue(session, targets, stem=f"alert:{a.id}:escalate:{a.escalation_level}", title=title,
                            body=a.body + f"\n\n该预警自 {since} 起未获签收, 已按规则升级。",
                            subject_id=a.subject_id, alert_id=a.id,
                            payload={"severity": a.severity, "rule": a.rule_code, "escalation": a.escalation_level,
                                     **en})
            _event(session, a, "escalated", actor, detail={"level": a.escalation_level,
                                                            "notifications": len(queued), "notes": notes})
            done.append((a.id, a.escalation_level))
        nxt = a.escalation_level
        a.ack_due_at = a.raised_at + dt.timedelta(hours=steps[nxt].after_hours) if nxt < len(steps) else None
        a.updated_at = now
        session.flush()
    if done:
        audit.append(session, action="alert.escalate", actor=actor, detail={"escalated": done})
    return done


# ----------------------------------------------------------------------------- the credit check's seam


_al = Alert.__table__
_Q_OPEN = (select(_al.c.id, _al.c.rule_code, _al.c.severity, _al.c.status, _al.c.title, _al.c.raised_at)
           .where(_al.c.subject_id == bindparam("sid"), _al.c.status != "resolved")
           .order_by(_al.c.id.desc()).limit(20))


def open_warnings(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """A subject's unresolved alerts, for the credit check (measures domain): one
    statement built once, as the check runs on every approval."""
    return [{"alert_id": i, "rule": rule, "severity": sev, "status": st, "title": title,
             "raised_at": iso(at)}
            for i, rule, sev, st, title, at in session.connection().execute(_Q_OPEN, {"sid": subject_id})]
