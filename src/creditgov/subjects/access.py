"""Reading a credit file through a grant: the masking policy every edge applies.

The API (`subjects/views.py`, the public side of `reports/views.py`) and the pages
(the credit file, the public firm page) show a file through `read_file`, so what a
grant hides — records out of scope, readers, residents' names and links, the
attributes of a published-only view — is decided once. `read_relations` shows the
two-hop relationships (`subjects.links`) the same way: residents' names masked where the
grant masks people, nodes outside the scope named but not linked. No HTTP types here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.clock import iso
from creditgov.lists.queries import lists_in_force
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.security.scopes import Grant, Scope, default_purpose
from creditgov.subjects import links as subject_links
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject


def read_file(session: Session, ring: KeyRing, grant: Grant, subject_id: int, purpose: str | None) -> dict[str, Any]:
    """The credit file as this grant may see it; the read is audited by the service."""
    grant.require_subject(session, subject_id)
    f = subject_service.credit_file(session, ring, str(subject_id), actor=grant.principal.actor,
                                    purpose=purpose or default_purpose(grant.principal),
                                    mask_people=grant.masks_people,
                                    # a bank reading under a consent: the subject sees every read
                                    audited=grant.scope is Scope.CONSENTED)
    out = f.as_dict()
    out["records"] = grant.visible_records(out["records"])
    if not grant.shows_readers:
        out["readers"] = []
    if grant.masks_people and subject_id != grant.principal.subject_id:  # one's own name is never masked to oneself
        out["name"] = subject_service.display_name(f.subject, masked=True)
        out["links"] = [lk for lk in out["links"] if lk["direction"] == "firm"]
    if grant.scope.value == "published":
        out["resident_id"] = None
        out["attributes"] = {}
    return out


def read_relations(session: Session, grant: Grant, subject_id: int) -> dict[str, Any]:
    """The people ↔ firms around a subject, two hops deep, as this grant may see them:
    one row per link in path order (each first link, then the links beyond its far end),
    each end with its name (a resident's masked where the grant masks people, except the
    viewer's own), its lists in force today and whether it is in the grant's scope (only
    then is it linked). A published-only grant sees no relationships."""
    grant.require_subject(session, subject_id)
    if grant.scope is Scope.PUBLISHED:
        return {"rows": [], "truncated": False}
    conn = session.connection()
    rel = subject_links.relations(conn, subject_id)
    ids = sorted(rel.nodes)
    on_lists = lists_in_force(conn, ids)
    reach: set[int] = set()
    for i in range(0, len(ids), 500):
        reach.update(session.execute(select(Subject.id).where(Subject.id.in_(ids[i:i + 500]),
                                                              grant.subject_clause())).scalars())
    own = grant.principal.subject_id
    today = clock.today()

    def node(nid: int) -> dict[str, Any]:
        n = rel.nodes[nid]
        masked = n.personal and grant.masks_people and nid != own
        return {"id": nid, "kind": n.kind, "name": mask_name(n.name) if masked else n.name, "personal": n.personal,
                "hop": n.hop, "linked": nid in reach and nid != subject_id, "self": nid == subject_id,
                "lists": on_lists.get(nid, [])}

    rows = []
    for first, second in subject_links.paths(rel):
        lk = second or first
        rows.append({"hop": lk.hop, "person": node(lk.person_id), "firm": node(lk.firm_id), "role": lk.role,
                     "since": iso(lk.since), "until": iso(lk.until), "held": lk.held_on(today),
                     "via": node(first.other(subject_id)) if second else None})
    return {"rows": rows, "truncated": rel.truncated}


__all__ = ["read_file", "read_relations"]
