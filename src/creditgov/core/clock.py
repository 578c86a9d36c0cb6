"""The clock. `CREDITGOV_TODAY` pins "today" so demos and tests are reproducible;
`CREDITGOV_NOW` (an ISO timestamp, UTC) pins the very moment, for what counts minutes
(sign-in lock-outs, session time-outs) and must be shown to end on time."""

from __future__ import annotations

import calendar
import contextvars
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

from babel.dates import format_date

# A day pinned by `dated` for the code running inside it (this thread or task only).
_DATED: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("creditgov_dated", default=None)


@contextmanager
def dated(day: dt.date) -> Iterator[None]:
    """The code inside reads `day` as today (and that day at the current time of day as
    now), as if `CREDITGOV_TODAY` were `day`: for a command that records past acts in
    order (the demo's loans granted months ago). The process's environment, other
    threads and other requests are untouched."""
    token = _DATED.set(day)
    try:
        yield
    finally:
        _DATED.reset(token)


def today() -> dt.date:
    """The day in China, where a county office works: from 16:00 UTC it is already
    tomorrow there, whatever time zone the server keeps."""
    day = _DATED.get()
    if day is not None:
        return day
    moment = os.environ.get("CREDITGOV_NOW")
    if moment:
        return to_cst(dt.datetime.fromisoformat(moment)).date()
    pinned = os.environ.get("CREDITGOV_TODAY")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.datetime.now(CST).date()


def now() -> dt.datetime:
    """UTC now (naive, as stored); with `CREDITGOV_TODAY` pinned, that day at the current
    time of day in China, so timestamps (status changes, audit entries), shown in China
    Standard Time, fall on the pinned day like the as-of dates: a moment before 08:00
    China time is the evening before in UTC, as it is on a real day."""
    moment = os.environ.get("CREDITGOV_NOW")
    day = _DATED.get()
    if moment and day is None:
        return dt.datetime.fromisoformat(moment).replace(tzinfo=None)
    real = dt.datetime.now(dt.UTC)
    pinned = day.isoformat() if day is not None else os.environ.get("CREDITGOV_TODAY")
    if pinned:
        there = dt.datetime.combine(dt.date.fromisoformat(pinned), real.astimezone(CST).time(), tzinfo=CST)
        return there.astimezone(dt.UTC).replace(tzinfo=None)
    return real.replace(tzinfo=None)


def iso(v: dt.date | dt.datetime | None) -> str | None:
    """The one way answers write a date (ISO) or a timestamp (ISO, to the second);
    None stays None."""
    if v is None:
        return None
    return v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else v.isoformat()


CST = dt.timezone(dt.timedelta(hours=8), "CST")
# How a shown time is labelled, per language (GB/T 7408 style date, 24-hour clock).
CST_LABELS = {"zh": "北京时间", "en": "CST"}


def to_cst(v: dt.datetime | str) -> dt.datetime:
    """A stored moment in China Standard Time, to the second. The store keeps naive UTC
    timestamps; an aware one is converted; an ISO string is parsed first."""
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return v.astimezone(CST).replace(microsecond=0)


def day_start(day: dt.date) -> dt.datetime:
    """The moment a day begins in China, as the store keeps moments (naive UTC): the
    bound to compare stored timestamps with when a question is asked in days or months
    (a redemption at 07:00 on 1 December, China time, is December's)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=CST).astimezone(dt.UTC).replace(tzinfo=None)


def show(v: dt.date | dt.datetime | str | None, lang: str = "zh", *, label: bool = True,
         seconds: bool = False) -> str:
    """The one way pages and documents show a time: in China Standard Time, where a
    county office works, without microseconds, labelled 北京时间 (zh) or CST (en). A
    date (or an ISO date string) is shown as it is; None as a dash."""
    if v is None or v == "":
        return "—"
    if isinstance(v, str):
        text = v
        try:
            v = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    if not isinstance(v, dt.datetime):
        return v.isoformat()
    text = to_cst(v).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {CST_LABELS.get(lang, 'CST')}" if label else text


# A day in words, per language, as a CLDR pattern: in Chinese as official documents
# write it (GB/T 9704-2012 7.3.5.1: Arabic numerals, the year in full, no leading
# zeros: 2026年11月1日); in English day, month name, year (1 November 2026).
_DAY_WORDS = {"zh": ("y年M月d日", "zh"), "en": ("d MMMM y", "en")}


def day_in_words(day: dt.date | None, lang: str) -> str:
    """The one way a sentence or a document writes a day out: in Chinese (any language
    but English) 2026年11月1日 — the date signed, a deadline, a day in the body alike —
    in English 1 November 2026; none is a dash. Answers to machines write ISO (`iso`)."""
    if day is None:
        return "—"
    pattern, locale = _DAY_WORDS.get(lang, _DAY_WORDS["zh"])
    return format_date(day, pattern, locale=locale)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; the 31st of a short month falls on its last day."""
    month0 = day.month - 1 + months
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))
