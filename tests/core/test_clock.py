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


def test_a_day_in_words_as_each_language_writes_it() -> None:
    """Chinese as official documents write a date (GB/T 9704-2012 7.3.5.1: no leading
    zeros, the year in full), English day, month name, year; no day is a dash."""
    cases = [(dt.date(2026, 11, 1), "2026年11月1日", "1 November 2026"),
             (dt.date(2027, 1, 20), "2027年1月20日", "20 January 2027"),
             (dt.date(2026, 10, 5), "2026年10月5日", "5 October 2026"),
             (dt.date(2024, 2, 29), "2024年2月29日", "29 February 2024")]
    for day, zh, en in cases:
        assert (clock.day_in_words(day, "zh"), clock.day_in_words(day, "en")) == (zh, en)
        assert zh == f"{day.year}年{day.month}月{day.day}日"      # as the hand-written wording gave it
    assert clock.day_in_words(None, "zh") == clock.day_in_words(None, "en") == "—"
    assert clock.day_in_words(dt.date(2026, 3, 9), "fr") == "2026年3月9日"       # any language but English: Chinese


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
