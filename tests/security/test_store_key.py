"""A store knows its key. `init` records the key's fingerprint; a second `init` from
another folder makes no key; every command and the server refuse another key with one
line naming both fingerprints; the store's key works from any folder; a store from
before keys were recorded keeps working and has its key recorded. On SQLite and on
PostgreSQL (whose default key lives in the user's config folder, named by the store)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from creditgov.api.app import create_app
from creditgov.core import clock, db, schema, settings
from creditgov.core.errors import ConfigError
from creditgov.security import keys
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.security.models import AuditEntry, StoreKey

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
PERSON = "330522198501010011"  # 王建国, a resident of the mini county


@dataclass
class Folders:
    a: Path
    b: Path
    root: Path


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Folders:
    """Two working folders, and no key or database named by the environment."""
    monkeypatch.delenv("CREDITGOV_KEY_FILE", raising=False)
    monkeypatch.delenv("CREDITGOV_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this test's keys only
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return Folders(tmp_path / "a", tmp_path / "b", tmp_path)


def _in(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """The command in-process, run from `folder`; errors come back as the exception."""
    from creditgov.cli.main import app

    monkeypatch.chdir(folder)
    return CliRunner().invoke(app, list(args))


def _ok(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    res = _in(folder, monkeypatch, *args)
    assert res.exit_code == 0, (res.output, res.exception)
    return json.loads(res.output) if "--json" in args else res.output


def _run(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (exit codes and the error line as users see them)."""
    base = {k: v for k, v in os.environ.items() if k not in ("CREDITGOV_KEY_FILE", "CREDITGOV_DB")}
    return subprocess.run([sys.executable, "-m", "creditgov.cli", *args], cwd=folder, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=120)


def _key_files(*roots: Path) -> list[Path]:
    return sorted({p for r in roots if r.exists() for p in r.rglob("*.key")})


def _expected_key(url: str, root: Path) -> Path:
    if url.startswith("sqlite"):
        return root / "creditgov.db.key"
    schema_name = url.rsplit("search_path%3D", 1)[1]
    return settings.key_home() / "127.0.0.1-5432" / "test" / f"{schema_name}.key"


def _recorded(url: str) -> list[tuple[str, str]]:
    with db.session_scope(url) as s:
        return [(r.fingerprint, r.source) for r in s.execute(sa.select(StoreKey)).scalars()]


def _audit_count(url: str) -> int:
    with db.session_scope(url) as s:
        return int(s.execute(sa.select(sa.func.count(AuditEntry.id))).scalar_one())


