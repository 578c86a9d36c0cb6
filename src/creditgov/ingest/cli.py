"""`creditgov ingest ...`, `creditgov quarantine ...` and `creditgov entry ...` (manual entry
with four eyes: enter a record or register a subject; a second person approves it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creditgov.cli.common import STATE, DefaultGroup, JsonOpt, console, emit_json, label, session
from creditgov.ingest import manual, service
from creditgov.security import service as audit
from creditgov.workflows.materials import files_dir_for

app = typer.Typer(cls=DefaultGroup, help="Ingest source files; trace a record to its raw row.",
                  no_args_is_help=True)
quarantine_app = typer.Typer(help="Rows that failed validation, with their reasons.", no_args_is_help=True)


def _summary_table(title: str, result: service.RunSummary) -> None:
    t = Table(title=title)
    for col in ("batch", "source", "file", "read", "accepted", "corrected", "rejected", "duplicates", "filtered"):
        t.add_column(col, justify="right" if col not in ("source", "file") else "left")
    for b in result.batches:
        t.add_row(*(f"{b[c]:,}" if isinstance(b[c], int) else str(b[c]) for c in
                    ("batch", "source", "file", "read", "accepted", "corrected", "rejected", "duplicates", "filtered")))
    c = result.counts
    t.add_row("", "[b]total[/b]", "", f"{c.read:,}", f"{c.accepted:,}", f"{c.corrected:,}", f"{c.rejected:,}",
              f"{c.duplicates:,}", f"{c.filtered:,}")
    console.print(t)
    if c.reasons:
        r = Table(title="why rows were quarantined")
        r.add_column("reason")
        r.add_column("rows", justify="right")
        for reason, n in c.reasons.most_common(15):
            r.add_row(reason, f"{n:,}")
        console.print(r)
    console.print(f"{c.read:,} rows in {result.seconds:.1f} s "
                  f"({c.read / max(result.seconds, 1e-9):,.0f} rows/s)")


@app.command("run")
def run(paths: list[Path] = typer.Argument(..., help="Ingestion folders or spec files."),
        json_out: bool = JsonOpt) -> None:
    """Ingest every file the specs name. Idempotent: a file ingested twice adds nothing."""
    STATE.require_init()
    ring = STATE.keyring()
    plans, _ = service.plan(paths)
    total = service.count_rows_hint(plans)
    if json_out:
        result = service.ingest_paths(STATE.url, ring, paths)
        emit_json(result.as_dict())
        return
    sizes = {f.name: f.stat().st_size for pl in plans for f in pl.files}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("ingesting", total=total)
        rows_in: dict[str, int] = {}
        done: dict[str, float] = {}

        def progress(name: str, n: int) -> None:
            # Advance by bytes, estimated from rows read so far in the file.
            rows_in[name] = rows_in.get(name, 0) + n
            bar.update(task, description=f"ingesting {name} ({rows_in[name]:,} rows)")
            frac = min(1.0, rows_in[name] / max(1, sizes.get(name, 1) // 80))
            bar.advance(task, sizes.get(name, 0) * (frac - done.get(name, 0.0)))
            done[name] = frac

        result = service.ingest_paths(STATE.url, ring, paths, progress=progress)
    _summary_table("ingestion", result)


@app.command("trace")
def trace(record_id: int = typer.Argument(..., help="Credit record id."), json_out: bool = JsonOpt) -> None:
    """Show a record's raw row, spec version and each transformation step."""
    ring = STATE.keyring()
    with session() as s:
        tr = service.trace(s, ring, record_id)
        rec = tr.record
        out = {
            "record": rec.id, "subject_id": rec.subject_id, "item": rec.item_code, "status": rec.status,
            "version": rec.version, "source": rec.source, "batch": tr.batch.id, "file": tr.batch.file_name,
            "line": rec.line_no, "spec": {"name": tr.spec_version.name, "version": tr.spec_version.version,
                                          "hash": tr.spec_version.spec_hash},
            "raw": tr.raw, "raw_hash": rec.raw_hash, "raw_hash_matches": tr.replay_matches,
            "steps": [{"step": st.step, "field": st.field, "before": st.before, "after": st.after,
                       "error": st.error} for st in tr.steps],
            "result": tr.result,
        }
    if json_out:
        emit_json(out)
        return
    console.print(f"[b]record {rec.id}[/b] {rec.item_code} v{rec.version} ({rec.status}) — "
                  f"source {rec.source}, batch {tr.batch.id}, file {tr.batch.file_name} line {rec.line_no}, "
                  f"spec {tr.spec_version.name} v{tr.spec_version.version} ({tr.spec_version.spec_hash[:12]})")
    raw = Table(title="raw row", show_header=True)
    raw.add_column("column")
    raw.add_column("value")
    for k, v in tr.raw.items():
        raw.add_row(k, v)
    console.print(raw)
    t = Table(title="steps")
    for c in ("step", "field", "before", "after"):
        t.add_column(c)
    for st in tr.steps:
        t.add_row(st.step, st.field, repr(st.before), st.error or repr(st.after))
    console.print(t)
    ok = "[green]matches[/green]" if tr.replay_matches else "[red]does NOT match[/red]"
    console.print(f"raw row hash {ok} the stored hash")


