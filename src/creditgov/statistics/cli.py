"""`creditgov statistics …`: the month's or quarter's statistics form as tables or
JSON, and as the workbook and PDF sent upward. Thin: `statistics.service` counts."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from creditgov.cli.common import JsonOpt, console, emit_json, save, session, writable
from creditgov.statistics import files, service

app = typer.Typer(help="Statistics forms (统计报表): monthly and quarterly summary tables for the upper authority.",
                  no_args_is_help=True)


@app.command("form")
def form(period: str | None = typer.Option(None, "--period",
                                           help="2026-10 (a month) or 2026Q4 (a quarter), China Standard Time; "
                                                "default: last month."),
         xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the Excel workbook here."),
         pdf: Path | None = typer.Option(None, "--pdf", help="Also write the PDF here."),
         lang: str | None = typer.Option(None, "--lang", help="zh | en (default: $CREDITGOV_LANG, else zh)."),
         json_out: bool = JsonOpt,
         engine: str | None = typer.Option(None, "--engine", help="What counts the credit records: store (its SQL), "
                                           "the record segments on duckdb or spark, or auto (default: "
                                           "CREDITGOV_ANALYSIS_ENGINE, else auto; docs/analysis.md).")) -> None:
    """The whole county's summary tables for one month or quarter."""
    lang = lang or ("en" if os.environ.get("CREDITGOV_LANG") == "en" else "zh")
    if lang not in ("zh", "en"):
        raise typer.BadParameter("--lang is zh or en")
    writable(xlsx, "--xlsx")  # before the county is counted
    writable(pdf, "--pdf")
    with session() as s:
        out = service.form(s, service.period(period) if period else service.last_month(), engine=engine)
    written = {}
    if xlsx:
        save(xlsx, files.workbook(out, lang), "--xlsx")
        written["xlsx"] = str(xlsx)
    if pdf:
        save(pdf, files.pdf(out, lang), "--pdf")
        written["pdf"] = str(pdf)
    if json_out:
        emit_json({**out, "files": written})
        return
    console.print(f"{files.word('period', lang)}: {out['period']['label'][lang]} "
                  f"({out['period']['start']} – {out['period']['last_day']}, CST)", markup=False, highlight=False)
    for t in out["tables"]:
        header, rows = files.rows_of(t, lang)
        tbl = Table(title=Text(t["title"][lang]))
        for i, h in enumerate(header):
            tbl.add_column(Text(h), justify="right" if i > 1 else "left")
        for row in rows:
            tbl.add_row(*(Text(str(v)) for v in row))  # names are data, not markup
        console.print(tbl)
    for kind, path in written.items():
        console.print(f"{kind}: {path}", markup=False, highlight=False)
