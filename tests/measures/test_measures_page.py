"""The measures page (/measures) on a real store (SQLite and PostgreSQL), through the
app's pages: the statistics of checks and feedback are a labelled table in both
languages — departments, scenarios and measures by their names, a totals row — and say
"no checks yet" when there are none, never a JSON dump; the 信用核查 button shows only
to a role that may run a check, and a role that may not is refused /check with a
sentence in its own language, the service's words folded under the details."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from tests.lists.helpers import add_run, make_subject

from creditgov.api.app import create_app
from creditgov.catalog.models import Department
from creditgov.core import db
from creditgov.measures import service as measures
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import Region
from creditgov.web import i18n

EVIL = '"><script>alert(1)</script> O\'Brien 😀 \u202e局'


@pytest.fixture
def site(county: str, tmp_path: Path):
    key = tmp_path / "measures.key"
    create_key_file(key)
    with db.session_scope(county) as s:
        s.add(Department(code="evil", name_zh=EVIL, name_en=EVIL + " (en)"))
        s.add(Region(code="T", name="测试县", level="county", depth=0, path="/T/"))
        s.flush()
        heads = {}
        for name, role, extra in (("office", "credit_office", {}), ("grid", "grid_worker", {"region_code": "T"}),
                                  ("market", "department_officer", {"department_code": "market"})):
            u = users.create_user(s, username=name, password=None, role=role, actor="test", **extra)
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(county, key), base_url="https://testserver"), heads, county


def test_no_checks_yet_in_both_languages(site) -> None:
    c, heads, _url = site
    for lang, words in (("zh", ("核查与反馈统计", "暂无核查记录")), ("en", ("Checks and feedback", "No checks yet"))):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        r = c.get("/measures", headers=heads["office"])
        assert r.status_code == 200 and all(w in r.text for w in words)
        assert 'data-testid="check-stats-empty"' in r.text and 'data-testid="check-stats"' not in r.text
        assert "awaiting_feedback" not in r.text and "&#34;rows&#34;" not in r.text and '"rows"' not in r.text


def test_the_statistics_are_a_labelled_table(site) -> None:
    c, heads, url = site
    with db.session_scope(url) as s:
        a, b = make_subject(s), make_subject(s)
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 30), [(a, "A", "green"), (b, "B", "green")])
        ids = (a.id, b.id)
    with db.session_scope(url) as s:
        first = measures.check(s, subject_id=ids[0], scenario="export-tax-refund")
        measures.check(s, subject_id=ids[1], scenario="export-tax-refund")
        measures.check(s, subject_id=ids[0], scenario="bank-lending", department="evil")
        measures.report_feedback(s, check_id=first.check_id, measure_code="paperless-export-tax-refund",
                                 applied=False, reason="资料不全")
        st = measures.stats(s)
    assert st["totals"]["checks"] == 3
    for lang, words in (("zh", ("核查单位", "应用场景", "核查次数", "返回措施", "已反馈", "已实施", "未实施", "待反馈", "合计",
                                "税务局", "出口退（免）税申报", EVIL)),
                        ("en", ("Checked by", "Scenario", "Checks", "Measures returned", "Reported back", "Applied",
                                "Not applied", "Awaiting feedback", "Total", "Tax Bureau", "Export tax refund",
                                EVIL + " (en)"))):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        r = c.get("/measures", headers=heads["office"])
        assert r.status_code == 200 and 'data-testid="check-stats"' in r.text
        assert "<script>alert(1)" not in r.text
        assert "awaiting_feedback" not in r.text and '"rows"' not in r.text and "&#34;rows&#34;" not in r.text
        for w in words:
            assert str(escape(w)) in r.text, (lang, w)
        total = re.search(r'data-testid="check-stats-total">(.*?)</tr>', r.text, re.S)
        assert total and re.findall(r"<th>(\d+)</th>", total.group(1)) == [
            str(st["totals"][k]) for k in ("checks", "measures_returned", "reported", "applied", "not_applied",
                                           "awaiting_feedback")]
        by_measure = re.search(r'data-testid="check-stats-measures">(.*?)</table>', r.text, re.S)
        assert by_measure and "paperless-export-tax-refund" not in by_measure.group(1)   # by its name
        assert re.search(r"<td>[^<]+</td><td>0</td><td>1</td>", by_measure.group(1))


def test_the_check_button_shows_only_to_who_may_check(site) -> None:
    c, heads, _url = site
    assert 'data-testid="check-button"' in c.get("/measures", headers=heads["office"]).text
    assert 'data-testid="check-button"' in c.get("/measures", headers=heads["market"]).text
    page = c.get("/measures", headers=heads["grid"])
    assert page.status_code == 200 and 'data-testid="check-button"' not in page.text and 'href="/check"' not in page.text


def test_a_refused_check_speaks_the_readers_language(site) -> None:
    c, heads, _url = site
    for lang, sentence in (("zh", "“网格员”角色没有此项权限。如需办理，请联系信用办。"),
                           ("en", "The role “Grid worker” does not have this permission. "
                                  "Ask the credit office if you need it done.")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        for path in ("/check", "/checks/export.csv", "/audit"):     # every permission refusal, not one page's
            r = c.get(path, headers={**heads["grid"], "accept": "text/html"})
            assert r.status_code == 403, (path, r.status_code)
            main = re.search(r'data-testid="error-detail">([^<]*)<', r.text)
            assert main and main.group(1) == sentence, (lang, path, main and main.group(1))
            assert "lacks permission" not in r.text  # the service's words are the API's, not the page's
