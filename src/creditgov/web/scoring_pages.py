"""Scoring pages: the evaluation models (评价模型) with a side-by-side comparison of two
versions, and the evaluation runs (评价批次). A subject's score explained is on its
credit file (`web/subject_pages.py`); the rules of every page module are in
`web/pages.py`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Who
from creditgov.scoring import service as scoring_service
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# ----------------------------------------------------------------------------- models and runs


@router.get("/models")
def models_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "models.read")
    return render(request, "models.html", {"versions": scoring_service.versions(session)})


def _flat(tree: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(n: dict[str, Any]) -> None:
        kids = n.get("children") or []
        out[n["code"]] = json.dumps({k: v for k, v in n.items() if k != "children"}, sort_keys=True)
        for c in kids:
            walk(c)

    for n in tree.get("indicators", []):
        walk(n)
    return out


@router.get("/models/compare")
def models_compare(request: Request, who: Who, session: DB, a: Annotated[str, Query(max_length=120)],
                   b: Annotated[str, Query(max_length=120)]) -> Response:
    """Two versions side by side, indicators whose definition differs marked."""
    authorize(who, "models.read")
    ta = scoring_service.get(session, a)[1].model_dump(mode="json", exclude_none=True)
    tb = scoring_service.get(session, b)[1].model_dump(mode="json", exclude_none=True)
    fa, fb = _flat(ta), _flat(tb)
    changed = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
    return render(request, "compare.html", {"a": a, "b": b, "ta": ta, "tb": tb, "changed": changed})


@router.get("/models/{ref}")
def model_page(request: Request, ref: str, who: Who, session: DB) -> Response:
    authorize(who, "models.read")
    row, m = scoring_service.get(session, ref)
    return render(request, "model.html", {"ref": f"{row.name}@{row.version}", "status": row.status,
                                          "t": m.model_dump(mode="json", exclude_none=True)})


@router.get("/runs")
def runs_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "runs.read")
    return render(request, "runs.html", {"runs": scoring_service.runs(session, limit=100)})


__all__ = ["router"]
