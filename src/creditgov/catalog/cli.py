"""`creditgov catalog ...`: the data catalogue and data requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from creditgov.catalog import service
from creditgov.cli.common import JsonOpt, console, emit_json, session

app = typer.Typer(help="The data catalogue (信息目录) and data requests (数据申请).", no_args_is_help=True)


@app.command("list")
def list_items(json_out: bool = JsonOpt) -> None:
    """Every catalogue item with polarity, severity, class and publication periods."""
    with session() as s:
        rows: list[dict[str, Any]]  # cells of mixed types, as emit_json prints them
        rows = [{"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "polarity": i.polarity,
                 "severity": i.severity, "department": i.department_code, "data_class": i.data_class,
                 "min_publication_months": i.min_publication_months,
                 "max_publication_months": i.max_publication_months, "legal_basis": i.legal_basis,
                 "version": i.catalog_version} for i in service.items(s)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="data catalogue")
    for c in ("code", "name", "polarity", "severity", "department", "class", "publication (months)"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["code"], r["name_zh"], r["polarity"], r["severity"] or "", r["department"], r["data_class"],
                  f"{r['min_publication_months']}–{r['max_publication_months'] if r['max_publication_months'] is not None else '∞'}")
    console.print(t)


@app.command("load")
def load(path: Path = typer.Argument(None, help="A catalogue YAML (default: the shipped one).")) -> None:
    """Load or update the catalogue."""
    with session() as s:
        out = service.load_catalog(s, path=path)
    console.print(f"catalogue {out['version']}: {out['items']} items")


@app.command("requests")
def requests(load_file: Path = typer.Option(None, "--load", help="Load data requests from this YAML first."),
             json_out: bool = JsonOpt) -> None:
    """Data requests per item and department, and whether each was approved."""
    with session() as s:
        if load_file:
            service.load_requests(s, path=load_file)
        rows: list[dict[str, Any]]  # cells of mixed types, as emit_json prints them
        rows = [{"item": r.item_code, "department": r.department_code, "status": r.status,
                 "requested_on": r.requested_on, "decided_on": r.decided_on, "note": r.note}
                for r in service.requests(s)]
    if json_out:
        emit_json({"requested": len(rows), "approved": sum(r["status"] == "approved" for r in rows),
                   "rejected": sum(r["status"] == "rejected" for r in rows), "requests": rows})
        return
    t = Table(title=f"data requests: {len(rows)} requested, "
                    f"{sum(r['status'] == 'approved' for r in rows)} approved")
    for c in ("department", "item", "status", "decided", "note"):
        t.add_column(c)
    for r in rows:
        colour = {"approved": "green", "rejected": "red"}.get(r["status"], "yellow")
        t.add_row(r["department"], r["item"], f"[{colour}]{r['status']}[/{colour}]",
                  str(r["decided_on"] or ""), r["note"] or "")
    console.print(t)


@app.command("publication")
def publication(item: str = typer.Option(None, "--item", help="Only this catalogue item."),
                json_out: bool = JsonOpt) -> None:
    """Publication per item: published at all, period, deadlines, and which rule decided each."""
    with session() as s:
        rows = [r for r in service.publication_table(s) if item is None or r["item"] == item]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="publication (公示) by item — `decided by` names the rule that won")
    for c in ("item", "name", "published", "period (months)", "deadlines (working days)", "decided by",
              "overruled"):
        t.add_column(c)
    for r in rows:
        decided: dict[str, Any] = r.get("decided_by") or {}  # type: ignore[assignment]  # JSON of the resolution
        overruled: list[dict[str, Any]] = r.get("overruled") or []  # type: ignore[assignment]  # the same
        hi = r.get("max_months")
        deadlines = (f"publish ≤{r['publish_within_working_days']}, withdraw ≤{r['withdraw_within_working_days']}"
                     if r.get("publish_within_working_days") else "—")
        t.add_row(str(r["item"]), str(r["name_zh"]), "yes" if r["published"] else "[red]no[/red]",
                  f"{r['min_months']}–{hi if hi is not None else '∞'}", deadlines,
                  ", ".join(f"{k}: {v}" for k, v in decided.items()),
                  "; ".join(f"{o['rule']} on {o['aspect']} ({o['said']})" for o in overruled))
    console.print(t)
