"""Moving a duplicate subject's rows to its survivor, and putting them back.

Which rows: every column of the shared schema that names a subject, found from the
tables' metadata at the time of the merge (so a table added later is not forgotten):
a foreign key to `subjects.id`, a foreign key to another such column (the points
ledger's account), or a column called `subject_id` without a key (notifications, the
inbox, the points ledger). Left alone: the audit chain (its entries are hashed as
written, and say what happened to whom when), and the change rows themselves.

A row is moved (its column set to the survivor) unless the survivor already has the
row it would become — a unique key over that column would collide (the same run's
score, the same link, the subject's account): then it stays with the retired duplicate,
listed as kept. A row other subject columns point at (an account) that the survivor
lacks is copied to it, so the duplicate's dependent rows (ledger entries) can follow;
the copy is listed as created. Each move is listed by table, column and primary key.

Undo reverses exactly that list, all or nothing: refused, naming the rows, when a moved
row is gone or no longer on the survivor, or a copied row is used by rows the merge did
not move (new since); rows the survivor gained after the merge stay with it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    CursorResult,
    MetaData,
    Table,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from creditgov.core.db import Base
from creditgov.core.errors import Conflict

LEFT_ALONE = frozenset({"audit_entries", "subject_changes"})


@dataclass(frozen=True)
class Ref:
    """One column that names a subject."""

    table: Table
    column: Column[Any]


def subject_columns(metadata: MetaData | None = None) -> list[Ref]:
    """Every column naming a subject, in the tables' dependency order."""
    md = metadata or Base.metadata
    direct: set[tuple[str, str]] = set()
    out: list[Ref] = []
    tables = [t for t in md.sorted_tables if t.name not in LEFT_ALONE and t.name != "subjects"]
    for t in tables:
        for c in t.columns:
            targets = {(fk.column.table.name, fk.column.name) for fk in c.foreign_keys}
            if ("subjects", "id") in targets:
                direct.add((t.name, c.name))
    for t in tables:
        for c in t.columns:
            targets = {(fk.column.table.name, fk.column.name) for fk in c.foreign_keys}
            if (t.name, c.name) in direct or targets & direct or (c.name == "subject_id" and not targets):
                out.append(Ref(t, c))
    return out


def _unique_sets(t: Table, c: Column[Any]) -> list[list[Column[Any]]]:
    """The unique keys over `c`, each as its other columns."""
    sets: list[list[Column[Any]]] = []
    keys = [list(t.primary_key.columns)]
    keys += [list(u.columns) for u in t.constraints if isinstance(u, UniqueConstraint)]
    keys += [list(ix.columns) for ix in t.indexes if ix.unique]
    if c.unique:
        keys.append([c])
    for cols in keys:
        if any(x.name == c.name for x in cols):
            sets.append([x for x in cols if x.name != c.name])
    return sets


def _pk(t: Table, row: Any) -> dict[str, Any]:
    return {k.name: row._mapping[k.name] for k in t.primary_key.columns}


def _where(t: Table, key: dict[str, Any]) -> Any:
    return and_(*[t.c[k] == v for k, v in key.items()])


def _json(v: Any) -> Any:
    return v if isinstance(v, int | str | None) else str(v)


def _referrers(refs: Iterable[Ref], ref: Ref) -> list[Ref]:
    """The subject columns whose foreign key points at `ref`'s column."""
    return [r for r in refs if any(fk.column.table.name == ref.table.name and fk.column.name == ref.column.name
                                   for fk in r.column.foreign_keys)]


