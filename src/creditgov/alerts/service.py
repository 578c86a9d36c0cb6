"""Alerts and notifications: the one place that changes alert state.

Other domains call two functions inside their own transaction:

- `raise_alert(session, ...)` — an alert with its notifications (the outbox rows),
  de-duplicated by key and window and, when given an evidence key, never twice for
  the same cause;
- `notify(session, ...)` — a notice without an alert (e.g. "your objection was
  received"), through the same outbox and channels.

Both only write rows; nothing is sent until the transaction commits and the worker
delivers (`outbox.deliver_due`). That is what makes an alert and its messages atomic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, bindparam, delete, func, or_, select, text
from sqlalchemy.orm import Session

from creditgov.alerts.models import (
    Alert,
    AlertEvent,
    AlertTrigger,
    ChannelConfig,
    Contact,
    Notification,
    WarningRule,
)
from creditgov.alerts.schemas import (
    RECORD_KINDS,
    ChannelsFile,
    ContactsFile,
    EscalationStep,
    Recipient,
    RuleDef,
    RulesFile,
)
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.security import service as audit
from creditgov.subjects.models import Region, Subject, SubjectLink

GRID_LEVEL = "grid"
_RULE = TypeAdapter(RuleDef)

# ----------------------------------------------------------------------------- rules as data


@lru_cache(maxsize=4)
def _parse_rules(text_: str, source: str) -> RulesFile:
    return parse_yaml_model(RulesFile, text_, source)


def read_rules(path: Path | None = None) -> RulesFile:
    if path is None:
        text_ = resources.files("creditgov.alerts").joinpath("data/warning_rules.yaml").read_text("utf-8")
        return _parse_rules(text_, "warning_rules.yaml (shipped)")
    return load_yaml_model(RulesFile, path)


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


def rule_def(session: Session, code: str) -> RuleDef:
    row = session.get(WarningRule, code)
    if row is None:
        raise NotFound(f"warning rule {code!r} not found")
    return _rule_of(row.definition)


def set_enabled(session: Session, *, code: str, enabled: bool, actor: str | None = None) -> WarningRule:
    row = session.get(WarningRule, code)
    if row is None:
        raise NotFound(f"warning rule {code!r} not found")
    row.enabled = enabled
    audit.append(session, action="alerts.rule.enable" if enabled else "alerts.rule.disable", actor=actor,
                 detail={"rule": code})
    return row


def record_rule_items(session: Session) -> set[str]:
    """Items some enabled record rule watches (the scanner reads nothing else)."""
    return {i for r in rule_defs(session, kinds=RECORD_KINDS) for i in getattr(r, "items", [])}


# ----------------------------------------------------------------------------- channels and contacts


def ensure_inbox_channel(session: Session) -> None:
    """The inbox needs no settings, so it always exists unless an operator disabled it."""
    if session.get(ChannelConfig, "inbox") is None:
        session.add(ChannelConfig(name="inbox", plugin="inbox", settings={}, enabled=True, max_attempts=8,
                                  backoff_seconds=1.0, backoff_cap_seconds=60.0, loaded_at=clock.now()))
        session.flush()


def load_channels(session: Session, *, path: Path, actor: str | None = None) -> dict[str, Any]:
    """Upsert channels from a deployment file; plugins must be installed and their
    settings valid (each plugin validates its own)."""
    from creditgov.alerts.channels import plugin

    doc = load_yaml_model(ChannelsFile, path)
    for n, c in enumerate(doc.channels):
        try:
            plugin(c.plugin)(c.name, c.settings, db_url="sqlite://")  # validates the settings only
        except ConfigError as exc:
            raise ConfigError(f"{path}: channels[{n}]: {exc}") from None
    now = clock.now()
    for c in doc.channels:
        session.merge(ChannelConfig(name=c.name, plugin=c.plugin, settings=c.settings, enabled=c.enabled,
                                    max_attempts=c.max_attempts, backoff_seconds=c.backoff_seconds,
                                    backoff_cap_seconds=c.backoff_cap_seconds, loaded_at=now))
    ensure_inbox_channel(session)
    session.flush()
    audit.append(session, action="alerts.channels.load", actor=actor,
                 detail={"file": path.name, "channels": {c.name: c.plugin for c in doc.channels}})
    return {"channels": len(doc.channels)}


def channel_configs(session: Session) -> dict[str, ChannelConfig]:
    return {c.name: c for c in session.execute(select(ChannelConfig)).scalars()}


def _subject_id_of(session: Session, key: str) -> int:
    key = key.strip()
    if key.isdigit() and len(key) < 12:
        sid = session.execute(select(Subject.id).where(Subject.id == int(key))).scalar()
    else:
        sid = session.execute(select(Subject.id).where(Subject.uscc == key.upper())).scalar()
    if sid is None:
        raise NotFound(f"no subject {key!r} (give an id or a credit code)")
    return int(sid)


def load_contacts(session: Session, *, path: Path | None = None, contacts: ContactsFile | None = None,
                  actor: str | None = None) -> dict[str, int]:
    """Replace the contact directory with the file's (a directory is a whole, not a log)."""
    if contacts is None:
        if path is None:
            raise InvalidInput("give a contacts file")
        contacts = load_yaml_model(ContactsFile, path)
    rows: list[Contact] = []
    for n, c in enumerate(contacts.contacts):
        where = f"{path or 'contacts'}: contacts[{n}] ({c.kind} {c.key})"
        until = dt.date.fromisoformat(c.valid_until) if c.valid_until else None
        key = c.key
        if c.kind == "subject":
            try:
                key = str(_subject_id_of(session, c.key))
            except NotFound as exc:
                raise ConfigError(f"{where}: {exc}") from None
        base = {"kind": c.kind, "key": key, "name": c.name, "email": c.email, "phone": c.phone,
                "webhook_url": c.webhook_url, "valid_until": until, "active": True}
        if c.kind == "bank" and c.watch:
            for w in c.watch:
                try:
                    rows.append(Contact(**base, watch_subject_id=_subject_id_of(session, w)))
                except NotFound as exc:
                    raise ConfigError(f"{where}: watch: {exc}") from None
        else:
            rows.append(Contact(**base))
    session.execute(delete(Contact))
    session.add_all(rows)
    session.flush()
    session.info.pop("alerts.directory", None)
    by_kind: dict[str, int] = {}
    for r in rows:
        by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
    audit.append(session, action="alerts.contacts.load", actor=actor, detail={"contacts": len(rows), **by_kind})
    return {"contacts": len(rows), **by_kind}


