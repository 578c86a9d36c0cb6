"""The calendar and rules commands (the journey test drives objection and repair)."""

from __future__ import annotations

import json

import pytest

from creditgov.core.errors import InvalidInput


def test_workdays_and_rules_commands(cli) -> None:
    assert cli("init").exit_code == 0

    def j(*args: str):
        res = cli(*args, "--json")
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    assert j("workdays", "check", "2026-09-30", "--add", "5") == {
        "date": "2026-09-30", "working": True, "why": "weekday", "year": "published", "add": 5,
        "deadline": "2026-10-13"}
    assert j("workdays", "check", "2026-09-20")["why"] == "adjusted working weekend (调休上班)"
    got = j("workdays", "set", "2027-02-20", "--working", "--name", "春节调休上班", "--source", "国办发明电〔2026〕X号")
    assert got["working"] is True
    days = j("workdays", "list", "2027")
    assert days["status"] == "unpublished"
    assert {"date": "2027-02-20", "weekday": "Sat", "working": True, "why": "override: 春节调休上班"} in days["days"]
    with pytest.raises(InvalidInput, match="already in the calendar"):
        cli("workdays", "set", "2026-10-12", "--holiday", "--name", "x", "--source", "y")
    rules = j("repair", "rules")
    assert (rules["objection"]["handling_working_days"], rules["objection"]["max_total_working_days"],
            rules["repair"]["intake_working_days"], rules["repair"]["decision_working_days"]) == (5, 20, 10, 3)
    assert j("repair", "daily") == {"publication_ended": [], "overdue": {"objection": [], "repair": []}}
    assert j("repair", "outbox") == []
    with pytest.raises(InvalidInput, match="--subject or --department"):
        cli("objection", "inbox")
    text = cli("workdays", "check", "2026-10-01")
    assert "is not a working day (holiday: 国庆节)" in text.output
