"""Manual entry by the item's name, on a real store (SQLite and PostgreSQL): an officer
knows 水电费逾期缴纳, not `utility.arrears`. The form offers the department's own items
by name in the page's language; the service takes the code or the exact name in either
language (a name two items share is the entering department's, else refused in words);
the list of entries shows the date and the amount entered, to the readers who may see
the entry (a department its own: another's is neither listed nor read). The subjects are
registered and the items granted to their departments, as approval (and so entry) needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from creditgov import bootstrap
from creditgov.api.app import create_app
from creditgov.catalog.models import CatalogItem, DataRequest
from creditgov.core import db, labels
from creditgov.core.errors import InvalidInput
from creditgov.ingest import manual
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import ManualEntry
from creditgov.security import users
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.web import i18n

FIRM = "91330522MA2B00010N"
PERSON = "330522199005120021"
HOSTILE = '"><b>欠费</b> O\'Brien \u202e😀'


def _record(item: str, **extra: str) -> dict[str, str | None]:
    return {"identifier": FIRM, "name": "长兴织造有限公司", "item": item, "occurred_on": "2026-05-03", **extra}


def _granted(store: str, keyring: KeyRing, mini: Path, *grants: tuple[str, str]) -> None:
    """The mini county's subjects registered, and these (item, department) requests approved."""
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with db.session_scope(store) as s:
        for item, dep in grants:
            s.add(DataRequest(item_code=item, department_code=dep, status="approved"))


def _item(session: Session, entry_id: int, keyring: KeyRing) -> str:
    e = session.get(ManualEntry, entry_id)
    assert e is not None
    return manual.fields_of(keyring, e)["item"]


def test_an_item_by_its_code_or_its_exact_name_in_either_language(store: str, keyring: KeyRing, mini: Path) -> None:
    bootstrap.wire()
    _granted(store, keyring, mini, ("utility.arrears", "utility"))
    with db.session_scope(store) as s:
        for given in ("utility.arrears", "水电费逾期缴纳", "Late utility payment", " 水电费逾期缴纳 "):
            e = manual.propose(s, keyring, kind="record", department="utility", fields=_record(given),
                               reason=f"按名称录入 {given}", actor="utility-a")
            assert _item(s, e.id, keyring) == "utility.arrears", given
        with pytest.raises(InvalidInput, match="unknown catalogue item") as unknown:
            manual.propose(s, keyring, kind="record", department="utility", fields=_record(HOSTILE), reason="x",
                           actor="utility-a")
        with pytest.raises(InvalidInput) as blank:
            manual.propose(s, keyring, kind="record", department="utility", fields=_record(""), reason="x",
                           actor="utility-a")
    assert i18n.refusal(unknown.value, "zh") == f"数据目录中没有名称或编码为“{HOSTILE}”的信息目录项，请从列表中选择。"
    assert blank.value.code == "ingest.manual.no_item"
    assert (i18n.refusal(blank.value, "zh"), i18n.refusal(blank.value, "en")) == ("请选择信息目录项。",
                                                                                "Choose the catalogue item.")


def test_a_name_two_items_share_is_the_departments_own_or_refused(store: str, keyring: KeyRing, mini: Path) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        own = s.get(CatalogItem, "utility.arrears")
        assert own is not None
        twin = CatalogItem(**{c.name: getattr(own, c.name) for c in CatalogItem.__table__.columns})
        twin.code, twin.department_code = "market.arrears_twin", "market"
        s.add(twin)
    _granted(store, keyring, mini, ("utility.arrears", "utility"), ("market.arrears_twin", "market"))
    with db.session_scope(store) as s:
        e = manual.propose(s, keyring, kind="record", department="market", fields=_record("水电费逾期缴纳"),
                           reason="x", actor="market-a")
        assert _item(s, e.id, keyring) == "market.arrears_twin"
        e = manual.propose(s, keyring, kind="record", department="utility", fields=_record("水电费逾期缴纳"),
                           reason="x", actor="utility-a")
        assert _item(s, e.id, keyring) == "utility.arrears"
        with pytest.raises(InvalidInput, match="2 catalogue items are named") as twice:
            manual.propose(s, keyring, kind="record", department="court", fields=_record("水电费逾期缴纳"),
                           reason="x", actor="court-a")
    assert i18n.refusal(twice.value, "zh") == "数据目录中有多个名为“水电费逾期缴纳”的信息目录项，请改填该项的编码。"
    assert i18n.refusal(twice.value, "en") == "Several catalogue items are named “水电费逾期缴纳”; give the item's code instead."


