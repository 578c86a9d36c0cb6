"""`creditgov alerts ...`: rules, alerts and their lifecycle, the outbox, channels,
contacts, inboxes and colour codes. Thin: every command calls a service."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from creditgov.alerts import access as alert_access
from creditgov.alerts import colours, outbox, rules
from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts
from creditgov.alerts.models import (
    ALERT_STATUSES,
    NOTIFICATION_STATUSES,
    Alert,
    ChannelConfig,
    WarningRule,
)
from creditgov.alerts.schemas import Severity
from creditgov.cli.common import (
    STATE,
    JsonOpt,
    OutOpt,
    check_out,
    console,
    emit_json,
    known,
    label,
    lang,
    operator_grant,
    session,
    when,
    write_out,
)
from creditgov.core import labels
from creditgov.security.labels import actor_label
from creditgov.subjects import service as subject_service

app = typer.Typer(help="Risk warnings (预警): rules, alerts, notifications, channels, colour codes.",
                  no_args_is_help=True)
rules_app = typer.Typer(help="Warning rules (data).", no_args_is_help=True)
channels_app = typer.Typer(help="Notification channels of this deployment.", no_args_is_help=True)
colours_app = typer.Typer(help="Red/yellow/green codes (三色码).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(channels_app, name="channels")
app.add_typer(colours_app, name="colours")

ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _yes(flag: bool) -> str:
    return ("yes" if flag else "no") if lang() == "en" else ("是" if flag else "否")


def _counts(by: dict[str, int], kind: str) -> str:
    """{code: n} as "name n, name n" (a count per colour, per status …)."""
    return ", ".join(f"{label(kind, k)} {v:,}" for k, v in sorted(by.items())) or "—"


def _out(data: Any, json_out: bool, text: str | None = None) -> None:
    if json_out:
        emit_json(data)
    else:
        console.print(text if text is not None else data)


# ----------------------------------------------------------------------------- rules


@rules_app.command("list")
def rules_list(json_out: bool = JsonOpt) -> None:
    """The loaded rules."""
    with session() as s:
        out = [r.model_dump(mode="json") for r in alert_queries.rule_defs(s, enabled_only=False)]
        enabled = {r.code for r in alert_queries.rule_defs(s)}
    if json_out:
        emit_json(out)
        return
    t = Table(title="warning rules")
    for c in ("code", "kind", "severity", "name", "on", "recipients"):
        t.add_column(c)
    for r in out:
        t.add_row(r["code"], label("warning_rule_kind", r["kind"]), label("alert_severity", r["severity"]),
                  escape(label("warning_rule", r["code"])), _yes(r["code"] in enabled),
                  escape(", ".join(f"{label('alert_recipient_kind', x['who'])}"
                                   f"{' ' + x['code'] if x.get('code') else ''}→"
                                   + "/".join(label("channel", c) for c in x["channels"]) for x in r["recipients"])))
    console.print(t)


@rules_app.command("load")
def rules_load(path: Path = typer.Argument(None, help="A rules file; default: the shipped rules."),
               actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = alerts.load_rules(s, path=path, actor=actor)
    _out(out, json_out, f"loaded {out['rules']} rules (version {out['version']})")


@rules_app.command("enable")
def rules_enable(code: str, actor: str = ActorOpt) -> None:
    with session() as s:
        alerts.set_enabled(s, code=code, enabled=True, actor=actor)
    console.print(f"rule {code} enabled")


@rules_app.command("disable")
def rules_disable(code: str, actor: str = ActorOpt) -> None:
    with session() as s:
        alerts.set_enabled(s, code=code, enabled=False, actor=actor)
    console.print(f"rule {code} disabled")


# ----------------------------------------------------------------------------- channels, contacts


@channels_app.command("list")
def channels_list(json_out: bool = JsonOpt) -> None:
    from creditgov.alerts.channels import plugins

    with session() as s:
        rows: list[dict[str, Any]] = [{"name": c.name, "plugin": c.plugin, "enabled": c.enabled, "settings": c.settings,
                 "max_attempts": c.max_attempts} for c in s.query(ChannelConfig).order_by(ChannelConfig.name)]
    out: dict[str, Any] = {"channels": rows, "plugins": sorted(plugins())}
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"channels (plugins installed: {', '.join(out['plugins'])})")
    for c in ("name", "plugin", "enabled", "attempts", "settings"):
        t.add_column(c)
    for r in rows:
        settings = "; ".join(f"{k}: {v}" for k, v in (r["settings"] or {}).items()) or "—"
        t.add_row(r["name"], r["plugin"], _yes(r["enabled"]), str(r["max_attempts"]), escape(settings[:80]))
    console.print(t)


@channels_app.command("load")
def channels_load(path: Path, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = alert_contacts.load_channels(s, path=path, actor=actor)
    _out(out, json_out, f"loaded {out['channels']} channels")


@app.command("contacts-load")
def contacts_load(path: Path, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Replace the contact directory (grid workers, departments, banks, subjects, users)."""
    with session() as s:
        out = alert_contacts.load_contacts(s, path=path, actor=actor)
    _out(out, json_out, f"loaded {out['contacts']} contacts")


