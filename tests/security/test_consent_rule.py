"""A consent's "in force on a day" is stated once (`AccessConsent.in_force_on`) and read
alike in Python (a page's status, a bank's list) and in SQL (the scope check, a bureau's
run), on a real store (SQLite and PostgreSQL): the two agree for every kind of consent
on every day around its dates, and the status a page shows says the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from creditgov.core import db
from creditgov.security import users
from creditgov.security.accounts import AccessConsent
from tests.lists.helpers import make_subject

DAY = dt.date(2026, 11, 1)


def test_python_and_sql_say_the_same_on_every_day(store: str) -> None:
    with db.session_scope(store) as s:
        subject = make_subject(s)
        shapes = {  # (granted, expires, revoked)
            "open-ended": (DAY, None, None),
            "ends-on-day": (DAY - dt.timedelta(days=30), DAY, None),
            "ended": (DAY - dt.timedelta(days=30), DAY - dt.timedelta(days=1), None),
            "revoked": (DAY - dt.timedelta(days=30), DAY + dt.timedelta(days=30), DAY - dt.timedelta(days=2)),
            "from-tomorrow": (DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=30), None),
        }
        ids = {}
        for name, (granted, expires, revoked) in shapes.items():
            c = AccessConsent(subject_id=subject.id, organisation="bank-x", purpose=name, granted_on=granted,
                              expires_on=expires, revoked_on=revoked, actor="test")
            s.add(c)
            s.flush()
            ids[c.id] = name
        for day in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)):
            in_sql = {ids[i] for i in s.execute(select(AccessConsent.id).where(
                AccessConsent.id.in_(ids), AccessConsent.in_force_on(day))).scalars()}
            in_python = {ids[c.id] for c in s.execute(select(AccessConsent).where(
                AccessConsent.id.in_(ids))).scalars() if c.in_force_on(day)}
            assert in_sql == in_python, day
        on_day = {ids[c.id]: users.consent_status(c, DAY)
                  for c in s.execute(select(AccessConsent).where(AccessConsent.id.in_(ids))).scalars()}
    assert on_day == {"open-ended": "in_force", "ends-on-day": "in_force", "ended": "expired",
                      "revoked": "revoked", "from-tomorrow": "not_yet"}
    assert in_sql == {"open-ended", "from-tomorrow"}  # the day after: the one ending on DAY has ended
