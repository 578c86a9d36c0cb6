"""`creditgov backup` and `creditgov restore`: the whole store in one folder, taken
while the store serves, and put back only when every byte is as it was written.

A backup folder holds:
- `database.sqlite` (SQLite's online backup API: a consistent copy of a database
  that other connections keep writing) or `database.dump` (`pg_dump`, custom format,
  run inside the snapshot the audit chain was verified in, so the two agree);
- `files/`: the evidence and other materials of cases, as stored (by content);
- `key.sealed`: the store's key file sealed under the operator's passphrase
  (`sealing.py`), never the key in the clear;
- `manifest.json`: format, schema revision, the audit chain's head, the key's
  fingerprint, and the SHA-256 and size of every other file, with a MAC under a key
  from the same passphrase.

A restore checks the MAC, every hash and that no file was added, opens the key, loads
the database into an empty store (or, with `replace`, over one), copies the files,
verifies the audit chain and compares its head with the manifest's; any difference is
a one-line error. Restoring needs the store stopped; taking a backup does not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, make_url, select, text
from sqlalchemy.orm import Session

from creditgov.core import clock, db, settings
from creditgov.core import files as private
from creditgov.core.errors import ConfigError
from creditgov.security import keys
from creditgov.security import service as audit
from creditgov.security.crypto import key_file_bytes, ring_from_bytes
from creditgov.security.models import AuditEntry
from creditgov.security.sealing import Seal, from_params

FORMAT = "creditgov-backup/1"
MANIFEST, SEALED_KEY, FILES = "manifest.json", "key.sealed", "files"
SQLITE_COPY, PG_DUMP = "database.sqlite", "database.dump"
KEY_LABEL = "creditgov store key"


@dataclass(frozen=True)
class ChainState:
    ok: bool
    entries: int
    head_id: int | None
    head_hash: str | None
    broken_id: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head_id": self.head_id, "head_hash": self.head_hash}


def chain_state(session: Session) -> ChainState:
    r = audit.verify(session)
    head = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return ChainState(r.ok, r.checked, head[0] if head else None, head[1] if head else None, r.broken_id, r.reason)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _revision(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# ----------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PgTarget:
    args: list[str]  # connection options for pg_dump / pg_restore
    env: dict[str, str]
    schema: str


def _pg(url: str) -> PgTarget:
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432), "--dbname", u.database or ""]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    opts = u.query.get("options")
    schema = settings._search_path(opts if isinstance(opts, str) else (opts[0] if opts else None)) or "public"
    return PgTarget(args, env, schema)


def _tool(name: str, conn: Connection) -> str:
    """The PostgreSQL client program, refused when older than the server."""
    path = shutil.which(name)
    if path is None:
        raise ConfigError(f"{name} not found: install the PostgreSQL client of the server's major version or "
                          "newer (scripts/system-deps.sh installs Debian's postgresql-client)")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    if m is None or int(m.group(1)) < server:
        raise ConfigError(f"{name} is version {m.group(1) if m else '?'} and the server {server}: "
                          "install a client of the server's major version or newer")
    return path


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip()]
        raise ConfigError(f"{what} failed: {lines[0] if lines else f'exit status {r.returncode}'}")


# ----------------------------------------------------------------------------- backup


def _copy_files(files_dir: Path | None, dest: Path) -> int:
    if files_dir is None or not files_dir.is_dir():
        return 0
    n = 0
    for src in sorted(p for p in files_dir.rglob("*") if p.is_file() and not p.name.endswith(".tmp")):
        dst = dest / FILES / src.relative_to(files_dir)
        private.private_dir(dst.parent)
        private.copy_private(src, dst)
        n += 1
    return n


def backup(url: str, source: keys.KeySource, *, dest: Path, passphrase: str, files_dir: Path | None,
           actor: str | None = None) -> dict[str, Any]:
    """Take a backup of the store at `url` into the new folder `dest`."""
    t0 = time.monotonic()
    seal = Seal.derive(passphrase)  # a short passphrase is refused before anything is written
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"{dest} exists and is not an empty folder: a backup goes into a new folder")
    ring = keys.open_ring(url, source, actor=actor)
    private.private_dir(dest)
    with db.session_scope(url) as s:  # the backup records its own taking, inside the copy
        audit.append(s, action="store.backup", actor=actor, detail={"folder": dest.name, "key_id": ring.key_id})
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    extra: dict[str, Any] = {}
    if backend == "sqlite":
        chain, revision = _backup_sqlite(url, dest / SQLITE_COPY)
    else:
        chain, revision, extra["schema_name"] = _backup_pg(url, dest / PG_DUMP)
    if not chain.ok:
        raise ConfigError(f"the store's audit chain is broken at entry {chain.broken_id} ({chain.reason}): "
                          "no backup taken of a store that does not verify")
    n_files = _copy_files(files_dir, dest)
    (dest / SEALED_KEY).write_bytes(seal.seal(key_file_bytes(ring.live()), KEY_LABEL))
    private.restrict(dest / SEALED_KEY)
    contents = {p.relative_to(dest).as_posix(): {"sha256": _sha256(p), "size": p.stat().st_size}
                for p in sorted(dest.rglob("*")) if p.is_file() and p.name != MANIFEST}
    body = {"format": FORMAT, "created_at": clock.now().isoformat(timespec="seconds") + "Z", "backend": backend,
            "revision": revision, **extra, "audit": chain.as_dict(),
            "key": {"key_id": ring.live().key_id, "fingerprint": ring.live().fingerprint},
            "seal": seal.params(), "files": n_files, "contents": contents}
    manifest = dest / MANIFEST
    manifest.write_text(json.dumps({**body, "mac": seal.mac(body)}, indent=1, ensure_ascii=False))
    private.restrict(manifest)
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {"folder": str(dest), "backend": backend, "revision": revision, "audit": chain.as_dict(),
            "key_fingerprint": ring.live().fingerprint, "files": n_files, "bytes": size,
            "seconds": round(time.monotonic() - t0, 2)}


def _sqlite_chain(path: Path) -> tuple[ChainState, str | None]:
    eng = create_engine(f"sqlite:///{path}")
    try:
        with Session(eng) as s:
            return chain_state(s), _revision(s.connection())
    finally:
        eng.dispose()


def _backup_sqlite(url: str, out: Path) -> tuple[ChainState, str | None]:
    path = db.sqlite_file(url)
    if path is None:
        raise ConfigError("an in-memory database cannot be backed up")
    private.create_private(out)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=4096)  # in steps: writers wait only for one step at a time
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    return _sqlite_chain(out)


def _backup_pg(url: str, out: Path) -> tuple[ChainState, str | None, str]:
    target = _pg(url)
    with db.engine_for(url).connect() as conn:
        tool = _tool("pg_dump", conn)
        conn.rollback()  # the version query's transaction; the snapshot's comes next
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            chain = chain_state(Session(bind=conn))
            revision = _revision(conn)
            private.create_private(out)
            _run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--schema={target.schema}", "--file", str(out), *target.args], target.env, "pg_dump")
    return chain, revision, target.schema


# ----------------------------------------------------------------------------- restore


def open_backup(src: Path, passphrase: str) -> tuple[dict[str, Any], bytes]:
    """The manifest and the key file of a backup, after every check passes."""
    try:
        doc = json.loads((src / MANIFEST).read_text())
        mac = doc.pop("mac")
        if doc.get("format") != FORMAT:
            raise ConfigError(f"{src} is not a backup of this format ({FORMAT})")
        seal = from_params(passphrase, doc["seal"])
    except FileNotFoundError:
        raise ConfigError(f"{src} holds no {MANIFEST}: not a backup") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(f"backup {src}: its manifest is damaged") from None
    if not isinstance(mac, str) or not hmac.compare_digest(seal.mac(doc), mac):
        raise ConfigError(f"backup {src}: the manifest does not verify (a wrong passphrase, or the backup was altered)")
    listed = doc["contents"]
    present = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() and p.name != MANIFEST}
    for rel in sorted(set(listed) | present):
        if rel not in present:
            raise ConfigError(f"backup {src} is damaged: {rel} is missing")
        if rel not in listed:
            raise ConfigError(f"backup {src} was altered: {rel} is not in its manifest")
        if _sha256(src / rel) != listed[rel]["sha256"]:
            raise ConfigError(f"backup {src} is damaged: {rel} does not match its hash in the manifest")
    key = seal.open((src / SEALED_KEY).read_bytes(), KEY_LABEL)
    if ring_from_bytes(key).fingerprint != doc["key"]["fingerprint"]:
        raise ConfigError(f"backup {src}: the sealed key is not the key its manifest names")
    return doc, key


def restore(src: Path, url: str, *, key_file: Path, passphrase: str, files_dir: Path | None,
            replace: bool = False, actor: str | None = None) -> dict[str, Any]:
    """Put the backup in `src` back into the store at `url` (empty, or `replace`)."""
    t0 = time.monotonic()
    doc, key = open_backup(src, passphrase)
    ring = ring_from_bytes(key)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    if backend != doc["backend"]:
        raise ConfigError(f"backup {src} is of a {doc['backend']} store; the target is {backend}")
    if key_file.exists():
        have = ring_from_bytes(key_file.read_bytes())
        if have.fingerprint != ring.fingerprint:
            raise ConfigError(f"key file {key_file} holds another key (fingerprint {keys.short(have.fingerprint)}, "
                              f"the backup's is {keys.short(ring.fingerprint)}): move it away first")
    if backend == "sqlite":
        _restore_sqlite(src / SQLITE_COPY, url, replace)
    else:
        _restore_pg(src / PG_DUMP, url, str(doc["schema_name"]), replace)
    n_files = 0
    if files_dir is not None and (src / FILES).is_dir():
        private.private_dir(files_dir)
        for f in sorted(p for p in (src / FILES).rglob("*") if p.is_file()):
            dst = files_dir / f.relative_to(src / FILES)
            if not dst.exists():
                private.private_dir(dst.parent)
                private.copy_private(f, dst)
            n_files += 1
    if not key_file.exists():
        private.private_dir(key_file.parent)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private.PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
    with db.session_scope(url, append_only=True) as s:
        chain = chain_state(s)
    if not chain.ok:
        raise ConfigError(f"the restored store's audit chain is broken at entry {chain.broken_id}: {chain.reason}")
    if (chain.head_id, chain.head_hash) != (doc["audit"]["head_id"], doc["audit"]["head_hash"]):
        raise ConfigError(f"the restored store's audit head ({chain.head_id}) is not the backup's "
                          f"({doc['audit']['head_id']})")
    with db.session_scope(url) as s:
        entry = audit.append(s, action="store.restored", actor=actor,
                             detail={"backup_created_at": doc["created_at"], "audit_head": chain.head_hash,
                                     "key_id": ring.key_id})
    return {"folder": str(src), "backend": backend, "revision": doc["revision"], "created_at": doc["created_at"],
            "audit": chain.as_dict(), "restore_entry": {"id": entry.id, "hash": entry.hash},
            "key_fingerprint": ring.fingerprint, "files": n_files, "seconds": round(time.monotonic() - t0, 2)}


def _restore_sqlite(copy: Path, url: str, replace: bool) -> None:
    path = db.sqlite_file(url)
    if path is None:
        raise ConfigError("cannot restore into an in-memory database")
    if path.exists() and path.stat().st_size > 0 and not replace:
        raise ConfigError(f"{path} exists: restore into a new database, or pass --replace to overwrite it")
    private.private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.restore.tmp")
    tmp.unlink(missing_ok=True)
    private.create_private(tmp)
    src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()
    for side in ("-wal", "-shm"):  # the old database's log must not be replayed over the new one
        Path(str(path) + side).unlink(missing_ok=True)
    os.replace(tmp, path)


def _restore_pg(dump: Path, url: str, schema_name: str, replace: bool) -> None:
    target = _pg(url)
    if target.schema != schema_name:
        raise ConfigError(f"the backup is of schema {schema_name!r}; the target URL names {target.schema!r}")
    eng = db.engine_for(url)
    with eng.connect() as conn:
        tool = _tool("pg_restore", conn)
        tables = inspect(conn).get_table_names(schema=schema_name)
        if tables and not replace:
            raise ConfigError(f"schema {schema_name!r} holds {len(tables)} tables: restore into an empty one, "
                              "or pass --replace to overwrite it")
        q = conn.dialect.identifier_preparer.quote(schema_name)
        conn.rollback()  # the reads' transaction
        with conn.begin():
            if tables:
                conn.execute(text(f"DROP SCHEMA {q} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {q}"))
    eng.dispose()  # pooled connections cached the dropped tables' types
    # The schema is made above, so the dump's own CREATE SCHEMA is left out of its list.
    listing = subprocess.run([tool, "--list", str(dump)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise ConfigError(f"pg_restore could not read {dump.name}: {listing.stderr.strip()[:200]}")
    # The record segments' manifest names snapshots, and their change log transactions,
    # of the server the backup was taken on: meaningless here, so their rows are left
    # out and the copy starts anew (scoring/segment_logs.py).
    keep = [ln for ln in listing.stdout.splitlines() if not re.match(r"^\d+; \d+ \d+ SCHEMA ", ln)
            and not re.search(r" TABLE DATA \S+ (record_segments|record_changes) ", ln)]
    fd, name = tempfile.mkstemp(suffix=".list")
    tmp_list = Path(name)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(keep) + "\n")
    try:
        _run([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--use-list={tmp_list}", *target.args, str(dump)], target.env, "pg_restore")
    finally:
        tmp_list.unlink(missing_ok=True)

