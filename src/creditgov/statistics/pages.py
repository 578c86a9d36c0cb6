"""`/statistics`: the statistics form of a month or quarter as tables, with the same
form as a workbook (`/statistics/form.xlsx`) and a PDF (`/statistics/form.pdf`) in the
page's language. The figures come from `statistics.access`, as the API's do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Who
from creditgov.security.scopes import authorize
from creditgov.statistics import files
from creditgov.statistics.access import scoped_form
from creditgov.web import i18n
from creditgov.web.render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
PeriodQ = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-?([Qq][1-4]|\d{2})$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/statistics")
def statistics_page(request: Request, who: Who, session: DB, period: PeriodQ = None) -> Response:
    grant = authorize(who, "statistics.read")
    form = scoped_form(session, grant, period)
    return render(request, "statistics.html", {"form": form, "lang_key": i18n.page_language(request.cookies)})


@router.get("/statistics/form.xlsx")
def statistics_xlsx(request: Request, who: Who, session: DB, period: PeriodQ = None) -> Response:
    form = scoped_form(session, authorize(who, "statistics.read"), period)
    body = files.workbook(form, i18n.page_language(request.cookies))
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="statistics-{form["period"]["code"]}.xlsx"'})


@router.get("/statistics/form.pdf")
def statistics_pdf(request: Request, who: Who, session: DB, period: PeriodQ = None) -> Response:
    form = scoped_form(session, authorize(who, "statistics.read"), period)
    body = files.pdf(form, i18n.page_language(request.cookies))
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statistics-{form["period"]["code"]}.pdf"'})
