"""`creditgov audit ...`: the hash-chained audit log."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from creditgov.cli.common import JsonOpt, console, emit_json, err_console, session, when
from creditgov.security import service
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
        limit: int = typer.Option(30, "--limit", min=1, help="How many of the newest entries (1 or more)."),
        json_out: bool = JsonOpt) -> None:
    """The newest audit entries; the table's times in China Standard Time (JSON keeps
    the stored UTC)."""
    with session() as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if subject is not None:
            q = q.where(AuditEntry.subject_id == subject)
        rows: list[dict[str, Any]]  # cells of mixed types, as emit_json prints them
        found = list(s.execute(q).scalars())
        rows = [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                 "subject_id": e.subject_id, "purpose": e.purpose, "detail": e.detail, "hash": e.hash}
                for e in found]
        shown = [when(e.at, seconds=True) for e in found]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="audit chain (newest first)")
    for c in ("id", "at", "actor", "action", "subject", "purpose", "detail"):
        t.add_column(c)
    for r, at in zip(rows, shown, strict=True):
        # Who, why and the detail are data, not markup.
        t.add_row(str(r["id"]), at, escape(r["actor"]), r["action"], str(r["subject_id"] or ""),
                  escape(r["purpose"] or ""), escape(r["detail"][:80]))
    console.print(t)
