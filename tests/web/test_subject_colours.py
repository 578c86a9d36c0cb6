"""The subject list by colour code: the dashboard's green, yellow and red counters link to
`/subjects?colour=…`, which lists exactly the subjects the counter counts — in the
viewer's scope, each subject once, by the colour codes' precedence over the latest run
of every model — with a colour column; the API's `/api/v1/subjects?colour=…` alike; an
unknown colour is refused (422) in words. A small county of two grids with runs of three
models (one superseded), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.alerts import colours
from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.reports import overview
from creditgov.security import users
from creditgov.security.crypto import create_key_file, load_key_file
from creditgov.security.scopes import Principal, Role, authorize
from creditgov.subjects import access
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Region
from tests.lists.helpers import add_run, make_subject

MINI_REGIONS = Path(__file__).resolve().parents[1] / "fixtures" / "mini" / "regions.yaml"
GRID, OTHER = "CX-S02-G01-M01", "CX-S01-G01-M01"
HOMESTAY, FIRM, RESIDENT = "changxing-homestay", "public-credit-enterprise", "community-resident"

# subject -> (cell, {model: colour} of the latest runs); the homestay scheme comes first
# in the colour codes' precedence, then the enterprise evaluation.
SUBJECTS = {
    "g1": (GRID, {HOMESTAY: "red", FIRM: "green"}),     # red: the homestay scheme decides
    "g2": (GRID, {HOMESTAY: "green", FIRM: "red"}),     # green, though one evaluation is red
    "g3": (GRID, {FIRM: "red"}),
    "g4": (GRID, {FIRM: "yellow"}),
    "g5": (GRID, {FIRM: "yellow"}),                     # red in the superseded run
    "g6": (GRID, {}),                                   # scored only by the superseded run
    "g7": (GRID, {FIRM: "green"}),
    "g8": (GRID, {RESIDENT: "yellow"}),
    "o1": (OTHER, {FIRM: "red"}),
    "o2": (OTHER, {FIRM: "red"}),
    "o3": (OTHER, {FIRM: "yellow"}),
    "o4": (OTHER, {HOMESTAY: "red"}),
}
IN_GRID = {"red": {"g1", "g3"}, "yellow": {"g4", "g5", "g8"}, "green": {"g2", "g7"}}
COUNTY = {"red": {"g1", "g3", "o1", "o2", "o4"}, "yellow": {"g4", "g5", "g8", "o3"}, "green": {"g2", "g7"}}


@pytest.fixture
def county(store: str, tmp_path: Path):
    key = tmp_path / "colours.key"
    create_key_file(key)
    with db.session_scope(store) as s:
        subject_service.load_regions(s, path=MINI_REGIONS, actor="test")
        cell = dict(s.execute(select(Region.code, Region.id)).tuples().all())
        subj = {}
        for name, (where, _runs) in SUBJECTS.items():
            subj[name] = make_subject(s, kind="individual" if name == "g8" else "enterprise", name=f"三色{name}")
            subj[name].region_id = cell[where]
        s.flush()
        add_run(s, FIRM, dt.date(2026, 9, 1), [(subj["g5"], "C", "red"), (subj["g6"], "C", "red")])
        for model, as_of in ((FIRM, dt.date(2026, 10, 1)), (HOMESTAY, dt.date(2026, 10, 1)),
                             (RESIDENT, dt.date(2026, 10, 1))):
            add_run(s, model, as_of, [(subj[n], "B", runs[model]) for n, (_w, runs) in SUBJECTS.items()
                                      if model in runs])
        tokens = {}
        for name, role, scope in (("grid", "grid_worker", {"region_code": "CX-S02-G01"}),
                                  ("office", "credit_office", {})):
            u = users.create_user(s, username=name, password=None, role=role, actor="test", **scope)
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
        ids = {n: sj.id for n, sj in subj.items()}
    return store, key, TestClient(create_app(store, key), base_url="https://testserver"), tokens, ids


def _get(c: TestClient, path: str, token: str, lang: str = "zh", status: int = 200):
    c.cookies.set("cg_lang", lang)
    r = c.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status, r.text
    return r


def _names(ids: dict[str, int], wanted: set[int]) -> set[str]:
    return {n for n, i in ids.items() if i in wanted}


def test_the_list_counts_each_colour_as_the_dashboard_does(county) -> None:
    """Service level: the grid worker's `find` by colour holds the subjects the
    dashboard's distribution counts for the same grant, and no others."""
    store, key, _c, _tok, ids = county
    with db.session_scope(store) as s:
        path = s.execute(select(Region.path).where(Region.code == "CX-S02-G01")).scalar_one()
        grid = Principal(role=Role.GRID, user_id=1, username="g", region_code="CX-S02-G01", region_path=path)
        office = Principal(role=Role.CREDIT_OFFICE, user_id=2, username="o")
        for who, want in ((grid, IN_GRID), (office, COUNTY)):
            dist = overview.distribution(s, scope=authorize(who, "dashboard.view").subject_clause(),
                                         precedence=colours.settings().precedence)
            grant = authorize(who, "subjects.search")
            for colour, names in want.items():
                found = access.find(s, load_key_file(key), grant, colour=colour, limit=100)
                assert dist["colours"][colour] == found.total == len(names), (who.role, colour)
                assert _names(ids, {i["id"] for i in found.items}) == names
                assert {i["colour"] for i in found.items} == {colour}
        every = access.find(s, load_key_file(key), authorize(grid, "subjects.search"), limit=100)
        shown = {n: i["colour"] for i in every.items for n in _names(ids, {i["id"]})}
        assert shown == {**{n: c for c, names in IN_GRID.items() for n in names}, "g6": None}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_counters_link_to_the_list_of_that_colour(county, lang: str) -> None:
    _store, _key, c, tok, ids = county
    for who, want in (("grid", IN_GRID), ("office", COUNTY)):
        board = _get(c, "/", tok[who], lang).text
        for colour, names in want.items():
            m = re.search(rf'<a href="([^"]+)" data-testid="stat-{colour}-link"[^>]*><b data-testid="stat-{colour}">'
                          rf"([\d,]+)</b></a>", board)
            assert m, board[:3000]
            assert m.group(1) == f"/subjects?colour={colour}" and int(m.group(2)) == len(names)
            page = _get(c, html.unescape(m.group(1)), tok[who], lang).text
            count = re.search(r'data-testid="result-count">([^<]*)<', page)
            assert count and count.group(1) == (f"共 {len(names)} 个主体" if lang == "zh" else f"{len(names)} subjects")
            listed = {int(i) for i in re.findall(r'<a href="/subjects/(\d+)">', page.split('data-testid="subject-results"')[1])}
            assert _names(ids, listed) == names
            # the colour column names each row's colour in the page's language, never its code
            cells = re.findall(r'data-testid="subject-colour"><span class="pill c-(\w+)">([^<]+)</span>', page)
            assert {cl for cl, _w in cells} == {colour} and len(cells) == len(names)
            assert {w for _c, w in cells} == {({"red": "红码", "yellow": "黄码", "green": "绿码"} if lang == "zh"
                                                  else {"red": "Red", "yellow": "Yellow", "green": "Green"})[colour]}
            assert f'<option value="{colour}" selected>' in page
    # the whole list of the grid: an unscored subject says so, in words
    page = _get(c, "/subjects", tok["grid"], lang).text
    assert ("尚未评价" if lang == "zh" else "Not yet evaluated") in page
    partial = _get(c, "/subjects/results?colour=yellow", tok["grid"], lang).text
    assert 'data-testid="result-count">' + ("共 3 个主体" if lang == "zh" else "3 subjects") in partial


