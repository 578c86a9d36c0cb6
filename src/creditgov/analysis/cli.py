"""`creditgov analyse ...`: distributions, trends and grid risk, as tables, JSON and
PNG charts with Chinese labels. Thin: every command calls a service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from creditgov.analysis import charts, service
from creditgov.cli.common import JsonOpt, console, emit_json, session

app = typer.Typer(help="Regional analysis (研判分析): by street, grid, industry; trends; grid risk.",
                  no_args_is_help=True)
ByOpt = typer.Option("street", "--by", help="street / grid / industry / kind")
ChartOpt = typer.Option(None, "--chart", help="Also draw a PNG chart here.")


def _dist(what: str, by: str, model: str | None, since: str | None, chart: Path | None, json_out: bool) -> None:
    with session() as s:
        out = service.distribution(s, what=what, by=by, model=model,
                                   since=dt.date.fromisoformat(since) if since else None)
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
    if chart:
        console.print(f"chart: {out['chart']}")


@app.command("grades")
def grades(model: str = typer.Option(..., "--model"), by: str = ByOpt, chart: Path = ChartOpt,
           json_out: bool = JsonOpt) -> None:
    """Grades of a model's latest published run by street, grid, industry or kind."""
    _dist("grade", by, model, None, chart, json_out)


@app.command("colours")
def colours(by: str = ByOpt, chart: Path = ChartOpt, json_out: bool = JsonOpt) -> None:
    """Current red/yellow/green codes."""
    _dist("colour", by, None, None, chart, json_out)


@app.command("alerts")
def alerts(by: str = ByOpt, since: str = typer.Option(None, "--since"), chart: Path = ChartOpt,
           json_out: bool = JsonOpt) -> None:
    """Alerts by severity (default: the last 365 days)."""
    _dist("alerts", by, None, since, chart, json_out)


@app.command("inspections")
def inspections(by: str = ByOpt, since: str = typer.Option(None, "--since"), chart: Path = ChartOpt,
                json_out: bool = JsonOpt) -> None:
    """Inspection tasks by outcome (default: the last 365 days)."""
    _dist("inspections", by, None, since, chart, json_out)


@app.command("trend")
def trend(model: str = typer.Option(..., "--model"), by: str = typer.Option(None, "--by"),
          last: int = typer.Option(12, "--last"), chart: Path = ChartOpt, json_out: bool = JsonOpt) -> None:
    """A model's published runs over time: grade shares and mean score."""
    with session() as s:
        out: dict[str, Any] = service.trend(s, model=model, by=by, last=last)
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


@app.command("risk")
def risk(months: int = typer.Option(12, "--months"), top: int = typer.Option(20, "--top"), chart: Path = ChartOpt,
         json_out: bool = JsonOpt) -> None:
    """Risk per grid from loan, water and electricity data, red codes and open alerts."""
    with session() as s:
        out: dict[str, Any] = service.grid_risk(s, months=months, top=top)
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
