"""The credit file page and the subject's own view say what a reader may follow and why,
in Chinese and English, on a real store (SQLite and PostgreSQL):

- a related person or firm is a link only where the reader may open its file — the one
  outside the reader's scope is named without a link (its file is a 404 for it);
- a record left out of the score is said by the records domain's own status label,
  every status of a record, never its code;
- the explanation starts from where the score starts: the model's base, each
  dimension's points, the score (as the report says it)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.records.labels import RECORD_STATUS
from creditgov.records.models import STATUSES
from creditgov.scoring import service as scoring_service
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import SubjectLink
from tests.lists.helpers import add_record, make_subject

HOSTILE = '周"<i>五</i>\u202e😀'
LEFT_OUT = [s for s in STATUSES if s != "active"]  # every status a record can be left out by


@pytest.fixture
def site(store: str, tmp_path: Path):
    """A firm (market records) with two people: its legal representative (a market
    record too: in a market officer's scope) and an employee (civility records only:
    outside it), whose honours stand in every status a record can have."""
    key = tmp_path / "words.key"
    create_key_file(key)
    on = dt.date(2026, 10, 1)
    with db.session_scope(store) as s:
        scoring_service.ensure_shipped(s, actor="test")
        firm = make_subject(s, kind="enterprise", name="诚信<b>纺织</b>有限公司")
        rep = make_subject(s, kind="individual", name="李四")
        emp = make_subject(s, kind="individual", name=HOSTILE)
        add_record(s, firm, "market.penalty", occurred_on=on)
        add_record(s, rep, "market.penalty", occurred_on=on)
        ids = {"firm": firm.id, "rep": rep.id, "emp": emp.id}
        for status in STATUSES:
            ids[status] = add_record(s, emp, "civility.honour", occurred_on=on, department="civility",
                                     status=status).id
        s.add_all([SubjectLink(firm_id=firm.id, person_id=rep.id, role="legal_representative"),
                   SubjectLink(firm_id=firm.id, person_id=emp.id, role="employee")])
        tokens = {}
        for name, role, scope in (("dept", "department_officer", {"department_code": "market"}),
                                  ("office", "credit_office", {}), ("resident", "subject", {"subject_id": emp.id})):
            u = users.create_user(s, username=name, password=None, role=role, actor="test", **scope)
            tokens[name] = users.issue_token(s, user_id=u.id, name="t", actor="test")[0]
    return TestClient(create_app(store, key), base_url="https://testserver"), tokens, ids


def _page(c: TestClient, path: str, token: str, lang: str, status: int = 200) -> str:
    c.cookies.set("cg_lang", lang)
    r = c.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status, r.text
    return r.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_related_subject_is_linked_only_where_the_reader_may_open_it(site, lang: str) -> None:
    c, tok, ids = site
    page = _page(c, f"/subjects/{ids['firm']}", tok["dept"], lang)
    card = page.split('data-testid="file-links"')[1].split("</ul>")[0]
    assert f'<a href="/subjects/{ids["rep"]}">李四</a>' in card
    assert f'<span data-testid="unlinked">{escape(HOSTILE)}</span>' in card  # named, as text, not linked
    assert f'href="/subjects/{ids["emp"]}"' not in page  # nowhere on the page
    assert ("法定代表人" if lang == "zh" else "Legal representative") in card
    _page(c, f"/subjects/{ids['emp']}", tok["dept"], lang, status=404)  # what the link would have opened
    # The office may open both.
    office = _page(c, f"/subjects/{ids['firm']}", tok["office"], lang).split('data-testid="file-links"')[1]
    card = office.split("</ul>")[0]
    assert f'href="/subjects/{ids["rep"]}"' in card and f'href="/subjects/{ids["emp"]}"' in card
    assert 'data-testid="unlinked"' not in card


TITLE = {"zh": "社区居民个人诚信积分", "en": "Community resident integrity score"}


def _explained(page: str, lang: str) -> tuple[str, str, list[str]]:
    """The community model's explanation on a page: (summary, the line from the base,
    the records left out, each as text)."""
    part = page.split(TITLE[lang], 1)[1]

    def text(s: str) -> str:
        return html.unescape(re.sub(r"<[^>]+>", "", s))

    summary = re.search(r'data-testid="explain-summary">(.*?)</p>', part, re.S)
    base = re.search(r'data-testid="explain-base">(.*?)</p>', part, re.S)
    block = re.search(r"<summary>(?:未计入的记录|Records not counted)[^<]*</summary><ul>(.*?)</ul>", part, re.S)
    assert summary is not None and base is not None and block is not None, part[:3000]
    return text(summary.group(1)), text(base.group(1)), [text(li) for li in re.findall(r"<li>(.*?)</li>",
                                                                                         block.group(1), re.S)]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("who", ["resident", "office"])
def test_records_left_out_are_said_by_their_status_labels_and_the_score_starts_from_its_base(
        site, lang: str, who: str) -> None:
    c, tok, ids = site
    path = "/me/credit" if who == "resident" else f"/subjects/{ids['emp']}?model=community-resident"
    summary, base, said = _explained(_page(c, path, tok[who], lang), lang)
    assert len(said) == len(LEFT_OUT), said
    for status in LEFT_OUT:
        zh, en = RECORD_STATUS[status]
        if status == "revoked":  # a revoked record is out whatever the day: its own reason
            want = "已撤销" if lang == "zh" else "revoked"
        else:
            want = f"评价日状态为“{zh}”" if lang == "zh" else f"{en[:1].lower()}{en[1:]} on the as-of date"
        assert any(line.endswith(("：" if lang == "zh" else ": ") + want) for line in said), (status, said)
    if lang == "zh":
        assert not any(re.search(r"[A-Za-z_]{4,}", line) for line in said), said  # no status code
    # Where the score comes from, in one line above the items: the base, each dimension, the score.
    score = re.search(r"(?:得分|Score) (\d+\.\d\d)", summary)
    assert score is not None, summary
    if lang == "zh":
        assert base.startswith("基础分 700.0；") and "社会公德 +60.0" in base
        assert base.endswith(f"得分 {score.group(1)}。")
    else:
        assert base.startswith("Base 700.0; ") and "Social conduct +60.0" in base
        assert base.endswith(f"score {score.group(1)}.")
