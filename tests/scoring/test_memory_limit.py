"""An evaluation on DuckDB held to the smallest memory limit (core/duck.py) gives the
same digits as one left the machine's half, and a malformed limit is refused before a
run starts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from creditgov.core import db, duck
from creditgov.core.errors import ConfigError
from creditgov.scoring import engines, service
from creditgov.scoring.models import EvaluationRun, Score


def _digits(url: str, run_id: int) -> list[tuple[object, ...]]:
    with db.session_scope(url) as s:
        return [tuple(r) for r in s.execute(sa.select(Score.subject_id, Score.score, Score.grade, Score.colour,
                                                      Score.dimensions).where(Score.run_id == run_id)
                                            .order_by(Score.subject_id))]


def test_an_evaluation_held_to_the_smallest_limit_gives_the_same_digits(county: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url, as_of = county, dt.date(2026, 11, 1)
    free = service.evaluate(url, ref="qujiang-park", as_of=as_of, engine="duckdb")
    monkeypatch.setenv(duck.MEMORY_ENV, "64MB")
    with db.session_scope(url) as s:
        _, p = service.prepared_for(s, "qujiang-park", as_of)
    snap, _ = engines.snapshot(url, p)
    try:
        assert snap.execute("SELECT current_setting('memory_limit')").fetchone() == ("61.0 MiB",)  # 64 MB
    finally:
        snap.close()
    held = service.evaluate(url, ref="qujiang-park", as_of=as_of, engine="duckdb")
    assert held.subjects == free.subjects > 0
    assert _digits(url, held.run_id) == _digits(url, free.run_id)
    monkeypatch.setenv(duck.MEMORY_ENV, "a lot")
    with db.session_scope(url) as s:
        runs = s.execute(sa.select(sa.func.count()).select_from(EvaluationRun)).scalar_one()
    with pytest.raises(ConfigError, match="a lot"):
        service.evaluate(url, ref="qujiang-park", as_of=as_of, engine="duckdb")
    with db.session_scope(url) as s:  # refused before a run was made
        assert s.execute(sa.select(sa.func.count()).select_from(EvaluationRun)).scalar_one() == runs
