"""Export of credit checks (`/checks/export.xlsx` or `.csv`, linked from the measures
page): the checks of subjects in the reader's scope — a department's or a bank's own —
residents' names masked; the export is written to the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from creditgov.api.deps import DB, Who
from creditgov.measures import access
from creditgov.security import service as audit
from creditgov.security.scopes import authorize
from creditgov.web import exports, i18n

router = APIRouter(include_in_schema=False)


@router.get("/checks/export.{fmt}")
def checks_export(request: Request, who: Who, session: DB, fmt: Annotated[str, Path(pattern="^(xlsx|csv)$")]) -> Response:
    grant = authorize(who, "check.run")
    lang = i18n.page_language(request.cookies)
    rows = list(access.check_rows(session, grant, lang=lang))
    audit.append(session, action="checks.export", actor=who.actor, detail={"format": fmt, "rows": len(rows)})
    session.commit()
    return exports.stream(fmt, filename="credit-checks", title="信用核查" if lang == "zh" else "Credit checks",
                          header=access.CHECK_HEADER[lang], rows=iter(rows), count=len(rows))
