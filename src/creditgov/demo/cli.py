"""`creditgov generate`: write a synthetic county's source files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from creditgov.cli.common import JsonOpt, console, emit_json, writable_folder

app = typer.Typer()


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Folder to write the county into."),
    subjects: int = typer.Option(20_000, "--subjects", min=1_000, max=1_000_000, help="Number of subjects."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same files."),
    as_of: str = typer.Option("2026-11-01", "--as-of", help="The county's 'today' (YYYY-MM-DD)."),
    json_out: bool = JsonOpt,
) -> None:
    """Generate a synthetic county: regions, data requests, source specs and files
    from more than ten departments, with realistic dirt."""
    from creditgov.demo.county import generate as run

    day = dt.date.fromisoformat(as_of)
    writable_folder(out)
    if json_out:
        summary = run(out, subjects=subjects, seed=seed, as_of=day)
        emit_json(summary)
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def progress(name: str, n: int) -> None:
            bar.update(task, description=f"generating {name}", advance=n)

        summary = run(out, subjects=subjects, seed=seed, as_of=day, progress=progress)
    kinds = ", ".join(f"{k} {v:,}" for k, v in summary.get("subjects", {}).items())
    console.print(f"[green]generated[/green] {out}: {summary.get('county', '')} — {kinds}")
    console.print(f"{summary.get('total_rows', 0):,} rows in {len(summary.get('files', []))} files; "
                  f"data requests {summary.get('requests', '')}; deliberate dirt {summary.get('dirt', '')}")
