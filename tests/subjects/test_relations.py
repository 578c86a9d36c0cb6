"""Relationships two links deep (`subjects.links`), the link dates they carry
(`since`/`until` from a links file) and what a grant sees of them
(`subjects.access.read_relations`), on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lists.helpers import publish_manual_entry

from creditgov.api.app import create_app
from creditgov.core.db import session_scope
from creditgov.core.errors import NotFound
from creditgov.ingest import service as ingest
from creditgov.security import users as user_service
from creditgov.security.scopes import Principal, Role, authorize
from creditgov.subjects.access import read_relations
from creditgov.subjects.links import relations
from creditgov.subjects.models import Subject
from creditgov.web import i18n

FIRM, MERCHANT, HOMESTAY = "91330522MA2B00010N", "92330522MA2B00020L", "91330522MA2B00030Q"
LI, WANG = "李秀英", "王建国"  # 330522199005120021, 330522198501010011 in the mini county's household roll

SPEC = """name: market_links
version: "2"
department: market
kind: links
file: market_links*.csv
format: csv
columns: {firm_uscc: 企业信用代码, person_id: 人员身份证号, role: 角色, since: 任职日期, until: 离任日期}
steps:
  - {field: "*", op: trim}
  - {field: role, op: map, map: {法定代表人: legal_representative, 负责人: principal, 员工: employee}}
  - {field: since, op: date}
  - {field: until, op: date}
