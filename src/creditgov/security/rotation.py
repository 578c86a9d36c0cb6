"""Rotating the store's key: a new data key, every encrypted value and blind index
re-keyed in batches while the store serves, resumable after a crash, ending with the
old key retired.

How it stays readable throughout: the key file is replaced first by one that holds the
new key and, as `previous`, the old one (`crypto.replace_key_file`, atomic). Every value
carries the id of the key that wrote it, so any process decrypts either; a lookup by ID
number asks for both keys' blind indexes (`KeyRing.lookup_indexes`); running processes
pick up the new file within `crypto.REFRESH` seconds. Rows are then re-keyed in batches
of one transaction each, and the last row id done per table is saved in the same
transaction (`KeyRotation.progress`), so a rotation killed at any point resumes where it
stopped: the key file says which keys, the table says how far. A subject's blind index
is rewritten with its ciphertext, so the ciphertext's key id tells which key indexed it.

Which values: every text column of every table long enough to hold a ciphertext is
searched for values that begin with the old key's id and that the old key opens (the
store is read, not a list: a domain added later is re-keyed without being named here);
only the audit chain is never rewritten, being append-only. Before the old key is
retired a sweep re-keys what processes still holding the old key wrote meanwhile, and
the old key is kept if any value it opens remains. The store's recorded key
(`StoreKey`) then becomes the new one, the file loses `previous`, and a last sweep,
with the old key still in this process's memory, catches a write that crossed the
switch.

Ingestion is refused while a rotation runs (it keeps its own map of blind indexes for a
whole batch): `refuse_while_rotating`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import String, Text, column, inspect, or_, select, table, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from creditgov.core import clock, db
from creditgov.core.errors import ConfigError
from creditgov.security import keys
from creditgov.security import service as audit
from creditgov.security.crypto import REFRESH, KeyRing, new_ring, replace_key_file
from creditgov.security.models import AuditEntry, AuditPurgedSegment, KeyRotation, StoreKey
from creditgov.subjects.models import Subject


@dataclass(frozen=True)
class Target:
    """A table's text columns that may hold ciphertext, its one-column primary key (the
    order batches follow), and the blind index kept beside one of the columns."""

    table: str
    pk: str
    columns: tuple[str, ...]
    index: tuple[str, str] | None = None  # (index column, the encrypted column it indexes)


# Blind indexes, by table: (index column, the encrypted column it indexes).
INDEXES = {Subject.__tablename__: ("resident_id_index", "resident_id")}
# Never rewritten: the audit chain is append-only (its hashes cover every byte), and
# the rotation's own bookkeeping. Nothing encrypted is written to them.
UNTOUCHED = {AuditEntry.__tablename__, AuditPurgedSegment.__tablename__, KeyRotation.__tablename__,
             StoreKey.__tablename__, "alembic_version"}
SHORTEST = 40  # characters: no ciphertext is shorter (key id, colon, base64 of nonce and tag)


def targets(session: Session) -> tuple[list[Target], list[str]]:
    """Every table with text columns long enough for a ciphertext, found in the store
    itself rather than listed, so a domain added later is re-keyed without being named
    here; and the tables that cannot be (no one-column primary key)."""
    insp = inspect(session.connection())
    out, unkeyed = [], []
    for name in sorted(insp.get_table_names()):
        if name in UNTOUCHED:
            continue
        cols = tuple(c["name"] for c in insp.get_columns(name)
                     if isinstance(c["type"], (String, Text))
                     and (c["type"].length is None or c["type"].length >= SHORTEST))
        if not cols:
            continue
        pk = insp.get_pk_constraint(name).get("constrained_columns") or []
        if len(pk) != 1:
            unkeyed.append(name)
            continue
        if [c for c in cols if c != pk[0]]:
            out.append(Target(name, pk[0], tuple(c for c in cols if c != pk[0]), INDEXES.get(name)))
    return out, unkeyed


@dataclass
class Outcome:
    old_key_id: str
    new_key_id: str
    new_fingerprint: str
    resumed: bool
    rekeyed: int = 0
    swept: int = 0
    batches: int = 0
    seconds: float = 0.0
    per_table: dict[str, int] = field(default_factory=dict)
    unkeyed: list[str] = field(default_factory=list)  # tables without a one-column primary key

    def as_dict(self) -> dict[str, Any]:
        return {"old_key_id": self.old_key_id, "new_key_id": self.new_key_id,
                "new_fingerprint": self.new_fingerprint, "resumed": self.resumed, "rekeyed": self.rekeyed,
                "swept": self.swept, "batches": self.batches, "seconds": round(self.seconds, 2),
                "per_table": self.per_table, "unkeyed": self.unkeyed, "old_key": "retired"}


def _bare(ring: KeyRing) -> KeyRing:
    return KeyRing(ring.enc_key, ring.index_key, ring.key_id)


def unfinished(session: Session) -> KeyRotation | None:
    if not inspect(session.connection()).has_table(KeyRotation.__tablename__):
        return None
    return session.execute(select(KeyRotation).where(KeyRotation.finished_at.is_(None))
                           .order_by(KeyRotation.id.desc()).limit(1)).scalar_one_or_none()


def refuse_while_rotating(url: str) -> None:
    """Ingestion keeps a batch's blind indexes in memory: it waits for a rotation to end."""
    with db.session_scope(url, append_only=True) as s:
        row = unfinished(s)
    if row is not None:
        raise ConfigError(f"the store's key is being rotated ({row.old_key_id} -> {row.new_key_id}); "
                          "ingest after `creditgov keys rotate` has finished (or resume it)")


