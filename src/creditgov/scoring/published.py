"""Published model versions as other domains read them: each version's grades and
their shared bands (the credit check reads the band of the version that graded the
subject), and the latest published version of each model (measures and scenarios are
validated against it). Read-only and light: no engine is imported here, so the check
path stays fast.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from creditgov.scoring.model import EvaluationModel, parse_model
from creditgov.scoring.models import ModelVersion

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
