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
        assert clock.today() == dt.date(2026, 3, 1) and clock.now().date() == dt.date(2026, 3, 1)
        with clock.dated(dt.date(2025, 12, 31)):
            assert clock.today() == dt.date(2025, 12, 31)
        assert clock.today() == dt.date(2026, 3, 1)
        other = threading.Thread(target=lambda: seen.append(clock.today()))
        other.start()
        other.join()
        assert os.environ["CREDITGOV_TODAY"] == "2026-11-01"
    assert seen == [dt.date(2026, 11, 1)]
    assert clock.today() == dt.date(2026, 11, 1) and clock.now() == dt.datetime(2026, 11, 1, 2, 0)
