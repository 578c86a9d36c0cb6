"""Published model versions and runs as other domains read them: each version's
grades and their shared bands (the credit check reads the band of the version that
graded the subject), the latest published version of each model (measures and
scenarios are validated against it), and which runs are published and which is a
model's latest — the clause every domain reading a run uses, stated here once.
Read-only and light: no engine is imported here, so the check path stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from creditgov.scoring.model import EvaluationModel, parse_model
from creditgov.scoring.models import EvaluationRun, ModelVersion

_Q_PUBLISHED = (select(ModelVersion.name, ModelVersion.version, ModelVersion.text)
                .where(ModelVersion.status == "published").order_by(ModelVersion.published_at, ModelVersion.id))
#: Changes whenever a version is added or published: part of a cache key.
Q_STAMP = select(func.max(ModelVersion.id), func.max(ModelVersion.published_at))


@lru_cache(maxsize=256)
def _parsed(text: str, source: str) -> EvaluationModel:
    return parse_model(text, source)


def published(conn: Connection) -> dict[tuple[str, str], EvaluationModel]:
    """(name, version) -> model, for every published version in the store."""
    return {(name, version): _parsed(text, f"{name}@{version} (stored)")
            for name, version, text in conn.execute(_Q_PUBLISHED)}


def latest(conn: Connection) -> dict[str, EvaluationModel]:
    """name -> the latest published version (the one a new run uses)."""
    out: dict[str, EvaluationModel] = {}
    for (name, _version), m in published(conn).items():
        out[name] = m  # ordered by publication: the last one wins
    return out


def band_table(conn: Connection) -> dict[tuple[str, str], dict[str, str]]:
    """(name, version) -> grade label -> shared band."""
    return {key: m.bands() for key, m in published(conn).items()}


# ----------------------------------------------------------------------------- runs

#: A run other domains read: published. Only a finished run can be published
#: (`service.publish_run`), so `done` always holds too; it is stated all the same.
PUBLISHED: ColumnElement[bool] = and_(EvaluationRun.published.is_(True), EvaluationRun.status == "done")
#: "Latest" among runs: the newest as-of date, then the newest run of that date.
NEWEST_FIRST = (EvaluationRun.as_of.desc(), EvaluationRun.id.desc())


def newest_first(model: str | BindParameter[Any], *columns: Any, as_of: dt.date | None = None) -> Select[Any]:
    """`columns` (the run's id when none) of the model's published runs — with `as_of`,
    those of that date or earlier — newest first: `.limit(n)` gives the n latest.
    `model` may be a bound parameter, for a statement built once."""
    q = select(*(columns or (EvaluationRun.id,))).where(EvaluationRun.model_name == model, PUBLISHED)
    if as_of is not None:
        q = q.where(EvaluationRun.as_of <= as_of)
    return q.order_by(*NEWEST_FIRST)


def latest_run_id(model: str | BindParameter[Any], as_of: dt.date | None = None) -> Select[Any]:
    """The id of the model's latest published run (as of a date): run it for the id
    (None when there is none), or use its `.scalar_subquery()` inside a bigger statement."""
    return newest_first(model, as_of=as_of).limit(1)


def latest_run(session: Session, model: str, as_of: dt.date | None = None) -> EvaluationRun | None:
    """The model's latest published run (as of a date), or None."""
    return session.execute(newest_first(model, EvaluationRun, as_of=as_of).limit(1)).scalar_one_or_none()


def latest_runs(models: Collection[str] | None = None, *columns: Any, as_of: dt.date | None = None) -> Select[Any]:
    """`columns` (the run when none) of each model's latest published run — of every
    model with one, or of those in `models` — as of a date when given, in one statement
    for all the models, by model name."""
    rank = func.row_number().over(partition_by=EvaluationRun.model_name, order_by=NEWEST_FIRST)
    ranked = select(EvaluationRun.id, rank.label("rank")).where(PUBLISHED)
    if models is not None:
        ranked = ranked.where(EvaluationRun.model_name.in_(sorted(models)))
    if as_of is not None:
        ranked = ranked.where(EvaluationRun.as_of <= as_of)
    newest = ranked.subquery()
    return (select(*(columns or (EvaluationRun,)))
            .join(newest, and_(newest.c.id == EvaluationRun.id, newest.c.rank == 1))
            .order_by(EvaluationRun.model_name))