# ----------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Target:
    """One delivery: a principal (whose inbox, whose phone) on one channel at one address."""

    principal: str
    channel: str
    address: str | None


@dataclass
class Directory:
    """What recipient resolution reads, loaded once per transaction (small tables)."""

    region_paths: dict[int, list[str]]
    region_level: dict[str, str]
    contacts: dict[tuple[str, str], list[Contact]]
    bank_watch: dict[int, list[Contact]]
    channels: dict[str, ChannelConfig]
    today: dt.date

    @classmethod
    def load(cls, session: Session) -> Directory:
        paths: dict[int, list[str]] = {}
        level: dict[str, str] = {}
        for rid, code, lvl, path in session.execute(select(Region.id, Region.code, Region.level, Region.path)):
            paths[rid] = [c for c in path.strip("/").split("/") if c]
            level[code] = lvl
        contacts: dict[tuple[str, str], list[Contact]] = {}
        watch: dict[int, list[Contact]] = {}
        for c in session.execute(select(Contact).where(Contact.active.is_(True)).order_by(Contact.id)).scalars():
            session.expunge(c)
            if c.watch_subject_id is not None:
                watch.setdefault(c.watch_subject_id, []).append(c)
            else:
                contacts.setdefault((c.kind, c.key), []).append(c)
        chans = channel_configs(session)
        for cfg in chans.values():
            session.expunge(cfg)
        return cls(paths, level, contacts, watch, chans, clock.today())

    def grid_of(self, region_id: int | None) -> tuple[str | None, list[Contact]]:
        """The subject's grid principal and its workers: the nearest region (from the
        cell upwards) that has grid-worker contacts; else the `grid`-level ancestor."""
        chain = self.region_paths.get(region_id or -1, [])
        for code in reversed(chain):
            found = self.contacts.get(("grid_worker", code))
            if found:
                return code, found
        for code in reversed(chain):
            if self.region_level.get(code) == GRID_LEVEL:
                return code, []
        return (chain[-1], []) if chain else (None, [])


