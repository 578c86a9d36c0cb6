"""What other platforms sent is used, on both databases: the upper platform's
evaluation of a subject this region has not graded counts in a credit check where the
scenario reads it (scenarios.yaml `upper_evaluations`, with its citation) and only at
the bands it names; the credit file shows it with issuer, date and grade in both
languages; a received inspection result is shown on the file and counts against the
random draws' yearly cap."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.exchange import apply, channels, signing
from creditgov.exchange.schemas import PeerIn
from creditgov.measures import service as measures_service
from creditgov.records import received
from creditgov.reports import service as report_service
from creditgov.security import users as user_service
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from creditgov.supervision import draws
from creditgov.supervision.service import load_policies, policy
from creditgov.web.i18n import LANG_COOKIE
from tests.exchange.test_apply import HOSTILE, UPPER, _package, _pub
from tests.lists.helpers import make_subject


@pytest.fixture
def county_with_upper(county: str, keyring: KeyRing) -> tuple[str, KeyRing, dict[str, int]]:
    """A county bound to the province as its upper platform, and three firms it has
    not graded."""
    with db.session_scope(county) as s:
        signing.create_identity(s, keyring, node="anlan", actor="test")
        channels.add_peer(s, PeerIn(channel="upper", node="province", public_key=_pub(UPPER), transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
        firms = {k: make_subject(s, kind="enterprise", name=HOSTILE if k == "good" else None).id
                 for k in ("good", "fair", "old")}
    return county, keyring, firms


def _ref(url: str, sid: int) -> dict[str, Any]:
    with db.session_scope(url) as s:
        subj = s.get(Subject, sid)
        assert subj is not None
        return {"kind": "enterprise", "name": subj.name, "uscc": subj.uscc}


def _evaluation(ref: dict[str, Any], grade: str, band: str, as_of: str) -> dict[str, Any]:
    return {"kind": "evaluation.result", "model": "province-public-credit", "model_version": "2026.1",
            "as_of": as_of, "score": "88.50", "grade": grade, "colour": "green", "band": band, "subject": ref}


def _check(url: str, sid: int, scenario: str) -> Any:
    with db.session_scope(url) as s:
        return measures_service.check(s, scenario=scenario, subject_id=sid, actor="test")


def test_upper_evaluations_count_in_the_check_and_show_on_the_file(
        county_with_upper: tuple[str, KeyRing, dict[str, int]], tmp_path: Path, cli: Any) -> None:
    url, ring, firms = county_with_upper
    refs = {k: _ref(url, sid) for k, sid in firms.items()}
    before = _check(url, firms["good"], "administrative-approval")
    assert before.band is None and before.upper_evaluation is None
    with db.session_scope(url) as s:
        apply.receive(s, ring, _package(1, [
            _evaluation(refs["good"], "A", "excellent", "2026-10-31"),
            _evaluation(refs["fair"], "C", "fair", "2026-10-31"),
            _evaluation(refs["old"], "A", "excellent", "2025-06-30"),
            {"kind": "inspection.result", "task_kind": "random", "department": "market", "outcome": "problems",
             "finding": HOSTILE, "decision_no": "湖市监〔2026〕8号", "penalty_amount": None, "score": None,
             "inspected_on": "2026-10-20", "subject": refs["fair"]}]))

    good = _check(url, firms["good"], "administrative-approval")
    assert good.band == "excellent" and good.grade is None
    assert good.upper_evaluation is not None and good.upper_evaluation["accepted"]
    assert (good.upper_evaluation["issuer"], good.upper_evaluation["as_of"], good.upper_evaluation["grade"]) == \
        ("province", "2026-10-31", "A")
    assert "浙江省公共信用信息管理条例" in good.upper_evaluation["citation"]
    assert "fast-track-approval" in {m["code"] for m in good.measures}
    assert good.as_dict()["upper_evaluation"]["accepted"] is True
    # A scenario that does not read upper evaluations, a band it does not count, an old one.
    tax = _check(url, firms["good"], "export-tax-refund")
    assert tax.band is None and tax.upper_evaluation is not None and not tax.upper_evaluation["accepted"]
    assert "does not read" in tax.upper_evaluation["why"]
    fair = _check(url, firms["fair"], "administrative-approval")
    assert fair.band is None and "'fair'" in fair.upper_evaluation["why"]
    lending = _check(url, firms["good"], "bank-lending")
    assert lending.upper_evaluation["accepted"] and lending.band == "excellent"
    old = _check(url, firms["old"], "administrative-approval")
    assert old.band is None and "older than 400 days" in old.upper_evaluation["why"]
    said = cli("--db", url, "--key-file", str(tmp_path / "test.key"), "check", str(firms["good"]),
               "--scenario", "administrative-approval")
    assert said.exit_code == 0, said.output
    assert "upper-platform evaluation: province 2026-10-31 grade A, accepted, band excellent" in \
        " ".join(said.output.replace("│", " ").split())  # the panel's wrapped lines, unwrapped

    # The credit file, in both languages: issuer, date, grade and band; the inspection.
    with db.session_scope(url) as s:
        u = user_service.create_user(s, username="office", password=None, role="credit_office", actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    client = TestClient(create_app(url, tmp_path / "test.key"), base_url="https://testserver")  # the keyring's file
    for lang, words in (("zh", ("上级平台评价", "评价平台", "优秀(守信)", "其他平台的检查结果", "发现问题", "上级平台")),
                        ("en", ("Upper-platform evaluations", "Evaluated by", "Excellent",
                                "Inspection results from other platforms", "Problems found", "upper platform"))):
        client.cookies.set(LANG_COOKIE, lang)
        page = client.get(f"/subjects/{firms['good']}", headers={"authorization": f"Bearer {token}"}).text
        assert words[0] in page and words[1] in page and "province-public-credit" in page
        assert "2026-10-31" in page and words[2] in page and 'data-testid="upper-grade">A<' in page
        assert HOSTILE not in page  # the hostile name is escaped
        checked = client.post(f"/subjects/{firms['good']}/check", data={"scenario": "administrative-approval"},
                              headers={"authorization": f"Bearer {token}"})
        assert checked.status_code == 200, checked.text
        assert 'data-testid="check-upper" data-accepted="yes"' in checked.text
        assert words[0] in checked.text and ("已作为核查依据" if lang == "zh" else "counted in this check") in checked.text
        fair_page = client.get(f"/subjects/{firms['fair']}", headers={"authorization": f"Bearer {token}"}).text
        assert words[3] in fair_page and words[4] in fair_page and words[5] in fair_page
        assert "湖市监〔2026〕8号" in fair_page and "&#34;&gt;&lt;img" in fair_page


def test_a_received_inspection_counts_against_the_yearly_cap(
        county_with_upper: tuple[str, KeyRing, dict[str, int]]) -> None:
    url, ring, firms = county_with_upper
    as_of = dt.date(2026, 11, 1)
    with db.session_scope(url) as s:
        load_policies(s, actor="test")
        _row, p = policy(s, "lindian-enterprise")
        before = draws.candidates(s, p, draws.normalise_scope(None), as_of)
    assert {firms["fair"], firms["good"]} <= set(before.ids.values())
    item = {"kind": "inspection.result", "task_kind": "random", "department": "market", "outcome": "passed",
            "inspected_on": "2026-06-01", "subject": _ref(url, firms["fair"])}
    long_ago = {**item, "inspected_on": "2025-06-01", "subject": _ref(url, firms["good"])}
    with db.session_scope(url) as s:
        apply.receive(s, ring, _package(1, [item, long_ago]))
    with db.session_scope(url) as s:
        assert received.inspected_since(s, as_of - dt.timedelta(days=365)) == {firms["fair"]: 1}
        after = draws.candidates(s, p, draws.normalise_scope(None), as_of)
        rows = received.inspections(s, firms["fair"])
    assert firms["fair"] not in after.ids.values() and firms["good"] in after.ids.values()
    assert after.excluded["frequency_cap"] == before.excluded["frequency_cap"] + 1
    assert [(r["issuer"], r["upper"], r["inspected_on"], r["outcome"]) for r in rows] == \
        [("province", True, dt.date(2026, 6, 1), "passed")]


def test_the_report_names_the_upper_evaluation(county_with_upper: tuple[str, KeyRing, dict[str, int]]) -> None:
    url, ring, firms = county_with_upper
    evaluation = {**_evaluation(_ref(url, firms["good"]), "A", "excellent", "2026-10-31"), "model": HOSTILE[:40]}
    with db.session_scope(url) as s:
        apply.receive(s, ring, _package(1, [evaluation]))
    for lang, words in (("zh", ("上级平台评价", "上级平台 province", "2026-10-31", "A（优秀(守信)）")),
                        ("en", ("Evaluations from the upper platform", "Upper platform province", "2026-10-31",
                                "A (Excellent)"))):
        with db.session_scope(url) as s:
            pdf, _row = report_service.issue(s, ring, subject_id=firms["good"], actor="test", purpose="test",
                                             verify_base="https://testserver/verify", lang=lang)
        text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
        assert all(w in text for w in words), text[-800:]
        assert "<img src=x" in text  # the hostile model name shown as text, not read as markup
    with db.session_scope(url) as s:  # a subject with nothing received: no line
        pdf, _row = report_service.issue(s, ring, subject_id=firms["fair"], actor="test", purpose="test",
                                         verify_base="https://testserver/verify")
    assert "上级平台评价" not in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
