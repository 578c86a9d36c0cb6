"""Exports of the lists page (`/lists`): the entries the reader may see, with the page's
columns, as Excel or CSV (`/lists/export.xlsx`, `/lists/export.csv`), under the page's
filters and in its order (`?list=&status=&unit=&q=&sort=` as on the page). The export is
written to the audit chain (who, which filters, how many rows)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from creditgov.api.deps import DB, Who
from creditgov.lists import access
from creditgov.security import service as audit
from creditgov.security.scopes import authorize
from creditgov.web import exports, i18n

router = APIRouter(include_in_schema=False)


@router.get("/lists/export.{fmt}")
def lists_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern="^(xlsx|csv)$")],
                 list_code: Annotated[str | None, Query(alias="list", max_length=80)] = None,
                 status: Annotated[str | None, Query(max_length=20)] = None,
                 unit: Annotated[str | None, Query(max_length=50)] = None,
                 q: Annotated[str | None, Query(max_length=100)] = None,
                 sort: Annotated[str, Query(pattern="^(" + "|".join(access.SORTS) + ")$")] = "new") -> Response:
    grant = authorize(who, "lists.read")
    lang = i18n.page_language(request.cookies)
    rows = list(access.entry_rows(session, grant, list_code=list_code or None, status=status or None,
                                  unit=unit or None, q=q or None, sort=sort, lang=lang))
    audit.append(session, action="lists.export", actor=who.actor,
                 detail={"format": fmt, "list": list_code, "status": status, "unit": unit, "q": q, "sort": sort,
                         "rows": len(rows)})
    session.commit()  # the entry is written before the file goes out

    def body() -> Iterator[list[Any]]:
        yield from rows

    return exports.stream(fmt, filename=f"credit-lists{'-' + list_code if list_code else ''}",
                          title="信用名单" if lang == "zh" else "Credit lists", header=access.HEADER[lang],
                          rows=body(), count=len(rows))
