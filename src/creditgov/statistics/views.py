"""API routes of the statistics forms: the figures as JSON, the workbook and the PDF,
limited to the caller's data scope (`statistics.access`). Thin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from creditgov.api.deps import DB, require
from creditgov.security.scopes import Grant
from creditgov.statistics import files
from creditgov.statistics.access import scoped_form

router = APIRouter(tags=["statistics"])
StatsRead = Annotated[Grant, Depends(require("statistics.read"))]
PeriodQ = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-?([Qq][1-4]|\d{2})$",
                                      description="2026-10 (a month) or 2026Q4 (a quarter); default: last month")]
LangQ = Annotated[str, Query(pattern="^(zh|en)$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/statistics/form", operation_id="statistics_form")
def statistics_form(grant: StatsRead, session: DB, period: PeriodQ = None) -> dict[str, Any]:
    """The month's or quarter's summary tables (China Standard Time periods): subjects,
    records by department, lists in and out, checks and applied measures, objections
    and repairs with deadline compliance — counting only subjects in your scope."""
    return scoped_form(session, grant, period)


@router.get("/statistics/form.xlsx", operation_id="statistics_form_xlsx")
def statistics_form_xlsx(grant: StatsRead, session: DB, period: PeriodQ = None, lang: LangQ = "zh") -> Response:
    form = scoped_form(session, grant, period)
    return Response(files.workbook(form, lang), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="statistics-{form["period"]["code"]}.xlsx"'})


@router.get("/statistics/form.pdf", operation_id="statistics_form_pdf")
def statistics_form_pdf(grant: StatsRead, session: DB, period: PeriodQ = None, lang: LangQ = "zh") -> Response:
    form = scoped_form(session, grant, period)
    return Response(files.pdf(form, lang), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statistics-{form["period"]["code"]}.pdf"'})
