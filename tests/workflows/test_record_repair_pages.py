"""Credit repair reached from the pages, a corrected record named as superseded, and a
corrected grade held to the item's levels — through the real application over real
stores (SQLite and PostgreSQL), signed in through the login form, asserting what the
pages say and what the store holds afterwards.

- The department that supplied a record registers its obligations fulfilled on the
  record's repair page (`/records/{id}/repair`, linked from the file page), with the
  same rules as the API: another department's record is out of reach; the firm's own
  view then shows the condition met and the form to apply, and the application passes.
- The credit office finds a record by credit code and document number on `/repairs`,
  registers obligations and a commitment signed at its window, and applies on the
  subject's behalf (channel `window`).
- After a correction, the objection page names the contested record as superseded,
  linking the corrected version (also in the API's `superseded_by`).
- A corrected grade must be a level of the item's rating scheme (a grade code where
  the item names no levels; none where it carries no grade); a value one the value
  kind holds — coded refusals in words on the page and the API."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from tests.api.conftest import client_for
from tests.api.county import PASSWORD, County, county_on, form_sign_in
from tests.workflows.helpers import add_record, make_firm, status_changes

from creditgov.alerts.models import InboxMessage
from creditgov.catalog.models import CatalogItem
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.records.models import CreditRecord
from creditgov.security import users as user_service
from creditgov.web import i18n
from creditgov.workflows.models import Objection, RepairApplication, RepairCondition
from creditgov.workflows.objection import file_objection
from creditgov.workflows.outcomes import parse_corrections

D = dt.date


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    """The mini county (accounts: the market officer, the credit office) on each database."""
    tmp = tmp_path_factory.mktemp("record-repair")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDITGOV_FILES_DIR", str(tmp / "files"))
        with county_on(request, tmp) as c:
            yield c


def _firm(url: str, *items: tuple[str, D]) -> tuple[int, list[int]]:
    with db.session_scope(url) as s:
        firm = make_firm(s)
        return firm.id, [add_record(s, firm, item, published=on).id for item, on in items]


def _user(url: str, username: str, **account: object) -> str:
    """An account signing in with the test password; returns its API token."""
    with db.session_scope(url) as s:
        u = user_service.create_user(s, username=username, password=PASSWORD, actor="test", **account)
        return user_service.issue_token(s, user_id=u.id, name="test", actor="test")[0]


def _sign_in(c: County, username: str) -> tuple[TestClient, str]:
    cl = client_for(c)
    return cl, form_sign_in(cl, c, username).headers["location"]


def _csrf(cl: TestClient, path: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', cl.get(path).text)
    assert m is not None
    return m.group(1)


def _error(page: str) -> str:
    m = re.search(r'data-testid="error">(.*?)</div>', page, re.S)
    assert m, "no refusal on the page"
    return html.unescape(m.group(1))


def _between(page: str, start: str, end: str) -> str:
    assert start in page, start
    return page.split(start, 1)[1].split(end, 1)[0]


# ----------------------------------------------------------------------------- repair from the pages


def test_the_supplying_department_registers_obligations_and_the_firm_can_apply(county: County) -> None:
    c = county
    firm_id, (utility_rec, market_rec) = _firm(c.url, ("utility.arrears", D(2026, 9, 1)),
                                               ("market.penalty", D(2026, 5, 11)))
    _user(c.url, f"t-firm-{firm_id}", role="subject", display_name="firm", subject_id=firm_id)
    _user(c.url, "t-utility", role="department_officer", department_code="utility")
    firm, home = _sign_in(c, f"t-firm-{firm_id}")
    assert home == "/me/credit"
    r = firm.post("/me/credit/commitment", data={"signed_by": "法定代表人", "agree": "yes",
                                                 "csrf_token": _csrf(firm, home)})
    assert r.status_code == 303
    row = _between(firm.get(home).text, f'data-testid="repair-{utility_rec}"', "</details>")
    assert 'data-testid="not-eligible"' in row and "尚无履行法定义务的登记" in row

    # The utility opens the record from the firm's file; its own records only.
    utility, _ = _sign_in(c, "t-utility")
    file_page = utility.get(f"/subjects/{firm_id}").text
    assert f'href="/records/{utility_rec}/repair"' in file_page and f"/records/{market_rec}/repair" not in file_page
    desk = f"/records/{utility_rec}/repair"
    page = utility.get(desk).text
    assert 'data-testid="condition-form"' in page and '<option value="obligations-fulfilled"' in page
    assert 'data-testid="window-apply-form"' not in page and 'data-testid="commitment-form"' not in page
    assert utility.get(f"/records/{market_rec}/repair").status_code == 404  # supplied by market
    form = {"kind": "obligations-fulfilled", "met_on": "2026-10-30", "note": "水电费已缴清（缴费凭证 SD-2026-118）"}
    assert utility.post(f"{desk}/conditions", data=form).status_code == 403  # no CSRF token
    r = utility.post(f"{desk}/conditions", data={**form, "met_on": "2026-11-02", "csrf_token": _csrf(utility, desk)})
    assert r.status_code == 422 and _error(r.text) == "满足日期 2026-11-02 晚于今天：条件满足后才能登记。"
    assert 'value="水电费已缴清（缴费凭证 SD-2026-118）"' in r.text  # the note kept
    r = utility.post(f"{desk}/conditions", data={**form, "csrf_token": _csrf(utility, desk)})
    assert r.status_code == 303 and r.headers["location"] == f"{desk}?done=condition", r.text
    shown = utility.get(r.headers["location"]).text
    assert "SD-2026-118" in shown and 'value="obligations-fulfilled"' not in shown  # once per record
    assert utility.post(f"{desk}/apply", data={"csrf_token": _csrf(utility, desk)}).status_code == 403  # the window's

    # The market officer reaches its own record, not the utility's (404, like the API).
    market, _ = _sign_in(c, "t-department_officer")
    file_page = market.get(f"/subjects/{firm_id}").text
    assert f'href="/records/{market_rec}/repair"' in file_page and f"/records/{utility_rec}/repair" not in file_page
    r = market.post(f"{desk}/conditions", data={**form, "kind": "training", "csrf_token": _csrf(market, "/repairs")})
    assert r.status_code == 404

    # The firm's own view: the condition met, the form to apply; the application passes.
    page = firm.get(home).text
    row = _between(page, f'data-testid="repair-{utility_rec}"', "</details>")
    assert 'data-testid="eligible"' in row and f'data-testid="repair-form-{utility_rec}"' in row
    met = _between(row, 'data-testid="condition-obligations-fulfilled"', "</tr>")
    assert "✓" in met and "2026-10-30" in met and "SD-2026-118" in met
    r = firm.post("/me/credit/repairs", data={"record_id": str(utility_rec), "csrf_token": _csrf(firm, home)})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=applied")
    with db.session_scope(c.url) as s:
        a = s.execute(select(RepairApplication).where(RepairApplication.record_id == utility_rec)).scalar_one()
        assert (a.status, a.channel) == ("submitted", "self")
        ob = s.execute(select(RepairCondition).where(RepairCondition.record_id == utility_rec)).scalar_one()
        assert (ob.department_code, ob.met_on, ob.actor) == ("utility", D(2026, 10, 30), "user:t-utility")
        told = s.execute(select(InboxMessage.body).where(
            InboxMessage.recipient_kind == "subject", InboxMessage.recipient == str(firm_id),
            InboxMessage.topic == "repair.condition.obligations-fulfilled")).scalar_one()
    assert "SD-2026-118" in told
    # the record's page now points at the open application, and offers no second
    page = utility.get(desk).text
    assert f'href="/repairs/{a.id}"' in page


def test_the_office_finds_a_record_registers_its_conditions_and_applies_at_the_window(county: County) -> None:
    c = county
    firm_id, (rec,) = _firm(c.url, ("tax.arrears", D(2026, 5, 11)))
    with db.session_scope(c.url) as s:
        uscc, doc_no = s.execute(sa.text("SELECT s.uscc, r.document_no FROM subjects s JOIN credit_records r "
                                         "ON r.subject_id = s.id WHERE r.id = :id"), {"id": rec}).one()
    office, _ = _sign_in(c, "t-credit_office")
    queue = office.get("/repairs").text
    assert 'data-testid="find-record-form"' in queue
    r = office.post("/repairs/record", data={"subject": uscc, "record": "WF-NONE", "csrf_token": _csrf(office, "/repairs")})
    assert r.status_code == 404 and "该主体的档案中没有当前有效的记录“WF-NONE”" in _error(r.text)
    assert f'value="{uscc}"' in r.text  # the form kept
    r = office.post("/repairs/record", data={"subject": uscc, "record": doc_no, "csrf_token": _csrf(office, "/repairs")})
    assert r.status_code == 303 and r.headers["location"] == f"/records/{rec}/repair"
    desk = r.headers["location"]
    page = office.get(desk).text
    assert 'data-testid="not-eligible"' in page and 'data-testid="window-apply-form"' not in page
    assert 'data-testid="condition-form"' in page and 'data-testid="commitment-form"' in page

    r = office.post(f"{desk}/conditions", data={"kind": "obligations-fulfilled", "met_on": "2026-10-20",
                                                "note": "税款及滞纳金已缴清（完税证明）", "csrf_token": _csrf(office, desk)})
    assert r.status_code == 303
    sign = {"kind": "commitment", "agree": "yes"}
    r = office.post(f"{desk}/conditions", data={**sign, "csrf_token": _csrf(office, desk)})
    assert r.status_code == 422 and _error(r.text) == "窗口代签的承诺须填写签署人姓名。"
    r = office.post(f"{desk}/conditions", data={**sign, "signed_by": "王某（法定代表人）", "csrf_token": _csrf(office, desk)})
    assert r.status_code == 303
    page = office.get(desk).text
    assert 'data-testid="eligible"' in page and 'data-testid="window-apply-form"' in page

    r = office.post(f"{desk}/apply", data={"applicant": "王某（法定代表人）", "csrf_token": _csrf(office, desk)},
                    files=[("materials", ("完税证明.pdf", b"%PDF-1.4 tax paid", "application/pdf"))])
    assert r.status_code == 303 and re.fullmatch(r"/repairs/\d+\?done=applied", r.headers["location"]), r.text
    case = office.get(r.headers["location"]).text
    assert "窗口代为提出" in case and "完税证明.pdf" in case and "待转送" in case
    page = office.get(desk).text
    assert 'data-testid="window-apply-form"' not in page and 'data-testid="open-case"' in page
    r = office.post(f"{desk}/apply", data={"csrf_token": _csrf(office, desk)})
    assert r.status_code == 422 and "已有一份在办的信用修复申请" in _error(r.text)
    with db.session_scope(c.url) as s:
        a = s.execute(select(RepairApplication).where(RepairApplication.record_id == rec)).scalar_one()
        assert (a.status, a.channel, a.applicant, a.actor) == ("submitted", "window", "王某（法定代表人）",
                                                               "user:t-credit_office")
        ob = s.execute(select(RepairCondition).where(RepairCondition.record_id == rec)).scalar_one()
        assert (ob.department_code, ob.actor) == ("credit", "user:t-credit_office")
    # in English
    office.get(f"/lang/en?next={desk}")
    en = office.get(desk).text
    assert "Conditions for applying (today)" in en and "This record has a repair application or an objection in " \
        "progress" in en


# ----------------------------------------------------------------------------- a corrected record


def test_a_corrected_record_is_named_superseded_with_a_link_to_its_corrected_version(county: County) -> None:
    c = county
    firm_id, (rec,) = _firm(c.url, ("market.penalty", D(2026, 5, 11)))
    firm_token = _user(c.url, f"t-firm-{firm_id}", role="subject", display_name="firm", subject_id=firm_id)
    with db.session_scope(c.url) as s:
        oid = file_objection(s, subject_id=firm_id, record_ids=[rec], reason="金额有误", actor="test")[0].id
    market, _ = _sign_in(c, "t-department_officer")
    case = f"/objections/{oid}"
    r = market.post(f"{case}/decide", data={"outcome": "corrected", "reason": "金额更正", "value": "2000",
                                            "csrf_token": _csrf(market, case)})
    assert r.status_code == 303, r.text
    with db.session_scope(c.url) as s:
        new = s.execute(select(CreditRecord.id).where(CreditRecord.supersedes_id == rec)).scalar_one()
        assert status_changes(s, rec)[-1] == ("disputed", "active")  # its last status: back in force
    facts = _between(market.get(case).text, 'data-testid="objection-facts"', "</dl>")
    contested = _between(facts, 'data-testid="record-status">', "</dd>")
    assert "已更正，由新版本取代" in contested and f'href="/subjects/{firm_id}#rec-{new}"' in contested
    assert "有效" not in contested
    assert f'href="/subjects/{firm_id}#rec-{new}"' in _between(facts, 'data-testid="result-record">', "</dd>")
    history = _between(market.get(case).text, 'data-testid="status-history"', "</ul>")
    assert f"#{rec}" in history and 'data-testid="superseded-change"' in history

    firm, home = _sign_in(c, f"t-firm-{firm_id}")
    firm.get(f"/lang/en?next={case}")
    page = firm.get(case).text
    contested = _between(_between(page, 'data-testid="objection-facts"', "</dl>"), 'data-testid="record-status">',
                         "</dd>")
    assert "Corrected: superseded by the new version" in contested and f'href="/me/credit#rec-{new}"' in contested
    assert "In force" not in contested
    assert f'id="rec-{new}"' in firm.get(home).text
    got = client_for(c).get(f"/api/v1/objections/{oid}", headers={"Authorization": f"Bearer {firm_token}"}).json()
    assert got["record"]["superseded_by"] == new and got["record"]["is_current"] is False
    assert got["result_record"]["id"] == new and got["result_record"]["is_current"] is True


# ----------------------------------------------------------------------------- corrected grades and values


def test_a_corrected_grade_is_a_level_of_the_items_rating(county: County) -> None:
    c = county
    firm_id, (rec, rec_api) = _firm(c.url, ("city_credit.score", D(2026, 9, 1)), ("city_credit.score", D(2026, 6, 1)))
    token = _user(c.url, "t-city", role="department_officer", department_code="city_credit")
    with db.session_scope(c.url) as s:
        oid, oid_api = (file_objection(s, subject_id=firm_id, record_ids=[r], reason="等级有误", actor="test")[0].id
                        for r in (rec, rec_api))
    city, _ = _sign_in(c, "t-city")
    case = f"/objections/{oid}"
    page = city.get(case).text
    grade = _between(_between(page, 'data-testid="decide-form"', "</form>"), 'data-testid="correct-grade">', "</select>")
    assert [m for m in re.findall(r'<option value="([^"]*)"', grade)] == ["", "A", "B", "C", "D"]
    assert ">A · 优秀</option>" in grade
    typed = "<b>A</b>"
    r = city.post(f"{case}/decide", data={"outcome": "corrected", "reason": "核实", "grade": typed,
                                          "csrf_token": _csrf(city, case)})
    assert r.status_code == 422
    assert _error(r.text) == "等级“<b>A</b>”不是“城市信用分”的等级，请从 A/B/C/D 中选择。"
    assert typed not in r.text and str(escape(typed)) in r.text
    assert 'data-testid="decide-reason">核实</textarea>' in r.text
    city.get(f"/lang/en?next={case}")
    r = city.post(f"{case}/decide", data={"outcome": "corrected", "reason": "checked", "grade": "Z",
                                          "csrf_token": _csrf(city, case)})
    assert r.status_code == 422 and _error(r.text) == "“Z” is not a level of “City credit score”: choose one of A/B/C/D."
    with db.session_scope(c.url) as s:
        assert s.execute(select(CreditRecord.id).where(CreditRecord.supersedes_id == rec)).first() is None
        assert s.get(Objection, oid).status == "open" and s.get(CreditRecord, rec).status == "disputed"
    r = city.post(f"{case}/decide", data={"outcome": "corrected", "reason": "checked", "grade": "b",
                                          "value": "712", "csrf_token": _csrf(city, case)})
    assert r.status_code == 303, r.text
    with db.session_scope(c.url) as s:
        new = s.execute(select(CreditRecord).where(CreditRecord.supersedes_id == rec)).scalar_one()
        assert (new.grade, new.value) == ("B", Decimal("712"))

    api = client_for(c)
    url = f"/api/v1/objections/{oid_api}/decision"
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    r = api.post(url, headers=headers, json={"outcome": "corrected", "reason": "x", "corrections": {"grade": "AA"}})
    assert r.status_code == 422 and r.json()["message"] == "“AA” is not a level of “City credit score”: " \
                                                         "choose one of A/B/C/D."
    r = api.post(url, headers=headers, json={"outcome": "corrected", "reason": "x", "corrections": {"grade": "c"}})
    assert r.status_code == 200 and r.json()["status"] == "decided"
    with db.session_scope(c.url) as s:
        assert s.execute(select(CreditRecord.grade).where(CreditRecord.supersedes_id == rec_api)).scalar_one() == "C"


@pytest.mark.parametrize(("item", "corrections", "code"), [
    ("city_credit.score", {"grade": "<b>A</b>"}, "workflows.correction.grade_level"),
    ("environment.credit_rating", {"grade": "A"}, "workflows.correction.grade_level"),
    ("city_credit.score", {"grade": ""}, "workflows.correction.grade_level"),
    ("market.penalty", {"grade": "A"}, "workflows.correction.no_grade"),
    ("tax.credit_grade", {"grade": "<b>"}, "workflows.correction.grade_malformed"),
    ("tax.credit_grade", {"value": "5"}, "workflows.correction.no_value"),
    ("market.annual_report", {"value": "1"}, "workflows.correction.no_value"),
    ("market.penalty", {"value": "-1"}, "workflows.correction.negative"),
    ("utility.bill", {"value": "-3"}, "workflows.correction.negative"),
])
def test_the_service_holds_a_correction_to_its_item(county: County, item: str, corrections: dict[str, str],
                                                   code: str) -> None:
    with db.session_scope(county.url) as s:
        it = s.get(CatalogItem, item)
        assert it is not None
        with pytest.raises(InvalidInput) as err:
            parse_corrections(corrections, it)
    assert err.value.code == code
    zh, en = i18n.refusal(err.value, "zh"), i18n.refusal(err.value, "en")
    assert zh != en and not re.search(r"[A-Za-z]{4,}", zh.replace(item, ""))


def test_a_grade_is_written_as_the_item_names_it(county: County) -> None:
    with db.session_scope(county.url) as s:
        def fixed(item: str, corrections: dict[str, str]) -> dict[str, object]:
            it = s.get(CatalogItem, item)
            assert it is not None
            return parse_corrections(corrections, it)

        assert fixed("environment.credit_rating", {"grade": " g "}) == {"grade": "G"}
        assert fixed("tax.credit_grade", {"grade": "m"}) == {"grade": "M"}
        assert fixed("city_credit.score", {"value": "-0", "grade": "D"}) == {"value": Decimal("-0"), "grade": "D"}
        assert fixed("market.penalty", {"value": "2000.50", "grade": ""}) == {"value": Decimal("2000.50"),
                                                                             "grade": None}
