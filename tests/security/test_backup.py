"""`creditgov backup` and `creditgov restore` on SQLite and PostgreSQL, through the real
command: a backup taken while another connection keeps appending to the audit chain,
then the store, its key and its files wiped, then restored: the same audit chain head,
the same scores, the same evidence files and a key that reads the ID numbers. A backup
altered in any part, or opened with a wrong passphrase, is refused in one line."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditgov.core import db
from creditgov.scoring.models import Score
from creditgov.security import service as audit
from creditgov.security.crypto import load_key_file
from creditgov.security.models import AuditEntry
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject
from tests.api.county import build

PASSPHRASE = "长兴 backup passphrase <b>&'\""  # hostile characters too


def _run(url: str, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "creditgov.cli", "--db", url, "--key-file", str(key), *args],
                          capture_output=True, text=True, check=False, env={**os.environ})


def _state(url: str, files: Path) -> dict[str, Any]:
    with db.session_scope(url) as s:
        scores = [tuple(r) for r in s.execute(sa.select(Score.run_id, Score.subject_id, Score.score, Score.grade)
                                              .order_by(Score.run_id, Score.subject_id)).all()]
        chain = [tuple(r) for r in s.execute(sa.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id))]
        persons = [r for r in s.execute(sa.select(Subject.id, Subject.resident_id)
                                        .where(Subject.resident_id.is_not(None)).order_by(Subject.id)).all()]
    hashes = {p.relative_to(files).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in files.rglob("*") if p.is_file()}
    return {"scores": scores, "chain": chain, "persons": persons, "files": hashes}


def _wipe(url: str, key: Path, files: Path) -> None:
    key.unlink()
    shutil.rmtree(files)
    db.engine_for(url).dispose()
    if url.startswith("sqlite"):
        path = db.sqlite_file(url)
        assert path is not None
        for side in ("", "-wal", "-shm"):
            Path(str(path) + side).unlink(missing_ok=True)
    else:
        name = url.split("search_path%3D")[1]
        with sa.create_engine(url.split("?")[0]).begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))


def test_backup_wipe_restore(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = tmp_path / "files"
    monkeypatch.setenv("CREDITGOV_FILES_DIR", str(files))
    key = tmp_path / "creditgov.key"
    build(db_url, key)
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n")
    dest = tmp_path / "backups" / "b1"

    stop = threading.Event()

    def writer() -> None:  # the store serves while the backup is taken
        while not stop.is_set():
            with db.session_scope(db_url) as s:
                audit.append(s, action="test.busy", actor="test")

    # A record-segment manifest row and a logged change: on PostgreSQL they name the
    # snapshots and transactions of the server the backup is taken on.
    with db.session_scope(db_url) as s:
        s.execute(sa.text("INSERT INTO record_segments (file_name, after_id, max_id, rows, change_seq, excluded, "
                          "snapshot, created_at) VALUES ('records-x.parquet', 0, 1, 1, 0, '', '5:5:', "
                          "'2026-12-01 00:00:00')"))
        s.execute(sa.text("INSERT INTO record_changes (record_id, xid) VALUES (1, 4)"))
    t = threading.Thread(target=writer)
    t.start()
    try:
        done = _run(db_url, key, "backup", str(dest), "--passphrase-file", str(secret), "--json")
    finally:
        stop.set()
        t.join()
    assert done.returncode == 0, done.stderr
    taken = json.loads(done.stdout)
    manifest = json.loads((dest / "manifest.json").read_text())
    assert taken["audit"]["ok"] and taken["files"] >= 1
    assert not any(PASSPHRASE in p.read_text(errors="replace") for p in dest.rglob("*") if p.is_file())
    assert key.read_bytes() not in (dest / "key.sealed").read_bytes()
    assert {oct(p.stat().st_mode & 0o777) for p in dest.rglob("*") if p.is_file()} == {"0o600"}

    before = _state(db_url, files)
    head = (manifest["audit"]["head_id"], manifest["audit"]["head_hash"])
    assert head in before["chain"]  # a prefix of the chain, taken in one snapshot
    snapshot = [e for e in before["chain"] if e[0] <= head[0]]
    key_bytes = key.read_bytes()
    _wipe(db_url, key, files)

    back = _run(db_url, key, "restore", str(dest), "--passphrase-file", str(secret), "--json")
    assert back.returncode == 0, back.stderr
    out = json.loads(back.stdout)
    assert (out["audit"]["head_id"], out["audit"]["head_hash"]) == head and out["audit"]["ok"]
    after = _state(db_url, files)
    assert after["chain"][:len(snapshot)] == snapshot  # the same chain, then the restore's own entry
    assert [a for _, a in after["chain"][len(snapshot):]] == [out["restore_entry"]["hash"]]
    assert after["scores"] == before["scores"] and after["scores"]
    assert after["files"] == before["files"] and after["files"]
    assert after["persons"] == before["persons"]
    assert key.read_bytes() == key_bytes and oct(key.stat().st_mode & 0o777) == "0o600"
    ring = load_key_file(key)
    with db.session_scope(db_url) as s:
        sid, token = after["persons"][0]
        assert subject_service.resolve(s, ring, ring.decrypt(token)).id == sid
    assert _run(db_url, key, "audit", "verify").returncode == 0
    with db.session_scope(db_url) as s:
        kept = [s.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ("record_segments", "record_changes")]
    # A SQLite store is the same file, its log consistent with itself; a PostgreSQL store
    # starts its copy anew (the restored server's snapshots mean nothing here).
    if db_url.startswith("sqlite"):
        assert kept[0] == 1 and kept[1] >= 1
    else:
        assert kept == [0, 0]

    # A store with data is not overwritten unless asked.
    again = _run(db_url, key, "restore", str(dest), "--passphrase-file", str(secret))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert "--replace" in again.stderr
    if db_url.startswith("sqlite"):
        _refuses_altered(db_url, key, dest, secret, tmp_path)


def _refuses_altered(url: str, key: Path, dest: Path, secret: Path, tmp: Path) -> None:
    def altered(name: str, change: Any) -> Path:
        copy = tmp / "altered" / name
        shutil.copytree(dest, copy)
        change(copy)
        return copy

    def flip(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))

    def head(copy: Path) -> None:
        doc = json.loads((copy / "manifest.json").read_text())
        doc["audit"]["head_id"] += 1
        (copy / "manifest.json").write_text(json.dumps(doc))

    material = next(p for p in (dest / "files").rglob("*") if p.is_file()).relative_to(dest)
    cases = {
        "database": (lambda c: flip(c / "database.sqlite"), "database.sqlite does not match"),
        "material": (lambda c: flip(c / material), "does not match its hash"),
        "key": (lambda c: flip(c / "key.sealed"), "key.sealed does not match"),
        "added": (lambda c: (c / "files" / "extra").write_text("x"), "not in its manifest"),
        "removed": (lambda c: (c / material).unlink(), "is missing"),
        "manifest": (head, "does not verify"),
    }
    for name, (change, says) in cases.items():
        r = _run(url, key, "restore", str(altered(name, change)), "--passphrase-file", str(secret), "--replace")
        assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, (name, r.stderr)
    wrong = tmp / "wrong.txt"
    wrong.write_text("not the passphrase at all\n")
    r = _run(url, key, "restore", str(dest), "--passphrase-file", str(wrong), "--replace")
    assert r.returncode == 2 and "does not verify" in r.stderr
