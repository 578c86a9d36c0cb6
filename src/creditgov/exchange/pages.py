"""The exchange's page, `/exchange`: every channel with its peer and state, and the
latest packages sent and received (zh/en; times in China Standard Time). Its packages
as Excel or CSV: `/exchange/packages.xlsx` and `.csv` (`?channel=` as on the page; every
package, not only the latest 100), written to the audit chain (issue 19)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Who
from creditgov.exchange import access, service
from creditgov.exchange.models import ExchangeIdentity
from creditgov.security import service as audit
from creditgov.security.scopes import authorize
from creditgov.web import exports, i18n
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


@router.get("/exchange/packages.{fmt}")
def packages_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern=exports.FMT)],
                    channel: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    authorize(who, "exchange.read")
    lang = i18n.page_language(request.cookies)
    # Read before the response: the request's session closes as the body streams.
    rows = list(access.package_rows(session, channel=channel or None, lang=lang))
    audit.append(session, action="exchange.export", actor=who.actor,
                 detail={"format": fmt, "channel": channel, "rows": len(rows)})
    session.commit()  # the entry is written before the file goes out
    return exports.stream(fmt, filename=f"exchange-packages{'-' + channel if channel else ''}",
                          title="数据交换" if lang == "zh" else "Exchange packages",
                          header=access.PACKAGE_HEADER[lang], rows=iter(rows), count=len(rows))