def directory(session: Session) -> Directory:
    d = session.info.get("alerts.directory")
    if d is None:
        d = Directory.load(session)
        session.info["alerts.directory"] = d
    return d


def _valid(c: Contact, today: dt.date) -> bool:
    return c.valid_until is None or c.valid_until >= today


def _principals(session: Session, d: Directory, r: Recipient, subject: Subject | None,
                department: str | None) -> list[tuple[str, list[Contact]]]:
    """A recipient spec to (principal, contacts) pairs."""
    if r.who == "grid_worker":
        if subject is None:
            return []
        code, workers = d.grid_of(subject.region_id)
        return [(f"grid:{code}", workers)] if code else []
    if r.who == "department":
        code = r.code or department
        return [(f"department:{code}", d.contacts.get(("department", code), []))] if code else []
    if r.who == "bank":
        if subject is None:
            return []
        return [(f"bank:{c.key}", [c]) for c in d.bank_watch.get(subject.id, []) if _valid(c, d.today)]
    if r.who == "subject":
        if subject is None:
            return []
        return [(f"subject:{subject.id}", d.contacts.get(("subject", str(subject.id)), []))]
    if r.who == "principal":
        if subject is None:
            return []
        if subject.resident_id_index is not None:
            people = [subject.id]
        else:
            people = []
            for role in ("principal", "legal_representative"):
                people = list(session.execute(select(SubjectLink.person_id).where(
                    SubjectLink.firm_id == subject.id, SubjectLink.role == role).order_by(SubjectLink.person_id)
                ).scalars())
                if people:
                    break
        return [(f"subject:{p}", d.contacts.get(("subject", str(p)), [])) for p in people]
    if r.who == "user":
        return [(f"user:{r.code}", d.contacts.get(("user", str(r.code)), []))]
    # principal_id: an explicit principal such as "department:credit"
    kind, _, key = str(r.code).partition(":")
    return [(str(r.code), d.contacts.get((kind, key), []))]


def resolve_targets(session: Session, recipients: Iterable[Recipient], *, subject_id: int | None,
                    department: str | None = None) -> tuple[list[Target], list[str]]:
    """(targets, notes): every (principal, channel, address) to notify, without
    repeats, and a note for each recipient or channel that could not be reached."""
    d = directory(session)
    subject = session.get(Subject, subject_id) if subject_id is not None else None
    from creditgov.alerts.channels import plugins

    installed = plugins()
    out: list[Target] = []
    seen: set[Target] = set()
    notes: list[str] = []
    for r in recipients:
        pairs = _principals(session, d, r, subject, department)
        if not pairs:
            notes.append(f"no {r.who} to notify" + (f" ({r.code})" if r.code else ""))
        for principal, contacts in pairs:
            for ch in r.channels:
                cfg = d.channels.get(ch)
                if cfg is None or not cfg.enabled:
                    notes.append(f"channel {ch!r} is not configured")
                    continue
                cls = installed.get(cfg.plugin)
                if cls is None:
                    notes.append(f"channel {ch!r}: plugin {cfg.plugin!r} is not installed")
                    continue
                field_ = cls.address_field
                if field_ is None:
                    targets = [Target(principal, ch, None)]
                else:
                    targets = [Target(principal, ch, getattr(c, field_)) for c in contacts if getattr(c, field_)]
                    if not targets and not (field_ == "webhook_url" and cfg.settings.get("url")):
                        notes.append(f"{principal}: no {field_} for channel {ch!r}")
                    elif not targets:
                        targets = [Target(principal, ch, None)]
                for t in targets:
                    if t not in seen:
                        seen.add(t)
                        out.append(t)
    return out, notes


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
                actor: str | None = None, audit_each: bool = True) -> Raised:
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
    queued = _queue(session, targets, stem=f"alert:{alert.id}:raise", title=title, body=body,
                    subject_id=subject_id, alert_id=alert.id,
                    payload={"severity": severity, "rule": rule_code, **(payload or {})}, fresh=True)
    _event(session, alert, "raised", actor, detail={"evidence": ev, "notifications": len(queued), "notes": notes})
    if audit_each:
        audit.append(session, action="alert.raise", actor=actor, subject_id=subject_id,
                     detail={"alert": alert.id, "rule": rule_code, "severity": severity, "evidence": evidence_key,
                             "notifications": len(queued)})
    return Raised(alert, created=True, notifications=queued, notes=notes)


