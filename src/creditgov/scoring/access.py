"""Read logic the scoring edges share: a run's scores as export rows — the subjects in
the reader's scope only, a resident's name masked where
the reader's masking policy says so (`Grant.masks_people`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import labels
from creditgov.core.errors import NotFound
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.crypto import mask_name
from creditgov.security.scopes import Grant
from creditgov.subjects.models import Subject

SCORE_HEADER = {"zh": ["主体编号", "主体类型", "主体", "得分", "等级", "信用码颜色"],
                "en": ["Subject", "Kind", "Name", "Score", "Grade", "Colour"]}
BATCH = 2000


def run_or_404(session: Session, run_id: int) -> EvaluationRun:
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound(f"evaluation run {run_id} not found")
    return run


def score_rows(session: Session, grant: Grant, run_id: int, *, lang: str) -> Iterator[list[Any]]:
    """The run's scores in subject order, read in batches so a large run streams."""
    after = 0
    while True:
        batch = session.execute(
            select(Score.subject_id, Score.score, Score.grade, Score.colour, Subject.kind, Subject.name,
                   Subject.resident_id_index)
            .join(Subject, Subject.id == Score.subject_id)
            .where(Score.run_id == run_id, Score.subject_id > after, grant.subject_clause())
            .order_by(Score.subject_id).limit(BATCH)).all()
        if not batch:
            return
        for sid, score, grade, colour, kind, name, personal in batch:
            yield [sid, labels.label("subject_kind", kind, lang), mask_name(name) if personal and grant.masks_people else name,
                   float(score), grade, labels.label("colour", colour, lang)]
        after = batch[-1][0]
