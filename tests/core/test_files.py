"""The store's files are its owner's alone: the SQLite database, its WAL and
shared-memory files 0600 and the evidence folders 0700 with files 0600, whatever the
umask; and a database whose folder does not exist is a one-line error."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from creditgov.core import db, schema
from creditgov.core.errors import ConfigError
from creditgov.workflows.materials import store_materials

EXE = Path(sys.executable).with_name("creditgov")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask() -> Iterator[None]:
    """The usual umask, under which a new file is readable by every account."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_database_and_its_wal_are_the_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "creditgov.db"
    url = f"sqlite:///{path}"
    schema.upgrade(url)
    eng = db.engine_for(url)
    with eng.connect() as conn:  # an open connection keeps the WAL and shared-memory files
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    eng.dispose()


def test_files_found_wider_are_narrowed_never_widened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    schema.upgrade(url)
    db.engine_for(url).dispose()
    db.engine_for.cache_clear()
    wal = path.with_name(path.name + "-wal")
    wal.write_bytes(b"")
    os.chmod(path, 0o644)
    os.chmod(wal, 0o664)
    db.prepare_sqlite_file(url)  # what opening the store does first
    assert (mode(path), mode(wal)) == (0o600, 0o600)
    os.chmod(path, 0o400)  # a deployment's read-only copy stays read-only
    db.prepare_sqlite_file(url)
    assert mode(path) == 0o400


def test_a_missing_database_folder_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'creditgov.db'}"
    with pytest.raises(ConfigError, match="database folder .*no-such-folder does not exist"):
        db.prepare_sqlite_file(url)
    for args in (["status"], ["serve"], ["init"], ["audit", "verify"]):
        r = subprocess.run([str(EXE), "--db", url, *args], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")})
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1, (args, r.stderr[-600:])
        assert lines[0].startswith("error: the database folder") and "no-such-folder" in lines[0], args
    assert not (tmp_path / "no-such-folder").exists()  # nothing was made on the way


def test_an_unreachable_server_database_is_one_line(tmp_path: Path) -> None:
    r = subprocess.run([str(EXE), "--db", "postgresql://nobody@127.0.0.1:1/none", "status"], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: cannot open the database"), r.stderr


def test_evidence_files_are_the_owners_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'creditgov.db'}"
    schema.upgrade(url)
    letter = tmp_path / "身份证复印件.pdf"
    letter.write_bytes(b"%PDF-1.4 personal")
    os.chmod(letter, 0o644)
    files_dir = tmp_path / "store" / "creditgov.db.files"  # its parent does not exist yet either
    with db.session_scope(url) as s:
        [m] = store_materials(s, owner_kind="objection", owner_id=1, files=[letter], files_dir=files_dir,
                              actor="test")
        stored = files_dir / m.stored_as
    assert stored.read_bytes() == b"%PDF-1.4 personal"
    assert mode(stored) == 0o600
    assert mode(files_dir) == mode(stored.parent) == mode(files_dir.parent) == 0o700
    assert not list(stored.parent.glob("*.tmp"))