def get(session: Session, alert_id: int, *, lock: bool = False) -> Alert:
    a = session.get(Alert, alert_id, with_for_update=lock)
    if a is None:
        raise NotFound(f"alert {alert_id} not found")
    return a


def acknowledge(session: Session, *, alert_id: int, note: str | None = None, actor: str | None = None) -> Alert:
    """Someone has seen it and owns it: escalation stops."""
    actor = actor or audit.default_actor()
    a = get(session, alert_id, lock=True)
    if a.status != "open":
        raise InvalidInput(f"alert {alert_id} is {a.status}; only an open alert can be acknowledged")
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
        raise InvalidInput("a comment needs text")
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
        raise InvalidInput("resolving an alert needs a resolution (what was done)")
    a = get(session, alert_id, lock=True)
    if a.status == "resolved":
        raise InvalidInput(f"alert {alert_id} is already resolved")
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
        while a.status == "open" and a.escalation_level < len(steps) and \
                a.raised_at + dt.timedelta(hours=steps[a.escalation_level].after_hours) <= now:
            step = steps[a.escalation_level]
            a.escalation_level += 1
            targets, notes = resolve_targets(session, step.to, subject_id=a.subject_id)
            title = f"[升级{a.escalation_level}] {a.title}"
            queued = _queue(session, targets, stem=f"alert:{a.id}:escalate:{a.escalation_level}", title=title,
                            body=a.body + f"\n\n该预警自 {a.raised_at:%Y-%m-%d %H:%M} 起未获签收, 已按规则升级。",
                            subject_id=a.subject_id, alert_id=a.id,
                            payload={"severity": a.severity, "rule": a.rule_code, "escalation": a.escalation_level})
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


def listing(session: Session, *, status: str | None = None, rule: str | None = None,
            subject_id: int | None = None, severity: str | None = None, limit: int = 100,
            scope: ColumnElement[bool] | None = None, include_system: bool = True) -> list[Alert]:
    """Newest first. `scope`: a condition on `Subject` (a grant's `subject_clause()`):
    only alerts about those subjects, plus alerts about no subject when `include_system`."""
    q = select(Alert).order_by(Alert.id.desc()).limit(limit)
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


def _iso(v: dt.datetime | dt.date | None) -> str | None:
    return v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else (v.isoformat() if v else None)


def alert_dict(a: Alert) -> dict[str, Any]:
    return {"id": a.id, "rule": a.rule_code, "subject_id": a.subject_id, "severity": a.severity,
            "status": a.status, "title": a.title, "body": a.body, "dedup_key": a.dedup_key,
            "occurrences": a.occurrences, "evidence": a.evidence, "source": a.source,
            "raised_at": _iso(a.raised_at), "last_seen_at": _iso(a.last_seen_at), "ack_due_at": _iso(a.ack_due_at),
            "escalation_level": a.escalation_level, "acknowledged_at": _iso(a.acknowledged_at),
            "acknowledged_by": a.acknowledged_by, "resolved_at": _iso(a.resolved_at), "resolved_by": a.resolved_by,
            "resolution": a.resolution}


