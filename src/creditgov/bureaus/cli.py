"""`creditgov bureau …`: export a run to a credit bureau, list runs, acknowledge one,
grant and revoke a subject's consent to a bureau, and show the bureaus file and the
catalogue items marked for bureaus. Every command has `--json`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from creditgov.bureaus import policy, service
from creditgov.bureaus.file_exporter import FileExporter
from creditgov.bureaus.models import BureauRun
from creditgov.cli.common import (
    STATE,
    JsonOpt,
    console,
    emit_json,
    known,
    label,
    session,
    when,
    writable_folder,
)
from creditgov.security import service as audit
from creditgov.security import users

app = typer.Typer(help="Credit bureaus (征信机构): sharing credit information, with consent or as the law allows.",
                  no_args_is_help=True)
consent_app = typer.Typer(help="A subject's consent (授权) to share its credit information with a bureau.",
                          no_args_is_help=True)
app.add_typer(consent_app, name="consent")
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")
ToOpt = typer.Option(None, "--to", help="The folder relative export folders are in (default: "
                                        "$CREDITGOV_BUREAU_DIR, else beside a SQLite store).")


def _line(r: dict) -> str:
    return (f"{label('bureau', r['bureau'])} run {r['run']}: {r['records']} records of {r['subjects']} subjects, "
            f"{label('bureau_run_status', r['status'])}; {r['location'] or r['file']} (sha256 {r['sha256']})")


@app.command("export")
def export(bureau: str = typer.Argument(..., help="A bureau of the bureaus file, e.g. pbc-crc."),
           run: int = typer.Option(None, "--run", min=1, help="Write this run again (the same bytes)."),
           to: Path = ToOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Make and write the bureau's next run (after any left unwritten), or write one again.
    A folder that cannot be written (a file, a folder this user may not write in) is
    refused before a run is numbered or anything is audited."""
    policy.bureau(bureau)
    base = to.resolve() if to else None
    writable_folder(base, "--to")
    exp = policy.exporter(bureau, base=base or policy.export_dir(STATE.url))
    if isinstance(exp, FileExporter):  # the bureau's own folder in it (made when missing)
        writable_folder(exp.folder, "--to" if to else "the bureau's export folder")
    out = service.export(STATE.url, STATE.keyring(), bureau=bureau, actor=actor or audit.default_actor(),
                         base=base, run=run)
    if json_out:
        emit_json(out)
        return
    console.print(_line(out), markup=False, highlight=False)


@app.command("runs")
def runs(bureau: str = typer.Argument(None, help="Only this bureau."),
         limit: int = typer.Option(50, min=1, max=1000), json_out: bool = JsonOpt) -> None:
    """Runs, newest first (times in China Standard Time). A bureau neither in the bureaus
    file nor in any run is refused, naming the known ones."""
    with session() as s:
        if bureau is not None:
            known(bureau, sorted(set(policy.names()) | set(s.scalars(select(BureauRun.bureau).distinct()))),
                  "BUREAU", "bureau")
        out = [service.run_dict(r) for r in service.runs(s, bureau=bureau, limit=limit)]
    if json_out:
        emit_json(out)
        return
    t = Table(title="bureau runs")
    for c in ("bureau", "run", "status", "records", "subjects", "created", "acknowledged", "file"):
        t.add_column(c, no_wrap=c in ("created", "acknowledged"))
    for r in out:
        t.add_row(label("bureau", r["bureau"]), str(r["run"]), label("bureau_run_status", r["status"]),
                  str(r["records"]), str(r["subjects"]), when(r["created_at"]),
                  when(r["acked_at"]) if r["acked_at"] else "", r["file"])
    console.print(t)


@app.command("ack")
def ack(bureau: str = typer.Argument(...), run: int = typer.Argument(..., min=1),
        ref: str = typer.Option(None, "--ref", help="The bureau's receipt number or note."),
        actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record that the bureau confirmed it took a written run."""
    with session() as s:
        out = service.run_dict(service.acknowledge(s, bureau=bureau, seq=run, ref=ref,
                                                   actor=actor or audit.default_actor()))
    if json_out:
        emit_json(out)
        return
    console.print(_line(out), markup=False, highlight=False)


@app.command("policy")
def policy_(json_out: bool = JsonOpt) -> None:
    """The bureaus file in force (shipped, or $CREDITGOV_BUREAUS), validated."""
    out = policy.describe()
    if json_out:
        emit_json(out)
        return
    console.print(f"bureaus {out['version']} ({out['source']})", markup=False, highlight=False)
    for code, b in out["bureaus"].items():
        settings = ", ".join(f"{k}: {v}" for k, v in (b["settings"] or {}).items()) or "—"
        console.print(f"  {code}: {b['name_zh']} / {b['name_en']} — exporter {b['exporter']} ({settings})",
                      markup=False, highlight=False)


@app.command("items")
def items(json_out: bool = JsonOpt) -> None:
    """The catalogue items marked for bureaus, and whether each needs the subject's consent."""
    with session() as s:
        out = service.items_table(s)
    if json_out:
        emit_json(out)
        return
    t = Table(title="catalogue items shared with credit bureaus")
    for c in ("item", "name", "class", "term", "consent"):
        t.add_column(c)
    for r in out:
        t.add_row(r["item"], label("item", r["item"]), label("data_class", r["data_class"]),
                  label("bureau_term", r["term"]),
                  "required" if r["consent_required"] else "not required (public by law)")
    console.print(t)
    console.print("Each term's citation: `creditgov bureau items --json` or the catalogue's bureau_sharing.",
                  markup=False, highlight=False)


@consent_app.command("grant")
def consent_grant(subject: int = typer.Argument(..., help="The subject's id."),
                  bureau: str = typer.Argument(..., help="The bureau, e.g. pbc-crc."),
                  days: int = typer.Option(None, "--days", min=1, help="Ends after this many days (default: "
                                                                        "until revoked)."),
                  actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record a subject's written consent to share its credit information with a bureau."""
    with session() as s:
        out = users.consent_dict(service.grant_consent(s, subject_id=subject, bureau=bureau, days=days,
                                                       actor=actor or audit.default_actor()))
    if json_out:
        emit_json(out)
        return
    console.print(f"consent {out['id']}: subject {out['subject_id']} to {label('organisation', out['organisation'])}"
                  f" from {out['granted_on']}", markup=False, highlight=False)


@consent_app.command("revoke")
def consent_revoke(consent_id: int = typer.Argument(...), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """End a consent to a bureau from today: the next run leaves the subject out."""
    with session() as s:
        out = users.consent_dict(service.revoke_consent(s, consent_id=consent_id,
                                                        actor=actor or audit.default_actor()))
    if json_out:
        emit_json(out)
        return
    console.print(f"consent {out['id']} ({label('organisation', out['organisation'])}) revoked on "
                  f"{out['revoked_on']}", markup=False, highlight=False)


@consent_app.command("list")
def consent_list(bureau: str = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """The consents given to a bureau, newest first."""
    policy.bureau(bureau)
    with session() as s:
        out = [users.consent_dict(c) for c in users.consents(s, organisation=policy.organisation(bureau))]
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"consents to {escape(label('bureau', bureau))}")
    for c in ("id", "subject", "granted", "expires", "revoked"):
        t.add_column(c)
    for r in out:
        t.add_row(str(r["id"]), str(r["subject_id"]), r["granted_on"], r["expires_on"] or "-", r["revoked_on"] or "-")
    console.print(t)
