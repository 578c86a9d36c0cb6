"""Publication held exactly, on the public pages and the public API (SQLite and
PostgreSQL): a market-supervision warning / 通报批评 is never published (SAMR Order 45,
NDRC Order 36), a general penalty is public from its publication date until its
period ends and not a day outside it, and the catalogue says which rule decided."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.lists.helpers import add_record, make_subject

from creditgov.api.app import create_app
from creditgov.catalog import service as catalog_service
from creditgov.core import db
from creditgov.security.crypto import create_key_file
from creditgov.workflows import flows


@pytest.fixture
def firm(county: str, tmp_path: Path) -> tuple[TestClient, dict[str, int]]:
    with db.session_scope(county) as s:
        f = make_subject(s, name="长兴公示测试有限公司")
        warning = add_record(s, f, "market.penalty_minor", occurred_on=dt.date(2026, 10, 20), months=3)
        warning.document_no = "长市监警〔2026〕8号"
        penalty = add_record(s, f, "market.penalty", occurred_on=dt.date(2026, 10, 1), months=12)
        penalty.document_no = "长市监罚〔2026〕9号"
        ids = {"firm": f.id, "warning": warning.id, "penalty": penalty.id}
    key = tmp_path / "pub.key"
    create_key_file(key)
    return TestClient(create_app(county, key), base_url="https://testserver"), ids


def _shown(client: TestClient, firm_id: int) -> tuple[set[int], str]:
    api = client.get(f"/api/v1/public/firms/{firm_id}")
    assert api.status_code == 200, api.text
    page = client.get(f"/public/firms/{firm_id}", headers={"accept": "text/html"})
    assert page.status_code == 200
    return {r["id"] for r in api.json()["records"]}, page.text


def test_a_warning_is_never_published_and_a_penalty_only_within_its_window(
        county: str, firm: tuple[TestClient, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    client, ids = firm
    for day, penalty_shown in (("2026-09-30", False),   # before its publication date
                               ("2026-10-01", True),    # published that day
                               ("2026-11-01", True),    # the warning is inside its own 3 months here
                               ("2027-10-01", True),    # the last day of 12 months (Order 36 wins over 45's 3 years)
                               ("2027-10-02", False)):  # the day after
        monkeypatch.setenv("CREDITGOV_TODAY", day)
        api_ids, html = _shown(client, ids["firm"])
        assert ids["warning"] not in api_ids, day
        assert "长市监警〔2026〕8号" not in html, day
        assert (ids["penalty"] in api_ids) is penalty_shown, day
        assert ("长市监罚〔2026〕9号" in html) is penalty_shown, day
        with db.session_scope(county) as s:
            published = {r.id for r in flows.published_records(s, ids["firm"])}
        assert published == ({ids["penalty"]} if penalty_shown else set()), day
    # the office still sees the warning in the credit file: unpublished is not hidden
    with db.session_scope(county) as s:
        item = catalog_service.item(s, "market.penalty_minor")
        assert not catalog_service.publishable(item)
        assert item.publication and item.publication["decided_by"]["publish"] == "samr-order-45"


def test_the_catalogue_says_which_rule_decided_and_which_was_overruled(county: str) -> None:
    with db.session_scope(county) as s:
        rows = {r["item"]: r for r in catalog_service.publication_table(s)}
    minor, general = rows["market.penalty_minor"], rows["market.penalty"]
    assert (minor["published"], minor["max_months"]) == (False, 3)
    assert (general["published"], general["min_months"], general["max_months"]) == (True, 3, 12)
    assert general["decided_by"] == {"publish": "samr-order-45", "period": "ndrc-order-36",
                                     "deadlines": "samr-order-45"}
    (lost,) = general["overruled"]
    assert (lost["rule"], lost["aspect"], lost["said"]) == ("samr-order-45", "period", {"max_months": 36})
    assert (general["publish_within_working_days"], general["withdraw_within_working_days"]) == (20, 3)
    # a minor item of another department: Order 36 alone, not published
    assert rows["market.inspection_problem"]["published"] is False
    assert rows["court.dishonest_debtor"]["published"] is True


def test_precedence_is_data_and_a_rule_left_unplaced_is_refused(tmp_path: Path) -> None:
    from creditgov.catalog import publication
    from creditgov.core.errors import ConfigError

    text = catalog_service.default_catalog_text()
    swapped = text.replace("order: [ndrc-order-36, samr-order-45]", "order: [samr-order-45, ndrc-order-36]")
    path = tmp_path / "catalog.yaml"
    path.write_text(swapped, "utf-8")
    r = publication.resolve_all(catalog_service.read_catalog(path))
    assert (r["market.penalty"].max_months, r["market.penalty"].decided_by["period"]) == (36, "samr-order-45")
    assert r["court.judgement"].max_months == 12  # not a market penalty: Order 36 still
    unplaced = text.replace("order: [ndrc-order-36, samr-order-45]", "order: [ndrc-order-36]")
    path.write_text(unplaced, "utf-8")
    line = next(n for n, ln in enumerate(unplaced.splitlines(), 1) if ln.strip() == "publication:")
    with pytest.raises(ConfigError) as exc:
        catalog_service.read_catalog(path)
    assert "samr-order-45 speaks on period but the precedence of period does not place it" in str(exc.value)
    assert str(exc.value).startswith(f"{path}:{line}: publication:")
