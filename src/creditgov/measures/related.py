"""Related-party warnings of the credit check (关联方风险提示).

A department checking a firm should know that its legal representative also represents
a firm on the serious-dishonesty list, or is on it himself; checking a person, that a
firm the person represents is on it. The scenario's `related_parties` (scenarios.yaml)
says which roles make a related party, which lists count and how far to look (one or
two links); only roles held today count (`subjects.links`), and only lists in force
today (`lists.queries.lists_in_force`).

A warning is information, never a measure: no condition in measures.yaml reads it, so a
check's measures, grade and lists are what they would be without it (国办发〔2020〕49号
forbids extending a punishment beyond its legal basis). Each warning is worded in
Chinese and English from the label catalogue (roles, lists).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Connection

from creditgov.core.labels import label
from creditgov.lists.queries import lists_in_force
from creditgov.measures.schemas import RelatedParties
from creditgov.security.crypto import mask_name
from creditgov.subjects.links import Link, Node, Relations, ends, fill_nodes, paths, relations

# How a firm is referred to again in a Chinese sentence ("…, 该企业在严重失信主体名单上").
_THAT = {"enterprise": "该企业", "merchant": "该商户", "homestay": "该民宿", "social_org": "该组织"}
LIMIT = 50  # related links looked at per hop: a check stays a handful of indexed reads


def _lower(text: str) -> str:
    """An English label inside a sentence: "Legal representative" → "legal representative"
    (a label that starts with an acronym is left alone)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _words(kind: str, code: str) -> tuple[str, str]:
    return label(kind, code, "zh"), _lower(label(kind, code, "en"))


def _sentences(rel: Relations, first: Link, second: Link | None, list_code: str,
               name: dict[int, str]) -> tuple[str, str]:
    """The warning in Chinese and in English, by the shape of the path."""
    s = rel.subject_id
    near = first.other(s)
    subject, n = rel.nodes[s], rel.nodes[near]
    l_zh, l_en = _words("list", list_code)
    r1_zh, r1_en = _words("link_role", first.role)
    if second is None:
        if not subject.personal:  # a firm's person is on the list
            return (f"{r1_zh} {name[near]} 在{l_zh}上",
                    f"{r1_en[:1].upper()}{r1_en[1:]} {name[near]} is on the {l_en}")
        return (f"{name[s]} 是 {name[near]} 的{r1_zh}，{_THAT.get(n.kind, '该主体')}在{l_zh}上",
                f"{name[s]} is the {r1_en} of {name[near]}, which is on the {l_en}")
    party = second.other(near)
    p = rel.nodes[party]
    r2_zh, r2_en = _words("link_role", second.role)
    if not subject.personal:  # the firm's person also holds a role in a listed firm
        return (f"{r1_zh} {name[near]} 同时是 {name[party]} 的{r2_zh}，{_THAT.get(p.kind, '该主体')}在{l_zh}上",
                f"{r1_en[:1].upper()}{r1_en[1:]} {name[near]} is also the {r2_en} of {name[party]}, "
                f"which is on the {l_en}")
    return (f"{name[s]} 任{r1_zh}的 {name[near]}，其{r2_zh} {name[party]} 在{l_zh}上",
            f"{name[party]}, {r2_en} of {name[near]} (where {name[s]} is the {r1_en}), is on the {l_en}")


def _party(n: Node, shown: str) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "name": shown}


def related_warnings(conn: Connection, *, subject_id: int, policy: RelatedParties, today: dt.date,
                     mask_people: bool = True) -> list[dict[str, Any]]:
    """The warnings a check shows about the subject's related parties: one per related
    party and list, with the path that relates it (residents' names masked when
    `mask_people`)."""
    if not policy.lists:
        return []
    rel = relations(conn, subject_id, hops=policy.hops, roles=policy.roles, held_on=today, limit=LIMIT,
                    with_nodes=False)
    if not rel.links:  # most subjects: one indexed read and done
        return []
    listed = lists_in_force(conn, (n for n in ends(rel) if n != subject_id), today)
    wanted = set(policy.lists)
    if not any(c in wanted for codes in listed.values() for c in codes):
        return []
    fill_nodes(conn, rel)
    name = {nid: mask_name(n.name) if mask_people and n.personal else n.name for nid, n in rel.nodes.items()}
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for first, second in paths(rel):
        near = first.other(subject_id)
        party = second.other(near) if second is not None else near
        for code in listed.get(party, []):
            key = (first.role, near, second.role if second else None, party, code)
            if code not in wanted or key in seen:
                continue
            seen.add(key)
            zh, en = _sentences(rel, first, second, code, name)
            out.append({"kind": "related_party", "list": code, "hops": 1 if second is None else 2,
                        "party": _party(rel.nodes[party], name[party]),
                        "via": _party(rel.nodes[near], name[near]) if second is not None else None,
                        "roles": [first.role] + ([second.role] if second is not None else []),
                        "text_zh": zh, "text_en": en})
    return out


__all__ = ["related_warnings"]
