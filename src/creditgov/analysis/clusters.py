"""Clusters around listed subjects, region level (重点对象关联分析).

The credit file shows one subject's relationships two links out (`subjects.links`);
the office also needs the county's picture: which firms and people hang together around
the subjects on the serious-dishonesty and key-attention lists. A cluster is a connected
group of the graph whose nodes are the listed subjects in the viewer's scope and every
subject within `hops` links of one (links are a person's role in a firm, held today, in
the chosen roles), and whose edges are those links. Two listed firms that share a legal
representative fall into one cluster; so do a listed person and the firms it
represents, and their other representatives.

Only subjects inside the viewer's data scope are nodes, so the graph never walks
through, or names, a subject the viewer may not see (a grid worker sees the clusters
of its grid). The links are read hop by hop with indexed `IN` lists (500 ids a
statement), at most `LIMIT` links per hop, controlling roles first; the components are
found by union-find in Python. No graph library: a breadth-first read and a union-find
are a few lines each, and the SQL side (scope, held dates, the per-hop cap) is where the
work is — a library would only hold the same edges again.

Pure reads: nothing here writes or audits. Masking is the caller's (`analysis.access`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from creditgov.core import clock
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on, lists_in_force
from creditgov.subjects.models import Subject, SubjectLink

LISTS = ("serious-dishonesty", "key-attention")
ROLES = ("legal_representative", "principal")           # the controlling roles by default
ALL_ROLES = ("legal_representative", "principal", "employee")
LIMIT = 5000   # links read per hop at most: the controlling roles first
CHUNK = 500


@dataclass
class Cluster:
    key: int                                  # the smallest listed member's id: stable across reads
    members: list[int]
    listed: dict[int, list[str]]              # member -> lists it is on today
    links: list[tuple[int, int, str]]         # (firm, person, role)
    truncated: bool = False


@dataclass
class Clusters:
    as_of: dt.date
    lists: tuple[str, ...]
    roles: tuple[str, ...]
    hops: int
    clusters: list[Cluster] = field(default_factory=list)
    truncated: bool = False


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i:i + CHUNK])


def _in_scope(session: Session, ids: Iterable[int], scope: ColumnElement[bool]) -> set[int]:
    out: set[int] = set()
    for part in _chunks(sorted(set(ids))):
        out.update(session.execute(select(Subject.id).where(Subject.id.in_(part), scope)).scalars())
    return out


def _seeds(session: Session, lists: Sequence[str], day: dt.date, scope: ColumnElement[bool]) -> set[int]:
    q = (select(ListEntry.subject_id).join(Subject, Subject.id == ListEntry.subject_id)
         .where(ListEntry.list_code.in_(list(lists)), listed_on(day), scope).distinct())
    return set(session.execute(q).scalars())


def _links_of(session: Session, ids: set[int], roles: Sequence[str], day: dt.date,
              budget: int) -> tuple[list[tuple[int, int, str]], bool]:
    held = and_(or_(SubjectLink.since.is_(None), SubjectLink.since <= day),
                or_(SubjectLink.until.is_(None), SubjectLink.until > day))
    out: dict[tuple[int, int, str], None] = {}
    for part in _chunks(sorted(ids)):
        q = (select(SubjectLink.firm_id, SubjectLink.person_id, SubjectLink.role)
             .where(or_(SubjectLink.firm_id.in_(part), SubjectLink.person_id.in_(part)),
                    SubjectLink.role.in_(list(roles)), held)
             .order_by(SubjectLink.role != "legal_representative", SubjectLink.id).limit(budget - len(out) + 1))
        for f, p, r in session.execute(q):
            out[(f, p, r)] = None
        if len(out) > budget:
            return list(out)[:budget], True
    return list(out), False


def _find(parent: dict[int, int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def clusters(session: Session, *, scope: ColumnElement[bool], lists: Sequence[str] = LISTS,
             roles: Sequence[str] = ROLES, hops: int = 2, on: dt.date | None = None,
             limit: int = LIMIT) -> Clusters:
    """The clusters around the subjects in scope on `lists` today, through links in
    `roles` held today, `hops` (1–3) links out; largest listed count first."""
    if not 1 <= hops <= 3:
        raise ValueError("hops must be 1, 2 or 3")
    day = on or clock.today()
    out = Clusters(day, tuple(lists), tuple(roles), hops)
    seeds = _seeds(session, lists, day, scope)
    if not seeds:
        return out
    nodes, frontier = set(seeds), set(seeds)
    edges: set[tuple[int, int, str]] = set()
    for _hop in range(hops):
        found, cut = _links_of(session, frontier, roles, day, limit)
        out.truncated = out.truncated or cut
        ends = {x for f, p, _r in found for x in (f, p)} - nodes
        visible = nodes | _in_scope(session, ends, scope)
        edges.update(e for e in found if e[0] in visible and e[1] in visible)
        frontier = visible - nodes
        nodes = visible
        if not frontier:
            break
    parent = {n: n for n in nodes}
    for f, p, _r in edges:
        a, b = _find(parent, f), _find(parent, p)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for n in sorted(nodes):
        groups.setdefault(_find(parent, n), []).append(n)
    conn = session.connection()
    listed = lists_in_force(conn, nodes, day)
    wanted = set(lists)
    by_root: dict[int, list[tuple[int, int, str]]] = {}
    for e in sorted(edges):
        by_root.setdefault(_find(parent, e[0]), []).append(e)
    for root, members in groups.items():
        on_lists = {m: listed[m] for m in members if m in listed and wanted & set(listed[m])}
        if not on_lists:
            continue
        out.clusters.append(Cluster(key=min(on_lists), members=members, listed=on_lists,
                                    links=by_root.get(root, [])))
    out.clusters.sort(key=lambda c: (-len(c.listed), -len(c.members), c.key))
    return out


def node_rows(session: Session, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The members' names, kinds, credit codes and regions (one read per 500)."""
    out: dict[int, dict[str, Any]] = {}
    for part in _chunks(sorted(set(ids))):
        for sid, kind, name, index, uscc, region in session.execute(
                select(Subject.id, Subject.kind, Subject.name, Subject.resident_id_index, Subject.uscc,
                       Subject.region_id).where(Subject.id.in_(part))):
            out[sid] = {"id": sid, "kind": kind, "name": name, "personal": index is not None, "uscc": uscc,
                        "region_id": region}
    return out


__all__ = ["ALL_ROLES", "LISTS", "ROLES", "Cluster", "Clusters", "clusters", "node_rows"]
