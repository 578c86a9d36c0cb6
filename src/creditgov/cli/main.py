"""The `creditgov` command: a Typer root that mounts what the composition root lists."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

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
    key_file: str = typer.Option(None, "--key-file", help="The store's key file (default: $CREDITGOV_KEY_FILE, "
                                 "else <db>.key beside a SQLite file, else one per store in the user's "
                                 "config folder; docs/credit-files.md)."),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()
    STATE.reset(db, key_file)
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
        # The message is text, not markup: a path or a value with brackets stays as it is.
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
