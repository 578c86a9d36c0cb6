"""The store's key: where it is read from, and the rule that a store is only ever
opened with the key it was initialised with.

Why the rule: a key file is found by configuration, not in the database, so a command
run with another configuration (another folder, a missing variable) used to find no
key and was told to run `init`, which made a second key for a populated store. From
then on, lookups by ID number found nothing and whatever was written was unreadable
with the first key. Now `init` records the key's fingerprint (`StoreKey`), and every
command and the server refuse a key whose fingerprint differs, naming both; `init` on
an initialised store never makes a key. A store initialised before keys were recorded
has its key recorded the first time one is used that can read its data.

Why a `KeySource`: the key may later live outside the file system (a secrets service,
a hardware module); callers ask a source and never open the file themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from creditgov.core import clock, db
from creditgov.core.errors import ConfigError
from creditgov.core.settings import Settings
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, create_key_file, load_key_file
from creditgov.security.models import StoreKey
from creditgov.subjects.models import Subject

SHOWN = 16  # hex digits of a fingerprint shown in messages: enough to tell keys apart
HOW = "set CREDITGOV_KEY_FILE (or pass --key-file) to the store's key file; see docs/credit-files.md"


class KeySource(Protocol):
    """Where a store's key is kept: an interface (a Protocol), with the key file as its
    first implementation (`FileKeySource`); any other kind keeps the same four
    promises. The methods are declarations only."""

    def exists(self) -> bool:
        """Whether a key is there to load."""

    def load(self) -> KeyRing:
        """The key, or ConfigError naming where it was looked for."""

    def create(self) -> KeyRing:
        """A new key, kept; never replaces one that exists."""

    def describe(self) -> str:
        """Where the key is, in words a message can show ("key file /srv/x.key")."""


@dataclass(frozen=True)
class FileKeySource:
    path: Path

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> KeyRing:
        return load_key_file(self.path)

    def create(self) -> KeyRing:
        if self.path.exists():
            raise ConfigError(f"key file {self.path} already exists: a key is never replaced")
        return create_key_file(self.path)

    def describe(self) -> str:
        return f"key file {self.path}"


def source_for(settings: Settings) -> KeySource:
    """The key source the settings name (today always a file: `settings.key_file`)."""
    return FileKeySource(settings.key_file)


def short(fingerprint: str) -> str:
    return fingerprint[:SHOWN]


class KeyMismatch(ConfigError):
    """A key that is not the store's: refused before anything is read or written."""


# ----------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class Recorded:
    fingerprint: str
    key_id: str
    source: str
    recorded_at: dt.datetime


def _has_table(session: Session) -> bool:
    # A store not yet upgraded to the schema that records keys has no table for it.
    return inspect(session.connection()).has_table(StoreKey.__tablename__)


def recorded(session: Session) -> Recorded | None:
    """The store's recorded key, or None (a store from before keys were recorded)."""
    if not _has_table(session):
        return None
    row = session.execute(select(StoreKey.fingerprint, StoreKey.key_id, StoreKey.source, StoreKey.recorded_at)
                          .order_by(StoreKey.id).limit(1)).first()
    return Recorded(*row) if row else None


def _data_key_id(session: Session, ring: KeyRing) -> str | None:
    """For a store without a record: None when `ring` reads the store's encrypted data
    (or there is none yet), else the key id that data was written with."""
    token = session.execute(select(Subject.resident_id).where(Subject.resident_id.is_not(None)).limit(1)).scalar()
    if token is None:
        return None
    try:
        ring.decrypt(token)
    except (ConfigError, InvalidTag, ValueError):
        return token.partition(":")[0] or "?"
    return None


def check(session: Session, ring: KeyRing, source: KeySource, *, record: bool = True,
          actor: str | None = None) -> str:
    """Refuse `ring` unless it is the store's key; record it when the store has no
    record yet and the key reads the store's data ("matches", "recorded", or
    "unrecorded" when not asked to record or the schema has no table for it)."""
    rec = recorded(session)
    if rec is not None:
        # While the key is rotated the store still records the old key until every
        # value is re-keyed (security/rotation.py): a file holding it as `previous` is
        # the store's too.
        if rec.fingerprint not in (ring.fingerprint, ring.previous.fingerprint if ring.previous else None):
            raise KeyMismatch(mismatch_message(ring, source, rec))
        return "matches"
    other = _data_key_id(session, ring)
    if other is not None:
        raise KeyMismatch(f"{source.describe()} (fingerprint {short(ring.fingerprint)}) is not this store's key: "
                          f"its data was encrypted with the key whose fingerprint begins {other}; {HOW}")
    if not record or not _has_table(session):
        return "unrecorded"
    conn = session.connection()
    db.begin_writing(conn)
    # Two processes meeting an unrecorded store at once (the server's workers) both
    # try; the first row stays and the second process compares against it.
    added = conn.execute(text(
        "INSERT INTO store_keys (id, fingerprint, key_id, source, recorded_at, recorded_by) "
        "VALUES (1, :fp, :kid, :src, :at, :by) ON CONFLICT DO NOTHING"),
        {"fp": ring.fingerprint, "kid": ring.key_id, "src": source.describe()[:500], "at": clock.now(),
         "by": (actor or audit.default_actor())[:100]}).rowcount
    if not added:
        return check(session, ring, source, record=False)
    audit.append(session, action="store.key_recorded", actor=actor,
                 detail={"fingerprint": ring.fingerprint, "key_id": ring.key_id, "source": source.describe()})
    return "recorded"


def _when(at: dt.datetime) -> str:
    """A stored UTC time as people here read it: China Standard Time."""
    return (at + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") + " UTC+8"


def mismatch_message(ring: KeyRing, source: KeySource, rec: Recorded) -> str:
    return (f"{source.describe()} has fingerprint {short(ring.fingerprint)}, but this store's key has fingerprint "
            f"{short(rec.fingerprint)} (recorded {_when(rec.recorded_at)} from {rec.source}); {HOW}")


def missing_message(session: Session | None, source: KeySource) -> str:
    """Why a command of an initialised store found no key, and where the key was."""
    rec = recorded(session) if session is not None else None
    if rec is not None:
        return (f"no key at {source.describe()}; this store's key has fingerprint {short(rec.fingerprint)} "
                f"(recorded {_when(rec.recorded_at)} from {rec.source}); {HOW} "
                "(`creditgov init` never makes a second key for an initialised store)")
    return (f"no key at {source.describe()} for this initialised store; {HOW} "
            "(`creditgov init` never makes a second key for an initialised store)")


def open_ring(url: str, source: KeySource, *, actor: str | None = None) -> KeyRing:
    """The key ring of an initialised store, refused unless it is the store's own."""
    if not source.exists():
        with db.session_scope(url, append_only=True) as s:
            raise ConfigError(missing_message(s, source))
    ring = source.load()
    with db.session_scope(url, append_only=True) as s:
        check(s, ring, source, actor=actor)
    return ring
