"""`creditgov subject ...`: the credit file and the region tree."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, label, lang, session, when
from creditgov.security import service as audit
from creditgov.subjects import changes, service

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
    # Stored text is data, not markup: escaped.
    facts = (f"[b]{escape(data['name'])}[/b]  ({label('subject_kind', data['kind'])}, "
             f"{label('subject_status', data['status'])})\n"
             f"identifier {escape(ident)}   id {data['id']}\n"
             f"grid {escape(region)}\nindustry {escape(label('industry', data['industry']) or '—')}   "
             f"established {data['established_on'] or '—'}\n"
             f"address {escape(data['address'] or '—')}" + _attributes(data["attributes"]))
    console.print(Panel(facts, title="credit file 一户一档"))
    if data["links"]:
        t = Table(title="linked people and firms")
        for c in ("role", "name", "identifier", "id"):
            t.add_column(c)
        for ln in data["links"]:
            t.add_row(label("link_role", ln["role"]), escape(ln["name"]), ln.get("uscc") or ln.get("resident_id") or "", str(ln["subject_id"]))
        console.print(t)
    t = Table(title=f"records ({len(data['records'])})")
    for c in ("id", "occurred", "item", "polarity", "value", "status", "published until", "source"):
        t.add_column(c)
    for r in data["records"]:
        colour = {"negative": "red", "positive": "green"}.get(r["polarity"], "")
        t.add_row(str(r["id"]), r["occurred_on"], f"[{colour}]{escape(r['item_name'])}[/{colour}]" if colour else escape(r["item_name"]),
                  label("polarity", r["polarity"]) + (f"/{label('severity', r['severity'])}" if r["severity"] else ""),
                  r["grade"] or (r["value_display"] or {}).get(lang()) or "", label("record_status", r["status"]), r["published_until"] or "",
                  _provenance(r["provenance"]))
    console.print(t)
    if data["readers"]:
        t = Table(title="who read this file")
        for c in ("at", "actor", "purpose"):
            t.add_column(c)
        for r in data["readers"]:
            t.add_row(when(r["at"], seconds=True), r["actor"], r["purpose"] or "")
        console.print(t)


def _attributes(attrs: dict[str, Any] | None) -> str:
    """The kind's attributes, one labelled line each (a value not given: a dash)."""
    if not attrs:
        return "\nattributes —"
    lines = [f"\n  {escape(str(k))}: {escape('—' if v is None or v == '' else str(v))}" for k, v in attrs.items()]
    return "\nattributes" + "".join(lines)


def _provenance(p: dict[str, Any]) -> str:
    """Where a record came from: its source, and the line of the source's file (or the
    batch, for a record without a line: a manual entry, an award, an inspection)."""
    where = [p["source"] or "—"]
    if p.get("line") is not None:
        where.append(f"line {p['line']}")
    if p.get("batch") is not None:
        where.append(f"batch {p['batch']}")
    return ", ".join(where)


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


# Correction and merging (主体纠错与合并), four eyes: the rules are in `subjects.changes`.
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _pairs(pairs: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise typer.BadParameter(f"{what} takes NAME=VALUE, not {p!r}")
        out[k.strip()] = v
    return out


def _change_out(c: dict[str, Any], json_out: bool) -> None:
    if json_out:
        emit_json(c)
        return
    who = f"duplicate {c['duplicate_id']} into {c['subject_id']}" if c["kind"] == "merge" else f"subject {c['subject_id']}"
    console.print(escape(f"subject change {c['id']} ({c['kind']}, {who}): {c['status']}, proposed by "
                         f"{c['proposed_by']} at {c['proposed_at']}"), highlight=False)
    for k, v in c["fields"].items():
        console.print(escape(f"  {k}: {c['before'].get(k, '')!s} → {v}" if c["before"] else f"  {k}: {v}"),
                      highlight=False)
    console.print(escape(f"  reason: {c['reason']}"), highlight=False)
    if c["kind"] == "merge" and c["status"] in ("approved", "undone"):
        moved = ", ".join(f"{t} {n}" for t, n in c["moved_by_table"].items()) or "nothing"
        console.print(escape(f"  moved: {moved}; kept with the duplicate: {c['kept']}; copied: {c['created']}"),
                      highlight=False)


@app.command("correct")
def correct(key: str = typer.Argument(..., help="The subject: id, credit code, ID number or exact name."),
            field: list[str] = typer.Option([], "--set", help="NAME=VALUE: name, identifier, region (code), "
                                                              "industry, established_on, address; repeat."),
            attribute: list[str] = typer.Option([], "--attribute", help="NAME=VALUE of a kind attribute "
                                                                        "(empty value removes it); repeat."),
            reason: str = typer.Option(..., "--reason", help="Why the data is corrected."),
            actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Propose a correction of a subject's data; it applies once a second person approves it."""
    STATE.require_init()
    ring = STATE.keyring()
    fields: dict[str, Any] = dict(_pairs(field, "--set"))
    if attribute:
        fields["attributes"] = _pairs(attribute, "--attribute")
    with session() as s:
        sid = service.resolve(s, ring, key).id
        c = changes.propose_correction(s, ring, subject_id=sid, fields=fields, reason=reason,
                                       actor=actor or audit.default_actor())
        out = changes.change_dict(ring, c)
    _change_out(out, json_out)


@app.command("merge")
def merge(survivor: str = typer.Argument(..., help="The subject that stays."),
          duplicate: str = typer.Argument(..., help="The duplicate merged into it."),
          reason: str = typer.Option(..., "--reason", help="Why they are one subject."),
          actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Propose merging a duplicate into a survivor; it happens once a second person approves it."""
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        keep, dup = service.resolve(s, ring, survivor).id, service.resolve(s, ring, duplicate).id
        c = changes.propose_merge(s, survivor_id=keep, duplicate_id=dup, reason=reason,
                                  actor=actor or audit.default_actor())
        out = changes.change_dict(ring, c)
    _change_out(out, json_out)


def _decide(change_id: int, approve: bool, note: str, actor: str | None, json_out: bool) -> None:
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        c = changes.decide(s, ring, change_id, approve=approve, note=note, actor=actor or audit.default_actor())
        out = changes.change_dict(ring, c)
    _change_out(out, json_out)


@app.command("approve")
def approve(change_id: int = typer.Argument(...), note: str = typer.Option("", "--note"), actor: str = ActorOpt,
            json_out: bool = JsonOpt) -> None:
    """Approve a proposed correction or merge (not your own): it is applied now."""
    _decide(change_id, True, note, actor, json_out)


@app.command("reject")
def reject(change_id: int = typer.Argument(...), note: str = typer.Option(..., "--note", help="Why."),
           actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Reject a proposed correction or merge (not your own), with a reason."""
    _decide(change_id, False, note, actor, json_out)


@app.command("undo")
def undo(change_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason", help="Why."),
         actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Undo an applied merge: every row it moved goes back, or nothing does (the refusal says why)."""
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        c = changes.undo_merge(s, change_id, reason=reason, actor=actor or audit.default_actor())
        out = changes.change_dict(ring, c)
    _change_out(out, json_out)


@app.command("changes")
def list_changes(status: str = typer.Option(None, "--status", help="proposed, approved, rejected or undone"),
                 json_out: bool = JsonOpt) -> None:
    """Corrections and merges, newest first (ID numbers masked)."""
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        out = [changes.change_dict(ring, c) for c in changes.changes(s, status=status)]
    if json_out:
        emit_json(out)
        return
    for c in out:
        _change_out(c, False)