@app.command("trace-row")
def trace_row(row_id: int = typer.Argument(..., help="Handled row id (e.g. a bank's repayment row)."),
              json_out: bool = JsonOpt) -> None:
    """Show a handled source's row (a bank's repayment or overdue report): its raw form,
    spec version, each step, and what its handler wrote."""
    with session() as s:
        tr = service.trace_row(s, STATE.keyring(), row_id)
        out = {"row": tr.row.id, "target": tr.row.target, "outcome": tr.row.outcome, "source": tr.row.source,
               "batch": tr.batch.id, "file": tr.batch.file_name, "line": tr.row.line_no,
               "spec": {"name": tr.spec_version.name, "version": tr.spec_version.version,
                        "hash": tr.spec_version.spec_hash},
               "raw": tr.raw, "raw_hash": tr.row.raw_hash, "raw_hash_matches": tr.replay_matches,
               "steps": [{"step": st.step, "field": st.field, "before": st.before, "after": st.after,
                          "error": st.error} for st in tr.steps], "result": tr.result}
    if json_out:
        emit_json(out)
        return
    console.print(f"[b]row {out['row']}[/b] → {out['target']} ({out['outcome']}) — source {out['source']}, "
                  f"batch {out['batch']}, file {out['file']} line {out['line']}, spec {tr.spec_version.name} "
                  f"v{tr.spec_version.version} ({tr.spec_version.spec_hash[:12]})")
    t = Table(title="steps")
    for c in ("step", "field", "before", "after"):
        t.add_column(c)
    for st in tr.steps:
        t.add_row(st.step, st.field, repr(st.before), st.error or repr(st.after))
    console.print(t)
    console.print("raw row hash " + ("matches" if tr.replay_matches else "does NOT match") + " the stored hash")


@app.command("batches")
def batches(limit: int = typer.Option(50, "--limit"), json_out: bool = JsonOpt) -> None:
    """Recent batches with their counts."""
    with session() as s:
        rows = [{"batch": b.id, "source": b.source, "file": b.file_name, "kind": b.kind,
                 "started_at": b.started_at.isoformat(timespec="seconds"), "actor": b.actor, "read": b.read,
                 "accepted": b.accepted, "corrected": b.corrected, "rejected": b.rejected,
                 "duplicates": b.duplicates, "filtered": b.filtered} for b in service.batches(s, limit)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="batches")
    for c in ("batch", "source", "file", "kind", "read", "accepted", "rejected", "duplicates"):
        t.add_column(c)
    for r in rows:
        t.add_row(*(str(r[c]) for c in ("batch", "source", "file", "kind", "read", "accepted", "rejected", "duplicates")))
    console.print(t)