def move(session: Session, *, duplicate: int, survivor: int) -> dict[str, list[dict[str, Any]]]:
    """Move the duplicate's rows to the survivor; returns what moved, stayed and was copied."""
    refs = subject_columns()
    moved: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    created: list[dict[str, Any]] = []
    for ref in refs:
        t, c = ref.table, ref.column
        if not t.primary_key.columns:
            continue
        referred = bool(_referrers(refs, ref))
        for row in session.execute(select(t).where(c == duplicate)).all():
            key = _pk(t, row)
            clash = None
            for others in _unique_sets(t, c):
                vals = {o.name: row._mapping[o.name] for o in others}
                if any(v is None for v in vals.values()):
                    continue
                cond = and_(c == survivor, *[t.c[k] == v for k, v in vals.items()])
                if session.execute(select(func.count()).select_from(t).where(cond)).scalar():
                    clash = vals
                    break
            entry: dict[str, Any] = {"table": t.name, "column": c.name, "key": {k: _json(v) for k, v in key.items()}}
            if clash is not None:
                kept.append({**entry, "because": {k: _json(v) for k, v in clash.items()}})
                continue
            if referred and c.name in key:
                # Other rows point at this one's key: copy it to the survivor, keep the original.
                values = {**dict(row._mapping), c.name: survivor}
                session.execute(insert(t).values(**values))
                new_key = {**key, c.name: survivor}
                created.append({"table": t.name, "column": c.name, "key": {k: _json(v) for k, v in new_key.items()}})
                continue
            session.execute(update(t).where(_where(t, key)).values({c.name: survivor}))
            if c.name in key:
                entry["key"] = {**entry["key"], c.name: survivor}
            moved.append(entry)
    session.flush()
    return {"moved": moved, "kept": kept, "created": created}


def _table(name: str) -> Table:
    t = Base.metadata.tables.get(name)
    if t is None:
        raise Conflict(f"the merge moved rows of table {name!r}, which this version no longer has")
    return t


def _typed(t: Table, key: dict[str, Any]) -> dict[str, Any]:
    """A listed key with its values as the columns hold them (JSON keeps dates as text)."""
    out = {}
    for k, v in key.items():
        py = t.c[k].type.python_type if hasattr(t.c[k].type, "python_type") else None
        out[k] = py.fromisoformat(v) if isinstance(v, str) and py is not None and hasattr(py, "fromisoformat") else v
    return out


def check_undo(session: Session, *, duplicate: int, survivor: int, moved: list[dict[str, Any]],
               created: list[dict[str, Any]]) -> list[str]:
    """Why an undo would not restore exactly what the merge moved (empty: safe)."""
    problems: list[str] = []
    for m in moved:
        t = _table(m["table"])
        c = t.c[m["column"]]
        hit = session.execute(select(c).where(_where(t, _typed(t, m["key"])))).first()
        if hit is None:
            problems.append(f"{m['table']} row {m['key']} moved by the merge is gone")
        elif hit[0] != survivor:
            problems.append(f"{m['table']} row {m['key']} is no longer on subject {survivor} (now {hit[0]})")
    moved_keys = {(m["table"], m["column"], tuple(sorted(m["key"].items()))) for m in moved}
    refs = subject_columns()
    for cr in created:
        t = _table(cr["table"])
        ref = next(r for r in refs if r.table.name == t.name and r.column.name == cr["column"])
        for dep in _referrers(refs, ref):
            rows = session.execute(select(dep.table).where(dep.column == survivor)).all()
            extra = [_pk(dep.table, r) for r in rows
                     if (dep.table.name, dep.column.name, tuple(sorted(
                         {k: _json(v) for k, v in _pk(dep.table, r).items()}.items()))) not in moved_keys]
            if extra:
                problems.append(f"{len(extra)} {dep.table.name} row(s) added to subject {survivor} since the merge "
                                f"use the {t.name} row the merge created")
    return problems


def put_back(session: Session, *, duplicate: int, survivor: int, moved: list[dict[str, Any]],
             created: list[dict[str, Any]]) -> int:
    """Reverse a checked merge: moved rows back to the duplicate (dependants first), then
    the copied rows removed. Returns the rows put back."""
    n = 0
    for m in reversed(moved):
        t = _table(m["table"])
        key = _typed(t, m["key"])
        res = session.execute(update(t).where(_where(t, key), t.c[m["column"]] == survivor)
                              .values({m["column"]: duplicate}))
        n += res.rowcount if isinstance(res, CursorResult) else 0
    for cr in created:
        t = _table(cr["table"])
        session.execute(delete(t).where(_where(t, _typed(t, cr["key"]))))
    session.flush()
    return n
