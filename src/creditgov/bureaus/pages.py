"""The credit office's page of the bureau export, `/bureaus`: per bureau of the bureaus
file in force, its runs with their status, records and subjects, when each was made,
written and acknowledged (zh/en; times in China Standard Time)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Who
from creditgov.bureaus import policy, service
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/bureaus")
def bureaus_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "bureaus.read")
    bureaus = [{"code": code, "runs": service.runs(session, bureau=code, limit=50)}
               for code in sorted(policy.names())]
    return render(request, "bureaus.html", {"bureaus": bureaus})