def _rekey_batch(session: Session, target: Target, old: KeyRing, new: KeyRing, after: Any,
                 size: int) -> tuple[Any, int]:
    """Re-key up to `size` rows after primary key `after` (None: from the start) holding
    a value that begins with the old key's id: (the last key looked at, or None when
    none was left; the number of rows changed). A value with the prefix that the old key
    does not open is text that happens to look like one, and is left as it is."""
    cols = [*target.columns, *((target.index[0],) if target.index and target.index[0] not in target.columns
                               else ())]
    t = table(target.table, column(target.pk), *(column(c) for c in cols))
    pk = t.c[target.pk]
    prefix = old.key_id + ":"
    q = select(pk, *(t.c[c] for c in target.columns)).where(or_(*(t.c[c].like(prefix + "%")
                                                                   for c in target.columns)))
    if after is not None:
        q = q.where(pk > after)
    rows = session.execute(q.order_by(pk).limit(size)).all()
    changed = 0
    for row in rows:
        values: dict[str, str] = {}
        for c in target.columns:
            v = row._mapping[c]
            if not (isinstance(v, str) and v.startswith(prefix)):
                continue
            try:
                plain = old.decrypt(v)
            except (ConfigError, InvalidTag, ValueError):
                continue
            values[c] = new.encrypt(plain)
            if target.index and target.index[1] == c:
                values[target.index[0]] = new.blind_index(plain)
        if values:
            session.execute(update(t).where(pk == row[0]).values(**values))
            changed += 1
    return (rows[-1][0] if len(rows) == size else None), changed


def _strays(session: Session, old: KeyRing) -> list[str]:
    """Columns anywhere in the store (the audit chain aside) still holding a value the
    old key decrypts."""
    insp = inspect(session.connection())
    out = []
    for name in insp.get_table_names():
        if name in UNTOUCHED:
            continue
        for col in insp.get_columns(name):
            ty = col["type"]
            if not isinstance(ty, (String, Text)) or (ty.length is not None and ty.length < SHORTEST):
                continue
            c: ColumnClause[str] = column(col["name"])
            sample = session.execute(select(c).select_from(table(name, c)).where(c.like(old.key_id + ":%"))
                                     .limit(20)).scalars().all()
            for v in sample:
                try:
                    old.decrypt(v)
                except (ConfigError, InvalidTag, ValueError):
                    continue
                out.append(f"{name}.{col['name']}")
                break
    return out


def _sweep(url: str, old: KeyRing, new: KeyRing, size: int, out: Outcome) -> int:
    done = 0
    with db.session_scope(url) as s:
        found, _ = targets(s)
    for target in found:
        after, first = None, True
        while first or after is not None:
            first = False
            with db.session_scope(url) as s:
                after, n = _rekey_batch(s, target, old, new, after, size)
            done += n
            if n:
                out.per_table[target.table] = out.per_table.get(target.table, 0) + n
    return done


