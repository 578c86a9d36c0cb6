"""Clusters around listed subjects (关联分析, issue 23) on SQLite and PostgreSQL, over a
built fixture whose subjects are put on the lists through the lists procedure: groups
joined by roles held today, hops counted from the listed subjects, ended roles and
roles not chosen left out, the viewer's scope never walked through, residents masked as
the viewer masks people; the API and the page in both languages, hostile names
unharmed, and a drill-down link from each member to its file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import true

from creditgov.analysis import access, clusters
from creditgov.api.app import create_app
from creditgov.core import clock, db
from creditgov.security import users
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant, Principal, Role, Scope
from creditgov.subjects.models import Subject, SubjectLink
from creditgov.web import i18n
from tests.lists.helpers import publish_manual_entry
from tests.workflows.helpers import make_firm

HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 ‮'
IDS = ("330522198001010011", "330522198202020022", "330522198303030033", "330522198404040044")


def _person(s, ring: KeyRing, name: str, rid: str) -> Subject:
    now = clock.now()
    p = Subject(kind="individual", name=name, status="confirmed", attributes={}, resident_id=ring.encrypt(rid),
                resident_id_index=ring.blind_index(rid), resident_id_masked=rid[:3] + "*" * 11 + rid[-4:],
                created_at=now, updated_at=now)
    s.add(p)
    s.flush()
    return p


@pytest.fixture
def graph(county: str, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A (serious-dishonesty) — P1 legal rep — B — P2 principal; P1 was F's legal rep
    until January; C (key-attention) with an employee P3; D (serious-dishonesty) and E
    (key-attention) share their legal rep P4."""
    with db.session_scope(county) as s:
        n = {k: make_firm(s, name=f"{k}公司" + (HOSTILE if k == "B" else "")).id for k in "ABCDEF"}
        for k, name, rid in zip(("P1", "P2", "P3", "P4"), ("王建国", "李秀英", "张伟", "赵敏"), IDS, strict=True):
            n[k] = _person(s, keyring, name, rid).id
        for firm, person, role, until in (("A", "P1", "legal_representative", None),
                                          ("B", "P1", "legal_representative", None),
                                          ("B", "P2", "principal", None),
                                          ("F", "P1", "legal_representative", dt.date(2026, 1, 1)),
                                          ("C", "P3", "employee", None),
                                          ("D", "P4", "legal_representative", None),
                                          ("E", "P4", "legal_representative", None)):
            s.add(SubjectLink(firm_id=n[firm], person_id=n[person], role=role, since=dt.date(2020, 1, 1), until=until))
    for code, k in (("serious-dishonesty", "A"), ("key-attention", "C"), ("serious-dishonesty", "D"),
                    ("key-attention", "E")):
        publish_manual_entry(county, monkeypatch, code, n[k])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    return n


def _groups(url: str, **kw: object) -> list[set[int]]:
    with db.session_scope(url) as s:
        return [set(c.members) for c in clusters.clusters(s, **{"scope": true(), **kw}).clusters]


def test_clusters_follow_roles_held_today(county: str, graph: dict[str, int]) -> None:
    n = graph
    two = _groups(county)
    assert two == [{n["D"], n["E"], n["P4"]}, {n["A"], n["P1"], n["B"]}, {n["C"]}]   # two listed first
    assert n["F"] not in set().union(*two)                                          # an ended role
    three = _groups(county, hops=3)
    assert {n["A"], n["P1"], n["B"], n["P2"]} in three
    assert {n["C"], n["P3"]} in _groups(county, roles=clusters.ALL_ROLES)           # employees when asked
    assert _groups(county, lists=("key-attention",)) == [{n["D"], n["E"], n["P4"]}, {n["C"]}]
    # The scope is never walked through: without B, P2 is not reached even three links out.
    assert {n["A"], n["P1"]} in _groups(county, hops=3, scope=Subject.id != n["B"])


