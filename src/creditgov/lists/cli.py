"""`creditgov lists ...`: definitions, entries, the entry procedure, criteria, imports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import select

from creditgov.cli.common import (
    STATE,
    JsonOpt,
    OutOpt,
    check_out,
    console,
    emit_json,
    known,
    label,
    lang,
    operator_grant,
    session,
    write_out,
)
from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.lists import access, criteria, documents, exits, numbers, queries, service, upper
from creditgov.lists.labels import LIST_ORIGIN
from creditgov.lists.models import STATUSES, CreditList
from creditgov.subjects import service as subject_service

app = typer.Typer(help="Red, serious-dishonesty and key-attention lists: entry and exit (名单).",
                  no_args_is_help=True)

ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _entries_table(title: str, rows: list[dict[str, Any]]) -> None:
    t = Table(title=title)
    for c in ("id", "list", "subject", "status", "origin", "unit", "criterion", "proposed", "due", "published",
              "expires", "exited"):
        t.add_column(c)
    for e in rows:
        t.add_row(str(e["id"]), label("list", e["list"]), str(e["subject_id"]), label("list_status", e["status"]),
                  label("list_origin", e["origin"]) + (f" {e['source']}" if e["source"] and e["origin"] != "local" else ""), label("department", e["identifying_unit"]), e["criterion"] or "", e["proposed_on"] or "", e["response_due"] or "",
                  e["published_on"] or "", e["expires_on"] or "",
                  f"{e['exited_on']} ({e['exit_kind']})" if e["exited_on"] else "")
    console.print(t)


def _done(out: dict[str, Any], json_out: bool, message: str) -> None:
    if json_out:
        emit_json(out)
    else:
        console.print(message)


@app.command("defs")
def defs(json_out: bool = JsonOpt) -> None:
    """The list definitions with their entries by status."""
    with session() as s:
        counts = queries.counts_by_list(s)
        out = [{**queries.dump_definition(d), "entries": counts.get(d.code, {})} for d in queries.definitions(s)]
    if json_out:
        emit_json(out)
        return
    t = Table(title="credit lists")
    for c in ("code", "name", "kind", "unit", "months", "window", "criteria", "entries"):
        t.add_column(c)
    for d in out:
        t.add_row(d["code"], label("list", d["code"]), label("list_kind", d["kind"]), label("department", d["identifying_unit"]), str(d["publication_months"] or "—"),
                  f"{d['response_window']['days']} d", ", ".join(c["id"] for c in d["criteria"]),
                  ", ".join(f"{label('list_status', k)} {v}" for k, v in sorted(d["entries"].items())))
    console.print(t)


@app.command("show")
def show(code: str = typer.Argument(..., help="List code, e.g. serious-dishonesty."), json_out: bool = JsonOpt) -> None:
    """One list's definition: unit, basis, criteria, exit conditions, responding departments."""
    with session() as s:
        d = queries.dump_definition(queries.definition(s, code))
    if json_out:
        emit_json(d)
        return
    body = (f"[b]{d['name_zh']}[/b] ({d['name_en']}) — {d['kind']}, public code {d['public_code']}\n"
            f"identifying unit {d['identifying_unit']}; published {d['publication_months']} months; "
            f"response window {d['response_window']['days']} {d['response_window']['counting']} days\n"
            f"legal basis: {d['legal_basis'].strip()}\nresponding departments: {', '.join(d['responding_departments'])}")
    console.print(Panel(body, title=d["code"]))
    t = Table(title="entry criteria")
    for c in ("id", "kind", "rule", "unit", "basis"):
        t.add_column(c)
    for c in d["criteria"]:
        rule = (f"{c['model']}: grade in {c['grades']} × {c['consecutive_runs']} runs"
                + (f", no negatives {c['no_negative_years']} y" if c.get("no_negative_years") else "")
                if c["kind"] == "evaluation" else ", ".join(c.get("items", [])) or "decision document")
        t.add_row(c["id"], c["kind"], rule, c["identifying_unit"] or d["identifying_unit"], c["basis"])
    console.print(t)
    for e in d["exit_conditions"]:
        console.print(f"exit by {e['kind']}: {e['text']}")


