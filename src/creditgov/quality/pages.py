"""`/quality`: the data-quality view, with the monthly trend drawn by ECharts from a
JSON block (static script: the Content-Security-Policy forbids inline ones), and
`/quality.json`, the same figures for other tools.

Lateness is judged with the data-quality warning rule's intervals, a rejection spike
with the rejection-jump rule's measure, and each source's
unresolved data-quality warnings are linked beside it (both read through
`alerts.queries`), so the page and the warnings sent to the departments agree."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from creditgov.alerts import queries as alert_queries
from creditgov.api.deps import DB, Who
from creditgov.core import labels
from creditgov.quality import service
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _data(session: DB) -> dict[str, Any]:
    rows = service.sources(session, **alert_queries.late_policy(session), jump=alert_queries.jump_policy(session))
    warned = alert_queries.source_alerts(session)
    for r in rows:
        r["alerts"] = warned.get(r["source"], [])
    return {"sources": rows, "trend": service.trend(session)}


@router.get("/quality")
def quality_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "quality.read")
    return render(request, "quality.html", {**_data(session), "frequencies": service.FREQUENCY_LABELS})


@router.get("/quality.json")
def quality_json(who: Who, session: DB) -> Response:
    authorize(who, "quality.read")
    data = _data(session)
    for r in data["sources"]:      # codes kept; labels beside them
        labels.annotate(r, department="department", frequency="request_frequency")
        for a in r["alerts"]:
            labels.annotate(a, rule="warning_rule", severity="alert_severity", status="alert_status")
        r["labels"]["source"] = r["source_name"]
        r["labels"]["rejected_by_reason"] = {k: {"zh": labels.label("quarantine_reason", k, "zh"),
                                                 "en": labels.label("quarantine_reason", k, "en")}
                                             for k in r["rejected_by_reason"]}
    return JSONResponse(data)
