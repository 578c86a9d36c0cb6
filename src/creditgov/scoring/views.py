"""API routes for evaluation models, runs and a subject's explanation. Thin: reads
through `scoring.service`; running an evaluation stays a CLI/operator action."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from creditgov.api.deps import DB, Id, keyring, require
from creditgov.core import labels
from creditgov.core.labels import Label
from creditgov.scoring import access, narrative
from creditgov.scoring import service as scoring_service
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant, default_purpose

router = APIRouter(tags=["scoring"])
ModelsRead = Annotated[Grant, Depends(require("models.read"))]


class ModelVersionOut(BaseModel):
    name: str
    version: str
    status: str
    content_hash: str
    created_at: str
    published_at: str | None
    labels: dict[str, Label] = Field(default_factory=dict, description="name, status: names in zh and en")


class RunOut(BaseModel):
    id: int
    model: str
    version: str
    as_of: str
    engine: str
    status: str
    published: bool
    subjects: int
    grades: dict[str, int]
    seconds: float | None
    started_at: str
    labels: dict[str, Label] = Field(default_factory=dict, description="model, status: names in zh and en")


def _run(r: Any) -> RunOut:
    return RunOut(**labels.annotate(
        {"id": r.id, "model": r.model_name, "version": r.model_version, "as_of": r.as_of.isoformat(),
         "engine": r.engine, "status": r.status, "published": r.published, "subjects": r.subjects,
         "grades": r.grades or {}, "seconds": r.seconds, "started_at": r.started_at.isoformat(timespec="seconds")},
        model="model", status="run_status"))


@router.get("/models", response_model=list[ModelVersionOut], operation_id="models_list")
def models_list(grant: ModelsRead, session: DB) -> list[ModelVersionOut]:
    """Every evaluation model version, draft or published."""
    return [ModelVersionOut(**labels.annotate(
        {"name": m.name, "version": m.version, "status": m.status, "content_hash": m.content_hash,
         "created_at": m.created_at.isoformat(timespec="seconds"),
         "published_at": m.published_at.isoformat(timespec="seconds") if m.published_at else None},
        name="model", status="model_status")) for m in scoring_service.versions(session)]


@router.get("/models/{ref}", operation_id="models_get")
def models_get(ref: str, grant: ModelsRead, session: DB) -> dict[str, Any]:
    """One model as its validated tree (NAME for the latest published, NAME@VERSION)."""
    row, model = scoring_service.get(session, ref)
    return labels.annotate({"name": row.name, "version": row.version, "status": row.status,
                            "tree": model.model_dump(mode="json", exclude_none=True)},
                           name="model", status="model_status")


@router.get("/runs", response_model=list[RunOut], operation_id="runs_list")
def runs_list(grant: Annotated[Grant, Depends(require("runs.read"))], session: DB,
              model: Annotated[str | None, Query(max_length=80)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[RunOut]:
    """Evaluation runs, newest first."""
    return [_run(r) for r in scoring_service.runs(session, model=model, limit=limit)]


@router.get("/subjects/{subject_id}/explanation", operation_id="subjects_explanation")
def subjects_explanation(subject_id: Id, grant: Annotated[Grant, Depends(require("subjects.read"))], session: DB,
                         ring: Annotated[KeyRing, Depends(keyring)],
                         model: Annotated[str, Query(max_length=120, description="NAME or NAME@VERSION")],
                         as_of: dt.date | None = None,
                         purpose: Annotated[str | None, Query(max_length=200)] = None,
                         lang: Annotated[Literal["zh", "en"], Query(description="language of the sentences")] = "zh",
                         ) -> dict[str, Any]:
    """Why the subject has its score: every item, its input and points (exact), the
    records behind it, the overrides — and beside those codes, the same in words
    (`sentence`, `label`, `points_display`, `notes`, `summary`, `waterfall`) in `lang`.
    A person's explanation is a personal read (audited)."""
    grant.require_subject(session, subject_id)
    e = scoring_service.explain_subject(session, ring, str(subject_id), ref=model, as_of=as_of,
                                        actor=grant.principal.actor,
                                        purpose=purpose or default_purpose(grant.principal))
    _row, m = scoring_service.get(session, f"{e.model}@{e.version}")
    return narrative.narrate(session, access.explanation_for(session, grant, e.as_dict()), m, lang)