@app.command("numbers")
def numbers_cmd(json_out: bool = JsonOpt) -> None:
    """The decision numbers (发文字号) in force: the deployment's file
    ($CREDITGOV_DECISION_NUMBERS) or the shipped defaults, each unit's next number."""
    with session() as s:
        out = numbers.describe(s, year=clock.today().year)
    if json_out:
        emit_json(out)
        return
    console.print(f"{out['source']} · {out['version']} · {out['citation']} · {out['format']}",
                  markup=False, highlight=False)
    t = Table()
    for c in ("unit", "prefix", "next"):
        t.add_column(c)
    for u in out["units"]:
        t.add_row(label("department", u["unit"]), u["prefix"], u["next"])
    console.print(t)


@app.command("load")
def load(path: Path = typer.Argument(None, help="A lists YAML file (default: the shipped lists)."),
         json_out: bool = JsonOpt) -> None:
    """Load or update list definitions (an administrator adds a list this way)."""
    with session() as s:
        out = service.load_lists(s, path=path)
    _done(out, json_out, f"loaded {out['lists']} list definitions (version {out['version']})"
          + (f"; in Chinese only, also on English pages: {', '.join(out['untranslated'])}"
             if out["untranslated"] else ""))


@app.command("entries")
def entries(list_code: str = typer.Option(None, "--list", help="Only this list."),
            status: str = typer.Option(None, "--status", help="Only this status."),
            subject: str = typer.Option(None, "--subject", help="Only this subject (id, credit code, ID number)."),
            origin: str = typer.Option(None, "--origin", help="local or upper."),
            limit: int = typer.Option(200, "--limit", min=1), out: Path | None = OutOpt,
            json_out: bool = JsonOpt) -> None:
    """List entries, newest first; `--out FILE` writes them as the lists page's export does."""
    check_out(out)
    known(status, STATUSES, "--status", "list_status")
    known(origin, LIST_ORIGIN, "--origin", "list_origin")
    ring = STATE.keyring() if subject else None  # before the session: it opens the store itself
    with session() as s:
        known(list_code, s.scalars(select(CreditList.code).order_by(CreditList.code)), "--list", "list")
        sid = subject_service.resolve(s, ring, subject).id if subject and ring else None
        found = queries.entries(s, list_code=list_code, status=status, subject_id=sid, origin=origin, limit=limit)
        rows = [queries.entry_dict(e) for e in found]
        table = access.rows_of(s, operator_grant("lists.read"), found, lang()) if out else []
    if out is not None:
        write_out(out, table="lists", title="信用名单" if lang() == "zh" else "Credit lists",
                  header=access.HEADER[lang()], rows=table, json_out=json_out,
                  detail={"list": list_code, "status": status, "origin": origin})
        return
    if json_out:
        emit_json(rows)
        return
    _entries_table(f"list entries ({len(rows)})", rows)


