"""The complaint forms on a real store (SQLite and PostgreSQL), through the app's pages:

- every form that files a complaint answers with a redirect (POST-redirect-GET): the
  counter to the new complaint's page, the public form to its receipt, a special
  supervisor to its own page; the query code is shown there once, and a reload shows
  it no more;
- the same complaint sent again (a refresh, a second click, the back button) by the
  same sender on the same day while it is open answers the first, and the page says
  so, with a fresh query code that replaces the earlier one (which stops working);
  two sent at the very same moment file one; a different contact, a complaint already
  answered or another day file a new one;
- times on a complaint's page and the status page are shown in China Standard Time
  (北京时间 / CST), not as ISO strings;
- a refused reply or assignment keeps what was typed, escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.complaints import service
from creditgov.complaints.models import Complaint
from creditgov.complaints.schemas import ComplaintIn
from creditgov.core.db import session_scope
from creditgov.core.errors import NotFound
from creditgov.security import users
from creditgov.security.crypto import create_key_file
from creditgov.web import i18n
from tests.concurrency import at_once

HOSTILE = '"><script>alert(1)</script> O\'Brien 😀 \u202e'
FORM = {"category": "quality", "respondent_name": "窗口商行 " + HOSTILE, "respondent_code": "",
        "content": "买到的商品与宣传不符 " + HOSTILE, "complainant_name": "张三丰", "contact": "13800138000"}
MOMENT = "2026-11-01T08:51:04"        # UTC: 16:51 on 1 November in China
CST_TIME = re.compile(r"2026-11-01 16:51 (北京时间|CST)")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture
def site(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CREDITGOV_NOW", MOMENT)
    key = tmp_path / "pages.key"
    kr = create_key_file(key)
    with session_scope(store) as s:
        heads = {}
        for name, role, dept in (("office", "credit_office", None), ("market", "department_officer", "market"),
                                 ("sup", "supervisor", None)):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dept,
                                  display_name="李监督" if name == "sup" else "", actor="test")
            heads[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), heads, store, kr


def _count(store: str) -> int:
    with session_scope(store) as s:
        return int(s.execute(select(func.count()).select_from(Complaint)).scalar_one())


def _code(text: str) -> str | None:
    m = re.search(r'data-testid="complaint-query-code">([0-9A-F]+)<', text)
    return m.group(1) if m else None


def test_the_counter_redirects_to_the_complaint_and_files_a_resubmission_once(site) -> None:
    c, heads, store, _kr = site
    r = c.post("/complaints/counter", data=FORM, headers=heads["office"], follow_redirects=False)
    assert r.status_code == 303
    m = re.fullmatch(r"/complaints/(\d+)\?done=filed", r.headers["location"])
    assert m, r.headers["location"]
    cid = int(m.group(1))
    page = c.get(r.headers["location"], headers=heads["office"])
    assert page.status_code == 200 and 'data-testid="complaint-filed"' in page.text
    code = _code(page.text)
    with session_scope(store) as s:
        row = s.get(Complaint, cid)
        assert row is not None and row.number in page.text and code is not None
        assert service.by_number(s, row.number, code).id == cid          # the code shown is the complaint's own
        number = row.number
    assert "<script>alert(1)" not in page.text and escape(HOSTILE) in page.text
    again = c.get(r.headers["location"], headers=heads["office"])      # a reload: the code was shown once
    assert again.status_code == 200 and _code(again.text) is None and code not in again.text
    # The same form sent again (a refresh of the old answer, a second click): the first
    # complaint answers, with a fresh query code that replaces the one given before.
    for lang, said, replaced in (("zh", "本次提交没有重复登记", "原查询码已不能再用"),
                                 ("en", "this submission did not register it again", "which no longer works")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        r2 = c.post("/complaints/counter", data=FORM, headers=heads["office"], follow_redirects=False)
        assert r2.status_code == 303 and r2.headers["location"] == f"/complaints/{cid}?done=resubmitted"
        shown = c.get(r2.headers["location"], headers=heads["office"])
        assert 'data-testid="complaint-resubmitted"' in shown.text and said in shown.text and number in shown.text
        fresh = _code(shown.text)
        assert CST_TIME.search(shown.text) and fresh is not None and fresh != code and replaced in shown.text
        with session_scope(store) as s:
            assert service.by_number(s, number, fresh).id == cid
            with pytest.raises(NotFound):
                service.by_number(s, number, code)                      # the earlier code stopped working
        code = fresh
        reload = c.get(r2.headers["location"], headers=heads["office"])     # shown once, this one too
        assert _code(reload.text) is None and "complaint-code-replaced" not in reload.text
    c.cookies.set(i18n.LANG_COOKIE, "zh")
    assert _count(store) == 1
    # Another contact is another complaint.
    other = c.post("/complaints/counter", data={**FORM, "contact": "13900139000"}, headers=heads["office"])
    assert other.status_code == 200 and 'data-testid="complaint-filed"' in other.text and _count(store) == 2


def test_a_departments_counter_complaint_lands_on_its_desk(site) -> None:
    """A department's officer files at the counter but reads a complaint only once it is
    assigned to its department: the answer is its desk, with the number and the code."""
    c, heads, store, _kr = site
    r = c.post("/complaints/counter", data=FORM, headers=heads["market"], follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/complaints\?filed=TS20261101-\d+", r.headers["location"])
    number = r.headers["location"].split("filed=")[1]
    page = c.get(r.headers["location"], headers=heads["market"])
    code = _code(page.text)
    assert page.status_code == 200 and 'data-testid="complaint-filed"' in page.text and number in page.text
    with session_scope(store) as s:
        assert code is not None and service.by_number(s, number, code).number == number
    assert _code(c.get(r.headers["location"], headers=heads["market"]).text) is None      # shown once
    again = c.post("/complaints/counter", data=FORM, headers=heads["market"])
    assert 'data-testid="complaint-resubmitted"' in again.text and number in again.text and _count(store) == 1
    fresh = _code(again.text)
    assert fresh is not None and fresh != code and 'data-testid="complaint-code-replaced"' in again.text
    with session_scope(store) as s:
        assert service.by_number(s, number, fresh).number == number


def test_a_refused_counter_form_keeps_what_was_typed(site) -> None:
    c, heads, store, _kr = site
    r = c.post("/complaints/counter", data={**FORM, "contact": "not a contact " + HOSTILE}, headers=heads["office"],
               follow_redirects=False)
    assert r.status_code == 422 and "<script>alert(1)" not in r.text
    assert escape("买到的商品与宣传不符 " + HOSTILE) in r.text and _count(store) == 0


def test_the_public_form_redirects_to_its_receipt_and_files_once(site) -> None:
    c, _heads, store, _kr = site
    r = c.post("/public/complaints/new", data=FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/public/complaints/received?number=TS20261101-")
    number = r.headers["location"].split("number=")[1]
    page = c.get(r.headers["location"])
    code = _code(page.text)
    assert page.status_code == 200 and code and number in page.text and 'data-testid="complaint-due"' in page.text
    st = c.get("/public/complaints/status", params={"number": number, "code": code})
    assert st.status_code == 200 and 'data-testid="status-result"' in st.text
    assert _code(c.get(r.headers["location"]).text) is None             # shown once
    # A stranger naming the number learns nothing more than the number it typed.
    stranger = TestClient(c.app, base_url="https://testserver").get(r.headers["location"])
    assert stranger.status_code == 200 and _code(stranger.text) is None and "complaint-due" not in stranger.text
    for lang, said in (("zh", "相同的投诉此前已经收到"), ("en", "The same complaint was received before")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        again = c.post("/public/complaints/new", data=FORM)
        fresh = _code(again.text)
        assert again.status_code == 200 and said in again.text and number in again.text
        assert fresh is not None and fresh != code and 'data-testid="complaint-code-replaced"' in again.text
        code = fresh
    assert _count(store) == 1
    # A forged cookie with a wrong code shows nothing.
    c.cookies.set("complaint_code", f"{number}.00000000", path="/public/complaints/received")
    assert _code(c.get(f"/public/complaints/received?number={number}").text) is None


def test_a_supervisors_observation_redirects_and_files_once(site) -> None:
    c, heads, store, _kr = site
    body = {"category": "credit_work", "respondent_name": HOSTILE, "respondent_code": "",
            "content": "公示信息与实际不符，请核查 " + HOSTILE, "contact": ""}
    r = c.post("/supervisor/observations", data=body, headers=heads["sup"], follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/supervisor\?filed=\d+", r.headers["location"])
    page = c.get(r.headers["location"], headers=heads["sup"])
    assert 'data-testid="observation-filed"' in page.text and "<script>alert(1)" not in page.text
    again = c.post("/supervisor/observations", data=body, headers=heads["sup"])
    assert again.status_code == 200 and 'data-testid="observation-resubmitted"' in again.text
    assert CST_TIME.search(again.text) and _count(store) == 1
    # Another's observation number is not shown on a supervisor's page.
    other = c.post("/complaints/counter", data=FORM, headers=heads["office"], follow_redirects=False)
    oid = int(re.findall(r"\d+", other.headers["location"])[0])
    assert "observation-filed" not in c.get(f"/supervisor?filed={oid}", headers=heads["sup"]).text


def test_an_answered_complaint_or_another_day_is_filed_anew(site, monkeypatch: pytest.MonkeyPatch) -> None:
    _c, _heads, store, kr = site
    data = ComplaintIn.model_validate({**FORM, "respondent_code": None})
    with session_scope(store) as s:
        first = service.take(s, kr, data, channel="counter", actor="user:office")
        assert first.created and first.code
        same = service.take(s, kr, ComplaintIn.model_validate({**FORM, "respondent_code": None,
                                                               "content": "  " + FORM["content"] + " "}),
                            channel="counter", actor="user:office")
        assert not same.created and same.complaint.id == first.complaint.id and same.replaced
        assert same.code is not None and same.code != first.code
        assert service.by_number(s, first.complaint.number, same.code).id == first.complaint.id
        # another sender, or the public channel, is not a resubmission of this one
        assert service.take(s, kr, data, channel="counter", actor="user:other").created
        assert service.take(s, kr, data, channel="public", actor="public").created
        service.reply(s, kr, first.complaint.id, outcome="not_accepted", text="不属于受理范围", actor="office")
        assert service.take(s, kr, data, channel="counter", actor="user:office").created   # the first is answered
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-02T02:00:00")
    with session_scope(store) as s:
        assert service.take(s, kr, data, channel="counter", actor="user:office").created   # another day


def test_the_same_words_from_two_people_who_left_no_contact_are_two_complaints(site) -> None:
    """Nobody in particular — an anonymous visitor, a walk-in at the counter without a
    contact — cannot be told from another who writes the same words about the same
    shop: each is filed, with its own number and query code."""
    c, heads, store, _kr = site
    anonymous = {**FORM, "complainant_name": "", "contact": ""}
    numbers = set()
    for _ in range(2):
        visitor = TestClient(c.app, base_url="https://testserver")
        r = visitor.post("/public/complaints/new", data=anonymous, follow_redirects=False)
        assert r.status_code == 303
        page = visitor.get(r.headers["location"])
        assert _code(page.text) is not None
        numbers.add(r.headers["location"].split("number=")[1])
    for _ in range(2):
        r = c.post("/complaints/counter", data={**anonymous, "complainant_name": "王女士"}, headers=heads["office"],
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith("?done=filed")
    assert len(numbers) == 2 and _count(store) == 4


def test_two_submissions_at_once_file_one_complaint(site) -> None:
    _c, _heads, store, kr = site
    data = ComplaintIn.model_validate({**FORM, "respondent_code": None})
    def submit(_i: int) -> bool:
        with session_scope(store) as s:
            return service.take(s, kr, data, channel="counter", actor="user:office").created

    got = at_once(submit, 2, timeout=60)
    assert sorted(got) == [False, True] and _count(store) == 1


def test_times_are_shown_in_china_standard_time(site) -> None:
    c, heads, store, _kr = site
    r = c.post("/public/complaints/new", data=FORM, follow_redirects=False)
    number = r.headers["location"].split("number=")[1]
    code = _code(c.get(r.headers["location"]).text)
    with session_scope(store) as s:
        cid = s.execute(select(Complaint.id).where(Complaint.number == number)).scalar_one()
    c.post(f"/complaints/{cid}/assign", data={"department": "market"}, headers=heads["office"])
    c.post(f"/complaints/{cid}/reply", data={"outcome": "substantiated", "text": "经查属实 " + HOSTILE},
           headers=heads["market"])
    for lang, label in (("zh", "北京时间"), ("en", "CST")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get(f"/complaints/{cid}", headers=heads["office"])
        assert page.status_code == 200
        received = re.search(r'data-testid="complaint-received-at">([^<]*)<', page.text)
        assert received and received.group(1) == f"2026-11-01 16:51 {label}"
        outcome = re.search(r'data-testid="complaint-outcome">(.*?)</dd>', page.text, re.S)
        assert outcome and f"2026-11-01 16:51 {label}" in outcome.group(1)
        assert not ISO_TIME.search(page.text), ISO_TIME.findall(page.text)
        status = c.get("/public/complaints/status", params={"number": number, "code": code})
        assert f"2026-11-01 16:51 {label}" in status.text and not ISO_TIME.search(status.text)


def test_a_refused_reply_keeps_what_was_typed(site) -> None:
    c, heads, store, kr = site
    with session_scope(store) as s:
        cid = service.take(s, kr, ComplaintIn.model_validate({**FORM, "respondent_code": None}),
                           channel="counter", actor="user:office").complaint.id
    typed = "经核查，情况属实。" + HOSTILE + "\n第二行 </textarea><b>x</b>"
    for lang, said in (("zh", "请先将投诉分派给部门，再作答复。"),
                       ("en", "Assign the complaint to a department before answering it.")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        r = c.post(f"/complaints/{cid}/reply", data={"outcome": "unsubstantiated", "text": typed},
                   headers=heads["office"])
        assert r.status_code == 409 and said in r.text
        box = re.search(r'<textarea name="text"[^>]*data-testid="reply-text">(.*?)</textarea>', r.text, re.S)
        assert box and html.unescape(box.group(1)) == typed                   # kept, escaped
        assert "<b>x</b>" not in r.text and "<script>alert(1)" not in r.text
        assert '<option value="unsubstantiated" selected>' in r.text
    # A refused assignment keeps its note too.
    note = "转市场监管局 " + HOSTILE
    r = c.post(f"/complaints/{cid}/assign", data={"department": "no-such", "note": note}, headers=heads["office"])
    assert r.status_code == 422 and f'value="{escape(note)}"' in r.text