# ----------------------------------------------------------------------------- alerts


@app.command("list")
def list_(status: str = typer.Option(None, "--status", help="open / acknowledged / resolved / unresolved"),
          rule: str = typer.Option(None, "--rule", help="A warning rule's code (`alerts rules list`)."),
          subject: str = typer.Option(None, "--subject"),
          severity: str = typer.Option(None, "--severity", help="info / low / medium / high / critical"),
          limit: int = typer.Option(50, "--limit", min=1), out_file: Path | None = OutOpt,
          json_out: bool = JsonOpt) -> None:
    """Alerts, newest first; `--out FILE` writes them as the alerts page's export does.
    A filter value that does not exist is refused, naming the known ones."""
    check_out(out_file)
    known(status, (*ALERT_STATUSES, "unresolved"), "--status", "alert_status")
    known(severity, get_args(Severity), "--severity", "alert_severity")
    ring = STATE.keyring() if subject else None  # before the session: it opens the store itself
    with session() as s:
        if rule is not None:   # the rules loaded, named ones and any an alert was raised by
            rules_known = set(labels.names("warning_rule")) | set(s.scalars(select(WarningRule.code)))
            known(rule, sorted(rules_known | set(s.scalars(select(Alert.rule_code).distinct()))), "--rule",
                  "warning_rule")
        sid = subject_service.resolve(s, ring, subject).id if subject and ring else None
        rows = alert_queries.listing(s, status=status, rule=rule, subject_id=sid, severity=severity, limit=limit)
        out = [alert_queries.alert_dict(a) for a in rows]
        table = list(alert_access.export_rows(s, operator_grant("alerts.read"), rows, lang())) if out_file else []
    if out_file is not None:
        write_out(out_file, table="alerts", title="风险预警" if lang() == "zh" else "Alerts",
                  header=alert_access.EXPORT_HEADER[lang()], rows=table, json_out=json_out,
                  detail={"status": status, "rule": rule, "severity": severity, "subject": sid})
        return
    if json_out:
        emit_json(out)
        return
    t = Table(title="alerts")
    for c in ("id", "raised", "severity", "status", "rule", "subject", "×", "title"):
        t.add_column(c)
    for a in out:
        t.add_row(str(a["id"]), when(a["raised_at"]), label("alert_severity", a["severity"]), label("alert_status", a["status"]),
                  label("warning_rule", a["rule"]), str(a["subject_id"] or ""),
                  str(a["occurrences"]), escape(a["title"]))
    console.print(t)


