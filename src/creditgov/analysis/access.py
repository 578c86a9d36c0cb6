"""Scoped reads of regional analysis shared by the API (`analysis/views.py`) and the
analysis page (`web/analysis_pages.py`), so a page and its endpoint agree on what an
unknown model or a model without a published run means. No HTTP types here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.analysis import service
from creditgov.core.errors import NotFound
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun, ModelVersion
from creditgov.security.scopes import Grant


def scoped_trend(session: Session, grant: Grant, model: str, by: str | None, last: int) -> dict[str, Any]:
    """The trend of a model in the grant's scope: an unknown model (neither shipped nor
    stored) is NotFound; a known one with no published run yet has no points (shared
    with the page)."""
    if model not in scoring_service.shipped_texts() and session.execute(
            select(ModelVersion.id).where(ModelVersion.name == model).limit(1)).first() is None:
        raise NotFound(f"model {model!r} not found")
    published = select(EvaluationRun.id).where(EvaluationRun.model_name == model, EvaluationRun.published.is_(True),
                                               EvaluationRun.status == "done").limit(1)
    if session.execute(published).first() is None:
        return {"model": model, "by": by, "grades": [], "runs": []}
    return service.trend(session, model=model, by=by, last=last, scope=grant.subject_clause())


__all__ = ["scoped_trend"]
