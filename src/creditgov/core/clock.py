"""The clock. `CREDITGOV_TODAY` pins "today" so demos and tests are reproducible;
`CREDITGOV_NOW` (an ISO timestamp, UTC) pins the very moment, for what counts minutes
(sign-in lock-outs, session time-outs) and must be shown to end on time."""

from __future__ import annotations

import calendar
import datetime as dt
import os


def today() -> dt.date:
    moment = os.environ.get("CREDITGOV_NOW")
    if moment:
        return dt.datetime.fromisoformat(moment).date()
    pinned = os.environ.get("CREDITGOV_TODAY")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.date.today()


def now() -> dt.datetime:
    """UTC now; with `CREDITGOV_TODAY` pinned, that day at the current time of day, so
    timestamps (status changes, audit entries) and as-of dates agree."""
    moment = os.environ.get("CREDITGOV_NOW")
    if moment:
        return dt.datetime.fromisoformat(moment).replace(tzinfo=None)
    real = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    pinned = os.environ.get("CREDITGOV_TODAY")
    if pinned:
        return dt.datetime.combine(dt.date.fromisoformat(pinned), real.time())
    return real


def iso(v: dt.date | dt.datetime | None) -> str | None:
    """The one way answers write a date (ISO) or a timestamp (ISO, to the second);
    None stays None."""
    if v is None:
        return None
    return v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else v.isoformat()


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; the 31st of a short month falls on its last day."""
    month0 = day.month - 1 + months
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))
