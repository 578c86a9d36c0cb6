"""Reading a credit file through a grant: the masking policy every edge applies; finding
subjects through a grant, with the colour the dashboard counts each by.

The API (`subjects/views.py`, the public side of `reports/views.py`) and the pages
(the credit file, the public firm page) show a file through `read_file`, so what a
grant hides — records out of scope, readers, residents' names and links, the
attributes of a published-only view — is decided once. `read_relations` shows the
two-hop relationships (`subjects.links`) the same way: residents' names masked where the
grant masks people, nodes outside the scope named but not linked. `find` is the subject
list of the API and the page (filters, and each subject's colour code as the dashboard's
counters count it, so a counter and the list it links to hold the same subjects). No
HTTP types here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts import colours
from creditgov.core import clock
from creditgov.core.clock import iso
from creditgov.core.errors import InvalidInput
from creditgov.lists.queries import lists_in_force
from creditgov.reports import overview
from creditgov.scoring.models import Score
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.security.scopes import Grant, Scope, default_purpose
from creditgov.subjects import links as subject_links
from creditgov.subjects import search as subject_search
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject

COLOURS = overview.COLOURS


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


def find(session: Session, ring: KeyRing, grant: Grant, *, q: str | None = None, kind: str | None = None,
         region: str | None = None, colour: str | None = None, limit: int = 20,
         offset: int = 0) -> subject_search.SearchResult:
    """Subjects in the grant's scope matching the filters, each with `colour`: its colour
    code as the dashboard counts it (`reports.overview.subject_colours`: the latest run of
    every model, a subject several models score taking its first model's colour in the
    colour codes' precedence; None when no model has scored it). `colour` keeps only the
    subjects of that colour: the ones the dashboard's counter of that colour counts for
    the same grant. A colour other than green, yellow or red is refused."""
    colour = colour or None  # the form's "all"
    if colour is not None and colour not in COLOURS:
        raise InvalidInput(f"colour {colour!r} is not one of {', '.join(COLOURS)}", code="subjects.colour_unknown",
                           params={"colour": colour})
    precedence = colours.settings().precedence
    where = []
    if colour:
        chosen = overview.subject_colours(session, precedence=precedence)
        if chosen is None:  # no model has scored anyone yet
            return subject_search.SearchResult(0, [])
        where.append(Subject.id.in_(select(chosen.c.subject_id).where(chosen.c.colour == colour)))
    result = subject_search.search(session, ring, scope=grant.subject_clause(), q=q, kind=kind, region_code=region,
                                   limit=limit, offset=offset, mask_people=grant.masks_people, where=where)
    ids = [int(i["id"]) for i in result.items]
    shown = overview.subject_colours(session, precedence=precedence, where=[Score.subject_id.in_(ids)]) if ids else None
    of: dict[int, str] = ({int(sid): str(c) for sid, c in session.execute(select(shown.c.subject_id, shown.c.colour))}
                          if shown is not None else {})
    for i in result.items:
        i["colour"] = of.get(int(i["id"]))
    return result


__all__ = ["COLOURS", "find", "read_file", "read_relations"]
