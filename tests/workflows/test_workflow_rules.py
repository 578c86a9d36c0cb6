"""Rules as data: the shipped defaults, validation with file:line:field, loading a changed
copy, and the Order 36 repair dates read from the catalogue's periods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete
from tests.workflows.helpers import add_record, make_firm

from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.workflows.eligibility import repair_schedule
from creditgov.workflows.models import WorkflowRules
from creditgov.workflows.rules import load_rules, read_rules, rules, shipped_rules_text

D = dt.date


def test_shipped_defaults_with_citations() -> None:
    r = read_rules()
    assert (r.objection.handling_working_days, r.objection.max_total_working_days) == (5, 20)
    assert (r.objection.extensions, r.objection.reviews) == (1, 1)
    assert (r.repair.intake_working_days, r.repair.decision_working_days) == (10, 3)
    assert "浙江省公共信用信息管理条例" in r.objection.citation
    assert "第36号" in r.repair.citation
    assert all("第36号" in t.citation for t in r.repair.tiers.values())
    assert r.repair.commitment_type == "credit-repair"


def test_an_invalid_rules_file_names_file_line_and_field(tmp_path: Path) -> None:
    doc = yaml.safe_load(shipped_rules_text())
    doc["objection"]["handling_working_days"] = 0
    bad = tmp_path / "rules.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\.yaml:\d+: objection\.handling_working_days"):
        read_rules(bad)
    doc["objection"]["handling_working_days"] = 30  # above the 20-day total
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="max_total_working_days is below"):
        read_rules(bad)


def test_a_loaded_copy_is_in_force(county: str, tmp_path: Path) -> None:
    doc = yaml.safe_load(shipped_rules_text())
    doc["version"] = "local-1"
    doc["objection"]["handling_working_days"] = 3
    f = tmp_path / "local.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with db.session_scope(county) as s:
        assert rules(s).objection.handling_working_days == 5
        load_rules(s, path=f, actor="admin")
    try:
        with db.session_scope(county) as s:
            assert rules(s).version == "local-1"
            assert rules(s).objection.handling_working_days == 3
        doc["credit_office"] = "nowhere"
        f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        with db.session_scope(county) as s, pytest.raises(ConfigError, match="credit_office: unknown department"):
            load_rules(s, path=f)
    finally:  # the module's store goes back to the shipped rules
        with db.session_scope(county) as s:
            s.execute(delete(WorkflowRules))


def _periods() -> dict[str, tuple[int, int]]:
    cat = catalog_service.read_catalog()
    return {k: (v.min_publication_months, v.max_publication_months) for k, v in cat.severity_periods.items()}


def test_order_36_dates_come_from_the_catalogue(county: str, tmp_path: Path) -> None:
    # The shipped catalogue carries Order 36's tiers; the dates follow from them.
    assert _periods() == {"minor": (0, 3), "general": (3, 12), "serious": (12, 36)}
    with db.session_scope(county) as s:
        firm = make_firm(s)
        general = add_record(s, firm, "market.penalty", published=D(2026, 1, 20))
        serious = add_record(s, firm, "market.penalty_serious", published=D(2026, 1, 20))
        minor = add_record(s, firm, "market.penalty_minor", published=D(2026, 1, 20))
        got = {row["record_id"]: row for row in repair_schedule(s, firm.id)}
        assert (got[general.id]["tier"], got[general.id]["repairable_from"], got[general.id]["publication_ends"]) \
            == ("general", "2026-04-20", "2027-01-20")
        assert (got[serious.id]["tier"], got[serious.id]["repairable_from"], got[serious.id]["publication_ends"]) \
            == ("serious", "2027-01-20", "2029-01-20")
        # minor: repairable at once (the day of publication), published at most 3 months
        assert (got[minor.id]["tier"], got[minor.id]["repairable_from"], got[minor.id]["publication_ends"]) \
            == ("minor", "2026-01-20", "2026-04-20")
        ids = (general.id, serious.id, minor.id)
        firm_id = firm.id
    # Change the data: the dates move, no code involved.
    text = catalog_service.default_catalog_text()
    doc = yaml.safe_load(text)
    doc["severity_periods"]["general"].update(min_publication_months=6, max_publication_months=24)
    doc["severity_periods"]["serious"].update(min_publication_months=24, max_publication_months=60)
    doc["version"] = "2026.11-local"
    f = tmp_path / "catalog.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with db.session_scope(county) as s:
        catalog_service.load_catalog(s, path=f, actor="admin")
    try:
        with db.session_scope(county) as s:
            assert s.get(CatalogItem, "market.penalty").min_publication_months == 6  # type: ignore[union-attr]
            got = {row["record_id"]: row for row in repair_schedule(s, firm_id)}
            assert (got[ids[0]]["repairable_from"], got[ids[0]]["publication_ends"]) == ("2026-07-20", "2028-01-20")
            assert (got[ids[1]]["repairable_from"], got[ids[1]]["publication_ends"]) == ("2028-01-20", "2031-01-20")
            assert (got[ids[2]]["repairable_from"], got[ids[2]]["publication_ends"]) == ("2026-01-20", "2026-04-20")
    finally:  # the module's store goes back to the shipped catalogue
        with db.session_scope(county) as s:
            catalog_service.load_catalog(s, actor="test")
