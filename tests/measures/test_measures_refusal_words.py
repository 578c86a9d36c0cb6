"""The refusals of the credit check in the reader's language, from the label
catalogue: a scenario nobody has (what the form sent repeated unchanged), and a
scenario that does not check a kind of subject, named by their labels."""

from __future__ import annotations

import pytest
from tests.lists.helpers import make_subject

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.measures import service as measures_service
from creditgov.web import i18n

HOSTILE = '<b>x</b> "O\'Brien" “引号”'


def test_a_scenario_nobody_has(county_sqlite: str) -> None:
    bootstrap.wire()
    with db.session_scope(county_sqlite) as s, pytest.raises(NotFound, match="unknown scenario") as unknown:
        measures_service.check(s, scenario=HOSTILE, subject_id=1, department="market", actor="test")
    assert i18n.refusal(unknown.value, "zh") == f"没有核查场景“{HOSTILE}”，请从列表中选择核查场景。"
    assert i18n.refusal(unknown.value, "en") == f"There is no check scenario “{HOSTILE}”; choose one from the list."


def test_a_scenario_that_does_not_check_a_kind(county_sqlite: str) -> None:
    bootstrap.wire()
    with db.session_scope(county_sqlite) as s:
        resident = make_subject(s, kind="individual", name=HOSTILE)
        with pytest.raises(InvalidInput, match="does not check a individual") as person:
            measures_service.check(s, scenario="export-tax-refund", subject_id=resident.id, department="tax",
                                   actor="test")
    assert i18n.refusal(person.value, "zh") == "核查场景“出口退（免）税申报”不适用于自然人，不能对其核查。"
    assert i18n.refusal(person.value, "en") == (
        "The scenario “Export tax refund” does not check a subject of the kind “Individual”: "
        "出口退(免)税 is claimed by exporting enterprises and businesses, not by residents")
