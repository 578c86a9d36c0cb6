"""`creditgov retention ...`: run the retention job by hand, see what is due, and the
archived records' trace (authorised staff)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from creditgov.cli.common import JsonOpt, console, emit_json, session
from creditgov.core import clock
from creditgov.security import service as audit
from creditgov.workflows import retention

app = typer.Typer(help="Retention: adverse records archived after 5 years, query logs purged after 10.",
                  no_args_is_help=True)


@app.command("due")
def due(json_out: bool = JsonOpt) -> None:
    """Adverse records whose retention has ended (nothing is changed)."""
    with session() as s:
        rows: list[dict[str, Any]] = [{"record_id": r.id, "subject_id": r.subject_id, "item": r.item_code,
                                       "occurred_on": r.occurred_on.isoformat(), "behaviour_ended": e.isoformat()}
                                      for r, e in retention.due_for_archive(s)]
    if json_out:
        emit_json(rows)
        return
    console.print(f"{len(rows)} adverse record(s) due for archiving on {clock.today()}")


@app.command("run")
def run(json_out: bool = JsonOpt) -> None:
    """Archive what is due and purge query logs past their period (the daily job)."""
    with session() as s:
        out = retention.run(s, actor=audit.default_actor())
    if json_out:
        emit_json(out)
        return
    q = out["query_logs"]
    console.print(f"archived {len(out['archived'])} record(s); purged {q['audit']['purged']} audit entries "
                  f"and {q['credit_checks']['checks']} credit checks written before {q['before']}")


@app.command("archived")
def archived(subject: int = typer.Option(None, "--subject", help="Only this subject id."),
             json_out: bool = JsonOpt) -> None:
    """Archived records: when, by whom and why."""
    with session() as s:
        rows = retention.archived(s, subject_id=subject)
    if json_out:
        emit_json(rows)
        return
    t = Table(title="archived records (retention)")
    for c in ("record", "subject", "item", "occurred", "archived", "reason"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["record_id"]), str(r["subject_id"]), r["item"], r["occurred_on"], r["archived_at"],
                  r["reason"] or "")
    console.print(t)
