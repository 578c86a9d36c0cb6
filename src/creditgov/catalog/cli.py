"""`creditgov catalog ...`: the data catalogue and data requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from creditgov.catalog import access, service
from creditgov.catalog import requests as wf
from creditgov.cli.common import JsonOpt, console, emit_json, label, session

app = typer.Typer(help="The data catalogue (信息目录) and data requests (数据申请).", no_args_is_help=True)
request_app = typer.Typer(help="Data requests as a workflow: the credit office files, the department decides.",
                          no_args_is_help=True)
app.add_typer(request_app, name="request")


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
        t.add_row(r["code"], label("item", r["code"]), label("polarity", r["polarity"]), label("severity", r["severity"]),
                  label("department", r["department"]), label("data_class", r["data_class"]),
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
        rows = [{"id": r.id, "item": r.item_code, "department": r.department_code, "status": r.status,
                 "requested_on": r.requested_on, "decided_on": r.decided_on, "note": r.note, "form_id": r.form_id,
                 "decided_by": r.decided_by} for r in service.requests(s)]
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


def _show_form(out: dict[str, Any]) -> None:
    console.print(escape(f"request form {out['id']} to {out['department']} ({out['frequency']}, {out['status']}), "
                         f"filed by {out['filed_by']} at {out['filed_at']}"), highlight=False)
    console.print(escape(f"legal basis: {out['legal_basis']}"), highlight=False)
    console.print(escape(f"purpose: {out['purpose']}"), highlight=False)
    t = Table(title="items")
    for c in ("id", "item", "status", "decided", "by", "reason"):
        t.add_column(c)
    for r in out["items"]:
        t.add_row(str(r["id"]), escape(r["item"]), r["status"], r["decided_on"] or "", escape(r["decided_by"] or ""),
                  escape(r["reason"] or ""))
    console.print(t)
    for e in out.get("history", []):
        console.print(escape(f"{e['at']} #{e['request_id']} {e['action']}: {e['from_status'] or '-'} → "
                             f"{e['to_status']} by {e['actor']}" + (f" ({e['reason']})" if e["reason"] else "")),
                      highlight=False)


@request_app.command("file")
def request_file(department: str = typer.Option(..., "--department", help="The department asked (its code)."),
                 items: list[str] = typer.Option(..., "--item", help="A catalogue item of that department; repeat."),
                 legal_basis: str = typer.Option(..., "--legal-basis", help="The law or document that allows it."),
                 purpose: str = typer.Option(..., "--purpose", help="What the data is for."),
                 frequency: str = typer.Option("monthly", "--frequency", help=", ".join(wf.FREQUENCIES)),
                 json_out: bool = JsonOpt) -> None:
    """File a data request with a department (the credit office's side)."""
    with session() as s:
        f = wf.file_request(s, department=department, items=items, legal_basis=legal_basis, purpose=purpose,
                            frequency=frequency)
        out = access.form_dict(s, wf.form(s, f.id), with_history=True)
    if json_out:
        emit_json(out)
        return
    _show_form(out)


@request_app.command("decide")
def request_decide(request_id: int = typer.Argument(..., help="The item's request id (`catalog request show`)."),
                   approve: bool = typer.Option(False, "--approve"), reject: bool = typer.Option(False, "--reject"),
                   reason: str = typer.Option(..., "--reason", help="Why (required for either decision)."),
                   department: str = typer.Option(..., "--department",
                                                  help="The deciding department: it must supply the item."),
                   json_out: bool = JsonOpt) -> None:
    """Approve or reject one item of a data request (the department's side); the next
    ingest run reads the decision."""
    if approve == reject:
        raise typer.BadParameter("give exactly one of --approve and --reject")
    with session() as s:
        r = wf.decide(s, request_id, decision="approved" if approve else "rejected", reason=reason, unit=department)
        out = access.item_dict(r)
        out["history"] = [access.event_dict(e) for e in wf.history(s, request_ids=[r.id])]
    if json_out:
        emit_json(out)
        return
    console.print(escape(f"data request {out['id']} ({out['item']} from {out['department']}): {out['status']}"),
                  highlight=False)


@request_app.command("list")
def request_list(department: str = typer.Option(None, "--department", help="Only forms made of this department."),
                 json_out: bool = JsonOpt) -> None:
    """Request forms, newest first, with their items' decisions."""
    with session() as s:
        out = [access.form_dict(s, v) for v in wf.forms(s, department=department)]
    if json_out:
        emit_json(out)
        return
    t = Table(title="data request forms")
    for c in ("form", "department", "frequency", "status", "items", "filed"):
        t.add_column(c)
    for f in out:
        t.add_row(str(f["id"]), escape(f["department"]), f["frequency"], f["status"],
                  escape(", ".join(f"{r['item']} ({r['status']})" for r in f["items"])), f["filed_at"])
    console.print(t)


@request_app.command("show")
def request_show(form_id: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """One request form, its items and every step of their history."""
    with session() as s:
        out = access.form_dict(s, wf.form(s, form_id), with_history=True)
    if json_out:
        emit_json(out)
        return
    _show_form(out)
