"""The regional analysis page (区域信用分析). Same rules as `web/pages.py`: the route
authorises (`analysis.read`), calls `analysis.service` with the caller's data scope —
the same calls as the API (`analysis.views`; the trend through `analysis.access`), so
a page and its endpoint agree — and
renders ECharts charts from JSON embedded in the page (`web/static/js/app.js`).

Filters: what to distribute (grades of a model, red/yellow/green codes, alerts,
inspections), by street, grid, industry or kind, the model (its published runs make
the trend) and the months the grid risk looks back.

`/analysis/clusters`: the clusters of firms and people around listed subjects in the
viewer's scope (`analysis.clusters`), each member linked to its file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.analysis import clusters, service
from creditgov.analysis.access import scoped_clusters, scoped_trend
from creditgov.api.deps import DB, Who
from creditgov.core import labels
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security.scopes import authorize
from creditgov.web import i18n
from creditgov.web.render import _, render, scope_label

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
RISK_TOP = 20
CLUSTER_LISTS = ("serious-dishonesty", "key-attention", "red")


@router.get("/analysis")
def analysis_page(request: Request, who: Who, session: DB,
                  what: Annotated[str | None, Query(pattern="^(" + "|".join(service.WHAT) + ")$")] = None,
                  by: Annotated[str, Query(pattern="^(" + "|".join(service.BY) + ")$")] = "street",
                  model: Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")] = None,
                  months: Annotated[int, Query(ge=1, le=120)] = 12) -> Response:
    grant = authorize(who, "analysis.read")
    scope = grant.subject_clause()
    models = service.published_models(session)
    model = model if model in models else (models[0] if models else None)
    what = what or ("grade" if model else "colour")
    dist: dict[str, Any] | None = None
    dist_error = None
    try:
        dist = service.distribution(session, what=what, by=by, model=model, scope=scope)
    except (InvalidInput, NotFound) as exc:
        dist_error = str(exc)
    trend = scoped_trend(session, grant, model, None, 12) if model else None
    risk = service.grid_risk(session, months=months, top=RISK_TOP, scope=scope)
    unknown = _("(未知)")
    risk = {**risk, "rows": [{**r, "name": unknown if r["name"] == service.UNKNOWN else r["name"],
                              "street": unknown if r["street"] == service.UNKNOWN else r["street"]} for r in risk["rows"]]}
    if dist:  # the groups' names in the page's language (industries and kinds from core.labels)
        kind = {"industry": "industry", "kind": "subject_kind"}.get(by)
        lang = i18n.current.get()
        dist = {**dist, "rows": [{**r, "name": unknown if r["group"] == service.UNKNOWN or r["name"] == service.UNKNOWN
                                  else labels.label(kind, r["group"], lang) if kind else r["name"]}
                                 for r in dist["rows"]]}
    return render(request, "analysis.html", {
        "what": what, "by": by, "model": model, "months": months, "models": models,
        "whats": service.WHAT, "bys": service.BY, "dist": dist, "dist_error": dist_error, "trend": trend,
        "risk": risk, "scope_label": scope_label(grant)})



@router.get("/analysis/clusters")
def clusters_page(request: Request, who: Who, session: DB,
                  lists: Annotated[list[str] | None, Query(max_length=3)] = None,
                  roles: Annotated[list[str] | None, Query(max_length=3)] = None,
                  hops: Annotated[int, Query(ge=1, le=3)] = 2) -> Response:
    """Clusters around listed subjects in the viewer's scope (关联分析), with a drill-down
    from each member to its credit file — the same read as `GET /api/v1/analysis/clusters`."""
    grant = authorize(who, "analysis.read")
    chosen_lists = tuple(x for x in (lists or clusters.LISTS) if x in CLUSTER_LISTS) or clusters.LISTS
    chosen_roles = tuple(x for x in (roles or clusters.ROLES) if x in clusters.ALL_ROLES) or clusters.ROLES
    data = scoped_clusters(session, grant, lists=chosen_lists, roles=chosen_roles, hops=hops)
    return render(request, "analysis_clusters.html", {
        "data": data, "all_lists": CLUSTER_LISTS, "all_roles": clusters.ALL_ROLES, "scope_label": scope_label(grant)})


__all__ = ["router"]
