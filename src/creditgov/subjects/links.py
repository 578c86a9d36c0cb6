"""People ↔ firms around one subject, up to two hops (关联关系).

The credit file shows a firm's own people; the paper analyses key targets "in many
dimensions": who else a firm's legal representative represents, where a listed person
works. The links (`subject_links`: a person's role in a firm, with its dates) make a
bipartite graph, so two hops from a firm are its people and their other firms, and two
hops from a person are its firms and their other people. Two hops are two indexed
queries on the links table (plus one for the nodes); no graph library is needed.

Pure reads: nothing here writes or audits. What a viewer may see of the graph (masking,
scope) is decided at the edges (`subjects.access.read_relations`); which lists each node
is on is the lists domain's (`lists.queries.lists_in_force`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, case, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from creditgov.subjects.models import Subject, SubjectLink

ROLES = ("legal_representative", "principal", "employee")
# A firm's controlling people come first when a hop has more links than it keeps.
_ORDER = case({"legal_representative": 0, "principal": 1}, value=SubjectLink.role, else_=2)
LIMIT = 200  # links kept per hop: a county's biggest employer has thousands of staff


@dataclass(frozen=True)
class Node:
    id: int
    kind: str
    name: str
    personal: bool  # a resident (identified by an ID number): its name is masked where the viewer masks people
    uscc: str | None
    region_id: int | None
    hop: int  # 0: the subject itself; 1 and 2: how far from it


@dataclass(frozen=True)
class Link:
    """A person's role in a firm, found `hop` links away from the subject (1: the
    subject is one of its two ends)."""

    firm_id: int
    person_id: int
    role: str
    since: dt.date | None
    until: dt.date | None
    hop: int

    def held_on(self, day: dt.date) -> bool:
        """The role was held that day: begun by then (or no date given) and not ended."""
        return (self.since is None or self.since <= day) and (self.until is None or self.until > day)

    def other(self, node_id: int) -> int:
        return self.person_id if node_id == self.firm_id else self.firm_id


@dataclass
class Relations:
    subject_id: int
    nodes: dict[int, Node] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    truncated: bool = False  # a hop had more than `limit` links: the controlling roles were kept first

    def by_hop(self, hop: int) -> list[Link]:
        return [lk for lk in self.links if lk.hop == hop]


_sl = SubjectLink.__table__
_LINK_COLS = (_sl.c.firm_id, _sl.c.person_id, _sl.c.role, _sl.c.since, _sl.c.until)
_ROLES: BindParameter[Any] = bindparam("roles", expanding=True)
_DAY = bindparam("day", type_=Date)
_HELD = and_(or_(_sl.c.since.is_(None), _sl.c.since <= _DAY), or_(_sl.c.until.is_(None), _sl.c.until > _DAY))


def _hop1(held: bool) -> Select[Any]:
    sid: BindParameter[int] = bindparam("sid")
    q = select(*_LINK_COLS).where(or_(_sl.c.firm_id == sid, _sl.c.person_id == sid), _sl.c.role.in_(_ROLES))
    return (q.where(_HELD) if held else q).order_by(_ORDER, _sl.c.id).limit(bindparam("n"))


def _hop2(held: bool) -> Select[Any]:
    sid: BindParameter[int] = bindparam("sid")
    near: BindParameter[Any] = bindparam("near", expanding=True)
    q = select(*_LINK_COLS).where(
        or_(and_(_sl.c.firm_id.in_(near), _sl.c.person_id != sid),
            and_(_sl.c.person_id.in_(near), _sl.c.firm_id != sid)),
        _sl.c.role.in_(_ROLES))
    return (q.where(_HELD) if held else q).order_by(_ORDER, _sl.c.id).limit(bindparam("n"))


# Built once: a credit check runs these on every approval.
_Q_HOP1 = {held: _hop1(held) for held in (False, True)}
_Q_HOP2 = {held: _hop2(held) for held in (False, True)}
_Q_NODES = (select(Subject.id, Subject.kind, Subject.name, Subject.resident_id_index, Subject.uscc,
                   Subject.region_id)
            .where(Subject.id.in_(bindparam("ids", expanding=True))))


def _links(conn: Connection, q: Select[Any], hop: int, params: dict[str, object], limit: int) -> tuple[list[Link], bool]:
    rows = conn.execute(q, {**params, "n": limit + 1}).all()
    return [Link(f, p, r, a, b, hop) for f, p, r, a, b in rows[:limit]], len(rows) > limit


def relations(conn: Connection, subject_id: int, *, hops: int = 2, roles: Sequence[str] = ROLES,
              held_on: dt.date | None = None, limit: int = LIMIT, with_nodes: bool = True) -> Relations:
    """The links around a subject, `hops` (1 or 2) deep, in the given roles; with
    `held_on`, only the roles held that day. Nodes carry their hop; the subject is hop 0.
    Without `with_nodes` only the links are read (`ends` and `fill_nodes` do the rest),
    so a caller that may not need the nodes (the credit check) saves a query."""
    if hops not in (1, 2):
        raise ValueError("hops must be 1 or 2")
    held = held_on is not None
    base: dict[str, object] = {"sid": subject_id, "roles": list(roles)}
    if held:
        base["day"] = held_on
    out = Relations(subject_id)
    first, cut1 = _links(conn, _Q_HOP1[held], 1, base, limit)
    near = sorted({lk.other(subject_id) for lk in first})
    second: list[Link] = []
    cut2 = False
    if hops == 2 and near:
        second, cut2 = _links(conn, _Q_HOP2[held], 2, {**base, "near": near}, limit)
    out.links, out.truncated = first + second, cut1 or cut2
    return fill_nodes(conn, out) if with_nodes else out


def ends(rel: Relations) -> dict[int, int]:
    """Every node of the links with its hop (the subject 0)."""
    hop_of = {rel.subject_id: 0}
    for lk in rel.by_hop(1):
        hop_of.setdefault(lk.other(rel.subject_id), 1)
    for lk in rel.by_hop(2):
        for end in (lk.firm_id, lk.person_id):
            hop_of.setdefault(end, 2)
    return hop_of


def fill_nodes(conn: Connection, rel: Relations) -> Relations:
    """Read the subjects at the links' ends into `rel.nodes`."""
    hop_of = ends(rel)
    for sid, kind, name, index, uscc, region in conn.execute(_Q_NODES, {"ids": sorted(hop_of)}):
        rel.nodes[sid] = Node(sid, kind, name, index is not None, uscc, region, hop_of[sid])
    return rel


def paths(rel: Relations) -> Iterable[tuple[Link, Link | None]]:
    """Each way out from the subject: a first link alone, then that link followed by each
    second link from its far end (the subject → a neighbour → a node two hops away)."""
    second: dict[int, list[Link]] = {}
    for lk in rel.by_hop(2):
        for end in (lk.firm_id, lk.person_id):
            second.setdefault(end, []).append(lk)
    for lk in rel.by_hop(1):
        yield lk, None
        for nxt in second.get(lk.other(rel.subject_id), []):
            yield lk, nxt


__all__ = ["LIMIT", "ROLES", "Link", "Node", "Relations", "ends", "fill_nodes", "paths", "relations"]
