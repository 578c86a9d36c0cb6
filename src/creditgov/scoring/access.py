"""Read logic the scoring edges share: a run's scores as export rows — the subjects in
the reader's scope only, a resident's name masked where
the reader's masking policy says so (`Grant.masks_people`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import labels
from creditgov.core.errors import NotFound
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.crypto import mask_name
from creditgov.security.scopes import Grant, Scope
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


def explanation_for(session: Session, grant: Grant, e: dict[str, Any]) -> dict[str, Any]:
    """An explanation (`Explanation.as_dict()`) as this grant may read it: to a department,
    the records it names are only those it may see in the file (`Grant.visible_records`),
    so it is not told of another's restricted loan or police case by the score's
    reasons. The items and their points stay: the score is what it is."""
    if grant.scope is not Scope.DEPARTMENT:  # the others' file rules let them see what the score reads
        return e
    ids = {int(r["id"]) for key in ("items", "bonuses") for it in e.get(key, []) for r in it["records"]}
    ids |= {int(r["id"]) for r in e.get("excluded_records", [])}
    ids |= {int(r["id"]) for o in e.get("overrides", []) for r in o["evidence"] if "id" in r and "item" in r}
    if not ids:
        return e
    q = (select(CreditRecord.id, CreditRecord.department_code, CatalogItem.data_class)
         .join(CatalogItem, CatalogItem.code == CreditRecord.item_code).where(CreditRecord.id.in_(ids)))
    rows = [{"id": i, "department": d, "data_class": c} for i, d, c in session.execute(q).tuples()]
    seen = {int(r["id"]) for r in grant.visible_records(rows)}
    if seen >= ids:
        return e

    def shown(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in records if "id" not in r or int(r["id"]) in seen]

    out = dict(e)
    for key in ("items", "bonuses"):
        out[key] = [{**it, "records": shown(it["records"])} for it in e.get(key, [])]
    out["excluded_records"] = shown(e.get("excluded_records", []))
    out["overrides"] = [{**o, "evidence": [r for r in o["evidence"] if "item" not in r or int(r["id"]) in seen]}
                        for o in e.get("overrides", [])]
    return out
