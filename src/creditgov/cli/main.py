"""The `creditgov` command: a Typer root that mounts each domain's commands."""

from __future__ import annotations

import sys

import typer

from creditgov import __version__
from creditgov.alerts.cli import app as alerts_app
from creditgov.analysis.cli import app as analyse_app
from creditgov.api.cli import app as serve_app
from creditgov.catalog.cli import app as catalog_app
from creditgov.cli.common import STATE, err_console
from creditgov.commitments.cli import app as commitment_app
from creditgov.core.cli import app as core_app
from creditgov.core.errors import CreditGovError
from creditgov.demo.cli import app as demo_app
from creditgov.ingest.cli import app as ingest_app
from creditgov.ingest.cli import quarantine_app
from creditgov.lists.cli import app as lists_app
from creditgov.measures.cli import app as measures_app
from creditgov.measures.cli import check_app
from creditgov.scoring.cli import app as scoring_app
from creditgov.scoring.cli import model_app
from creditgov.security.cli import app as audit_app
from creditgov.security.users_cli import app as users_app
from creditgov.subjects.cli import app as subject_app
from creditgov.supervision.cli import app as supervise_app
from creditgov.worker.cli import app as worker_app
from creditgov.workflows.cli import objection_app, repair_app, workdays_app
from creditgov.workflows.cli import own_view as own_view_command

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
app.registered_commands += serve_app.registered_commands
app.registered_commands += scoring_app.registered_commands
app.add_typer(ingest_app, name="ingest")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(subject_app, name="subject")
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(model_app, name="model")
app.add_typer(lists_app, name="lists")
app.add_typer(measures_app, name="measures")
app.add_typer(check_app, name="check")
app.add_typer(commitment_app, name="commitment")
app.add_typer(objection_app, name="objection")
app.add_typer(repair_app, name="repair")
app.add_typer(workdays_app, name="workdays")
app.add_typer(alerts_app, name="alerts")
app.add_typer(worker_app, name="worker")
app.add_typer(supervise_app, name="supervise")
app.add_typer(analyse_app, name="analyse")
app.command("own-view")(own_view_command)


def run() -> None:
    try:
        app()
    except CreditGovError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
