"""`creditgov init` and `creditgov status`: the store as a whole, so they live with the
command root rather than in `core` (which knows no domain)."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from creditgov import bootstrap
from creditgov.cli.common import STATE, JsonOpt, console, emit_json, label, session
from creditgov.core import db, schema
from creditgov.ingest import service as ingest_service
from creditgov.records import service as record_service
from creditgov.security import keys
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service

app = typer.Typer()


@app.command()
def init(json_out: bool = JsonOpt) -> None:
    """Upgrade the database to the newest schema, load the shipped data catalogue and
    rules, and make the store's key if the store is new. An initialised store's key is
    checked, never made again: a second key would leave the data unreadable."""
    source = STATE.key_source()
    created = False
    if schema.is_initialised(STATE.url):
        ring = STATE.keyring()  # refuses a missing or foreign key before anything changes
    else:
        created = not source.exists()
        ring = source.create() if created else source.load()
    schema.upgrade(STATE.url)
    with db.session_scope(STATE.url) as s:
        key_state = keys.check(s, ring, source)
        shipped = _load_shipped_rules(s)
    cat = shipped.pop("catalog")
    out = {"database": _safe_url(STATE.url), "revision": schema.current_revision(STATE.url),
           "key_file": str(STATE.settings.key_file), "key_source": source.describe(), "key_id": ring.key_id,
           "key_fingerprint": ring.fingerprint, "key_created": created, "key_check": key_state,
           "catalog": cat, **shipped}
    if json_out:
        emit_json(out)
        return
    console.print(f"[green]initialised[/green] {out['database']} (schema {out['revision']})")
    console.print(f"{escape(source.describe())} ({'created' if created else 'kept'}, fingerprint "
                  f"{keys.short(ring.fingerprint)}{', recorded in the store' if key_state == 'recorded' else ''})")
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
        key = keys.recorded(s)
    out = {"database": _safe_url(STATE.url), **subj, **recs, "batches": n_batches,
           "quarantine_open": q_open, "audit_entries": chain.checked, "audit_intact": chain.ok,
           "key_fingerprint": key.fingerprint if key else None, "key_source": STATE.key_source().describe(),
           "key_present": STATE.key_source().exists()}
    if json_out:
        emit_json(out)
        return
    t = Table(title="CreditGov store", show_header=False)
    t.add_row("database", out["database"])
    where = escape(out["key_source"]) + ("" if out["key_present"] else " (not there)")
    t.add_row("key", f"fingerprint {keys.short(key.fingerprint)} · {where}" if key else f"not recorded yet · {where}")
    # Kinds and polarities by their names (CREDITGOV_LANG), as the pages say them.
    t.add_row("subjects", f"{subj['subjects']:,}  " + escape(", ".join(
        f"{label('subject_kind', k)} {v:,}" for k, v in sorted(subj["by_kind"].items()))))
    t.add_row("provisional", f"{subj['by_status'].get('provisional', 0):,}")
    t.add_row("credit records", f"{recs['records']:,}  " + escape(", ".join(
        f"{label('polarity', k)} {v:,}" for k, v in sorted(recs["by_polarity"].items()))))
    t.add_row("departments with records", str(len(recs["by_department"])))
    t.add_row("batches", str(n_batches))
    t.add_row("quarantined rows (open)", f"{q_open:,}")
    t.add_row("audit chain", f"{chain.checked:,} entries, {'intact' if chain.ok else 'BROKEN'}")
    console.print(t)
