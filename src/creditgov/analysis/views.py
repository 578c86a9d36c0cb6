"""API routes for regional analysis (区域信用分析): distributions by street, grid,
industry or kind, trends across a model's published runs, and the risk per grid.
Thin: `analysis.service` computes, limited to the caller's data scope exactly as the
dashboard is (`Grant.subject_clause()`): a grid worker's figures count its own grid's
subjects only, a department's the subjects it has records on. The analysis page
(`web/analysis_pages.py`) calls the same service with the same scope, and the trend's
rules through `analysis.access.scoped_trend`, as this module does."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from creditgov.analysis import clusters, service
from creditgov.analysis.access import scoped_clusters, scoped_trend
from creditgov.analysis.schemas import By, DistributionOut, GridRiskOut, TrendOut, What
from creditgov.api.deps import DB, require
from creditgov.security.scopes import Grant

router = APIRouter(tags=["analysis"])
AnalysisRead = Annotated[Grant, Depends(require("analysis.read"))]
Model = Annotated[str, Query(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


@router.get("/analysis/distribution", response_model=DistributionOut, operation_id="analysis_distribution")
def analysis_distribution(grant: AnalysisRead, session: DB, what: Annotated[What, Query()],
                          by: Annotated[By, Query()] = "street", model: Model | None = None,
                          run_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                          since: Annotated[dt.date | None, Query()] = None) -> dict[str, Any]:
    """How grades (of a model's latest published run, or of `run_id`), red/yellow/green
    codes, alerts by severity or inspection outcomes spread over streets, grids,
    industries or kinds — counting only subjects in your scope. Alerts and inspections
    since `since` (default: the last 365 days)."""
    return service.distribution(session, what=what, by=by, model=model, run_id=run_id, since=since,
                                scope=grant.subject_clause())


@router.get("/analysis/trend", response_model=TrendOut, operation_id="analysis_trend")
def analysis_trend(grant: AnalysisRead, session: DB, model: Model, by: Annotated[By | None, Query()] = None,
                   last: Annotated[int, Query(ge=1, le=60)] = 12) -> dict[str, Any]:
    """A model's last published runs, oldest first: grade counts and shares and the
    mean score of the subjects in your scope, and with `by` the mean per group."""
    return scoped_trend(session, grant, model, by, last)


@router.get("/analysis/grid-risk", response_model=GridRiskOut, operation_id="analysis_grid_risk")
def analysis_grid_risk(grant: AnalysisRead, session: DB, months: Annotated[int, Query(ge=1, le=120)] = 12,
                       top: Annotated[int | None, Query(ge=1, le=500)] = None) -> dict[str, Any]:
    """Per grid in your scope, riskiest first: loans and overdue loans, utility arrears
    and late bills over the last `months`, red codes and open alerts, and the risk
    index (0–100) they make up."""
    return service.grid_risk(session, months=months, top=top, scope=grant.subject_clause())


ListCode = Literal["serious-dishonesty", "key-attention", "red"]
LinkRole = Literal["legal_representative", "principal", "employee"]


@router.get("/analysis/clusters", operation_id="analysis_clusters")
def analysis_clusters(grant: AnalysisRead, session: DB,
                      lists: Annotated[list[ListCode] | None, Query(max_length=3)] = None,
                      roles: Annotated[list[LinkRole] | None, Query(max_length=3)] = None,
                      hops: Annotated[int, Query(ge=1, le=3)] = 2,
                      top: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """Clusters around listed subjects in your scope (关联分析): connected groups of firms
    and people, through people's roles in firms held today, `hops` links out from each
    subject on `lists` (default: serious-dishonesty and key-attention; roles default:
    legal representative and principal). Each with its size, its listed members and
    every member's id for the drill-down to its file; residents masked as you see them."""
    return scoped_clusters(session, grant, lists=tuple(lists or clusters.LISTS),
                           roles=tuple(roles or clusters.ROLES), hops=hops, top=top)
