"""The credit check's related-party warnings (关联方风险提示), on both databases: a person
who is the legal representative of two firms, one of them put on the serious-dishonesty
list through the lists procedure. The warning names the path in Chinese and English,
masks residents as the caller's grant does, and changes no measure."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lists.helpers import add_run, publish_manual_entry
from tests.subjects.test_relations import FIRM, HOMESTAY, LI, MERCHANT, dated_links, ids

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.ingest import service as ingest
from creditgov.measures import service as measures
from creditgov.measures.catalogue import shipped_text
from creditgov.security import users as user_service
from creditgov.security.models import AuditEntry
from creditgov.subjects.models import Subject
from creditgov.web import i18n

SCENARIO = "administrative-approval"


@pytest.fixture
def related(county: str, keyring, mini: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The mini county with 李秀英 the legal representative of the textile firm and of the
    homestay; the firm graded A (so incentives apply to it); the homestay then listed."""
    dated_links(mini, extra=f"{HOMESTAY},330522199005120021,法定代表人,2020-05-01,\n")
    ingest.ingest_paths(county, keyring, [mini], actor="test")
    n = ids(county)
    with db.session_scope(county) as s:
        firm = s.get(Subject, n[FIRM])
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 30), [(firm, "A", "green")])
    return n


def _check(url: str, sid: int, **kw: object) -> dict:
    with db.session_scope(url) as s:
        return measures.check(s, scenario=SCENARIO, subject_id=sid, actor="window:1", **kw).as_dict()


def test_a_related_listed_party_is_warned_about_and_changes_no_measure(
        county: str, related: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    n = related
    before = _check(county, n[FIRM])
    assert before["related"] == [] and before["measures"]  # graded A: incentives apply
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", n[HOMESTAY])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s:
        homestay = s.get(Subject, n[HOMESTAY])
        assert homestay is not None
        stay = homestay.name

    after = _check(county, n[FIRM])
    assert [w["text_zh"] for w in after["related"]] == [
        f"法定代表人 李*英 同时是 {stay} 的法定代表人，该民宿在严重失信主体名单上"]
    w = after["related"][0]
    assert w["text_en"] == (f"Legal representative 李*英 is also the legal representative of {stay}, "
                            "which is on the serious-dishonesty list")
    assert (w["list"], w["hops"], w["roles"]) == ("serious-dishonesty", 2, ["legal_representative"] * 2)
    assert w["party"] == {"id": n[HOMESTAY], "kind": "homestay", "name": stay} and w["via"]["id"] == n[LI]
    # Information only: the firm's grade, lists and measures are what they were.
    for key in ("grade", "band", "lists", "measures", "available_with_commitment"):
        assert after[key] == before[key], key

    whole = _check(county, n[FIRM], mask_people=False)  # a viewer who sees residents whole
    assert whole["related"][0]["text_zh"].startswith(f"法定代表人 {LI} 同时是 {stay}")

    # From the person: the firm she represents is on the list (one link).
    person = _check(county, n[LI])
    assert [x["text_zh"] for x in person["related"]] == [f"李*英 是 {stay} 的法定代表人，该民宿在严重失信主体名单上"]
    assert person["related"][0]["text_en"] == (f"李*英 is the legal representative of {stay}, "
                                               "which is on the serious-dishonesty list")
    # The noodle shop's representative is only a former employee of the firm: no related party.
    assert _check(county, n[MERCHANT])["related"] == []
    with db.session_scope(county) as s:
        last = s.execute(select(AuditEntry).where(AuditEntry.action == "check", AuditEntry.subject_id == n[LI])
                         .order_by(AuditEntry.id.desc())).scalars().first()
        assert last is not None and json.loads(last.detail)["related"] == [[n[HOMESTAY], "serious-dishonesty"]]


def test_an_ended_role_is_no_relation(county: str, related: dict[str, int], mini: Path, keyring,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    n = related
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", n[HOMESTAY])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    (mini / "data" / "market_links_2026.csv").write_text(
        "企业信用代码,人员身份证号,角色,任职日期,离任日期\n"
        f"{HOMESTAY},330522199005120021,法定代表人,2020-05-01,2026-10-15\n", encoding="utf-8")
    ingest.ingest_paths(county, keyring, [mini], actor="test")
    assert _check(county, n[FIRM])["related"] == []


def test_the_check_page_and_the_api_word_the_warning_for_their_viewer(
        county: str, related: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = related
    publish_manual_entry(county, monkeypatch, "serious-dishonesty", n[HOMESTAY])
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(county) as s:
        stay = s.execute(select(Subject.name).where(Subject.id == n[HOMESTAY])).scalar_one()
        tokens = {}
        for role, scope in {"department_officer": {"department_code": "market"},
                            "bank_officer": {"organisation": "bank-a"}}.items():
            u = user_service.create_user(s, username=f"r-{role}", password="correct horse battery", role=role,
                                         actor="test", **scope)  # type: ignore[arg-type]  # scope columns by role
            tokens[role], _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
        user_service.grant_consent(s, subject_id=n[FIRM], organisation="bank-a", purpose="loan", actor="test")
    client = TestClient(create_app(county, tmp_path / "test.key"), base_url="https://testserver")

    def page(role: str, lang: str) -> str:
        client.cookies.set(i18n.LANG_COOKIE, lang)
        r = client.post(f"/subjects/{n[FIRM]}/check", data={"scenario": SCENARIO, "purpose": "审批"},
                        headers={"Authorization": f"Bearer {tokens[role]}"})
        assert r.status_code == 200, r.text
        return r.text

    zh = page("department_officer", "zh")
    assert "关联方风险提示" in zh and f"法定代表人 {LI} 同时是 {stay} 的法定代表人，该民宿在严重失信主体名单上" in zh
    assert "不改变适用的措施" in zh
    en = page("department_officer", "en")
    assert "Related parties" in en and (f"Legal representative {LI} is also the legal representative of {stay}, "
                                        "which is on the serious-dishonesty list") in en
    bank = page("bank_officer", "zh")
    assert "法定代表人 李*英 同时是" in bank and LI not in bank
    api = client.post("/api/v1/checks", json={"scenario": SCENARIO, "subject_id": n[FIRM]},
                      headers={"Authorization": f"Bearer {tokens['bank_officer']}"})
    assert api.status_code == 201 and api.json()["related"][0]["text_zh"].startswith("法定代表人 李*英")


def test_the_scenarios_file_says_which_related_parties_count(county_sqlite: str, tmp_path: Path) -> None:
    text = shipped_text("scenarios.yaml")
    assert "related_parties:\n  roles: [legal_representative, principal]\n  lists: [serious-dishonesty]" in text
    off = tmp_path / "scenarios.yaml"
    off.write_text(text.replace("  lists: [serious-dishonesty]\n", "  lists: [no-such-list]\n", 1), "utf-8")
    with db.session_scope(county_sqlite) as s, pytest.raises(ConfigError, match=r"related_parties\.lists\.0: "
                                                                                 r"unknown list 'no-such-list'"):
        measures.load_measures(s, scenarios_path=off, actor="test")
    off.write_text(text.replace("  lists: [serious-dishonesty]\n", "  lists: []\n", 1), "utf-8")
    with db.session_scope(county_sqlite) as s:
        measures.load_measures(s, scenarios_path=off, actor="test")
        sc = {x.code: x for x in measures.scenarios(s)}[SCENARIO]
        assert sc.related_parties is not None and sc.related_parties.lists == []