def notification_dict(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "alert_id": n.alert_id, "channel": n.channel, "recipient": n.recipient,
            "address": n.address, "status": n.status, "attempts": n.attempts, "last_error": n.last_error,
            "provider_ref": n.provider_ref, "created_at": _iso(n.created_at), "sent_at": _iso(n.sent_at),
            "idempotency_key": n.idempotency_key}


# ----------------------------------------------------------------------------- inbox


def inbox(session: Session, principal: str, *, unread_only: bool = False, limit: int = 100) -> list[Any]:
    """A principal's inbox ("grid:330127-S01-G01", "department:market", "subject:12"):
    the product's one inbox table, shared with the workflows domain."""
    from creditgov.alerts.channels.inbox import split_principal
    from creditgov.workflows.models import InboxMessage

    kind, key = split_principal(principal)
    q = (select(InboxMessage).where(InboxMessage.recipient_kind == kind, InboxMessage.recipient == key)
         .order_by(InboxMessage.id.desc()).limit(limit))
    if unread_only:
        q = q.where(InboxMessage.read_at.is_(None))
    return list(session.execute(q).scalars())


def inbox_of(session: Session, principals: Sequence[str], *, unread_only: bool = False,
             limit: int = 100) -> list[Any]:
    """The messages of several principals at once (a user reads its own inbox and its
    desk's: "user:office", "department:credit"), newest first."""
    from creditgov.alerts.channels.inbox import split_principal
    from creditgov.workflows.models import InboxMessage

    pairs = [split_principal(p) for p in principals]
    if not pairs:
        return []
    q = (select(InboxMessage).where(or_(*[(InboxMessage.recipient_kind == k) & (InboxMessage.recipient == r)
                                          for k, r in pairs]))
         .order_by(InboxMessage.id.desc()).limit(limit))
    if unread_only:
        q = q.where(InboxMessage.read_at.is_(None))
    return list(session.execute(q).scalars())


def mark_read(session: Session, *, message_id: int, principal: str | Sequence[str],
              actor: str | None = None) -> Any:
    """Mark a message read; it must be in (one of) the principal's inbox(es). The first
    reading is audited; marking it again changes nothing."""
    from creditgov.alerts.channels.inbox import split_principal
    from creditgov.workflows.models import InboxMessage

    principals = [principal] if isinstance(principal, str) else list(principal)
    m = session.get(InboxMessage, message_id)
    if m is None or (m.recipient_kind, m.recipient) not in {split_principal(p) for p in principals}:
        raise NotFound(f"message {message_id} is not in {' / '.join(principals)}'s inbox")
    if m.read_at is None:
        m.read_at = clock.now()
        session.flush()
        audit.append(session, action="inbox.read", actor=actor or audit.default_actor(), subject_id=m.subject_id,
                     detail={"message": m.id, "to": f"{m.recipient_kind}:{m.recipient}"})
    return m


# ----------------------------------------------------------------------------- the credit check's seam


_al = Alert.__table__
_Q_OPEN = (select(_al.c.id, _al.c.rule_code, _al.c.severity, _al.c.status, _al.c.title, _al.c.raised_at)
           .where(_al.c.subject_id == bindparam("sid"), _al.c.status != "resolved")
           .order_by(_al.c.id.desc()).limit(20))


def open_warnings(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """A subject's unresolved alerts, for the credit check (measures domain): one
    statement built once, as the check runs on every approval."""
    return [{"alert_id": i, "rule": rule, "severity": sev, "status": st, "title": title, "raised_at": _iso(at)}
            for i, rule, sev, st, title, at in session.connection().execute(_Q_OPEN, {"sid": subject_id})]


def _register_seam() -> None:
    from creditgov.measures import service as measures_service

    measures_service.register_warning_source(open_warnings)


_register_seam()