@app.command("entry")
def entry(entry_id: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """One entry with its whole history."""
    with session() as s:
        d = queries.entry_detail(s, entry_id)
    if json_out:
        emit_json(d)
        return
    _entries_table(f"entry {entry_id}", [d])
    console.print(f"basis: {d['basis']}   decision: {d['decision_no'] or '—'}")
    if d["representation"]:
        console.print(f"representation: {d['representation']}")
    t = Table(title="history")
    for c in ("on", "step", "from", "to", "actor", "unit", "note"):
        t.add_column(c)
    for h in d["history"]:
        t.add_row(h["on"], h["step"], h["from"] or "", h["to"], h["actor"], h["unit"] or "", h["note"] or "")
    console.print(t)


@app.command("propose")
def propose(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
            list_code: str = typer.Option(..., "--list", help="List code."),
            criterion: str = typer.Option("manual", "--criterion", help="Criterion id (default manual)."),
            basis: str = typer.Option(None, "--basis", help="The facts and rule (manual: required)."),
            decision_no: str = typer.Option(None, "--decision-no", help="Decision document number (manual)."),
            record: int = typer.Option(None, "--record", help="The record it rests on (record criteria)."),
            actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Propose a subject for a list (the first step of the procedure)."""
    with session() as s:
        sid = subject_service.resolve(s, STATE.keyring(), key).id
        e = service.propose(s, list_code=list_code, subject_id=sid, criterion=criterion, basis=basis,
                            decision_no=decision_no, record_id=record, actor=actor)
        out = queries.entry_dict(e)
    _done(out, json_out, f"entry {out['id']} proposed for {list_code} (identifying unit {out['identifying_unit']})")


def _one_or_all(entry_id: int | None, all_: bool) -> None:
    if (entry_id is None) == (not all_):
        raise InvalidInput("give one entry id or --all")


@app.command("notify")
def notify(entry_id: int = typer.Argument(None), all_: bool = typer.Option(False, "--all", help="Every proposed entry."),
           list_code: str = typer.Option(None, "--list", help="With --all: only this list."),
           actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Notify the subject of reasons, basis and its right of representation."""
    _one_or_all(entry_id, all_)
    with session() as s:
        if all_:
            out = service.bulk_step(s, step="notify", list_code=list_code, actor=actor)
            _done(out, json_out, f"notified {out['done']} entries")
            return
        e = service.notify(s, entry_id=entry_id, actor=actor)
        d = queries.definition(s, e.list_code)
        out = {**queries.entry_dict(e), "notice": service.notice_text(s, e, d),
               "notice_document": documents.notice(s, e, d)}
    _done(out, json_out, f"entry {entry_id} notified; representation possible until {out['response_due']}\n"
                         f"{out['notice']}")


@app.command("represent")
def represent(entry_id: int = typer.Argument(...), text: str = typer.Option(..., "--text", help="What the subject says."),
              actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record the subject's representation (陈述申辩) inside the response window."""
    with session() as s:
        out = queries.entry_dict(service.represent(s, entry_id=entry_id, text=text, actor=actor))
    _done(out, json_out, f"representation recorded on entry {entry_id}")


@app.command("approve")
def approve(entry_id: int = typer.Argument(None), all_: bool = typer.Option(False, "--all",
                                                                            help="Every notified entry of the unit."),
            unit: str = typer.Option(..., "--unit", help="The identifying unit deciding (a department code)."),
            decision_no: str = typer.Option(None, "--decision-no", help="The written decision's number."),
            publication_months: int = typer.Option(
                None, "--publication-months",
                help="The publication period the decision sets, within the list's range (serious dishonesty: 12–36)."),
            note: str = typer.Option(None, "--note"), list_code: str = typer.Option(None, "--list"),
            actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The identifying unit decides in writing to list (after the window, or after the answer)."""
    _one_or_all(entry_id, all_)
    with session() as s:
        if all_:
            out = service.bulk_step(s, step="approve", list_code=list_code, unit=unit,
                                    publication_months=publication_months, actor=actor)
            _done(out, json_out, f"approved {out['done']} entries; not yet: {out['refused'] or 'none'}")
            return
        e = service.approve(s, entry_id=entry_id, unit=unit, decision_no=decision_no, note=note,
                            publication_months=publication_months, actor=actor)
        d = queries.definition(s, e.list_code)
        out = {**queries.entry_dict(e), "decision_document": documents.decision(s, e, d, e.publication_months)}
    _done(out, json_out, f"entry {entry_id} approved by {unit}; published for {out['publication_months']} months "
                         "once published")


@app.command("reject")
def reject(entry_id: int = typer.Argument(...), unit: str = typer.Option(..., "--unit"),
           reason: str = typer.Option(..., "--reason"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The identifying unit decides not to list."""
    with session() as s:
        out = queries.entry_dict(service.reject(s, entry_id=entry_id, unit=unit, reason=reason, actor=actor))
    _done(out, json_out, f"entry {entry_id} rejected")


@app.command("withdraw")
def withdraw(entry_id: int = typer.Argument(...), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Withdraw a pending proposal whose criterion no longer holds (the reason says what
    changed); one whose criterion holds is the identifying unit's to reject."""
    with session() as s:
        out = queries.entry_dict(exits.withdraw_lapsed(s, entry_id=entry_id, actor=actor))
    _done(out, json_out, f"entry {entry_id} withdrawn: {out['exit_reason']}")


@app.command("publish")
def publish(entry_id: int = typer.Argument(None), all_: bool = typer.Option(False, "--all",
                                                                            help="Every approved entry that may be."),
            list_code: str = typer.Option(None, "--list"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Publish approved entries whose response window has passed."""
    _one_or_all(entry_id, all_)
    with session() as s:
        if all_:
            out = service.bulk_step(s, step="publish", list_code=list_code, actor=actor)
            _done(out, json_out, f"published {out['done']} entries; not yet: {out['refused'] or 'none'}")
            return
        out = queries.entry_dict(service.publish(s, entry_id=entry_id, actor=actor))
    _done(out, json_out, f"entry {entry_id} published until {out['expires_on'] or 'further notice'}")


@app.command("exit")
def exit_(entry_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
          kind: str = typer.Option("manual", "--kind", help="manual (default), expiry or repair."),
          actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Take a published entry off its list; its history stays."""
    with session() as s:
        out = queries.entry_dict(exits.exit_entry(s, entry_id=entry_id, kind=kind, reason=reason, actor=actor))
    _done(out, json_out, f"entry {entry_id} exited ({kind}) on {out['exited_on']}")


@app.command("expire")
def expire(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Exit every entry whose publication period has ended."""
    with session() as s:
        ids = exits.expire(s, actor=actor)
    _done({"exited": ids}, json_out, f"{len(ids)} entries expired")


@app.command("run")
def run(list_code: str = typer.Option(None, "--list", help="Only this list."),
        as_of: str = typer.Option(None, "--as-of", help="Evidence as of this date (default today)."),
        notify_now: bool = typer.Option(False, "--notify", help="Notify each new proposal at once."),
        actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Apply the lists' evaluation and record criteria: new proposals, never publication."""
    day = dt.date.fromisoformat(as_of) if as_of else None
    with session() as s:
        out = criteria.run_criteria(s, list_code=list_code, as_of=day, notify_now=notify_now, actor=actor).as_dict()
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"criteria as of {out['as_of']}: {out['proposed']} proposals, {out['notified']} notified")
    t.add_column("list/criterion")
    t.add_column("proposed", justify="right")
    for k, n in sorted(out["by_criterion"].items()):
        t.add_row(k, str(n))
    for k, n in sorted(out["skipped"].items()):
        t.add_row(f"[dim]skipped: {k}[/dim]", f"[dim]{n}[/dim]")
    console.print(t)
    said = "said_en" if lang() == "en" else "said_zh"
    for x in out["withdrawn"]:
        console.print(f"withdrawn: entry {x['entry']} ({label('list', x['list'])}) — {x[said]}",
                      markup=False, highlight=False)
    for x in out["lapsed_published"]:
        console.print(f"published, criterion no longer holds: entry {x['entry']} ({label('list', x['list'])}) — "
                      f"{x[said]}; the identifying unit may take it off (`lists exit {x['entry']} --reason …`)",
                      markup=False, highlight=False)


@app.command("import")
def import_(file: Path = typer.Argument(..., help="The upper platform's list file."),
            spec: Path = typer.Option(..., "--spec", help="The upper list spec (YAML) mapping its columns."),
            actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Import lists from the upper platform (kept apart: origin 'upper', with source)."""
    if not file.exists():
        raise InvalidInput(f"{file}: no such file")
    with session() as s:
        out = upper.import_upper(s, STATE.keyring(), spec_path=spec, file=file, actor=actor).as_dict()
    _done(out, json_out, f"read {out['read']}, added {out['added']}, exited {out['exited']}, "
                         f"duplicates {out['duplicates']}, rejected {out['rejected']} {out['reasons'] or ''}")
