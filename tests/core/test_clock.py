"""`clock.dated`: code inside reads the given day as today and now, other threads and
the process's environment do not, and the day before is restored after."""

from __future__ import annotations

import datetime as dt
import os
import threading

from creditgov.core import clock


def test_dated_pins_the_day_for_its_own_code_only(monkeypatch) -> None:
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-01T02:00:00")
    seen: list[dt.date] = []
    with clock.dated(dt.date(2026, 3, 1)):
        assert clock.today() == dt.date(2026, 3, 1) and clock.to_cst(clock.now()).date() == dt.date(2026, 3, 1)
        with clock.dated(dt.date(2025, 12, 31)):
            assert clock.today() == dt.date(2025, 12, 31)
        assert clock.today() == dt.date(2026, 3, 1)
        other = threading.Thread(target=lambda: seen.append(clock.today()))
        other.start()
        other.join()
        assert os.environ["CREDITGOV_TODAY"] == "2026-11-01"
    assert seen == [dt.date(2026, 11, 1)]
    assert clock.today() == dt.date(2026, 11, 1) and clock.now() == dt.datetime(2026, 11, 1, 2, 0)


def test_a_pinned_day_is_the_day_every_timestamp_shows(monkeypatch) -> None:
    """With the day pinned, now() is that day at the current time of day in China: shown
    in China Standard Time it is the pinned day whatever the hour in UTC (it was the next
    day from 16:00 UTC on, beside as-of dates of the day before), and it still moves on
    with the real clock."""
    monkeypatch.delenv("CREDITGOV_NOW", raising=False)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    first = clock.now()
    assert clock.to_cst(first).date() == dt.date(2026, 11, 1) == clock.today()
    real = dt.datetime.now(dt.UTC).astimezone(clock.CST).time()
    shown = clock.to_cst(first).replace(tzinfo=None)
    assert abs(shown - dt.datetime.combine(dt.date(2026, 11, 1), real)) < dt.timedelta(seconds=5)
    assert clock.now() >= first
