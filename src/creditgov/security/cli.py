"""`creditgov audit ...`: the hash-chained audit log."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from creditgov.cli.common import (
    JsonOpt,
    console,
    emit_json,
    err_console,
    known,
    label,
    lang,
    session,
    when,
)
from creditgov.core import labels
from creditgov.security import service
from creditgov.security.labels import actor_label
from creditgov.security.models import AuditEntry

app = typer.Typer(help="The audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(json_out: bool = JsonOpt) -> None:
    """Exit 0 when the chain is intact; non-zero naming the first broken entry."""
    with session() as s:
        r = service.verify(s)
    if json_out:
        emit_json({"ok": r.ok, "checked": r.checked, "broken_id": r.broken_id, "reason": r.reason,
                   "purged": r.purged})
    elif r.ok:
        bridged = f" ({r.purged:,} purged by retention, bridged by their checkpoints)" if r.purged else ""
        console.print(f"[green]audit chain intact[/green]: {r.checked:,} entries{bridged}")
    else:
        err_console.print(f"[red]audit chain broken at entry {r.broken_id}[/red]: {r.reason} "
                          f"({r.checked:,} entries before it verified)")
    if not r.ok:
        raise typer.Exit(1)


@app.command("log")
def log(subject: int = typer.Option(None, "--subject", help="Only entries about this subject id."),
        action: str = typer.Option(None, "--action", help="Only entries of this action (its code, e.g. "
                                   "report.download)."),
        limit: int = typer.Option(30, "--limit", min=1, help="How many of the newest entries (1 or more)."),
        json_out: bool = JsonOpt) -> None:
    """The newest audit entries: each action in words (in `CREDITGOV_LANG`) beside its
    code, who acted in words, times in China Standard Time. `--json` keeps the stored
    values (the action's code, UTC) and adds the action's words in both languages."""
    with session() as s:
        if action is not None and not labels.is_known("audit_action", action):
            # An action of an older version still matches; one nobody records is refused,
            # naming the actions this chain holds (the catalogue's are too many to list).
            known(action, s.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars(),
                  "--action", "audit_action")
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if subject is not None:
            q = q.where(AuditEntry.subject_id == subject)
        if action is not None:
            q = q.where(AuditEntry.action == action)
        rows: list[dict[str, Any]]  # cells of mixed types, as emit_json prints them
        found = list(s.execute(q).scalars())
        rows = [labels.annotate({"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor,
                                 "action": e.action, "subject_id": e.subject_id, "purpose": e.purpose,
                                 "detail": e.detail, "hash": e.hash}, action="audit_action", purpose="purpose")
                for e in found]
        shown = [(when(e.at, seconds=True), actor_label(e.actor, lang())) for e in found]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="audit chain (newest first)")
    for c in ("id", "at", "actor", "action", "code", "subject", "purpose", "detail"):
        t.add_column(c, no_wrap=c in ("at", "action", "code"))
    for r, (at, who) in zip(rows, shown, strict=True):
        # Who, why and the detail are data, not markup.
        t.add_row(str(r["id"]), at, escape(who), escape(label("audit_action", r["action"])), escape(r["action"]),
                  str(r["subject_id"] or ""), escape(label("purpose", r["purpose"])), escape(r["detail"][:80]))
    console.print(t)
