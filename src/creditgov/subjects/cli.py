"""`creditgov subject ...`: the credit file and the region tree."""

from __future__ import annotations

from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, label, session
from creditgov.subjects import service

app = typer.Typer(help="Subjects and their credit files (一户一档).", no_args_is_help=True)


@app.command("show")
def show(key: str = typer.Argument(..., help="Internal id, credit code, ID number or exact name."),
         purpose: str = typer.Option("query", "--purpose", help="Why the file is read (audited)."),
         history: bool = typer.Option(False, "--history", help="Include superseded record versions."),
         json_out: bool = JsonOpt) -> None:
    """The credit file: facts, grid cell, linked people, every record with provenance."""
    ring = STATE.keyring()
    with session() as s:
        cf = service.credit_file(s, ring, key, purpose=purpose, history=history)
        data = cf.as_dict()
    if json_out:
        emit_json(data)
        return
    region = " › ".join(r["name"] for r in data["region"]) or "—"
    ident = data["uscc"] or data["resident_id"] or "—"
    facts = (f"[b]{data['name']}[/b]  ({label('subject_kind', data['kind'])}, {label('subject_status', data['status'])})\n"
             f"identifier {ident}   id {data['id']}\n"
             f"grid {region}\nindustry {label('industry', data['industry']) or '—'}   established {data['established_on'] or '—'}\n"
             f"address {data['address'] or '—'}\nattributes {data['attributes']}")
    console.print(Panel(facts, title="credit file 一户一档"))
    if data["links"]:
        t = Table(title="linked people and firms")
        for c in ("role", "name", "identifier", "id"):
            t.add_column(c)
        for ln in data["links"]:
            t.add_row(label("link_role", ln["role"]), ln["name"], ln.get("uscc") or ln.get("resident_id") or "", str(ln["subject_id"]))
        console.print(t)
    t = Table(title=f"records ({len(data['records'])})")
    for c in ("id", "occurred", "item", "polarity", "value", "status", "published until", "source/line"):
        t.add_column(c)
    for r in data["records"]:
        colour = {"negative": "red", "positive": "green"}.get(r["polarity"], "")
        t.add_row(str(r["id"]), r["occurred_on"], f"[{colour}]{r['item_name']}[/{colour}]" if colour else r["item_name"],
                  label("polarity", r["polarity"]) + (f"/{label('severity', r['severity'])}" if r["severity"] else ""),
                  r["grade"] or r["value"] or "", label("record_status", r["status"]), r["published_until"] or "",
                  f"{r['provenance']['source']}:{r['provenance']['line']}")
    console.print(t)
    if data["readers"]:
        t = Table(title="who read this file")
        for c in ("at", "actor", "purpose"):
            t.add_column(c)
        for r in data["readers"]:
            t.add_row(r["at"], r["actor"], r["purpose"] or "")
        console.print(t)


@app.command("regions")
def regions(level: str = typer.Option(None, "--level", help="Only this level (e.g. street)."),
            json_out: bool = JsonOpt) -> None:
    """The region tree with subject counts per subtree."""
    with session() as s:
        rows: list[dict[str, Any]] = [{"code": r.code, "name": r.name, "level": r.level, "depth": r.depth, "subjects": n}
                for r, n in service.regions(s, level=level)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="regions")
    for c in ("code", "name", "level", "subjects"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["code"], "  " * r["depth"] + r["name"], r["level"], f"{r['subjects']:,}")
    console.print(t)


@app.command("stats")
def stats(json_out: bool = JsonOpt) -> None:
    """Subjects by kind and status."""
    with session() as s:
        data = service.counts(s)
    if json_out:
        emit_json(data)
        return
    console.print(data)