def test_members_are_named_as_the_viewer_sees_them(county: str, graph: dict[str, int]) -> None:
    n = graph
    office = Grant(Principal(role=Role.CREDIT_OFFICE, user_id=1, username="o"), "analysis.read", Scope.ALL)
    masked = Grant(Principal(role=Role.BANK, user_id=2, username="b"), "analysis.read", Scope.ALL)
    with db.session_scope(county) as s:
        whole = access.scoped_clusters(s, office)
        hidden = access.scoped_clusters(s, masked)
    c = next(c for c in whole["clusters"] if c["key"] == n["A"])
    assert (c["size"], c["listed_count"]) == (3, 1)
    assert [m["id"] for m in c["members"]][0] == n["A"] and c["members"][0]["lists"] == ["serious-dishonesty"]
    names = {m["id"]: m["name"] for m in c["members"]}
    assert names[n["P1"]] == "王建国" and names[n["B"]] == "B公司" + HOSTILE
    assert {(lk["person"], lk["role"], lk["firm"]) for lk in c["links"]} == {
        ("王建国", "legal_representative", "A公司"), ("王建国", "legal_representative", "B公司" + HOSTILE)}
    h = next(c for c in hidden["clusters"] if c["key"] == n["A"])
    assert {m["id"]: m["name"] for m in h["members"]}[n["P1"]] == "王*国"
    assert all(lk["person"] == "王*国" for lk in h["links"])


@pytest.fixture
def client(county: str, keyring: KeyRing, tmp_path: Path):
    key = tmp_path / "test.key"                       # the keyring fixture's file: the residents' IDs used it
    with db.session_scope(county) as s:
        tok = {}
        for name, role, dept in (("office", "credit_office", None), ("tax", "department_officer", "tax"),
                                 ("firm", "subject", None)):
            kw = {"subject_id": s.query(Subject.id).first()[0]} if role == "subject" else {}
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept, actor="t", **kw)
            tok[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='t')[0]}"}
    return TestClient(create_app(county, key), base_url="https://testserver"), tok


def test_the_api_and_the_page(county: str, graph: dict[str, int], client) -> None:
    n = graph
    c, tok = client
    r = c.get("/api/v1/analysis/clusters", headers=tok["office"])
    assert r.status_code == 200 and r.json()["total"] == 3
    r = c.get("/api/v1/analysis/clusters", params={"hops": 3, "roles": ["legal_representative", "principal",
                                                                          "employee"]}, headers=tok["office"])
    assert {m["id"] for m in r.json()["clusters"][1]["members"]} == {n["A"], n["P1"], n["B"], n["P2"]}
    assert c.get("/api/v1/analysis/clusters", params={"hops": 4}, headers=tok["office"]).status_code == 422
    assert c.get("/api/v1/analysis/clusters", params={"lists": "nope"}, headers=tok["office"]).status_code == 422
    # A department sees the subjects it has records on: none here.
    assert c.get("/api/v1/analysis/clusters", headers=tok["tax"]).json()["clusters"] == []
    assert c.get("/api/v1/analysis/clusters", headers=tok["firm"]).status_code == 403
    for lang, words in (("zh", "关联分析"), ("en", "Link analysis")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/analysis/clusters", headers=tok["office"])
        assert page.status_code == 200 and words in page.text
        assert "&lt;script&gt;" in page.text and "<script>alert(1)" not in page.text
        cards = page.text.split('data-testid="clusters-total"')[-1]        # the clusters, past the filter form
        shown = re.sub(r'href="[^"]*"', "", cards)  # the export links carry the filter's codes in their query
        assert f'href="/subjects/{n["P1"]}"' in cards and "serious-dishonesty" not in shown


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from tests.web.plain_county import build

    return build(tmp_path_factory.mktemp("clusters-demo"), subjects=300)


def test_the_demo_county_has_clusters_around_its_listed_firms(demo) -> None:
    """On a generated county (built as `make demo` builds its own): every cluster holds a
    listed member, members are disjoint, and at least one joins a listed firm to other
    subjects through its people."""
    with db.session_scope(demo.url) as s:
        found = clusters.clusters(s, scope=true())
        office = Grant(Principal(role=Role.CREDIT_OFFICE, user_id=1, username="o"), "analysis.read", Scope.ALL)
        shown = access.scoped_clusters(s, office, top=500)
    assert found.clusters and not found.truncated
    seen: set[int] = set()
    for c in found.clusters:
        assert c.listed and not (seen & set(c.members))
        seen |= set(c.members)
    assert max(len(c.members) for c in found.clusters) >= 3
    assert shown["total"] == len(found.clusters)
    assert all(m["name"] for c in shown["clusters"] for m in c["members"])