def test_a_second_init_from_another_folder_makes_no_key_and_the_key_works_from_any_folder(
        db_url: str, folders: Folders, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _ok(folders.a, monkeypatch, "--db", db_url, "init", "--json")
    key = _expected_key(db_url, folders.root)
    assert first["key_created"] and Path(first["key_file"]) == key and first["key_check"] == "recorded"
    assert _recorded(db_url) == [(first["key_fingerprint"], f"key file {key}")]
    _ok(folders.a, monkeypatch, "--db", db_url, "ingest", str(MINI))

    second = _ok(folders.b, monkeypatch, "--db", db_url, "init", "--json")
    assert not second["key_created"] and second["key_check"] == "matches"
    assert second["key_fingerprint"] == first["key_fingerprint"] and Path(second["key_file"]) == key
    assert _key_files(folders.root, settings.key_home()) == [key]  # one key, wherever init ran
    assert _recorded(db_url) == [(first["key_fingerprint"], f"key file {key}")]

    # The symptom: a person looked up by ID number from another folder.
    found = _ok(folders.b, monkeypatch, "--db", db_url, "subject", "show", PERSON, "--json")
    assert found["name"] == "王建国" and found["resident_id"] == "330***********0011"
    status = _ok(folders.b, monkeypatch, "--db", db_url, "status", "--json")
    assert status["key_fingerprint"] == first["key_fingerprint"] and status["subjects"] > 0

    # The server from another folder finds the same key by itself.
    monkeypatch.chdir(folders.b)
    app = create_app(db_url)
    assert app.state.ctx.keyring.fingerprint == first["key_fingerprint"]


def test_a_wrong_key_is_refused_by_every_command_and_the_server_naming_both_fingerprints(
        db_url: str, folders: Folders, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _ok(folders.a, monkeypatch, "--db", db_url, "init", "--json")
    _ok(folders.a, monkeypatch, "--db", db_url, "ingest", str(MINI))
    right = first["key_fingerprint"]
    wrong_path = folders.root / "elsewhere" / "other.key"
    wrong = create_key_file(wrong_path)
    entries = _audit_count(db_url)

    def refused(text: str) -> None:
        lines = text.strip().splitlines()
        assert len(lines) == 1, text
        assert keys.short(wrong.fingerprint) in lines[0] and keys.short(right) in lines[0], text
        assert str(wrong_path) in lines[0] and "CREDITGOV_KEY_FILE" in lines[0], text

    # The command line as users run it (exit code 2, one line): by option and by
    # environment, reading personal data or not.
    for args, env in ((("--key-file", str(wrong_path), "status"), None),
                      (("subject", "show", PERSON), {"CREDITGOV_KEY_FILE": str(wrong_path)})):
        res = _run(folders.b, "--db", db_url, *args, env=env)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert res.stderr.startswith("error: ")
        refused(res.stderr)
    # More commands, in-process: `init` itself, which must not take the wrong key for
    # the store's, and one that only verifies the audit chain.
    for args in (("init",), ("audit", "verify")):
        res = _in(folders.b, monkeypatch, "--db", db_url, "--key-file", str(wrong_path), *args)
        assert isinstance(res.exception, keys.KeyMismatch), (args, res.output)
        refused(str(res.exception))

    # The server: the application factory and `creditgov serve`, before serving anything.
    with pytest.raises(keys.KeyMismatch) as err:
        create_app(db_url, wrong_path)
    refused(str(err.value))
    served = _run(folders.b, "--db", db_url, "--key-file", str(wrong_path), "serve", "--port", "0")
    assert served.returncode == 2 and "CreditGov at" not in served.stdout
    refused(served.stderr)

    # Nothing changed: the same record, no audit entry, and no key made anywhere.
    assert _recorded(db_url) == [(right, f"key file {_expected_key(db_url, folders.root)}")]
    assert _audit_count(db_url) == entries
    assert _key_files(folders.root, settings.key_home()) == sorted([_expected_key(db_url, folders.root), wrong_path])
    # The right key still works, named explicitly, from a third folder.
    ok = _ok(folders.root, monkeypatch, "--db", db_url, "--key-file", str(_expected_key(db_url, folders.root)),
             "subject", "show", PERSON, "--json")
    assert ok["name"] == "王建国"


def test_init_without_the_key_explains_where_it_was_and_makes_none(
        db_url: str, folders: Folders, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _ok(folders.a, monkeypatch, "--db", db_url, "init", "--json")
    key = _expected_key(db_url, folders.root)
    moved = folders.root / "safe" / "store.key"
    moved.parent.mkdir()
    shutil.move(key, moved)
    res = _run(folders.b, "--db", db_url, "init")
    assert res.returncode == 2
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and f"no key at key file {key}" in line
    assert keys.short(first["key_fingerprint"]) in line and "UTC+8 from key file" in line
    assert "never makes a second key" in line and "--key-file" in line
    assert not key.exists() and _key_files(folders.root, settings.key_home()) == [moved]
    # A command that needs no personal data still runs (and says where the key is not).
    status = _ok(folders.b, monkeypatch, "--db", db_url, "status", "--json")
    assert status["key_fingerprint"] == first["key_fingerprint"] and status["key_present"] is False
    # Pointed at the key, init goes on as before.
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(moved))
    again = _ok(folders.b, monkeypatch, "--db", db_url, "init", "--json")
    assert again["key_fingerprint"] == first["key_fingerprint"] and not again["key_created"]


def _legacy_store(url: str, ring: KeyRing) -> None:
    """A store initialised before keys were recorded: the schema of then (0007) and a
    person's ID number encrypted with `ring`."""
    cfg = schema.alembic_config(url)
    with db.engine_for(url).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007_segments")
        now = clock.now()
        conn.execute(sa.text(
            "INSERT INTO subjects (kind, name, resident_id, resident_id_index, resident_id_masked, attributes, "
            "status, created_at, updated_at) VALUES ('individual', '王建国', :rid, :idx, :masked, '{}', "
            "'confirmed', :now, :now)"),
            {"rid": ring.encrypt(PERSON), "idx": ring.blind_index(PERSON), "masked": "330***********0011",
             "now": now})
        conn.commit()


def test_a_store_from_before_keys_were_recorded_keeps_working(
        db_url: str, folders: Folders, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _expected_key(db_url, folders.root)
    ring = create_key_file(key)
    _legacy_store(db_url, ring)
    wrong_path = folders.root / "other.key"
    wrong = create_key_file(wrong_path)

    # Another key cannot read the store's data: refused before the upgrade, with the
    # key id the data carries (the first digits of the right key's fingerprint).
    res = _in(folders.b, monkeypatch, "--db", db_url, "--key-file", str(wrong_path), "init")
    assert isinstance(res.exception, keys.KeyMismatch)
    message = str(res.exception)
    assert keys.short(wrong.fingerprint) in message and ring.fingerprint[:8] in message
    assert schema.current_revision(db_url) == "0007_segments"

    # The right key: init upgrades and records it, from any folder.
    out = _ok(folders.b, monkeypatch, "--db", db_url, "init", "--json")
    assert out["key_check"] == "recorded" and not out["key_created"] and out["key_fingerprint"] == ring.fingerprint
    assert schema.current_revision(db_url) == schema.heads()[0]
    assert _recorded(db_url) == [(ring.fingerprint, f"key file {key}")]
    with db.session_scope(db_url) as s:
        actions = [a for (a,) in s.execute(sa.select(AuditEntry.action))]
    assert actions.count("store.key_recorded") == 1
    assert _key_files(folders.root, settings.key_home()) == sorted([key, wrong_path])
    found = _ok(folders.a, monkeypatch, "--db", db_url, "subject", "show", PERSON, "--json")
    assert found["name"] == "王建国"


def test_an_unrecorded_store_at_the_newest_schema_records_the_first_key_that_reads_it(
        db_url: str, folders: Folders, monkeypatch: pytest.MonkeyPatch) -> None:
    """Upgraded by someone else (no `init` since): the first command with a key that
    reads the data records it, once; another key is refused; the server likewise."""
    key = _expected_key(db_url, folders.root)
    ring = create_key_file(key)
    _legacy_store(db_url, ring)
    schema.upgrade(db_url)
    wrong_path = folders.root / "other.key"
    create_key_file(wrong_path)
    with pytest.raises(keys.KeyMismatch):
        create_app(db_url, wrong_path)
    assert _recorded(db_url) == []
    app = create_app(db_url)  # the default key, found from the store's URL
    assert app.state.ctx.keyring.fingerprint == ring.fingerprint
    assert _recorded(db_url) == [(ring.fingerprint, f"key file {key}")]
    create_app(db_url)
    _ok(folders.b, monkeypatch, "--db", db_url, "status")
    with db.session_scope(db_url) as s:
        assert s.execute(sa.select(sa.func.count()).where(AuditEntry.action == "store.key_recorded")).scalar() == 1
        entry = s.execute(sa.select(AuditEntry).where(AuditEntry.action == "store.key_recorded")).scalar_one()
        assert entry.actor == "system:server" and ring.fingerprint in entry.detail


# ----------------------------------------------------------------------------- where the key lives


def test_the_default_key_place_depends_on_the_store_not_the_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITGOV_KEY_FILE", raising=False)
    home = settings.key_home()
    assert home == Path(os.environ["XDG_CONFIG_HOME"]) / "creditgov" / "keys"
    pg = "postgresql://alice:secret@db.example.org:6543/credit"
    seen = set()
    for folder in (tmp_path / "x", tmp_path / "y"):
        folder.mkdir()
        monkeypatch.chdir(folder)
        seen.add(settings.resolve(pg).key_file)
        seen.add(settings.resolve("postgresql+psycopg://bob@db.example.org:6543/credit").key_file)
    assert seen == {home / "db.example.org-6543" / "credit.key"}  # user, password, driver: same store
    assert settings.resolve("postgresql://u@h/credit").key_file == home / "h-5432" / "credit.key"
    with_schema = "postgresql://u@h:5432/credit?options=-csearch_path%3Dcounty_a"
    assert settings.resolve(with_schema).key_file == home / "h-5432" / "credit" / "county_a.key"
    spaced = "postgresql://u@h:5432/credit?options=-c%20search_path%3Dcounty_b,public"
    assert settings.resolve(spaced).key_file == home / "h-5432" / "credit" / "county_b.key"
    # A name cannot climb out of the folder, and odd names stay distinct.
    odd = settings.resolve("postgresql://u@h:5432/..?options=-csearch_path%3D../x").key_file
    assert odd.is_relative_to(home) and ".." not in odd.parts
    assert settings.resolve("postgresql://u@h/a_b").key_file != settings.resolve(
        "postgresql://u@h/a?options=-csearch_path%3Db").key_file
    # SQLite: beside the file, whichever folder names it.
    monkeypatch.chdir(tmp_path / "x")
    assert settings.resolve("../store.db").key_file == tmp_path / "store.db.key"
    # Named explicitly: the option, then the environment.
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(tmp_path / "env.key"))
    assert settings.resolve(pg).key_file == tmp_path / "env.key"
    assert settings.resolve(pg, str(tmp_path / "opt.key")).key_file == tmp_path / "opt.key"


def test_a_key_source_never_replaces_a_key_and_says_where_it_is(tmp_path: Path) -> None:
    source = keys.FileKeySource(tmp_path / "k" / "store.key")
    assert not source.exists() and source.describe() == f"key file {tmp_path / 'k' / 'store.key'}"
    with pytest.raises(ConfigError, match="not found"):
        source.load()
    made = source.create()
    assert source.exists() and source.load().fingerprint == made.fingerprint
    assert made.key_id == made.fingerprint[:8]  # the prefix every ciphertext carries
    with pytest.raises(ConfigError, match="never replaced"):
        source.create()
    assert source.load().fingerprint == made.fingerprint


@dataclass
class HeldKey:
    """A key kept somewhere other than a file (as a secrets service would): the store
    check needs nothing but the interface."""

    ring: KeyRing

    def exists(self) -> bool:
        return True

    def load(self) -> KeyRing:
        return self.ring

    def create(self) -> KeyRing:
        raise ConfigError("held keys are made by their holder")

    def describe(self) -> str:
        return "held key test-1"


def test_the_store_check_works_through_any_key_source(sqlite_url: str, tmp_path: Path) -> None:
    schema.upgrade(sqlite_url)
    held = HeldKey(create_key_file(tmp_path / "k1"))
    other = HeldKey(create_key_file(tmp_path / "k2"))
    assert keys.open_ring(sqlite_url, held).fingerprint == held.ring.fingerprint
    assert _recorded(sqlite_url) == [(held.ring.fingerprint, "held key test-1")]
    with pytest.raises(keys.KeyMismatch, match=keys.short(other.ring.fingerprint)):
        keys.open_ring(sqlite_url, other)
