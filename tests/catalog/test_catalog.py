from __future__ import annotations

import pytest

from creditgov.catalog import service
from creditgov.core.db import session_scope
from creditgov.core.errors import ConfigError


def test_shipped_catalogue_validates_with_order36_periods() -> None:
    cat = service.read_catalog()
    items = {i.code: i for i in cat.items}
    assert len(items) >= 32
    assert cat.periods(items["market.penalty_minor"]) == (0, 3)
    assert cat.periods(items["market.penalty"]) == (3, 12)
    assert cat.periods(items["court.dishonest_debtor"]) == (12, 36)
    assert items["police.case"].data_class == "secret"
    assert {i.department for i in cat.items} >= {"market", "tax", "court", "environment", "safety", "utility",
                                                  "social", "grid", "finance", "opinion", "civility"}


def test_secret_items_are_refused_for_evaluation_and_publication(store) -> None:
    with session_scope(store) as s:
        secret = service.item(s, "police.case")
        public = service.item(s, "market.penalty")
        assert not service.usable_for_evaluation(secret) and not service.publishable(secret)
        assert service.usable_for_evaluation(public) and service.publishable(public)


def test_changing_the_tier_data_changes_the_periods(tmp_path) -> None:
    text = service.default_catalog_text().replace(
        "general: {min_publication_months: 3,  max_publication_months: 12",
        "general: {min_publication_months: 6,  max_publication_months: 24")
    path = tmp_path / "catalog.yaml"
    path.write_text(text, "utf-8")
    cat = service.read_catalog(path)
    assert cat.periods(next(i for i in cat.items if i.code == "market.penalty")) == (6, 24)


def test_bad_catalogue_names_file_line_and_field(tmp_path) -> None:
    text = service.default_catalog_text().replace("polarity: negative, severity: minor, department: market",
                                                  "polarity: negativ, severity: minor, department: market", 1)
    path = tmp_path / "catalog.yaml"
    path.write_text(text, "utf-8")
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "negativ," in ln)
    with pytest.raises(ConfigError) as exc:
        service.read_catalog(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:") and ".polarity:" in msg
    assert abs(int(msg.split(":")[1]) - line) <= 1
