"""The exchange's page, `/exchange`: every channel with its peer and state, and the
latest packages sent and received (zh/en; times in China Standard Time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Who
from creditgov.exchange import access, service
from creditgov.exchange.models import ExchangeIdentity
from creditgov.security.scopes import authorize
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/exchange")
def exchange_page(request: Request, who: Who, session: DB,
                  channel: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    authorize(who, "exchange.read")
    me = session.query(ExchangeIdentity).first()
    pkgs = []
    for p in service.packages(session, channel=channel or None, limit=100):
        d = service.package_dict(p)
        d["direction_label"] = access.labelled(access.DIRECTION, p.direction)
        d["status_label"] = access.labelled(access.STATUS, p.status)
        d["kind_labels"] = [access.labelled(access.KIND, k) for k in p.kinds]
        d["created"] = p.created_at
        pkgs.append(d)
    return render(request, "exchange.html", {"me": me, "channels": service.status(session), "packages": pkgs,
                                             "channel": channel})
