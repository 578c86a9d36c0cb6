"""Key rotation (security/rotation.py) on SQLite and PostgreSQL: a rotation killed
with SIGKILL part-way leaves every value readable and every ID number findable, a
reader that loaded the key before the rotation keeps reading throughout, and running
the command again resumes and ends with every value under the new key and the old
key gone from the key file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa

from creditgov.core import clock, db, schema
from creditgov.core.errors import ConfigError
from creditgov.security import crypto, keys, mfa, rotation
from creditgov.security import service as audit
from creditgov.security import users as user_service
from creditgov.security.accounts import User
from creditgov.security.crypto import KeyRing, create_key_file, load_key_file
from creditgov.security.models import AuditEntry, KeyRotation, StoreKey
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

N = 240


def rid(n: int) -> str:
    body = f"33052219900101{n:03d}"
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))  # GB 11643's check character
    return body + "10X98765432"[total % 11]


def _seed(url: str, ring: KeyRing) -> str:
    """N residents with ID numbers and an administrator enrolled in TOTP."""
    schema.upgrade(url)
    keys.open_ring(url, keys.FileKeySource(ring.path or Path()), actor="test")
    with db.session_scope(url) as s:
        for n in range(N):
            subject_service.insert_subject(s, ring, kind="natural_person", name=f"居民{n}", uscc=None,
                                           resident_id=rid(n), status="active", source="test", batch_id=None,
                                           now=clock.now())
        u = user_service.create_user(s, username="root", password="correct horse battery", role="admin",
                                     actor="test")
        e, _codes = mfa.enrol_now(s, ring, u, actor="test")
        u.display_name = lookalike(ring)  # text that looks like a ciphertext of this key
    return e.secret


def lookalike(ring: KeyRing) -> str:
    return f"{ring.key_id}:<b>看起来像密文</b>'\"&" + "x" * 40


def _all_readable(url: str, ring: KeyRing, secret: str) -> None:
    with db.session_scope(url) as s:
        rows = s.execute(sa.select(Subject.id, Subject.resident_id).order_by(Subject.id)).all()
        assert len(rows) == N
        assert [ring.decrypt(r.resident_id) for r in rows] == [rid(n) for n in range(N)]
        for n in (0, N // 2, N - 1):  # found by blind index, whichever key indexed them
            assert subject_service.resolve(s, ring, rid(n)).id == rows[n].id
        u = s.execute(sa.select(User).where(User.username == "root")).scalar_one()
        assert ring.decrypt(u.totp_secret) == secret


def _command(url: str, key: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "creditgov.cli", "--db", url, "--key-file", str(key), *args]


def _rekeyed(url: str) -> int:
    with db.session_scope(url) as s:
        return int(s.execute(sa.select(sa.func.coalesce(sa.func.sum(KeyRotation.rekeyed), 0))).scalar_one())


def test_rotation_killed_midway_resumes_and_retires_the_old_key(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "store.key"
    ring = create_key_file(key)
    secret = _seed(db_url, ring)
    old_id, old_fp = ring.key_id, ring.fingerprint
    reader = load_key_file(key)  # a server's ring, loaded before the rotation

    proc = subprocess.Popen(_command(db_url, key, "keys", "rotate", "--batch", "10", "--pause", "0.25"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        while _rekeyed(db_url) < 60:  # part-way through the subjects
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            _all_readable(db_url, reader, secret)  # the server keeps reading meanwhile
            time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    midway = load_key_file(key)
    assert midway.previous is not None and midway.previous.key_id == old_id
    with db.session_scope(db_url) as s:
        prefixes = {r.split(":")[0] for r in s.execute(sa.select(Subject.resident_id)).scalars()}
        assert prefixes == {old_id, midway.key_id}  # some re-keyed, some not
        assert s.execute(sa.select(StoreKey.fingerprint)).scalar_one() == old_fp
    _all_readable(db_url, midway, secret)
    _all_readable(db_url, reader, secret)
    with pytest.raises(ConfigError, match="being rotated"):
        rotation.refuse_while_rotating(db_url)

    done = subprocess.run(_command(db_url, key, "keys", "rotate", "--batch", "50", "--json"),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["resumed"] is True and out["old_key_id"] == old_id and out["new_key_id"] == midway.key_id

    final = load_key_file(key)
    assert final.previous is None and final.key_id == midway.key_id  # the old key is retired
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    _all_readable(db_url, final, secret)
    time.sleep(1.1)  # the reader notices the file changed
    _all_readable(db_url, reader, secret)
    with db.session_scope(db_url) as s:
        prefixes = {r.split(":")[0] for r in s.execute(sa.select(Subject.resident_id)).scalars()}
        assert prefixes == {final.key_id}
        totp = s.execute(sa.select(User.totp_secret).where(User.username == "root")).scalar_one()
        assert totp.startswith(final.key_id + ":")
        root = s.execute(sa.select(User).where(User.username == "root")).scalar_one()
        assert mfa.check(s, final, root, pyotp.TOTP(secret).now()) is not None  # signs in with the new key
        assert s.execute(sa.select(StoreKey.fingerprint)).scalar_one() == final.fingerprint
        assert root.display_name == lookalike(ring)  # not a ciphertext: left as it was
        assert audit.verify(s).ok
        actions = list(s.execute(sa.select(AuditEntry.action).where(
            AuditEntry.action.like("store.key_rot%")).order_by(AuditEntry.id)).scalars())
        assert actions == ["store.key_rotation_started", "store.key_rotated"]
    rotation.refuse_while_rotating(db_url)  # ingestion may run again
    status = subprocess.run(_command(db_url, key, "keys", "status", "--json"), capture_output=True, text=True,
                            check=False)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["fingerprint"] == final.fingerprint
    assert [(r["old_key_id"], r["new_key_id"], r["state"]) for r in shown["rotations"]] == [
        (old_id, final.key_id, "done")]
    create_key_file(tmp_path / "old.key")  # any other key, the retired one included, is refused
    with pytest.raises(keys.KeyMismatch):
        keys.open_ring(db_url, keys.FileKeySource(tmp_path / "old.key"))


def test_a_loaded_key_follows_its_file_only_to_a_continuation_of_its_key(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A key file replaced by an unrelated key is never taken by a running process (it
    would read nothing and index under a foreign key); one that continues the key is."""
    monkeypatch.setattr(crypto, "REFRESH", 0.0)
    key = tmp_path / "a.key"
    ring = create_key_file(key)
    token = ring.encrypt("330522199001010001")
    other = crypto.new_ring()
    crypto.replace_key_file(key, other)
    assert ring.live().key_id == ring.key_id and ring.decrypt(token) == "330522199001010001"
    crypto.replace_key_file(key, KeyRing(other.enc_key, other.index_key, other.key_id,
                                         KeyRing(ring.enc_key, ring.index_key, ring.key_id)))
    assert ring.live().key_id == other.key_id  # a rotation from this key: followed
    assert ring.decrypt(token) == "330522199001010001"
    assert ring.lookup_indexes("x") == [other.blind_index("x"), KeyRing(ring.enc_key, ring.index_key,
                                                                         ring.key_id).blind_index("x")]
    assert ring.encrypt("y").startswith(other.key_id + ":")
