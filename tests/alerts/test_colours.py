"""Red/yellow/green codes from the latest published runs, with history of real changes."""

from __future__ import annotations

import datetime as dt

import pytest

from creditgov.alerts import colours
from creditgov.core import db
from creditgov.core.errors import NotFound
from creditgov.subjects.models import Subject
from creditgov.worker import jobs
from tests.alerts.helpers import MICRO, add_run, make_regions, make_subject


def test_codes_follow_precedence_and_keep_history_of_changes(sqlite_store: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_store
    with db.session_scope(url) as s:
        r = make_regions(s)
        e1, e2 = (make_subject(s, region=r[MICRO]) for _ in range(2))
        h1 = make_subject(s, region=r[MICRO], kind="homestay")
        p1 = make_subject(s, region=r[MICRO], kind="individual")
        ids = {"e1": e1.id, "e2": e2.id, "h1": h1.id, "p1": p1.id}
        add_run(s, "public-credit-enterprise", dt.date(2026, 10, 1),
                [(e1, "90", "A", "green"), (e2, "70", "C", "yellow"), (h1, "90", "A", "green")])
        add_run(s, "changxing-homestay", dt.date(2026, 10, 1), [(h1, "60", "差", "red")])
        add_run(s, "community-resident", dt.date(2026, 10, 1), [(p1, "760", "AA", "green")])
        add_run(s, "community-resident", dt.date(2026, 10, 2), [(p1, "500", "C", "red")], published=False)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-05")
    with db.session_scope(url) as s:
        out = colours.regenerate(s, actor="test")
        assert (out["subjects"], out["new"], out["changed"]) == (4, 4, 0)
        got = {k: colours.colour_of(s, v).colour for k, v in ids.items()}
        assert got == {"e1": "green", "e2": "yellow", "h1": "red", "p1": "green"}  # h1: the homestay scheme first
        assert colours.colour_of(s, ids["h1"]).model == "changxing-homestay"
    with db.session_scope(url) as s:
        again = colours.regenerate(s, actor="test")
        assert (again["new"], again["changed"], again["refreshed"]) == (0, 0, 0)
        assert len(colours.history(s, ids["e2"])) == 1
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    with db.session_scope(url) as s:
        e1, e2 = s.get(Subject, ids["e1"]), s.get(Subject, ids["e2"])
        add_run(s, "public-credit-enterprise", dt.date(2026, 11, 1), [(e1, "91", "A", "green"), (e2, "50", "D", "red")])
    run = jobs.run_job(url, "colour_codes")  # the worker's job does the same
    assert run.status == "done" and run.result["changed"] == 1 and run.result["refreshed"] == 1
    with db.session_scope(url) as s:
        h = [(x.previous, x.colour, x.effective_on.isoformat()) for x in colours.history(s, ids["e2"])]
        assert h == [(None, "yellow", "2026-10-05"), ("yellow", "red", "2026-11-01")]
        code = colours.colour_of(s, ids["e2"])
        assert (code.colour, code.since.isoformat(), code.grade) == ("red", "2026-11-01", "D")
        e1code = colours.colour_of(s, ids["e1"])
        assert e1code.since.isoformat() == "2026-10-05" and e1code.updated_on.isoformat() == "2026-11-01"
        with pytest.raises(NotFound):
            colours.colour_of(s, 999_999)
