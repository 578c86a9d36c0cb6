"""The `creditgov` command: a Typer root that mounts each domain's commands."""

from __future__ import annotations

import sys

import typer

from creditgov import __version__
from creditgov.catalog.cli import app as catalog_app
from creditgov.cli.common import STATE, err_console
from creditgov.core.cli import app as core_app
from creditgov.core.errors import CreditGovError
from creditgov.demo.cli import app as demo_app
from creditgov.ingest.cli import app as ingest_app
from creditgov.ingest.cli import quarantine_app
from creditgov.security.cli import app as audit_app
from creditgov.subjects.cli import app as subject_app

app = typer.Typer(
    name="creditgov",
    help="CreditGov 基层信用智治平台 — credit files, ingestion, evaluation and their uses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    db: str = typer.Option(None, "--db", help="Database URL (default: $CREDITGOV_DB, else ./creditgov.db)."),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()
    STATE.db = db
    STATE._settings = None


app.registered_commands += core_app.registered_commands
app.registered_commands += demo_app.registered_commands
app.add_typer(ingest_app, name="ingest")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(subject_app, name="subject")
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")


def run() -> None:
    try:
        app()
    except CreditGovError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
