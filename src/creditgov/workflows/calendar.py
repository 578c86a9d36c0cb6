"""China's working-day calendar (工作日): every deadline of objection and repair counts
on it.

Three layers, the later winning: Monday to Friday; the `holidays` package's China
calendar (statutory holidays and the adjusted working weekends of each State Council
notice it knows); and administrators' overrides in the database, for a year whose
notice the installed package predates or for a local closure.

Counting rule: "within N working days of D" ends on the N-th working day after D; D
itself never counts, whether or not it is a working day (a filing on a Saturday still
gets N full working days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import load_yaml_model
from creditgov.core.errors import InvalidInput
from creditgov.security import service as audit
from creditgov.workflows.models import WorkingDayOverride
from creditgov.workflows.schemas import WorkdayYearFile

# A deadline further than this is a bug in the caller, not a long deadline.
MAX_SPAN_DAYS = 3 * 366


@dataclass(frozen=True)
class PackageYear:
    """What the `holidays` package says about one year."""

    holidays: Mapping[dt.date, str]
    working_weekends: frozenset[dt.date]

    @property
    def published(self) -> bool:
        # Every State Council notice since 2001 moves at least one weekend to a working
        # day; a year with none is one the package only estimates (fixed-date holidays).
        return bool(self.working_weekends)


@lru_cache(maxsize=64)
def package_year(year: int) -> PackageYear:
    cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    days = {d: str(name) for d, name in cn.items() if d.year == year}
    weekends = frozenset(d for d in cn.weekend_workdays if d.year == year)
    return PackageYear(days, weekends)


def year_status(year: int) -> str:
    """'published' when the package knows the year's State Council notice, else
    'unpublished' (only fixed holidays are known: add the notice as overrides)."""
    return "published" if package_year(year).published else "unpublished"


class WorkCalendar:
    """The calendar with a fixed set of overrides (read once per unit of work)."""

    def __init__(self, overrides: Mapping[dt.date, tuple[bool, str]] | None = None) -> None:
        self.overrides = dict(overrides or {})

    def explain(self, day: dt.date) -> tuple[bool, str]:
        """(is a working day, why) — the why names the layer that decided."""
        if day in self.overrides:
            working, name = self.overrides[day]
            return working, f"override: {name}"
        py = package_year(day.year)
        if day in py.holidays:
            return False, f"holiday: {py.holidays[day]}"
        if day in py.working_weekends:
            return True, "adjusted working weekend (调休上班)"
        if day.weekday() >= 5:
            return False, "weekend"
        return True, "weekday"

    def is_working_day(self, day: dt.date) -> bool:
        return self.explain(day)[0]

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (start excluded); n = 0 gives start."""
        if n < 0:
            raise InvalidInput("a deadline counts a non-negative number of working days")
        day, left = start, n
        while left:
            day += dt.timedelta(days=1)
            if (day - start).days > MAX_SPAN_DAYS:
                raise InvalidInput(f"{n} working days after {start} is beyond {MAX_SPAN_DAYS} days")
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many of a deadline's days have been used."""
        if end <= start:
            return 0
        return sum(self.is_working_day(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))


def load(session: Session) -> WorkCalendar:
    rows = session.execute(select(WorkingDayOverride)).scalars()
    return WorkCalendar({r.day: (r.is_working, r.name) for r in rows})


def add_working_days(session: Session, start: dt.date, n: int) -> dt.date:
    """The public entry for other domains (e.g. the lists' response windows)."""
    return load(session).add_working_days(start, n)


def set_day(session: Session, *, day: dt.date, working: bool, name: str, source: str,
            force: bool = False, actor: str | None = None) -> WorkingDayOverride:
    """Override one day. Overriding a year whose notice the package already knows
    needs `force`: it contradicts a published notice, so it must be deliberate."""
    actor = actor or audit.default_actor()
    if not name.strip() or not source.strip():
        raise InvalidInput("an override needs a name and the notice it comes from")
    if year_status(day.year) == "published" and not force:
        raise InvalidInput(f"{day.year}'s holiday notice is already in the calendar; "
                           f"overriding {day} contradicts it (use force if that is intended)")
    row = session.get(WorkingDayOverride, day)
    before = None if row is None else {"working": row.is_working, "name": row.name}
    if row is None:
        row = WorkingDayOverride(day=day)
        session.add(row)
    row.is_working, row.name, row.source = working, name.strip(), source.strip()
    row.actor, row.created_at = actor, clock.now()
    session.flush()
    audit.append(session, action="calendar.override", actor=actor,
                 detail={"day": day.isoformat(), "working": working, "name": row.name, "source": row.source,
                         "before": before, "forced": force})
    return row


def remove_day(session: Session, *, day: dt.date, actor: str | None = None) -> None:
    row = session.get(WorkingDayOverride, day)
    if row is None:
        raise InvalidInput(f"{day} has no override")
    session.delete(row)
    session.flush()
    audit.append(session, action="calendar.override.remove", actor=actor,
                 detail={"day": day.isoformat(), "working": row.is_working, "name": row.name})


def load_year(session: Session, *, path: Path, force: bool = False, actor: str | None = None) -> dict[str, Any]:
    """Load a year's arrangement (a State Council notice) as overrides."""
    doc = load_yaml_model(WorkdayYearFile, path)
    if year_status(doc.year) == "published" and not force:
        raise InvalidInput(f"{path}: {doc.year}'s notice is already in the calendar (use force to override it)")
    for d in doc.days:
        set_day(session, day=d.date, working=d.working, name=d.name, source=doc.source, force=True, actor=actor)
    return {"year": doc.year, "days": len(doc.days), "source": doc.source}


def special_days(session: Session, year: int) -> list[dict[str, Any]]:
    """Every day of a year that is not an ordinary weekday or weekend, with its layer."""
    cal = load(session)
    py = package_year(year)
    days = set(py.holidays) | set(py.working_weekends) | {d for d in cal.overrides if d.year == year}
    out = []
    for d in sorted(days):
        working, why = cal.explain(d)
        out.append({"date": d.isoformat(), "weekday": d.strftime("%a"), "working": working, "why": why})
    return out