def test_the_api_filters_by_colour_and_refuses_an_unknown_one(county) -> None:
    _store, _key, c, tok, ids = county
    for who, want in (("grid", IN_GRID), ("office", COUNTY)):
        for colour, names in want.items():
            body = _get(c, f"/api/v1/subjects?colour={colour}&limit=100", tok[who]).json()
            assert body["total"] == len(names)
            assert _names(ids, {i["id"] for i in body["items"]}) == names
            assert {i["colour"] for i in body["items"]} == {colour}
    every = _get(c, "/api/v1/subjects?limit=100", tok["grid"]).json()
    assert every["total"] == 8 and sum(i["colour"] is None for i in every["items"]) == 1
    for bad in ("purple", "RED", "红码"):
        for lang, words in (("zh", f"三色码只有绿码、黄码、红码三种，“{bad}”不是其中之一。"),
                            ("en", f"A colour code is green, yellow or red; “{bad}” is none of them.")):
            problem = _get(c, f"/api/v1/subjects?colour={bad}", tok["grid"], lang, status=422).json()
            assert problem["code"] == "subjects.colour_unknown" and repr(bad) in problem["detail"]
            assert problem["message"] == words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_refuses_an_unknown_colour_in_words(county, lang: str) -> None:
    _store, _key, c, tok, _ids = county
    page = html.unescape(_get(c, "/subjects?colour=purple", tok["grid"], lang, status=422).text)
    want = ("三色码只有绿码、黄码、红码三种，“purple”不是其中之一。" if lang == "zh"
            else "A colour code is green, yellow or red; “purple” is none of them.")
    assert want in page
