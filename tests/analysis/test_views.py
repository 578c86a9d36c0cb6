"""The regional-analysis API and page against the real application over real stores
(SQLite, evaluated, and PostgreSQL): every figure counts only the caller's data scope,
as the dashboard does — a grid worker's analysis covers its own grid alone, the credit
office's the whole county — and the numbers are what the store holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.alerts import colours
from creditgov.alerts.models import ColourCode
from creditgov.core import db
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.subjects.models import Region, Subject
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County, county_on

GRID = "CX-S02-G01"  # the grid worker's region (tests/api/county.py)


@dataclass
class Api:
    county: County
    client: TestClient
    evaluated: bool


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    evaluated = request.param == "sqlite"  # PostgreSQL proves the scopes; SQLite the figures
    with county_on(request, tmp_path_factory.mktemp("analysis-api"), evaluate=evaluated) as c:
        if evaluated:
            with db.session_scope(c.url) as s:
                colours.regenerate(s, actor="test")
        yield Api(c, client_for(c), evaluated)


def _get(api: Api, role: str, path: str) -> dict:
    r = api.client.get("/api/v1" + path, headers={"Authorization": f"Bearer {api.county.tokens[role]}"})
    assert r.status_code == 200, r.text
    return r.json()


def _in_grid(url: str) -> set[int]:
    with db.session_scope(url) as s:
        path = s.execute(select(Region.path).where(Region.code == GRID)).scalar_one()
        return set(s.execute(select(Subject.id).join(Region, Region.id == Subject.region_id)
                             .where(Region.path.startswith(path))).scalars())


def test_a_grid_workers_analysis_covers_only_its_grid(api: Api) -> None:
    url = api.county.url
    mine = _in_grid(url)
    with db.session_scope(url) as s:
        everyone = s.execute(select(func.count(Subject.id))).scalar_one()
        codes = dict(s.execute(select(ColourCode.subject_id, ColourCode.colour)).all())
    assert mine == {3, 4, 7} and everyone > len(mine)

    risk = _get(api, "grid_worker", "/analysis/grid-risk?months=12")
    assert [r["grid"] for r in risk["rows"]] == [GRID] and risk["rows"][0]["subjects"] == len(mine)
    office = _get(api, "credit_office", "/analysis/grid-risk?months=12")
    assert sum(r["subjects"] for r in office["rows"]) == everyone and len(office["rows"]) > 1

    for by in ("grid", "street", "kind"):
        d = _get(api, "grid_worker", f"/analysis/distribution?what=colour&by={by}")
        assert d["total"] == sum(1 for sid in codes if sid in mine)
        if by == "grid" and d["rows"]:
            assert [r["group"] for r in d["rows"]] == [GRID]
    d = _get(api, "credit_office", "/analysis/distribution?what=colour&by=grid")
    assert d["total"] == len(codes)
    if api.evaluated:  # the evaluated store has codes inside the grid and outside it
        assert len(codes) > sum(1 for sid in codes if sid in mine) >= 1

    # a model's trend: the scored subjects in scope, run by run
    tr = _get(api, "grid_worker", "/analysis/trend?model=community-resident")
    if not api.evaluated:
        assert tr["runs"] == []  # no published run on this store: no points, not an error
    else:
        with db.session_scope(url) as s:
            run_id = s.execute(select(EvaluationRun.id).where(EvaluationRun.model_name == "community-resident",
                                                              EvaluationRun.published.is_(True))).scalar_one()
            scored = set(s.execute(select(Score.subject_id).where(Score.run_id == run_id)).scalars())
        (point,) = tr["runs"]
        assert point["run_id"] == run_id and point["subjects"] == len(scored & mine) >= 1
        (all_point,) = _get(api, "credit_office", "/analysis/trend?model=community-resident")["runs"]
        assert all_point["subjects"] == len(scored) > point["subjects"]
        g = _get(api, "grid_worker", "/analysis/distribution?what=grade&by=grid&model=community-resident")
        assert g["run_id"] == run_id and g["total"] == len(scored & mine)
    r = api.client.get("/api/v1/analysis/trend?model=no-such-model",
                       headers={"Authorization": f"Bearer {api.county.tokens['grid_worker']}"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = api.client.get("/api/v1/analysis/grid-risk", headers={
        "Authorization": f"Bearer {api.county.tokens['bank_officer']}"})
    assert r.status_code == 403


def test_the_analysis_page_shows_the_scope(api: Api) -> None:
    import re

    c = client_for(api.county)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    c.post("/login", data={"username": "t-grid_worker", "password": PASSWORD, "csrf_token": token.group(1),
                           "next": "/"})
    r = c.get("/analysis?what=colour&by=grid&months=6")
    assert r.status_code == 200
    assert 'data-chart="risk"' in r.text and 'id="d-risk"' in r.text and 'id="d-dist"' in r.text
    assert f'data-testid="risk-{GRID}"' in r.text and "CX-S01-G01" not in r.text
    assert "近6个月" in r.text
    assert c.get("/analysis?by=nowhere").status_code == 422
