"""The regional analysis page (区域信用分析). Same rules as `web/pages.py`: the route
authorises (`analysis.read`), calls `analysis.service` with the caller's data scope —
the same calls as the API (`analysis.views`; the trend through `analysis.access`), so
a page and its endpoint agree — and
renders ECharts charts from JSON embedded in the page (`web/static/js/app.js`).

Filters: what to distribute (grades of a model, red/yellow/green codes, alerts,
inspections), by street, grid, industry or kind, the model (its published runs make
the trend) and the months the grid risk looks back.

`/analysis/clusters`: the clusters of firms and people around listed subjects in the
viewer's scope (`analysis.clusters`), each member linked to its file.

Exports (issue 19), each `.xlsx` or `.csv`, under the page's filters and the viewer's
scope, written to the audit chain: `/analysis/distribution.{fmt}`, `/analysis/trend.{fmt}`,
`/analysis/risk.{fmt}` (every grid in scope; the page shows the riskiest 20 first) and
`/analysis/clusters.{fmt}` (one row per member); rows from `analysis.tables`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from creditgov.analysis import clusters, service, tables
from creditgov.analysis.access import scoped_clusters, scoped_trend
from creditgov.api.deps import DB, Who
from creditgov.core import labels
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security import service as audit
from creditgov.security.scopes import Principal, authorize
from creditgov.web import exports, i18n
from creditgov.web.i18n import refusal
from creditgov.web.render import _, render, scope_label

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
RISK_TOP = 20
CLUSTER_LISTS = ("serious-dishonesty", "key-attention", "red")
Fmt = Annotated[str, Path(pattern=exports.FMT)]
What = Annotated[str | None, Query(pattern="^(" + "|".join(service.WHAT) + ")$")]
By = Annotated[str, Query(pattern="^(" + "|".join(service.BY) + ")$")]
ModelName = Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Months = Annotated[int, Query(ge=1, le=120)]
ListsQ = Annotated[list[str] | None, Query(max_length=3)]
Hops = Annotated[int, Query(ge=1, le=3)]


def _model_and_what(models: list[str], model: str | None, what: str | None) -> tuple[str | None, str]:
    """The page's defaults: the first model with a published run; its grades if any."""
    model = model if model in models else (models[0] if models else None)
    return model, what or ("grade" if model else "colour")


