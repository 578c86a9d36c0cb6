"""`creditgov documents …`: print a list batch's notices or decisions as one PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from creditgov.cli.common import JsonOpt, console, emit_json, save, session, writable
from creditgov.core import settings
from creditgov.documents import casework, inspections, sending, service

app = typer.Typer(help="Printable documents (文书): list notices (告知书), decisions (决定书) and inspection "
                       "notices (检查通知书) as PDF.",
                  no_args_is_help=True)


@app.command("notices")
def notices(list_code: str = typer.Option(..., "--list", help="The list's code."),
            kind: str = typer.Option("notice", "--kind", help="notice (告知书) | decision (决定书)"),
            on: str | None = typer.Option(None, "--on", help="Only the entries notified (decided) on this day."),
            entry: list[int] = typer.Option([], "--entry", help="Only these entries (repeatable)."),
            out: Path = typer.Option(..., "--out", help="The PDF file to write."),
            verify_base: str | None = typer.Option(None, "--verify-base",
                                                   help="Verification address for the QR codes "
                                                        "(default: $CREDITGOV_PUBLIC_URL/verify)."),
            actor: str = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Print one batch — every document on its own pages — into one PDF."""
    base = verify_base or ((settings.public_url() or "http://localhost:8000") + "/verify")
    day = dt.date.fromisoformat(on) if on else None
    writable(out)  # before any document is numbered and the print audited
    with session() as s:
        printed = service.print_batch(s, list_code=list_code, kind=kind, verify_base=base, on=day,
                                      entry_ids=list(entry) or None, actor=actor)
        save(out, printed.pdf)  # in the session: a file not written prints nothing
    result = {"file": str(out), "documents": [{"entry": e, "serial": sr} for e, sr in printed.serials],
              "bytes": len(printed.pdf), "placeholder_seal": printed.placeholder_seal}
    if json_out:
        emit_json(result)
        return
    console.print(f"{len(printed.serials)} document(s) → {out} ({len(printed.pdf)} bytes)"
                  + ("; specimen seal (set CREDITGOV_SEAL_IMAGE)" if printed.placeholder_seal else ""),
                  markup=False, highlight=False)


@app.command("decisions")
def decisions(kind: str = typer.Option(..., "--kind", help="objection (异议处理决定书) | repair (信用修复决定书)"),
              on: str | None = typer.Option(None, "--on", help="Only the cases decided on this day."),
              case: list[int] = typer.Option([], "--id", help="Only these cases (repeatable)."),
              out: Path = typer.Option(..., "--out", help="The PDF file to write."),
              verify_base: str | None = typer.Option(None, "--verify-base"),
              actor: str = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Print the decided objections or repairs (of one day, or named) into one PDF."""
    base = verify_base or ((settings.public_url() or "http://localhost:8000") + "/verify")
    writable(out)
    with session() as s:
        printed = casework.print_cases(s, kind=kind, verify_base=base, on=dt.date.fromisoformat(on) if on else None,
                                       ids=list(case) or None, actor=actor)
        save(out, printed.pdf)
    result = {"file": str(out), "documents": [{"case": c, "serial": sr} for c, sr in printed.serials],
              "bytes": len(printed.pdf), "placeholder_seal": printed.placeholder_seal}
    if json_out:
        emit_json(result)
        return
    console.print(f"{len(printed.serials)} document(s) → {out}", markup=False, highlight=False)


@app.command("inspections")
def inspection_notices(draw: int | None = typer.Option(None, "--draw", help="Every live task of this random draw."),
                       task: list[int] = typer.Option([], "--task", help="Only these tasks (repeatable)."),
                       department: str | None = typer.Option(None, "--department",
                                                             help="Act for this department: only its own tasks."),
                       out: Path = typer.Option(..., "--out", help="The PDF file to write."),
                       verify_base: str | None = typer.Option(None, "--verify-base"),
                       actor: str = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Print inspection notices (检查通知书) — a draw's tasks, or named ones — into one PDF."""
    base = verify_base or ((settings.public_url() or "http://localhost:8000") + "/verify")
    writable(out)
    with session() as s:
        printed = inspections.print_notices(s, verify_base=base, draw_id=draw, task_ids=list(task) or None,
                                            department=department, actor=actor)
        save(out, printed.pdf)
    result = {"file": str(out), "documents": [{"task": t, "serial": sr} for t, sr in printed.serials],
              "bytes": len(printed.pdf), "placeholder_seal": printed.placeholder_seal}
    if json_out:
        emit_json(result)
        return
    console.print(f"{len(printed.serials)} document(s) → {out}", markup=False, highlight=False)


@app.command("send")
def send(kind: str = typer.Option(..., "--kind", help="notice | decision (a list's) | objection | repair | "
                                                      "inspection"),
         list_code: str | None = typer.Option(None, "--list", help="The list (notice, decision)."),
         on: str | None = typer.Option(None, "--on", help="Only the documents of this day."),
         ref: list[int] = typer.Option([], "--id", help="Only these entries, cases or tasks (repeatable)."),
         draw: int | None = typer.Option(None, "--draw", help="Inspection notices: every live task of this draw."),
         department: str | None = typer.Option(None, "--department", help="Inspection notices: act for this "
                                                                          "department (its own tasks only)."),
         channel: list[str] = typer.Option(["inbox", "email"], "--channel", help="inbox | email (repeatable)."),
         verify_base: str | None = typer.Option(None, "--verify-base"),
         actor: str = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Send documents to their addressees (送达) through the alert channels: the inbox, and
    e-mail with the PDF attached; each printed under its own serial, queued and audited."""
    base = verify_base or ((settings.public_url() or "http://localhost:8000") + "/verify")
    with session() as s:
        docs = sending.batch_docs(s, kind=kind, list_code=list_code, on=dt.date.fromisoformat(on) if on else None,
                                  ids=ref, draw_id=draw, department=department)
        result = sending.send(s, docs, kind=kind, verify_base=base, channels=channel, actor=actor).as_dict()
    if json_out:
        emit_json(result)
        return
    console.print(f"{len(result['documents'])} document(s) sent, {result['notifications']} message(s) queued",
                  markup=False, highlight=False)
    for u in result["unreached"]:
        console.print(f"  no {u['channel']} address for subject {u['subject_id']} (document {u['ref']})",
                      markup=False, highlight=False)
