"""`creditgov init` and `creditgov status`: the store as a whole, so they live with the
command root rather than in `core` (which knows no domain)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from creditgov import bootstrap
from creditgov.cli.common import STATE, JsonOpt, console, emit_json, session
from creditgov.core import db, schema
from creditgov.ingest import service as ingest_service
from creditgov.records import service as record_service
from creditgov.security import service as audit
from creditgov.security.crypto import create_key_file
from creditgov.subjects import service as subject_service

app = typer.Typer()


@app.command()
def init(json_out: bool = JsonOpt) -> None:
    """Create the key file (if missing), upgrade the database to the newest schema and
    load the shipped data catalogue."""
    existed = STATE.settings.key_file.exists()
    ring = create_key_file(STATE.settings.key_file)
    schema.upgrade(STATE.url)
    with db.session_scope(STATE.url) as s:
        shipped = _load_shipped_rules(s)
    cat = shipped.pop("catalog")
    out = {"database": _safe_url(STATE.url), "revision": schema.current_revision(STATE.url),
           "key_file": str(STATE.settings.key_file), "key_id": ring.key_id, "key_created": not existed,
           "catalog": cat, **shipped}
    if json_out:
        emit_json(out)
        return
    console.print(f"[green]initialised[/green] {out['database']} (schema {out['revision']})")
    console.print(f"key file {out['key_file']} ({'created' if not existed else 'kept'}, id {ring.key_id})")
    console.print(f"catalogue {cat['version']}: {cat['items']} items from {cat['departments']} departments")
    for key, summary in shipped.items():
        counts = ", ".join(f"{k} {v}" for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool))
        console.print(f"{key.replace('_', ' ')}: {counts}")


def _load_shipped_rules(s: Session) -> dict[str, dict[str, Any]]:
    """The shipped catalogue, lists, measures, commitment templates, warning rules and
    supervision policies: rules as data, loaded in the composition root's order (the
    later ones name the catalogue's departments and items)."""
    return {key: load(s) for key, load in bootstrap.policies()}


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def status(json_out: bool = JsonOpt) -> None:
    """What the store holds: subjects, records, batches, quarantine, audit."""
    with session() as s:
        subj = subject_service.counts(s)
        recs = record_service.summary(s)
        q_open = ingest_service.count_open_quarantine(s)
        n_batches = ingest_service.count_batches(s)
        chain = audit.verify(s)
    out = {"database": _safe_url(STATE.url), **subj, **recs, "batches": n_batches,
           "quarantine_open": q_open, "audit_entries": chain.checked, "audit_intact": chain.ok}
    if json_out:
        emit_json(out)
        return
    t = Table(title="CreditGov store", show_header=False)
    t.add_row("database", out["database"])
    t.add_row("subjects", f"{subj['subjects']:,}  " + ", ".join(f"{k} {v:,}" for k, v in sorted(subj["by_kind"].items())))
    t.add_row("provisional", f"{subj['by_status'].get('provisional', 0):,}")
    t.add_row("credit records", f"{recs['records']:,}  " + ", ".join(f"{k} {v:,}" for k, v in sorted(recs["by_polarity"].items())))
    t.add_row("departments with records", str(len(recs["by_department"])))
    t.add_row("batches", str(n_batches))
    t.add_row("quarantined rows (open)", f"{q_open:,}")
    t.add_row("audit chain", f"{chain.checked:,} entries, {'intact' if chain.ok else 'BROKEN'}")
    console.print(t)
