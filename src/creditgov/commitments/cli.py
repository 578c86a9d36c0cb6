"""`creditgov commitment ...`: templates, signing and verification of credit commitments."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, label, session
from creditgov.commitments import service
from creditgov.subjects import service as subject_service

app = typer.Typer(help="Credit commitments (信用承诺): sign, verify, list.", no_args_is_help=True)


@app.command("templates")
def templates(json_out: bool = JsonOpt) -> None:
    """The commitment templates: type, text, verifying department, deadline."""
    with session() as s:
        rows = [t.model_dump() for t in service.templates(s)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="commitment templates")
    for c in ("code", "type", "name", "verified by", "deadline", "legal basis"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["code"], r["type"], r["name_zh"], r["verifying_department"],
                  f"{r['deadline_days']} d" if r["deadline_days"] else "—", r["legal_basis"])
    console.print(t)


@app.command("load")
def load(path: Path = typer.Argument(None, help="A templates YAML (default: shipped)."), json_out: bool = JsonOpt) -> None:
    """Load or update the commitment templates."""
    with session() as s:
        out = service.load_templates(s, path=path)
    if json_out:
        emit_json(out)
        return
    console.print(f"loaded {out['templates']} templates (version {out['version']})")


@app.command("sign")
def sign(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
         template: str = typer.Option(..., "--template", help="Template code."),
         agree: bool = typer.Option(False, "--agree", help="The signer read the template's text and agrees to it; "
                                                          "required."),
         signed_by: str = typer.Option(None, "--signed-by", help="Who signed for the subject (e.g. the legal "
                                                                 "representative); required."),
         scenario: str = typer.Option(None, "--scenario", help="The scenario it was signed in."),
         check_id: str = typer.Option(None, "--check-id", help="The credit check it answers."),
         actor: str = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Record a commitment a subject signed at the window, like the credit office's
    window on the web: the signer agreed to the text and is named. The credit-repair
    commitment is signed with a repair instead (`creditgov repair commitment`)."""
    with session() as s:
        sid = subject_service.resolve(s, STATE.keyring(), key).id
        out = service.as_dict(service.sign_commitment(s, subject_id=sid, template_code=template, agreed=agree,
                                                      signed_by=signed_by,
                                                      at_window=True, scenario=scenario, check_id=check_id,
                                                      actor=actor))
    if json_out:
        emit_json(out)
        return
    console.print(f"commitment {out['id']} signed; due {out['due_on'] or '—'}, verified by {out['verifying_department']}")


@app.command("verify")
def verify(commitment_id: int = typer.Argument(...),
           outcome: str = typer.Option(..., "--outcome", help="fulfilled or breached."),
           department: str = typer.Option(..., "--department", help="The verifying department."),
           note: str = typer.Option(None, "--note", help="What was found (required for a breach)."),
           actor: str = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Record fulfilment (a positive record) or breach (one negative record)."""
    with session() as s:
        c, rec = service.verify(s, commitment_id=commitment_id, outcome=outcome, department=department, note=note,
                                actor=actor)
        out = {**service.as_dict(c), "record": {"id": rec.id, "item": rec.item_code,
                                                "published_until": rec.published_until}}
    if json_out:
        emit_json(out)
        return
    console.print(f"commitment {commitment_id} {outcome}; record {rec.id} ({out['record']['item']}) added")


@app.command("list")
def list_(subject: str = typer.Option(None, "--subject", help="Only this subject."),
          status: str = typer.Option(None, "--status", help="signed, fulfilled or breached."),
          overdue: bool = typer.Option(False, "--overdue", help="Signed and past the deadline."),
          department: str = typer.Option(None, "--department", help="Verified by this department."),
          limit: int = typer.Option(200, "--limit"), json_out: bool = JsonOpt) -> None:
    """Commitments, newest first."""
    with session() as s:
        if subject:
            sid = subject_service.resolve(s, STATE.keyring(), subject).id
            rows = [service.as_dict(c) for c in service.of_subject(s, sid)]
        else:
            rows = [service.as_dict(c) for c in service.listing(s, status=status, overdue=overdue,
                                                                 department=department, limit=limit)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title=f"commitments ({len(rows)})")
    for c in ("id", "subject", "template", "signed", "due", "status", "verified", "record"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["id"]), str(r["subject_id"]), label("commitment_template", r["template"]), r["signed_on"],
                  r["due_on"] or "", label("commitment_status", r["status"]),
                  r["verified_on"] or "", str(r["record_id"] or ""))
    console.print(t)


@app.command("show")
def show(commitment_id: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """One commitment with its signed text."""
    with session() as s:
        out = service.as_dict(service.get(s, commitment_id))
    if json_out:
        emit_json(out)
        return
    console.print(out)
