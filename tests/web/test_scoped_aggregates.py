"""Dashboard aggregates count only the viewer's scope, one model's scale per chart
(issue 21): for every role that has a dashboard, the trend's grade counts per run are
exactly the scored subjects in its scope, and no chart mixes two models' grades. Real
mini county, ingested and evaluated, on SQLite and PostgreSQL; the dashboard page of a
grid worker names its grid, not the grid's code."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import select

from creditgov.core import db, labels
from creditgov.ingest import service as ingest
from creditgov.reports import overview
from creditgov.scoring import service as scoring
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.crypto import create_key_file
from creditgov.security.scopes import Forbidden, Principal, Role, authorize
from creditgov.subjects.models import Region, Subject
from tests import store_template
from tests.lists.helpers import load_domain_data

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"

MODELS = ("public-credit-enterprise", "community-resident")
VIEWERS = {
    Role.ADMIN: {}, Role.CREDIT_OFFICE: {}, Role.DEPARTMENT: {"department_code": "market"},
    Role.GRID: {"region_code": "CX-S02-G01"}, Role.INSPECTOR: {"region_code": "CX-S01"},
    Role.BANK: {"organisation": "test-bank"}, Role.SUBJECT: {"subject_id": 1}, Role.PUBLIC: {},
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def evaluated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mini county ingested and evaluated once per database for the module."""
    tmp = tmp_path_factory.mktemp("scoped")
    place: AbstractContextManager[str] = (nullcontext(f"sqlite:///{tmp / 'creditgov.db'}") if request.param == "sqlite"
                                          else store_template.pg_schema(request.getfixturevalue("pg_base"), "t_scoped_"))
    os.environ["CREDITGOV_TODAY"] = "2026-11-01"
    with place as url:
        ring = create_key_file(tmp / "creditgov.key")
        store_template.fill(url)
        with db.session_scope(url) as s:
            load_domain_data(s)
        ingest.ingest_paths(url, ring, [MINI], actor="test")
        for model in MODELS:
            scoring.evaluate(url, ref=model, actor="test")
        yield url


def _principal(s, role: Role) -> Principal:
    scope = dict(VIEWERS[role])
    if "region_code" in scope:
        scope["region_path"] = s.execute(select(Region.path).where(Region.code == scope["region_code"])).scalar_one()
    return Principal(role=role, user_id=1, username=f"t-{role.value}", **scope)


@pytest.mark.parametrize("role", list(VIEWERS), ids=lambda r: r.value)
def test_trend_and_donuts_count_only_the_scope(evaluated: str, role: Role) -> None:
    with db.session_scope(evaluated) as s:
        who = _principal(s, role)
        try:
            grant = authorize(who, "dashboard.view")
        except Forbidden:
            assert role in (Role.BANK, Role.SUBJECT, Role.PUBLIC)
            return
        clause = grant.subject_clause()
        in_scope = set(s.execute(select(Subject.id).where(clause)).scalars())
        rows = overview.trend(s, scope=clause)
        assert {r["model"] for r in rows} == set(MODELS)
        for r in rows:
            expected = Counter(g for sid, g in s.execute(select(Score.subject_id, Score.grade)
                                                          .where(Score.run_id == r["run_id"])) if sid in in_scope)
            assert r["grades"] == dict(expected)
            assert r["subjects"] == sum(expected.values())
        whole = overview.trend(s)
        assert sum(r["subjects"] for r in rows) <= sum(r["subjects"] for r in whole)
        if role in (Role.GRID, Role.INSPECTOR, Role.DEPARTMENT):
            assert sum(r["subjects"] for r in rows) < sum(r["subjects"] for r in whole)
        # One model's scale per chart: a donut per model, its grades that model's own.
        dist = overview.distribution(s, scope=clause)
        grades_of = {m: set() for m in MODELS}
        for run in s.execute(select(EvaluationRun)).scalars():
            grades_of[run.model_name] |= set(s.execute(select(Score.grade).where(Score.run_id == run.id)).scalars())
        for model, donut in dist["grades_by_model"].items():
            assert set(donut) <= grades_of[model]
        # Colours count subjects, each once (the colour codes' rule), never the evaluations added up.
        latest = [r.id for r in overview.latest_runs(s)]
        scored = set(s.execute(select(Score.subject_id).where(Score.run_id.in_(latest))).scalars()) & in_scope
        assert sum(dist["colours"].values()) == len(scored)
        assert sum(sum(r["colours"].values()) for r in dist["regions"]) <= len(scored)
        for model, runs in overview.by_model(rows).items():
            assert {r["model"] for r in runs} == {model}


def test_scope_labels_name_the_grid(evaluated: str) -> None:
    """A grid worker's scope is named by its grid's name in both languages."""
    with labels.store(evaluated):
        assert labels.label("region", "CX-S02-G01", "zh") == "水口一网格"
        assert labels.label("region", "CX-S02-G01", "en") == "水口一网格"
        assert not re.search(r"CX-S\d", labels.label("region", "CX-S01", "en"))


def test_list_entries_page_by_page_in_scope(evaluated: str) -> None:
    """The lists page's query: the reader's scope, filters, sort and pages, on both
    databases; hostile text in the name filter is matched literally."""
    from creditgov.lists import access as list_access
    from creditgov.lists import service as lists_service
    from creditgov.lists.models import ListEntry

    with db.session_scope(evaluated) as s:
        if not s.execute(select(ListEntry.id).where(ListEntry.criterion == "manual")).first():
            for sid in (1, 2, 3, 5, 7):
                lists_service.propose(s, list_code="key-attention", subject_id=sid, basis="测试 <b>'\"",
                                      decision_no=f"测〔2026〕{sid}号", actor="test")
        everyone = authorize(_principal(s, Role.CREDIT_OFFICE), "lists.read").subject_clause()
        first = list_access.page_entries(s, scope=everyone, list_code="key-attention", sort="name", per_page=2)
        assert first.total >= 5 and first.pages == -(-first.total // 2) and len(first.entries) == 2
        names = [e["name"] for e in first.entries]
        assert names == sorted(names)
        second = list_access.page_entries(s, scope=everyone, list_code="key-attention", sort="name", per_page=2, page=2)
        assert not {e["id"] for e in first.entries} & {e["id"] for e in second.entries}
        last = list_access.page_entries(s, scope=everyone, list_code="key-attention", per_page=2, page=999)
        assert last.page == last.pages
        grid = authorize(_principal(s, Role.GRID), "lists.read").subject_clause()
        in_grid = set(s.execute(select(Subject.id).where(grid)).scalars())
        mine = list_access.page_entries(s, scope=grid, per_page=100)
        assert {e["subject_id"] for e in mine.entries} <= in_grid and mine.total < first.total
        assert list_access.page_entries(s, scope=everyone, q="%' OR 1=1 --").total == 0
        assert list_access.page_entries(s, scope=everyone, status="published", list_code="key-attention").total == 0
