"""Scoped reads of regional analysis shared by the API (`analysis/views.py`) and the
analysis page (`web/analysis_pages.py`), so a page and its endpoint agree on what an
unknown model or a model without a published run means. No HTTP types here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.analysis import clusters as clusters_mod
from creditgov.analysis import service
from creditgov.core.errors import NotFound
from creditgov.scoring import published
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import ModelVersion
from creditgov.security.crypto import mask_name
from creditgov.security.scopes import Grant
from creditgov.subjects.models import Region


def scoped_trend(session: Session, grant: Grant, model: str, by: str | None, last: int) -> dict[str, Any]:
    """The trend of a model in the grant's scope: an unknown model (neither shipped nor
    stored) is NotFound; a known one with no published run yet has no points (shared
    with the page)."""
    if model not in scoring_service.shipped_texts() and session.execute(
            select(ModelVersion.id).where(ModelVersion.name == model).limit(1)).first() is None:
        raise NotFound(f"model {model!r} not found")
    if session.execute(published.latest_run_id(model)).first() is None:
        return {"model": model, "by": by, "grades": [], "runs": []}
    return service.trend(session, model=model, by=by, last=last, scope=grant.subject_clause())


__all__ = ["scoped_trend"]


def scoped_clusters(session: Session, grant: Grant, *, lists: Sequence[str] = clusters_mod.LISTS,
                    roles: Sequence[str] = clusters_mod.ROLES, hops: int = 2, top: int = 50) -> dict[str, Any]:
    """The clusters around listed subjects in the grant's scope, each member named as
    this viewer may see it (residents masked where the viewer masks people), with the
    lists it is on; the page and the API show the same."""
    found = clusters_mod.clusters(session, scope=grant.subject_clause(), lists=lists, roles=roles, hops=hops)
    shown = found.clusters[:top]
    nodes = clusters_mod.node_rows(session, {m for c in shown for m in c.members})
    regions: dict[int, str] = {rid: name for rid, name in session.execute(select(Region.id, Region.name).where(
        Region.id.in_({n["region_id"] for n in nodes.values() if n["region_id"] is not None})))}
    masked = grant.masks_people

    def member(sid: int, c: clusters_mod.Cluster) -> dict[str, Any]:
        n = nodes[sid]
        return {"id": sid, "name": mask_name(n["name"]) if masked and n["personal"] else n["name"],
                "kind": n["kind"], "personal": n["personal"], "uscc": n["uscc"],
                "region": regions.get(n["region_id"]) if n["region_id"] is not None else None,
                "lists": c.listed.get(sid, [])}

    def cluster(c: clusters_mod.Cluster) -> dict[str, Any]:
        members = {m: member(m, c) for m in c.members}
        return {"key": c.key, "size": len(c.members), "listed_count": len(c.listed),
                "members": sorted(members.values(), key=lambda x: (not x["lists"], x["personal"], x["id"])),
                "links": [{"firm_id": f, "person_id": p, "role": r, "firm": members[f]["name"],
                           "person": members[p]["name"]} for f, p, r in c.links]}

    return {"as_of": found.as_of.isoformat(), "lists": list(found.lists), "roles": list(found.roles),
            "hops": found.hops, "truncated": found.truncated, "total": len(found.clusters),
            "clusters": [cluster(c) for c in shown]}