@app.command("show")
def show(alert_id: int, json_out: bool = JsonOpt) -> None:
    """An alert with its history and notifications."""
    with session() as s:
        a = alerts.get(s, alert_id)
        out = {**alert_queries.alert_dict(a),
               "events": [{"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                           "note": e.note, "detail": e.detail} for e in alert_queries.events_of(s, alert_id)],
               "notifications": [alert_queries.notification_dict(n)
                                 for n in alert_queries.notifications_of(s, alert_id)]}
        who = {e["actor"]: actor_label(e["actor"], lang()) for e in out["events"]}
    if json_out:
        emit_json(out)
        return
    # Codes in words, times in China Standard Time; titles, notes and addresses are data.
    console.print(f"[bold]#{out['id']} {escape(out['title'])}[/bold]  {label('alert_severity', out['severity'])} · "
                  f"{label('alert_status', out['status'])} · {escape(label('warning_rule', out['rule']))} · "
                  f"×{out['occurrences']}  ({when(out['raised_at'])})")
    console.print(escape(out["body"]))
    for e in out["events"]:
        console.print(f"  {when(e['at'])}  {label('alert_event', e['action'])}  {escape(who[e['actor']])}  "
                      f"{escape(e['note'] or '')}")
    for n in out["notifications"]:
        console.print(f"  → {label('channel', n['channel'])}  {escape(n['recipient'])}  {escape(n['address'] or '')}  "
                      f"{label('notification_status', n['status'])} (attempts {n['attempts']}) "
                      f"{escape(n['last_error'] or '')}")


@app.command("ack")
def ack(alert_id: int, note: str = typer.Option(None, "--note"), actor: str = ActorOpt,
        json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = alert_queries.alert_dict(alerts.acknowledge(s, alert_id=alert_id, note=note, actor=actor))
    _out(out, json_out, f"alert {alert_id} acknowledged")


@app.command("comment")
def comment(alert_id: int, text: str, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = alert_queries.alert_dict(alerts.comment(s, alert_id=alert_id, note=text, actor=actor))
    _out(out, json_out, f"comment added to alert {alert_id}")


@app.command("resolve")
def resolve(alert_id: int, resolution: str, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = alert_queries.alert_dict(alerts.resolve(s, alert_id=alert_id, resolution=resolution, actor=actor))
    _out(out, json_out, f"alert {alert_id} resolved")


@app.command("scan")
def scan(json_out: bool = JsonOpt) -> None:
    """One pass of every rule scanner (new records, list entries, published runs, the sources' data quality)."""
    STATE.require_init()
    out = rules.evaluate(STATE.url, thorough=True).as_dict()
    _out(out, json_out, f"examined {out['examined']}, raised {out['raised']}, repeated {out['repeated']}, "
                        f"queued {out['notifications']} notifications")


@app.command("deliver")
def deliver(json_out: bool = JsonOpt) -> None:
    """Deliver every notification that is due now."""
    STATE.require_init()
    out = outbox.drain(STATE.url).as_dict()
    _out(out, json_out, f"sent {out['sent']}, retrying {out['retried']}, dead {out['dead']}")


@app.command("outbox")
def outbox_cmd(status: str = typer.Option(None, "--status", help="pending / sending / sent / dead / cancelled"),
               limit: int = typer.Option(50, "--limit", min=1), json_out: bool = JsonOpt) -> None:
    """Notifications, newest first (a status that does not exist is refused, naming the known ones)."""
    known(status, NOTIFICATION_STATUSES, "--status", "notification_status")
    with session() as s:
        out = [alert_queries.notification_dict(n) for n in outbox.outbox(s, status=status, limit=limit)]
        totals = alert_queries.counts(s)
    if json_out:
        emit_json({"counts": totals, "notifications": out})
        return
    t = Table(title=f"outbox: {_counts(totals['outbox'], 'notification_status')}")
    for c in ("id", "alert", "channel", "recipient", "address", "status", "attempts", "error"):
        t.add_column(c)
    for n in out:
        t.add_row(str(n["id"]), str(n["alert_id"] or ""), label("channel", n["channel"]), escape(n["recipient"]),
                  escape(n["address"] or ""), label("notification_status", n["status"]), str(n["attempts"]),
                  escape((n["last_error"] or "")[:60]))
    console.print(t)


@app.command("requeue")
def requeue(notification_id: int) -> None:
    """Send a dead notification again (after fixing its address or channel)."""
    with session() as s:
        outbox.requeue(s, notification_id=notification_id)
    console.print(f"notification {notification_id} queued again")


@app.command("inbox")
def inbox(principal: str = typer.Argument(..., help='e.g. "grid:330127-S01-G01", "department:market", "subject:12"'),
          unread: bool = typer.Option(False, "--unread"), json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = [{"id": m.id, "at": m.created_at.isoformat(timespec="seconds"), "topic": m.topic, "body": m.body,
                "read": m.read_at is not None} for m in alert_inbox.inbox(s, principal, unread_only=unread)]
    if json_out:
        emit_json(out)
        return
    for m in out:
        topic = (f"{'预警' if lang() == 'zh' else 'Alert'} · {label('warning_rule', m['topic'][6:])}"
                 if m["topic"].startswith("alert.") else label("message_topic", m["topic"]))
        console.print(f"#{m['id']} {when(m['at'])} [{escape(topic)}] {'' if m['read'] else '● '}{escape(m['body'])}",
                      highlight=False)


# ----------------------------------------------------------------------------- colour codes


@colours_app.command("regenerate")
def colours_regenerate(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Recompute every subject's colour from the latest published runs (with history)."""
    with session() as s:
        out = colours.regenerate(s, actor=actor)
    _out(out, json_out, f"generation {out['generation']}: {out['subjects']} subjects, {out['new']} new, "
                        f"{out['changed']} changed; {_counts(out['by_colour'], 'colour')}")


@colours_app.command("show")
def colours_show(key: str, json_out: bool = JsonOpt) -> None:
    """A subject's current code and its history."""
    ring = STATE.keyring()  # before the session: it opens the store itself
    with session() as s:
        subj = subject_service.resolve(s, ring, key)
        out = {**colours.code_dict(colours.colour_of(s, subj.id)),
               "history": [{"on": h.effective_on.isoformat(), "colour": h.colour, "previous": h.previous,
                            "grade": h.grade, "model": h.model, "run_id": h.run_id}
                           for h in colours.history(s, subj.id)]}
        name = subj.name
        model = {m: label("model", m) for m in {out["model"], *(h["model"] for h in out["history"])}}
    if json_out:
        emit_json(out)
        return
    console.print(f"{escape(name)}: [bold]{label('colour', out['colour'])}[/bold] since {out['since']} "
                  f"({escape(model[out['model']])} run {out['run_id']}, grade {out['grade'] or '—'})")
    for h in out["history"]:
        console.print(f"  {h['on']}  {label('colour', h['previous']) or '—'} → {label('colour', h['colour'])}  "
                      f"({escape(model[h['model']])} run {h['run_id']})")
