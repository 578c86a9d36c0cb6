"""The `creditgov` command: a Typer root that mounts what the composition root lists."""

from __future__ import annotations

import sys

import typer

from creditgov import __version__, bootstrap
from creditgov.cli.common import STATE, err_console
from creditgov.core.errors import CreditGovError

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
    bootstrap.wire()


def _mount(root: typer.Typer) -> None:
    for cmd in bootstrap.commands():
        obj = bootstrap.resolve(cmd.ref)
        if not isinstance(obj, typer.Typer):
            root.command(cmd.name)(obj)
        elif cmd.name is None:
            root.registered_commands += obj.registered_commands
        else:
            root.add_typer(obj, name=cmd.name)


_mount(app)


def run() -> None:
    try:
        app()
    except CreditGovError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