@app.command("specs")
def specs(json_out: bool = JsonOpt) -> None:
    """Every spec version ever registered."""
    with session() as s:
        rows: list[dict[str, Any]] = [{"id": v.id, "name": v.name, "version": v.version, "hash": v.spec_hash,
                 "registered_at": v.registered_at.isoformat(timespec="seconds")} for v in service.spec_versions(s)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="source spec versions")
    for c in ("id", "name", "version", "hash", "registered_at"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["id"]), r["name"], r["version"], r["hash"][:12], r["registered_at"])
    console.print(t)


@app.command("register")
def register(paths: list[Path] = typer.Argument(..., help="Source spec files (.yaml)."),
             json_out: bool = JsonOpt) -> None:
    """Register source specs without ingesting a file: each department may then send its
    sources' files itself, on the page /ingest or by POST /api/v1/ingest/files. A spec
    already registered is left as it is; a changed one needs a new `version:`."""
    loaded = [(p, *service.load_spec(p)) for p in paths]  # every file checked before any is registered
    with session() as s:
        rows: list[dict[str, Any]] = []
        for p, spec, text in loaded:
            sv = service.register_spec(s, spec, text)
            rows.append({"file": str(p), "name": spec.name, "version": spec.version, "department": spec.department,
                         "id": sv.id, "hash": sv.spec_hash})
    if json_out:
        emit_json(rows)
        return
    t = Table(title="registered source specs")
    for c in ("name", "version", "department", "id", "hash"):
        t.add_column(c)
    for r in rows:
        t.add_row(escape(r["name"]), escape(r["version"]), escape(label("department", r["department"])), str(r["id"]),
                  r["hash"][:12])
    console.print(t)


@quarantine_app.command("list")
def quarantine_list(source: str = typer.Option(None, "--source"),
                    status: str = typer.Option("open", "--status", help="open, resolved or all"),
                    limit: int = typer.Option(100, "--limit"), show_raw: bool = typer.Option(False, "--raw"),
                    json_out: bool = JsonOpt) -> None:
    """Quarantined rows with the reason each was refused."""
    ring = STATE.keyring()
    with session() as s:
        rows: list[dict[str, Any]] = []
        for q in service.quarantine(s, source=source, status=status, limit=limit):
            row: dict[str, Any] = {"id": q.id, "source": q.source, "file": q.file_name, "line": q.line_no, "reason": q.reason,
                   "status": q.status, "attempts": q.attempts, "batch": q.batch_id}
            if show_raw or json_out:
                row["raw"] = service.quarantine_raw(ring, q)
            rows.append(row)
    if json_out:
        emit_json(rows)
        return
    t = Table(title=f"quarantine ({status})")
    for c in ("id", "source", "file", "line", "reason"):
        t.add_column(c)
    if show_raw:
        t.add_column("raw")
    for r in rows:
        cells = [str(r["id"]), r["source"], r["file"], str(r["line"]), r["reason"]]
        if show_raw:
            cells.append(str(r["raw"]))
        t.add_row(*cells)
    console.print(t)


@quarantine_app.command("retry")
def quarantine_retry(source: str = typer.Option(None, "--source", help="Only this source."),
                     spec: Path = typer.Option(None, "--spec", help="A fixed spec file to register and use."),
                     ids: list[int] = typer.Option(None, "--id", help="Only these quarantined rows."),
                     json_out: bool = JsonOpt) -> None:
    """Re-run open quarantined rows through the latest spec of their source."""
    STATE.require_init()
    result = service.retry(STATE.url, STATE.keyring(), source=source, spec_path=spec, ids=ids or None)
    if json_out:
        emit_json(result.as_dict())
        return
    _summary_table("quarantine retry", result)


# ----------------------------------------------------------------------------- manual entry

entry_app = typer.Typer(help="Manual entry (人工录入): a record or a subject, approved by a second person.",
                  no_args_is_help=True)
EntryActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _fields(pairs: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise typer.BadParameter(f"--field takes NAME=VALUE, not {p!r}")
        out[k.strip()] = v
    return out


def _show(out: dict[str, Any]) -> None:
    console.print(escape(f"manual entry {out['id']} ({out['kind']}, {out['department']}): {out['status']}, "
                         f"entered by {out['proposed_by']} at {out['proposed_at']}"), highlight=False)
    for k, v in out["fields"].items():
        if v:
            console.print(escape(f"  {k}: {v}"), highlight=False)
    console.print(escape(f"  reason: {out['reason']}"), highlight=False)
    for ev in out["evidence"]:
        console.print(escape(f"  evidence: {ev['file']} ({ev['size']:,} bytes, sha256 {ev['sha256'][:12]}…)"),
                      highlight=False)
    if out["record_id"]:
        console.print(f"  record {out['record_id']} (batch {out['batch_id']}): `creditgov ingest trace "
                      f"{out['record_id']}` shows its path")


@entry_app.command("propose")
def propose(kind: str = typer.Option("record", "--kind", help="record or registration"),
            department: str = typer.Option(..., "--department", help="The department whose record it is."),
            field: list[str] = typer.Option(..., "--field", help="NAME=VALUE (identifier, name, item, occurred_on, "
                                                                 "decided_on, value, text, document_no; for a "
                                                                 "registration: kind, region, industry, "
                                                                 "established_on, address); repeat."),
            reason: str = typer.Option(..., "--reason", help="Why it is entered by hand."),
            evidence: list[Path] = typer.Option([], "--evidence", exists=True, dir_okay=False,
                                                help="An evidence file; repeat."),
            actor: str = EntryActorOpt, json_out: bool = JsonOpt) -> None:
    """Enter a record or register a subject; it counts once a second person approves it."""
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        e = manual.propose(s, ring, kind=kind, department=department, fields=_fields(field), reason=reason,
                           evidence=evidence, files_dir=files_dir_for(STATE.url),
                           actor=actor or audit.default_actor())
        out = manual.entry_dict(ring, e)
    if json_out:
        emit_json(out)
        return
    _show(out)


def _decide(entry_id: int, approve: bool, note: str, actor: str | None, json_out: bool) -> None:
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        e = manual.decide(s, ring, entry_id, approve=approve, note=note, actor=actor or audit.default_actor())
        out = manual.entry_dict(ring, e)
    if json_out:
        emit_json(out)
        return
    _show(out)


@entry_app.command("approve")
def approve(entry_id: int = typer.Argument(...), note: str = typer.Option("", "--note"), actor: str = EntryActorOpt,
            json_out: bool = JsonOpt) -> None:
    """Approve an entry (not your own): it goes through ingestion now."""
    _decide(entry_id, True, note, actor, json_out)


@entry_app.command("reject")
def reject(entry_id: int = typer.Argument(...), note: str = typer.Option(..., "--note", help="Why."),
           actor: str = EntryActorOpt, json_out: bool = JsonOpt) -> None:
    """Reject an entry (not your own), with a reason."""
    _decide(entry_id, False, note, actor, json_out)


@entry_app.command("list")
def list_entries(status: str = typer.Option(None, "--status", help="proposed, approved or rejected"),
                 json_out: bool = JsonOpt) -> None:
    """Manual entries, newest first (ID numbers masked)."""
    STATE.require_init()
    ring = STATE.keyring()
    with session() as s:
        out = [manual.entry_dict(ring, e) for e in manual.entries(s, status=status)]
    if json_out:
        emit_json(out)
        return
    t = Table(title="manual entries")
    for c in ("id", "kind", "department", "identifier", "status", "by", "record"):
        t.add_column(c)
    for e in out:
        t.add_row(str(e["id"]), e["kind"], escape(e["department"]), escape(e["fields"].get("identifier", "")),
                  e["status"], escape(e["proposed_by"]), str(e["record_id"] or ""))
    console.print(t)
