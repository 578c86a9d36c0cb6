"""`creditgov analyse ...`: distributions, trends and grid risk, as tables, JSON and
PNG charts with Chinese labels, or with `--out FILE` the analysis page's export
(`analysis.tables`, .xlsx or .csv by the suffix). Thin: every command calls a service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from creditgov.analysis import charts, service, tables
from creditgov.cli.common import (
    JsonOpt,
    OutOpt,
    check_out,
    console,
    emit_json,
    lang,
    session,
    writable,
    write_out,
)

app = typer.Typer(help="Regional analysis (研判分析): by street, grid, industry; trends; grid risk.",
                  no_args_is_help=True)
ByOpt = typer.Option("street", "--by", help="street / grid / industry / kind")
ChartOpt = typer.Option(None, "--chart", help="Also draw a PNG chart here.")
EngineOpt = typer.Option(None, "--engine", help="What reads the records or scores: store (its SQL), the record "
                         "segments and score copies on duckdb or spark, or auto (those once the segments hold "
                         "CREDITGOV_ANALYSIS_SEGMENT_ROWS records, default a million). "
                         "Default: CREDITGOV_ANALYSIS_ENGINE, else auto.")


def _say_read(read: dict[str, Any] | None) -> None:
    """Under a table: what read its figures, when not the store's SQL (or why not)."""
    if not read:
        return
    if read["engine"] == "store":
        if read.get("reason"):
            console.print(f"read from the store: {read['reason']}")
    elif read.get("score_runs"):
        console.print(f"scores read on {read['engine']} from the copies of {read['score_runs']} run(s)")
    else:
        console.print(f"records read on {read['engine']}: {read['segments']} segments of {read['segment_rows']:,} "
                      f"records and {read['fresh_rows']:,} newer rows from the store")


def _dist(what: str, by: str, model: str | None, since: str | None, chart: Path | None, json_out: bool,
          out_file: Path | None = None, engine: str | None = None) -> None:
    check_out(out_file)
    writable(chart, "--chart", make_folder=True)
    with session() as s:
        out = service.distribution(s, what=what, by=by, model=model,
                                   since=dt.date.fromisoformat(since) if since else None, engine=engine)
    if out_file is not None:
        header, rows = tables.distribution_table(out, lang())
        write_out(out_file, table="analysis", title=tables.pick(tables.WHAT[what], lang()), header=header, rows=rows,
                  json_out=json_out, detail={"table": "distribution", "what": what, "by": by, "model": model})
        return
    if chart:
        out["chart"] = str(charts.distribution_chart(out, chart))
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"{what} by {by}" + (f" — {out['model']} run {out['run_id']}" if out.get("model") else ""))
    t.add_column(by)
    t.add_column("name")
    for c in out["categories"]:
        t.add_column(c, justify="right")
    t.add_column("total", justify="right")
    for r in [*out["rows"], {"group": "", "name": "合计", "counts": out["totals"], "total": out["total"]}]:
        t.add_row(r["group"], r["name"], *(str(r["counts"].get(c, 0)) for c in out["categories"]), str(r["total"]))
    console.print(t)
    _say_read(out.get("read"))
    if chart:
        console.print(f"chart: {out['chart']}")


@app.command("grades")
def grades(model: str = typer.Option(..., "--model"), by: str = ByOpt, chart: Path = ChartOpt,
           out: Path | None = OutOpt, json_out: bool = JsonOpt, engine: str | None = EngineOpt) -> None:
    """Grades of a model's latest published run by street, grid, industry or kind."""
    _dist("grade", by, model, None, chart, json_out, out, engine)


@app.command("colours")
def colours(by: str = ByOpt, chart: Path = ChartOpt, out: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Current red/yellow/green codes."""
    _dist("colour", by, None, None, chart, json_out, out)


@app.command("alerts")
def alerts(by: str = ByOpt, since: str = typer.Option(None, "--since"), chart: Path = ChartOpt,
           out: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Alerts by severity (default: the last 365 days)."""
    _dist("alerts", by, None, since, chart, json_out, out)


@app.command("inspections")
def inspections(by: str = ByOpt, since: str = typer.Option(None, "--since"), chart: Path = ChartOpt,
                out: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Inspection tasks by outcome (default: the last 365 days)."""
    _dist("inspections", by, None, since, chart, json_out, out)


@app.command("trend")
def trend(model: str = typer.Option(..., "--model"), by: str = typer.Option(None, "--by"),
          last: int = typer.Option(12, "--last"), chart: Path = ChartOpt, out_file: Path | None = OutOpt,
          json_out: bool = JsonOpt, engine: str | None = EngineOpt) -> None:
    """A model's published runs over time: grade shares and mean score."""
    check_out(out_file)
    writable(chart, "--chart", make_folder=True)
    with session() as s:
        out: dict[str, Any] = service.trend(s, model=model, by=by, last=last, engine=engine)
    if out_file is not None:
        header, rows = tables.trend_table(out, lang())
        write_out(out_file, table="analysis", title="历次评价趋势" if lang() == "zh" else "Evaluation trend",
                  header=header, rows=rows, json_out=json_out, detail={"table": "trend", "model": model})
        return
    if chart:
        out["chart"] = str(charts.trend_chart(out, chart))
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"trend of {model}")
    for c in ("run", "as of", "subjects", "mean", *out["grades"]):
        t.add_column(c)
    for p in out["runs"]:
        t.add_row(str(p["run_id"]), p["as_of"], str(p["subjects"]), str(p["mean_score"]),
                  *(f"{100 * p['shares'].get(g, 0):.1f}%" for g in out["grades"]))
    console.print(t)
    _say_read(out.get("read"))


@app.command("risk")
def risk(months: int = typer.Option(12, "--months"), top: int = typer.Option(20, "--top"), chart: Path = ChartOpt,
         out_file: Path | None = OutOpt, json_out: bool = JsonOpt, engine: str | None = EngineOpt) -> None:
    """Risk per grid from loan, water and electricity data, red codes and open alerts
    (`--out FILE`: every grid, as the page's export)."""
    check_out(out_file)
    writable(chart, "--chart", make_folder=True)
    with session() as s:
        out: dict[str, Any] = service.grid_risk(s, months=months, top=None if out_file else top,
                                                engine=engine)
    if out_file is not None:
        write_out(out_file, table="analysis", title="网格风险研判" if lang() == "zh" else "Grid risk",
                  header=tables.RISK_HEADER[lang()], rows=tables.risk_rows(out, lang()), json_out=json_out,
                  detail={"table": "risk", "months": months})
        return
    if chart:
        out["chart"] = str(charts.risk_chart(out, chart, top=top))
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"grid risk (last {months} months, as of {out['on']})")
    for c in ("grid", "street", "subjects", "arrears", "late bills", "overdue loans", "red", "open alerts", "index"):
        t.add_column(c)
    for r in out["rows"]:
        t.add_row(f"{r['grid']} {r['name']}", r["street"], str(r["subjects"]), str(r["arrears_subjects"]),
                  f"{r['late_bills']}/{r['bills']}", str(r["overdue_subjects"]), str(r["red"]), str(r["open_alerts"]),
                  str(r["risk_index"]))
    console.print(t)
    _say_read(out["read"])
