"""Public recommendation lists (推荐名单): the subjects a published evaluation
recommends to the public, e.g. Changxing's homestays of 85 points and above,
"recommended to tourists" (paper §3).

Read, never stored: the latest published run of the list's model decides, so the list
follows each evaluation the credit office publishes; a subject on a punitive list in
force today is left out, and a resident's name would be masked like on every public
page. The lists are data (`data/recommendations.yaml`, or a deployment's own file
named by `CREDITGOV_RECOMMENDATIONS_FILE`).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import NotFound
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on
from creditgov.scoring import published
from creditgov.scoring.models import Score
from creditgov.security.crypto import mask_name
from creditgov.subjects.models import Region, Subject


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title_zh: str
    title_en: str
    model: str
    min_score: Decimal
    subject_kinds: list[str] = Field(min_length=1)
    unless_lists: list[str] = Field(default_factory=list)
    citation: str = Field(min_length=2)


class RecommendationsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    lists: list[Recommendation] = Field(min_length=1)


RECOMMENDATIONS = PolicyFile(RecommendationsFile, "creditgov.reports", "data/recommendations.yaml")


def definitions() -> dict[str, Recommendation]:
    own = os.environ.get("CREDITGOV_RECOMMENDATIONS_FILE")
    return {r.code: r for r in RECOMMENDATIONS.load(Path(own) if own else None).lists}


def recommended(session: Session, code: str, *, limit: int = 500) -> dict[str, Any]:
    """The list as the public sees it today: best score first."""
    r = definitions().get(code)
    if r is None:
        raise NotFound(f"no recommendation list {code!r}; known: {sorted(definitions())}",
                       code="reports.recommendation.not_found", params={"code": code})
    run = published.latest_run(session, r.model)
    head = {"code": r.code, "title_zh": r.title_zh, "title_en": r.title_en, "model": r.model,
            "min_score": str(r.min_score), "citation": r.citation.strip(), "on": clock.today().isoformat()}
    if run is None:
        return {**head, "run_id": None, "as_of": None, "rows": []}
    listed = (select(ListEntry.subject_id)
              .where(ListEntry.list_code.in_(r.unless_lists), listed_on(clock.today())))
    q = (select(Subject, Score.score, Score.grade, Region.name)
         .join(Score, and_(Score.subject_id == Subject.id, Score.run_id == run.id))
         .outerjoin(Region, Region.id == Subject.region_id)
         .where(Score.score >= r.min_score, Subject.kind.in_(r.subject_kinds), Subject.id.not_in(listed))
         .order_by(Score.score.desc(), Subject.id).limit(limit))
    rows = []
    for s, score, grade, region in session.execute(q):
        personal = s.resident_id_index is not None
        rows.append({"id": s.id, "name": mask_name(s.name) if personal else s.name,
                     "uscc": None if personal else s.uscc, "region": region, "score": str(score), "grade": grade})
    return {**head, "run_id": run.id, "as_of": run.as_of.isoformat(), "rows": rows}