def rotate(url: str, source: keys.KeySource, *, batch: int = 500, actor: str | None = None,
           settle: float = 2 * REFRESH, pause: float = 0.0,
           on_batch: Callable[[str, int], None] | None = None) -> Outcome:
    """Rotate the store's key, or resume a rotation cut short; see the module's text.
    `pause` (seconds after each batch) slows a rotation down so that it shares the
    database with a busy server more gently."""
    if not isinstance(source, keys.FileKeySource):
        raise ConfigError(f"rotation replaces the key file; {source.describe()} is not one")
    if batch < 1:
        raise ConfigError("the batch size must be at least 1")
    t0 = time.monotonic()
    actor = actor or audit.default_actor()
    ring = keys.open_ring(url, source, actor=actor)
    started = ring.previous is None
    with db.session_scope(url) as s:
        row = unfinished(s)
        if started and row is not None:
            raise ConfigError(f"rotation {row.old_key_id} -> {row.new_key_id} is unfinished but "
                              f"{source.describe()} holds no previous key: restore the key file that "
                              "holds both keys, then run `creditgov keys rotate` again to resume")
    if started:
        fresh = new_ring()
        ring = KeyRing(fresh.enc_key, fresh.index_key, fresh.key_id, _bare(ring))
        replace_key_file(source.path, ring)
    assert ring.previous is not None
    old, new = _bare(ring.previous), _bare(ring)
    out = Outcome(old.key_id, new.key_id, new.fingerprint, resumed=not started)
    with db.session_scope(url) as s:
        rot = s.execute(select(KeyRotation).where(KeyRotation.new_key_id == new.key_id)).scalar_one_or_none()
        if rot is None:
            s.add(KeyRotation(old_key_id=old.key_id, new_key_id=new.key_id, old_fingerprint=old.fingerprint,
                              new_fingerprint=new.fingerprint, state="rekeying", progress="{}", rekeyed=0,
                              started_at=clock.now(), actor=actor[:100]))
            audit.append(s, action="store.key_rotation_started", actor=actor,
                         detail={"old_key_id": old.key_id, "new_key_id": new.key_id,
                                 "new_fingerprint": new.fingerprint})
        state = rot.state if rot is not None else "rekeying"
    if state != "done":
        if started:
            time.sleep(settle)  # running processes read the file that holds both keys
        _rekey_all(url, old, new, batch, pause, out, on_batch)
        out.swept = _sweep(url, old, new, batch, out)
        _finish(url, source, old, new, actor, out)
    replace_key_file(source.path, new)  # the old key is retired
    time.sleep(settle)
    out.swept += _sweep(url, old, new, batch, out)  # a write that crossed the switch
    out.seconds = time.monotonic() - t0
    return out


def _rekey_all(url: str, old: KeyRing, new: KeyRing, batch: int, pause: float, out: Outcome,
               on_batch: Callable[[str, int], None] | None) -> None:
    """One pass over every table, in batches; after each, the last key done is saved
    with the batch (`progress`: table -> last key, or true when the table is done)."""
    with db.session_scope(url) as s:
        found, unkeyed = targets(s)
    if unkeyed:
        out.unkeyed = unkeyed
    for target in found:
        while True:
            with db.session_scope(url) as s:
                rot = s.execute(select(KeyRotation).where(KeyRotation.new_key_id == new.key_id)).scalar_one()
                progress = json.loads(rot.progress)
                mark = progress.get(target.table)
                if mark is True:
                    break
                last, n = _rekey_batch(s, target, old, new, mark, batch)
                progress[target.table] = True if last is None else last
                rot.progress = json.dumps(progress, sort_keys=True, default=str)
                rot.rekeyed += n
            out.rekeyed += n
            out.batches += 1
            if n:
                out.per_table[target.table] = out.per_table.get(target.table, 0) + n
            if on_batch is not None:
                on_batch(target.table, n)
            if last is None:
                break
            if pause:
                time.sleep(pause)


def _finish(url: str, source: keys.FileKeySource, old: KeyRing, new: KeyRing, actor: str, out: Outcome) -> None:
    with db.session_scope(url) as s:
        strays = _strays(s, old)
        if strays:
            raise ConfigError("values the old key encrypted remain in " + ", ".join(strays)
                              + " (columns rotation does not know): the old key is kept in the key file")
        s.execute(update(StoreKey).where(StoreKey.id == 1).values(
            fingerprint=new.fingerprint, key_id=new.key_id, source=source.describe()[:500],
            recorded_at=clock.now(), recorded_by=actor[:100]))
        rot = s.execute(select(KeyRotation).where(KeyRotation.new_key_id == new.key_id)).scalar_one()
        rot.state, rot.finished_at = "done", clock.now()
        total = rot.rekeyed + out.swept
        audit.append(s, action="store.key_rotated", actor=actor,
                     detail={"old_key_id": old.key_id, "old_fingerprint": old.fingerprint,
                             "new_key_id": new.key_id, "new_fingerprint": new.fingerprint, "rekeyed": total})


def history(session: Session) -> list[dict[str, Any]]:
    """Every rotation, newest first, as `creditgov keys status` shows it."""
    rows = session.execute(select(KeyRotation).order_by(KeyRotation.id.desc())).scalars()
    return [{"old_key_id": r.old_key_id, "new_key_id": r.new_key_id, "state": r.state, "rekeyed": r.rekeyed,
             "progress": json.loads(r.progress), "started_at": r.started_at, "finished_at": r.finished_at,
             "actor": r.actor} for r in rows]
