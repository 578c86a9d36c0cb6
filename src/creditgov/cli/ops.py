"""`creditgov backup`, `creditgov restore` and `creditgov keys ...`: operating the store
as a whole (security/backup.py, security/rotation.py). They live with the command root
because a backup gathers what several domains keep (the database, the case materials'
folder, the key)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, label, session, when
from creditgov.core import clock
from creditgov.core.errors import ConfigError
from creditgov.security import backup as backups
from creditgov.security import keys, rotation
from creditgov.workflows.materials import files_dir_for

app = typer.Typer()
keys_app = typer.Typer(help="The store's key: its rotation.", no_args_is_help=True)

PassOpt = typer.Option(None, "--passphrase-file", help="A file whose first line is the backup passphrase "
                       "(default: $CREDITGOV_BACKUP_PASSPHRASE, else asked for).")


def _passphrase(path: Path | None, *, confirm: bool) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read the passphrase file {path}: {exc.strerror}") from None
        return lines[0] if lines else ""
    env = os.environ.get("CREDITGOV_BACKUP_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise ConfigError("no backup passphrase: pass --passphrase-file or set CREDITGOV_BACKUP_PASSPHRASE")
    return str(typer.prompt("backup passphrase", hide_input=True, confirmation_prompt=confirm))


@app.command("backup")
def backup(dest: Path = typer.Argument(..., help="A new folder for the backup."),
           passphrase_file: Path = PassOpt, json_out: bool = JsonOpt) -> None:
    """Back up the store while it serves: the database (consistent), the case
    materials, the key sealed under a passphrase, and a manifest of hashes."""
    STATE.require_init()
    out = backups.backup(STATE.url, STATE.key_source(), dest=dest.resolve(),
                         passphrase=_passphrase(passphrase_file, confirm=True), files_dir=files_dir_for(STATE.url))
    if json_out:
        emit_json(out)
        return
    a = out["audit"]
    console.print(f"[green]backed up[/green] to {escape(out['folder'])}: {out['backend']} schema {out['revision']}, "
                  f"{out['files']} files, {out['bytes']:,} bytes; audit chain {a['entries']:,} entries, "
                  f"head {a['head_id']} {a['head_hash'][:16]}")


@app.command("restore")
def restore(src: Path = typer.Argument(..., help="A folder written by `creditgov backup`."),
            passphrase_file: Path = PassOpt,
            replace: bool = typer.Option(False, "--replace", help="Overwrite a store that holds data."),
            json_out: bool = JsonOpt) -> None:
    """Restore a backup into an empty store (stopped), after checking every hash;
    verifies the audit chain and reports its head."""
    out = backups.restore(src.resolve(), STATE.url, key_file=STATE.settings.key_file,
                          passphrase=_passphrase(passphrase_file, confirm=False),
                          files_dir=files_dir_for(STATE.url), replace=replace)
    if json_out:
        emit_json(out)
        return
    a = out["audit"]
    console.print(f"[green]restored[/green] the backup of {when(out['created_at'])} (schema {out['revision']}, "
                  f"{out['files']} files); audit chain intact: {a['entries']:,} entries, head {a['head_id']} "
                  f"{a['head_hash'][:16]}")


@keys_app.command("rotate")
def rotate(batch: int = typer.Option(500, "--batch", help="Rows re-keyed per transaction."),
           pause: float = typer.Option(0.0, "--pause", help="Seconds to rest between batches."),
           json_out: bool = JsonOpt) -> None:
    """Make a new data key and re-key every encrypted value and blind index in batches
    while the store serves; run again to resume one cut short. Ends with the old key
    retired."""
    STATE.require_init()
    out = rotation.rotate(STATE.url, STATE.key_source(), batch=batch, pause=pause)
    if json_out:
        emit_json(out.as_dict())
        return
    console.print(f"[green]key rotated[/green] {out.old_key_id} -> {out.new_key_id} "
                  f"({'resumed, ' if out.resumed else ''}{out.rekeyed + out.swept:,} values re-keyed in "
                  f"{out.seconds:.1f} s); the old key is retired")


@keys_app.command("status")
def status(json_out: bool = JsonOpt) -> None:
    """The store's key and its rotations: the table's states in words and times in
    China Standard Time (`--json` keeps the stored codes and UTC, in ISO 8601)."""
    with session() as s:
        rec = keys.recorded(s)
        rows: list[dict[str, Any]] = [{**r, "started_at": clock.iso(r["started_at"]),
                                       "finished_at": clock.iso(r["finished_at"])} for r in rotation.history(s)]
    out = {"fingerprint": rec.fingerprint if rec else None, "key_id": rec.key_id if rec else None,
           "rotations": rows}
    if json_out:
        emit_json(out)
        return
    console.print(f"key {out['key_id'] or '—'} (fingerprint {keys.short(rec.fingerprint) if rec else '—'})")
    t = Table(title="rotations")
    for c in ("from", "to", "state", "re-keyed", "started", "finished"):
        t.add_column(c, no_wrap=c in ("started", "finished"))
    for r in rows:
        t.add_row(r["old_key_id"], r["new_key_id"], label("key_rotation_state", r["state"]), f"{r['rekeyed']:,}",
                  when(r["started_at"]), when(r["finished_at"]))
    console.print(t)