"""
HEADER = "企业信用代码,人员身份证号,角色,任职日期,离任日期\n"


def dated_links(mini: Path, extra: str = "") -> None:
    """The mini county's links with the dates a register gives: 王建国 was an employee of
    the textile firm until June 2026 and represents the noodle shop."""
    (mini / "specs" / "market_links.yaml").write_text(SPEC, encoding="utf-8")
    (mini / "data" / "market_links.csv").write_text(
        HEADER
        + f"{FIRM},330522199005120021,法定代表人,2015年3月5日,\n"
        + f"{FIRM},330522198501010011,员工,2019/4/1,2026-06-30\n"
        + f"{MERCHANT},330522198501010011,法定代表人,20180611,\n"
        + f"{HOMESTAY},330522199512300035,负责人,2019.7.1,\n"
        + extra, encoding="utf-8")


def ids(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        return {k: v for k, v in s.execute(select(Subject.uscc, Subject.id)).tuples() if k} | {
            n: i for n, i in s.execute(select(Subject.name, Subject.id).where(Subject.name.in_((LI, WANG)))).tuples()}


def test_two_hops_with_roles_and_dates(store, keyring, mini) -> None:
    dated_links(mini)
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    n = ids(store)
    with session_scope(store) as s:
        conn = s.connection()
        rel = relations(conn, n[FIRM])
        got = {(lk.hop, lk.role, rel.nodes[lk.person_id].name, rel.nodes[lk.firm_id].uscc, lk.since, lk.until)
               for lk in rel.links}
        assert got == {
            (1, "legal_representative", LI, FIRM, dt.date(2015, 3, 5), None),
            (1, "employee", WANG, FIRM, dt.date(2019, 4, 1), dt.date(2026, 6, 30)),
            (2, "legal_representative", WANG, MERCHANT, dt.date(2018, 6, 11), None),  # through 王建国
        }
        assert {i: x.hop for i, x in rel.nodes.items()} == {n[FIRM]: 0, n[LI]: 1, n[WANG]: 1, n[MERCHANT]: 2}
        assert rel.nodes[n[LI]].personal and not rel.nodes[n[MERCHANT]].personal and not rel.truncated

        # Only the roles held on a day: 王建国 left the firm, so the noodle shop is no longer two links away.
        held = relations(conn, n[FIRM], held_on=dt.date(2026, 11, 1))
        assert [(lk.role, lk.person_id) for lk in held.links] == [("legal_representative", n[LI])]
        before = relations(conn, n[FIRM], held_on=dt.date(2026, 1, 1))
        assert {lk.firm_id for lk in before.by_hop(2)} == {n[MERCHANT]}
        assert relations(conn, n[FIRM], held_on=dt.date(2015, 1, 1)).links == []  # nothing began yet

        # From the person: its firms, then their other people.
        rel = relations(conn, n[WANG])
        assert {(lk.hop, lk.firm_id, lk.role) for lk in rel.links} == {
            (1, n[FIRM], "employee"), (1, n[MERCHANT], "legal_representative"), (2, n[FIRM], "legal_representative")}
        assert rel.nodes[n[LI]].hop == 2
        assert relations(conn, n[WANG], hops=1).by_hop(2) == []
        only_reps = relations(conn, n[FIRM], roles=["legal_representative"])
        assert [lk.person_id for lk in only_reps.links] == [n[LI]]

        # A hop with more links than kept keeps the controlling roles first, and says so.
        cut = relations(conn, n[FIRM], limit=1)
        assert cut.truncated and [lk.role for lk in cut.by_hop(1)] == ["legal_representative"]


def test_a_later_file_ends_a_role_and_a_role_ending_before_it_begins_is_refused(store, keyring, mini) -> None:
    dated_links(mini)
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    (mini / "data" / "market_links_2026.csv").write_text(
        HEADER
        + f"{FIRM},330522199005120021,法定代表人,2015年3月5日,2026年10月31日\n"  # she stepped down
        + f"{HOMESTAY},330522199512300035,负责人,,\n"  # the same link without dates: a duplicate
        + f"{HOMESTAY},330522198501010011,员工,2020-01-01,2019-01-01\n", encoding="utf-8")
    run = ingest.ingest_paths(store, keyring, [mini], actor="test")
    batch = next(b for b in run.batches if b["file"] == "market_links_2026.csv")
    assert (batch["accepted"], batch["corrected"], batch["duplicates"], batch["rejected"]) == (0, 1, 1, 1)
    assert any("ends" in r and "before it begins" in r for r in run.counts.reasons), run.counts.reasons
    n = ids(store)
    with session_scope(store) as s:
        rel = relations(s.connection(), n[FIRM])
        rep = next(lk for lk in rel.links if lk.role == "legal_representative" and lk.firm_id == n[FIRM])
        assert (rep.since, rep.until) == (dt.date(2015, 3, 5), dt.date(2026, 10, 31))
        assert not rep.held_on(dt.date(2026, 11, 1)) and rep.held_on(dt.date(2026, 10, 30))
        homestay = relations(s.connection(), n[HOMESTAY])
        assert [(lk.role, lk.since) for lk in homestay.links] == [("principal", dt.date(2019, 7, 1))]  # kept


def test_what_a_grant_sees_masked_people_and_unlinked_nodes_outside_its_scope(store, keyring, mini) -> None:
    dated_links(mini)
    ingest.ingest_paths(store, keyring, [mini], actor="test")
    n = ids(store)
    with session_scope(store) as s:
        for sid in (n[FIRM], n[MERCHANT]):
            user_service.grant_consent(s, subject_id=sid, organisation="bank-a", purpose="loan", actor="test")
        bank = authorize(Principal(role=Role.BANK, username="bank", organisation="bank-a"), "subjects.read")
        office = authorize(Principal(role=Role.CREDIT_OFFICE, username="office"), "subjects.read")

        seen = read_relations(s, bank, n[FIRM])
        people = {r["person"]["name"] for r in seen["rows"]}
        assert people == {"李*英", "王*国"}  # masked, as the bank's grant masks residents
        assert LI not in str(seen) and WANG not in str(seen)
        assert not any(r["person"]["linked"] for r in seen["rows"])  # residents never consented to the bank
        far = next(r for r in seen["rows"] if r["hop"] == 2)
        assert far["firm"]["id"] == n[MERCHANT] and far["firm"]["linked"]  # consented: in scope, linked
        assert far["via"]["name"] == "王*国" and far["role"] == "legal_representative"
        assert far["since"] == "2018-06-11" and far["until"] is None and far["held"]
        ended = next(r for r in seen["rows"] if r["role"] == "employee")
        assert ended["until"] == "2026-06-30" and not ended["held"]
        assert all(r["firm"]["self"] and not r["firm"]["linked"] for r in seen["rows"] if r["hop"] == 1)

        whole = read_relations(s, office, n[FIRM])
        assert {r["person"]["name"] for r in whole["rows"]} == {LI, WANG}
        assert all(r["person"]["linked"] for r in whole["rows"])

        # The noodle shop's file, read by the bank: its own links and, two away, the firm.
        assert {r["firm"]["id"] for r in read_relations(s, bank, n[MERCHANT])["rows"]} == {n[MERCHANT], n[FIRM]}
        with pytest.raises(NotFound):  # the homestay never consented to the bank
            read_relations(s, bank, n[HOMESTAY])


def test_the_file_page_shows_the_relationships_as_the_viewer_may_see_them(
        county: str, keyring, mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dated_links(mini)
    ingest.ingest_paths(county, keyring, [mini], actor="test")
    n = ids(county)
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", n[MERCHANT])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    tokens = {}
    with session_scope(county) as s:
        for sid in (n[FIRM], n[MERCHANT]):
            user_service.grant_consent(s, subject_id=sid, organisation="bank-a", purpose="loan", actor="test")
        for role, scope in {"bank_officer": {"organisation": "bank-a"}, "inspector": {"region_code": "CX-S01"}}.items():
            u = user_service.create_user(s, username=f"p-{role}", password="correct horse battery", role=role,
                                         actor="test", **scope)  # type: ignore[arg-type]  # scope columns by role
            tokens[role], _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    client = TestClient(create_app(county, tmp_path / "test.key"), base_url="https://testserver")

    def section(role: str, lang: str = "zh") -> str:
        client.cookies.set(i18n.LANG_COOKIE, lang)
        r = client.get(f"/subjects/{n[FIRM]}", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert r.status_code == 200, r.text
        start = r.text.index('id="relations"')
        return r.text[start:r.text.index("</table>", start)]

    bank = section("bank_officer")
    assert "<h2>关联关系</h2>" in bank
    assert '<span data-testid="unlinked">李*英</span>' in bank and '<span data-testid="unlinked">王*国</span>' in bank
    assert LI not in bank and WANG not in bank  # the bank's grant masks residents
    assert f'<a href="/subjects/{n[MERCHANT]}">' in bank  # consented: in the bank's scope, linked
    assert 'data-list="serious-dishonesty"' in bank and "严重失信主体名单" in bank  # the shop's badge
    assert "2018-06-11" in bank and "2026-06-30" in bank and "已离任" in bank and "间接关联" in bank

    inspector = section("inspector")  # CX-S01: the firm, the shop and both residents
    assert f'<a href="/subjects/{n[LI]}">{LI}</a>' in inspector
    assert f'<a href="/subjects/{n[WANG]}">{WANG}</a>' in inspector
    en = section("inspector", "en")
    assert "Legal representative" in en and "Indirect" in en and "through" in en and "(ended)" in en
    assert "Serious-dishonesty list" in en