@pytest.fixture
def pages(store: str, tmp_path: Path, mini: Path) -> tuple[TestClient, dict[str, dict[str, str]]]:
    key = tmp_path / "entries.key"
    _granted(store, create_key_file(key), mini, ("utility.arrears", "utility"), ("utility.bill", "utility"))
    tokens = {}
    with db.session_scope(store) as s:
        for name, role, dep in (("utility", "department_officer", "utility"), ("market", "department_officer", "market"),
                                ("office", "credit_office", None)):
            u = users.create_user(s, username=name, password=None, role=role, department_code=dep, actor="test")
            tokens[name] = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
    return TestClient(create_app(store, key), base_url="https://testserver"), tokens


def _get(c: TestClient, token: dict[str, str], lang: str) -> str:
    c.cookies.set("cg_lang", lang)
    r = c.get("/entries", headers=token)
    assert r.status_code == 200, r.text[:300]
    return r.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_form_offers_the_departments_items_by_name_and_the_list_shows_date_and_amount(pages, lang: str) -> None:
    c, tok = pages
    page = _get(c, tok["utility"], lang)
    offered = re.findall(r'<option value="([^"]*)">', page.split('data-testid="entry-items"', 1)[1].split("</datalist>")[0])
    names = {code: labels.label("item", code, lang) for code in ("utility.arrears", "utility.bill", "market.penalty")}
    assert sorted(offered) == sorted([names["utility.arrears"], names["utility.bill"]])  # its own items, by name
    assert names["utility.arrears"] == ("水电费逾期缴纳" if lang == "zh" else "Late utility payment")
    assert ("信息目录项编码" if lang == "zh" else "Catalogue item code") not in page
    # The name as offered is taken; the list then shows what was entered.
    c.cookies.set("cg_lang", lang)
    form = {"department": "utility", "identifier": PERSON, "name": HOSTILE, "item": names["utility.arrears"],
            "occurred_on": "2026-08-31", "decided_on": "2026-09-15", "value": "1,234.50", "reason": HOSTILE}
    r = c.post("/entries", data=form, headers=tok["utility"], follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    page = _get(c, tok["utility"], lang)
    eid = re.findall(r'data-testid="entry-(\d+)"', page)[0]
    row = page.split(f'data-testid="entry-{eid}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-testid="entry-occurred-{eid}">2026-08-31' in row and "2026-09-15" in row
    assert f'data-testid="entry-value-{eid}">1,234.50</td>' in row
    assert names["utility.arrears"] in row and str(escape(HOSTILE)) in row and HOSTILE not in row
    assert PERSON not in page  # the ID number masked in the list
    # The office reads it too; another department neither lists nor reads it.
    assert f'data-testid="entry-value-{eid}">1,234.50</td>' in _get(c, tok["office"], lang)
    theirs = _get(c, tok["market"], lang)
    assert f'data-testid="entry-{eid}"' not in theirs and "1,234.50" not in theirs
    assert [e["id"] for e in c.get("/api/v1/manual-entries", headers=tok["market"]).json()] == []
    assert [e["fields"]["item"] for e in c.get("/api/v1/manual-entries", headers=tok["utility"]).json()] == [
        "utility.arrears"]


def test_a_mistyped_name_comes_back_as_typed_in_the_pages_language(pages) -> None:
    c, tok = pages
    c.cookies.set("cg_lang", "en")
    form = {"department": "utility", "identifier": FIRM, "item": "水电费逾期", "occurred_on": "2026-08-31",
            "value": "12", "reason": "late"}
    r = c.post("/entries", data=form, headers=tok["utility"])
    assert r.status_code == 422
    assert "The data catalogue has no item named or coded “水电费逾期”; choose one from the list." in r.text
    assert 'value="水电费逾期"' in r.text and 'value="late"' in r.text