def _chosen(lists: list[str] | None, roles: list[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    chosen_lists = tuple(x for x in (lists or clusters.LISTS) if x in CLUSTER_LISTS) or clusters.LISTS
    chosen_roles = tuple(x for x in (roles or clusters.ROLES) if x in clusters.ALL_ROLES) or clusters.ROLES
    return chosen_lists, chosen_roles


@router.get("/analysis")
def analysis_page(request: Request, who: Who, session: DB, what: What = None, by: By = "street",
                  model: ModelName = None, months: Months = 12) -> Response:
    grant = authorize(who, "analysis.read")
    scope = grant.subject_clause()
    models = service.published_models(session)
    model, what = _model_and_what(models, model, what)
    dist: dict[str, Any] | None = None
    dist_error = None
    try:
        dist = service.distribution(session, what=what, by=by, model=model, scope=scope)
    except (InvalidInput, NotFound) as exc:
        dist_error = refusal(exc)
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
    # A model's grades (Changxing's 优/良/差) named in the page's language, as the exports name them.
    lang = i18n.current.get()
    shown = [*(dist["categories"] if dist and what == "grade" else []), *(trend["grades"] if trend else [])]
    grade_names = {g: labels.label("grade", g, lang) for g in shown}
    return render(request, "analysis.html", {
        "what": what, "by": by, "model": model, "months": months, "models": models,
        "whats": service.WHAT, "bys": service.BY, "dist": dist, "dist_error": dist_error, "trend": trend,
        "risk": risk, "scope_label": scope_label(grant), "grade_names": grade_names})



@router.get("/analysis/clusters")
def clusters_page(request: Request, who: Who, session: DB, lists: ListsQ = None, roles: ListsQ = None,
                  hops: Hops = 2) -> Response:
    """Clusters around listed subjects in the viewer's scope (关联分析), with a drill-down
    from each member to its credit file — the same read as `GET /api/v1/analysis/clusters`."""
    grant = authorize(who, "analysis.read")
    chosen_lists, chosen_roles = _chosen(lists, roles)
    data = scoped_clusters(session, grant, lists=chosen_lists, roles=chosen_roles, hops=hops)
    return render(request, "analysis_clusters.html", {
        "data": data, "all_lists": CLUSTER_LISTS, "all_roles": clusters.ALL_ROLES, "scope_label": scope_label(grant)})

# ---------------------------------------------------------------------------- exports


def _export(request: Request, session: Session, who: Principal, fmt: str, *, table: str, title: tuple[str, str],
            header: Sequence[str], rows: Iterable[Sequence[Any]], detail: dict[str, Any]) -> Response:
    """Audits the export (who, which table and filters, how many rows) before it goes out."""
    body = list(rows)
    audit.append(session, action="analysis.export", actor=who.actor,
                 detail={"table": table, "format": fmt, **detail, "rows": len(body)})
    session.commit()
    lang = i18n.page_language(request.cookies)
    return exports.stream(fmt, filename=f"analysis-{table}", title=tables.pick(title, lang), header=header,
                          rows=iter(body), count=len(body))


@router.get("/analysis/distribution.{fmt}")
def distribution_export(request: Request, who: Who, session: DB, fmt: Fmt, what: What = None, by: By = "street",
                        model: ModelName = None) -> Response:
    """The distribution table of the page under the same filters, totals row last."""
    grant = authorize(who, "analysis.read")
    model, what = _model_and_what(service.published_models(session), model, what)
    dist = service.distribution(session, what=what, by=by, model=model, scope=grant.subject_clause())
    header, rows = tables.distribution_table(dist, i18n.page_language(request.cookies))
    return _export(request, session, who, fmt, table="distribution", header=header, rows=rows,
                   title=tables.WHAT[what], detail={"what": what, "by": by, "model": dist.get("model"),
                                                    "run": dist.get("run_id")})


@router.get("/analysis/trend.{fmt}")
def trend_export(request: Request, who: Who, session: DB, fmt: Fmt, model: ModelName = None) -> Response:
    """The trend of the page's model: one row per published run (the last 12)."""
    grant = authorize(who, "analysis.read")
    model, _what = _model_and_what(service.published_models(session), model, None)
    if model is None:
        raise NotFound("no model has a published run", code="analysis.trend.no_run")
    header, rows = tables.trend_table(scoped_trend(session, grant, model, None, 12),
                                      i18n.page_language(request.cookies))
    return _export(request, session, who, fmt, table="trend", header=header, rows=rows,
                   title=("历次评价趋势", "Evaluation trend"), detail={"model": model})


@router.get("/analysis/risk.{fmt}")
def risk_export(request: Request, who: Who, session: DB, fmt: Fmt, months: Months = 12) -> Response:
    """The grid risk table: every grid in the viewer's scope, riskiest first."""
    grant = authorize(who, "analysis.read")
    lang = i18n.page_language(request.cookies)
    risk = service.grid_risk(session, months=months, scope=grant.subject_clause())
    return _export(request, session, who, fmt, table="risk", header=tables.RISK_HEADER[lang],
                   rows=tables.risk_rows(risk, lang), title=("网格风险研判", "Grid risk"),
                   detail={"months": months, "on": risk["on"]})


@router.get("/analysis/clusters.{fmt}")
def clusters_export(request: Request, who: Who, session: DB, fmt: Fmt, lists: ListsQ = None, roles: ListsQ = None,
                    hops: Hops = 2) -> Response:
    """The clusters page's members, one row each, clusters numbered as on the page."""
    grant = authorize(who, "analysis.read")
    chosen_lists, chosen_roles = _chosen(lists, roles)
    lang = i18n.page_language(request.cookies)
    data = scoped_clusters(session, grant, lists=chosen_lists, roles=chosen_roles, hops=hops)
    return _export(request, session, who, fmt, table="clusters", header=tables.CLUSTER_HEADER[lang],
                   rows=tables.cluster_rows(data, lang), title=("关联分析", "Clusters"),
                   detail={"lists": list(chosen_lists), "roles": list(chosen_roles), "hops": hops})


__all__ = ["router"]
