"""The data-quality view (issue 19) on a real store (SQLite and PostgreSQL): after the
small county's files are ingested, each source shows its last file, rows, accepted,
rejected by reason (summing to its quarantined rows) and duplicates; a source whose
department was asked for daily data and sent nothing for two days is late; the page
shows it in both languages with the trend's data for the static chart script."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from creditgov.api.app import create_app
from creditgov.catalog import requests
from creditgov.catalog.models import DataRequest
from creditgov.core import db, labels
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import QuarantinedRow
from creditgov.quality import service
from creditgov.security import users
from creditgov.security.crypto import KeyRing
from creditgov.web import i18n


def test_sources_late_and_rejections(store: str, keyring: KeyRing, mini: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with db.session_scope(store) as s:
        rows = service.sources(s)
        assert rows and all(r["rows"] >= r["accepted"] + r["rejected"] for r in rows)
        for r in rows:
            n = s.execute(select(func.count()).select_from(QuarantinedRow)
                          .where(QuarantinedRow.source == r["source"])).scalar_one()
            assert sum(r["rejected_by_reason"].values()) == n
            assert set(r["rejected_by_reason"]) <= set(labels.names("quarantine_reason")) - {"other"}
            assert r["source_name"]["zh"] != r["source"] and r["source_name"]["en"] != r["source"]
        assert not any(r["late"] for r in rows)               # no request sets a frequency yet
        market = next(r for r in rows if r["department"] == "market")
        requests.file_request(s, department="market", items=["market.complaint"], legal_basis="测试",
                              purpose="测试", frequency="daily", actor="office")
        req = s.execute(select(DataRequest).where(DataRequest.item_code == "market.complaint")).scalar_one()
        requests.decide(s, req.id, decision="approved", reason="同意", unit="market", actor="market-head")
        last = dt.date.fromisoformat(market["last_at"][:10])
        assert next(r for r in service.sources(s, last) if r["source"] == market["source"])["late"] is False
        later = next(r for r in service.sources(s, last + dt.timedelta(days=2)) if r["source"] == market["source"])
        assert later["late"] is True and later["frequency"] == "daily" and later["days_since_last"] == 2
        t = service.trend(s, last)
        assert len(t["months"]) == 12 and t["months"][-1] == f"{last:%Y-%m}"
        assert sum(t["sources"][market["source"]]["read"]) == market["rows"]
    key = tmp_path / "test.key"   # the key ring fixture's file: the store's key
    with db.session_scope(store) as s:
        u = users.create_user(s, username="office", password=None, role="credit_office", actor="test")
        head = {"Authorization": f"Bearer {users.issue_token(s, user_id=u.id, name='t', actor='test')[0]}"}
        d = users.create_user(s, username="dept", password=None, role="department_officer", department_code="market",
                              actor="test")
        dhead = {"Authorization": f"Bearer {users.issue_token(s, user_id=d.id, name='t', actor='test')[0]}"}
    monkeypatch.setenv("CREDITGOV_TODAY", (last + dt.timedelta(days=2)).isoformat())
    c = TestClient(create_app(store, key), base_url="https://testserver")
    for lang, word in (("zh", "迟报"), ("en", "Late")):
        c.cookies.set(i18n.LANG_COOKIE, lang)
        page = c.get("/quality", headers=head)
        assert page.status_code == 200 and f'data-testid="late">{word}<' in page.text
        assert 'id="q-trend"' in page.text and "/static/js/quality.js" in page.text
        assert f'<code class="muted">{market["source"]}</code>' in page.text
    data = c.get("/quality.json", headers=head).json()["sources"]
    m = next(r for r in data if r["source"] == market["source"])
    assert m["labels"]["department"]["en"] and m["labels"]["source"]["en"] == market["source_name"]["en"]
    assert all(m["labels"]["rejected_by_reason"][k]["zh"] for k in m["rejected_by_reason"])
    assert c.get("/quality", headers=dhead).status_code == 403
    assert c.get("/static/js/quality.js").status_code == 200


@pytest.mark.parametrize(("text", "code"), [
    ("malformed JSON line: Expecting value", "malformed"),
    ("missing item", "item_not_allowed"),
    ("item 'x.y' is not approved from department 'market': the data request is pending", "item_not_allowed"),
    ("conflicts with an earlier row of this file with the same natural key (a)", "conflict"),
    ("subject not registered: credit code 91110000", "unregistered"),
    ("person not registered (ID number not on the household roll)", "unregistered"),
    ("invalid unified social credit code '123': bad check character", "bad_identifier"),
    ("no subject identifier (credit code or ID number) in the row", "bad_identifier"),
    ("decided_on 2099-01-01 lies in the future", "future_date"),
    ("unrecognised date '2024-13'", "bad_date"),
    ("decided_on '3/5' is not a date (add a `date` step to the spec)", "bad_date"),
    ("not a number: 'abc'", "bad_number"),
    ("value '1e99' is out of range", "bad_number"),
    ("unknown code 'Z' in field 'kind' (not in the spec's code map)", "unknown_code"),
    ("unknown region code '99'", "unknown_code"),
    ("missing decided_on", "missing_value"),
    ("something new", "other"),
])
def test_reason_categories(text: str, code: str) -> None:
    assert service.reason_code(text) == code
    assert labels.label("quarantine_reason", code, "en") != code
