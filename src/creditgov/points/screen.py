"""The public big screen's figures (公共信用大屏): counts of public data only.

Nothing here names a subject: published evaluations counted by street and shared band
(bands, not scores, so models on different scales add up), the red and black lists in
force, the credit merchants awarded, and the points supermarket's redemptions by month.
Unpublished runs, key-attention lists and anything personal stay off the screen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.lists.models import CreditList, ListEntry
from creditgov.lists.queries import listed_on
from creditgov.points.boards import LIST_KINDS, published_runs
from creditgov.points.models import MerchantCandidate, Offer, Redemption, Shop
from creditgov.records.models import CreditRecord
from creditgov.scoring import bands
from creditgov.scoring.models import Score
from creditgov.scoring.published import band_table
from creditgov.subjects.models import Region, Subject

CST = dt.timezone(dt.timedelta(hours=8), "CST")


def _streets(session: Session) -> list[Region]:
    return list(session.execute(select(Region).where(Region.depth == 1).order_by(Region.path)).scalars())


def _street_of(session: Session) -> Any:
    """A subquery: each region cell's street (depth 1) id."""
    street = select(Region.id.label("sid"), Region.path.label("spath")).where(Region.depth == 1).subquery()
    return (select(Region.id.label("rid"), street.c.sid).join(street, Region.path.startswith(street.c.spath))
            .subquery())


def bands_by_street(session: Session) -> dict[str, Any]:
    table = band_table(session.connection())
    cells = _street_of(session)
    counts: dict[tuple[int, str], int] = {}
    for run in published_runs(session):
        grades = table.get((run.model_name, run.model_version), {})
        q = (select(cells.c.sid, Score.grade, func.count()).select_from(Score)
             .join(Subject, Subject.id == Score.subject_id).join(cells, cells.c.rid == Subject.region_id)
             .where(Score.run_id == run.id).group_by(cells.c.sid, Score.grade))
        for sid, grade, n in session.execute(q).tuples():
            band = grades.get(grade)
            if band:
                counts[(sid, band)] = counts.get((sid, band), 0) + int(n)
    streets = _streets(session)
    return {"streets": [s.name for s in streets],
            "series": [{"band": b, "label": bands.LABELS[b], "data": [counts.get((s.id, b), 0) for s in streets]}
                       for b in bands.BANDS]}


def lists_in_force(session: Session) -> list[dict[str, Any]]:
    q = (select(CreditList.code, CreditList.name_zh, CreditList.name_en, CreditList.kind, func.count(ListEntry.id))
         .join(ListEntry, ListEntry.list_code == CreditList.code)
         .where(listed_on(clock.today()), ListEntry.status == "published", CreditList.kind.in_(LIST_KINDS))
         .group_by(CreditList.code, CreditList.name_zh, CreditList.name_en, CreditList.kind)
         .order_by(CreditList.code))
    return [{"list": c, "label": (zh, en), "kind": k, "count": int(n)} for c, zh, en, k, n in session.execute(q)]


def merchants_by_street(session: Session) -> dict[str, Any]:
    cells = _street_of(session)
    q = (select(cells.c.sid, func.count(MerchantCandidate.id)).select_from(MerchantCandidate)
         .join(CreditRecord, CreditRecord.id == MerchantCandidate.record_id)
         .join(Subject, Subject.id == MerchantCandidate.subject_id).join(cells, cells.c.rid == Subject.region_id)
         .where(MerchantCandidate.status == "awarded", CreditRecord.status == "active",
                CreditRecord.is_current.is_(True)).group_by(cells.c.sid))
    counts = dict(session.execute(q).tuples().all())
    streets = _streets(session)
    return {"streets": [s.name for s in streets], "data": [int(counts.get(s.id, 0)) for s in streets]}


def redemptions_by_month(session: Session, *, months: int = 12) -> dict[str, Any]:
    today = clock.today()
    first = clock.add_months(today.replace(day=1), -(months - 1))
    q = (select(Redemption.settled_at, Redemption.points).where(Redemption.status == "settled",
                                                                Redemption.settled_at.is_not(None)))
    per: dict[str, tuple[int, int]] = {}
    for at, pts in session.execute(q).tuples():
        if at is None or at.date() < first:
            continue
        key = f"{at.replace(tzinfo=dt.UTC).astimezone(CST):%Y-%m}"  # stored naive UTC; months in CST
        n, p = per.get(key, (0, 0))
        per[key] = (n + 1, p + int(pts))
    labels = [f"{clock.add_months(first, i):%Y-%m}" for i in range(months)]
    return {"months": labels, "count": [per.get(m, (0, 0))[0] for m in labels],
            "points": [per.get(m, (0, 0))[1] for m in labels]}


def figures(session: Session) -> dict[str, Any]:
    runs = published_runs(session)
    shops = session.execute(select(func.count(Shop.id)).where(Shop.active.is_(True))).scalar_one()
    offers = session.execute(select(func.count(Offer.id)).where(Offer.active.is_(True))).scalar_one()
    return {"on": clock.today().isoformat(), "published_runs": len(runs),
            "evaluated": int(sum(r.subjects for r in runs)), "shops": int(shops), "offers": int(offers),
            "bands": bands_by_street(session), "lists": lists_in_force(session),
            "merchants": merchants_by_street(session), "redemptions": redemptions_by_month(session)}
