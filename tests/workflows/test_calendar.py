"""The working-day calendar: statutory holidays, adjusted working weekends (2026 notice,
国办发明电〔2025〕7号 as carried by the `holidays` package) and administrators' overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.workflows import calendar

D = dt.date
CAL = calendar.WorkCalendar()


@pytest.mark.parametrize(("received", "n", "due"), [
    # The two cases.
    (D(2026, 9, 30), 5, D(2026, 10, 13)),   # National Day 10-01..07 off, Sat 10-10 works
    (D(2026, 9, 18), 3, D(2026, 9, 22)),    # the working Sunday 09-20 counts
    # More around holidays.
    (D(2026, 9, 30), 20, D(2026, 11, 3)),   # the extended objection deadline
    (D(2026, 2, 13), 5, D(2026, 2, 27)),    # Spring Festival 02-15..23 off, Sat 02-14 works
    (D(2026, 2, 27), 1, D(2026, 2, 28)),    # Sat 02-28 is a working day
    (D(2026, 4, 30), 3, D(2026, 5, 8)),     # Labour Day 05-01..05 off
    (D(2026, 4, 30), 4, D(2026, 5, 9)),     # … and Sat 05-09 works
    (D(2025, 12, 31), 1, D(2026, 1, 4)),    # New Year 01-01..03 off, Sun 01-04 works
    (D(2026, 6, 18), 1, D(2026, 6, 22)),    # Dragon Boat Fri 06-19, then the weekend
    (D(2026, 10, 3), 1, D(2026, 10, 8)),    # received on a holiday Saturday: the day itself never counts
    (D(2026, 11, 2), 10, D(2026, 11, 16)),  # an ordinary fortnight: two weekends skipped
    (D(2026, 11, 2), 0, D(2026, 11, 2)),
])
def test_deadlines(received: dt.date, n: int, due: dt.date) -> None:
    assert CAL.add_working_days(received, n) == due


def test_why_each_day_is_or_is_not_working() -> None:
    assert CAL.explain(D(2026, 9, 20)) == (True, "adjusted working weekend (调休上班)")
    working, why = CAL.explain(D(2026, 10, 1))
    assert not working and why.startswith("holiday: ")
    assert CAL.explain(D(2026, 10, 11)) == (False, "weekend")
    assert CAL.explain(D(2026, 10, 12)) == (True, "weekday")


def test_working_days_between_counts_the_end_not_the_start() -> None:
    assert CAL.working_days_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    assert CAL.working_days_between(D(2026, 9, 18), D(2026, 9, 20)) == 1
    assert CAL.working_days_between(D(2026, 10, 13), D(2026, 9, 30)) == 0


def test_negative_count_is_refused() -> None:
    with pytest.raises(InvalidInput):
        CAL.add_working_days(D(2026, 1, 5), -1)


def test_year_status_tells_published_notices_from_estimates() -> None:
    assert calendar.year_status(2026) == "published"
    # The installed package predates any 2027 notice (no adjusted weekends known).
    assert calendar.year_status(2027) == "unpublished"


def test_overrides_for_an_unpublished_year(county: str) -> None:
    # 2027-02-20 is a Saturday, 2027-02-11 a Thursday.
    before = calendar.WorkCalendar().add_working_days(D(2027, 2, 18), 3)
    assert before == D(2027, 2, 23)
    with db.session_scope(county) as s:
        calendar.set_day(s, day=D(2027, 2, 20), working=True, name="春节调休上班", source="国办发明电〔2026〕X号",
                         actor="admin")
        calendar.set_day(s, day=D(2027, 2, 19), working=False, name="春节", source="国办发明电〔2026〕X号",
                         actor="admin")
    with db.session_scope(county) as s:
        cal = calendar.load(s)
        assert cal.explain(D(2027, 2, 20)) == (True, "override: 春节调休上班")
        # 02-19 off, 02-20 works, 02-22 and 02-23 are Mon and Tue
        assert cal.add_working_days(D(2027, 2, 18), 3) == D(2027, 2, 23)
        assert cal.add_working_days(D(2027, 2, 18), 1) == D(2027, 2, 20)
        assert calendar.add_working_days(s, D(2027, 2, 18), 2) == D(2027, 2, 22)
        days = {d["date"]: d for d in calendar.special_days(s, 2027)}
        assert days["2027-02-20"]["working"] is True and days["2027-02-19"]["working"] is False
        calendar.remove_day(s, day=D(2027, 2, 20), actor="admin")
    with db.session_scope(county) as s:
        assert calendar.load(s).add_working_days(D(2027, 2, 18), 1) == D(2027, 2, 22)


def test_overriding_a_published_year_needs_force(county: str) -> None:
    with db.session_scope(county) as s:
        with pytest.raises(InvalidInput, match="already in the calendar"):
            calendar.set_day(s, day=D(2026, 10, 12), working=False, name="台风停工", source="县政府通知")
        calendar.set_day(s, day=D(2026, 10, 12), working=False, name="台风停工", source="县政府通知", force=True)
    with db.session_scope(county) as s:
        assert calendar.load(s).add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 14)


def test_load_a_year_file(county: str, tmp_path: Path) -> None:
    f = tmp_path / "2027.yaml"
    f.write_text("year: 2027\nsource: 国务院办公厅关于2027年部分节假日安排的通知\ndays:\n"
                 "  - {date: 2027-02-20, working: true, name: 春节调休上班}\n"
                 "  - {date: 2027-10-06, working: false, name: 国庆节}\n", encoding="utf-8")
    with db.session_scope(county) as s:
        out = calendar.load_year(s, path=f, actor="admin")
        assert out == {"year": 2027, "days": 2, "source": "国务院办公厅关于2027年部分节假日安排的通知"}
    with db.session_scope(county) as s:
        assert not calendar.load(s).is_working_day(D(2027, 10, 6))
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nsource: x通知\ndays:\n  - {date: 2028-01-03, working: true, name: x}\n",
                   encoding="utf-8")
    with db.session_scope(county) as s, pytest.raises(ConfigError, match=r"bad\.yaml:\d+: "):
        calendar.load_year(s, path=bad)
