"""Exports of an evaluation run's scores (`/runs/{id}/scores.xlsx` or `.csv`, linked
from the runs page): the subjects in the reader's scope, residents' names masked; the
export is written to the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from creditgov.api.deps import DB, Id, Who
from creditgov.core import labels
from creditgov.scoring import access
from creditgov.security import service as audit
from creditgov.security.scopes import authorize
from creditgov.web import exports, i18n

router = APIRouter(include_in_schema=False)


@router.get("/runs/{run_id}/scores.{fmt}")
def run_scores_export(request: Request, run_id: Id, who: Who, session: DB,
                      fmt: Annotated[str, Path(pattern="^(xlsx|csv)$")]) -> Response:
    authorize(who, "runs.read")
    grant = authorize(who, "subjects.read")
    run = access.run_or_404(session, run_id)
    lang = i18n.page_language(request.cookies)
    rows = list(access.score_rows(session, grant, run.id, lang=lang))
    audit.append(session, action="scores.export", actor=who.actor,
                 detail={"format": fmt, "run": run.id, "model": run.model_name, "rows": len(rows)})
    session.commit()
    # The sheet's name (31 characters at most): the date whole, then the model's name as far as it goes.
    title = f"{run.as_of} {labels.label('model', run.model_name, lang)}"
    return exports.stream(fmt, filename=f"scores-run-{run.id}", title=title,
                          header=access.SCORE_HEADER[lang], rows=iter(rows), count=len(rows))
