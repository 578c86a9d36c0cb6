"""A property of the ledger, over random sequences of what can happen to a subject's
points (credits, awards, redemptions and their cancellation, reversals, expiry on
later days): after every step each balance equals the sum of its entries and the
remainders of its lots, no running sum is ever negative, and a refused step changes
nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from creditgov.core import db
from creditgov.core.errors import Conflict
from creditgov.points import ledger, shop
from creditgov.points.models import PointsEntry, Redemption
from tests import store_template
from tests.lists.helpers import make_subject
from tests.points.helpers import a_shop, an_offer

_n = itertools.count()
STEP = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 400)),
    st.tuples(st.just("spend"), st.integers(1, 400)),
    st.tuples(st.just("redeem"), st.sampled_from([50, 120, 300])),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("reverse"), st.integers(0, 5)),
    st.tuples(st.just("days"), st.integers(1, 400)),
)


def _check(s, subject_id: int) -> None:
    amounts = s.execute(select(PointsEntry.amount).where(PointsEntry.subject_id == subject_id)
                        .order_by(PointsEntry.id)).scalars().all()
    running = list(itertools.accumulate(amounts, initial=0))
    assert min(running) >= 0, running
    bal = ledger.balance(s, subject_id)
    assert bal == running[-1] == sum(lot.remaining for lot in ledger.lots(s, subject_id))
    assert bal >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_every_balance_is_the_sum_of_its_ledger_and_never_negative(tmp_path: Path, steps) -> None:
    url = f"sqlite:///{tmp_path / f'p{next(_n)}.db'}"
    store_template.fill(url)
    day = dt.date(2026, 11, 1)
    os.environ["CREDITGOV_TODAY"] = day.isoformat()
    with db.session_scope(url) as s:
        sid = make_subject(s, kind="individual").id
        a_shop(s)
        offers = {p: an_offer(s, price=p, stock=1000).id for p in (50, 120, 300)}
    credits: list[int] = []
    for n, (what, arg) in enumerate(steps):
        try:
            with db.session_scope(url) as s:
                if what == "earn":
                    e = ledger.post(s, subject_id=sid, amount=arg, kind="earn", cause="record", ref_type="record",
                                    ref_id=n, cause_key=f"t:{n}", actor="test",
                                    expires_on=ledger.expiry_for(s, day))
                    credits.append(e.id if e else 0)
                elif what == "spend":
                    ledger.lock_account(s, sid)
                    ledger.post(s, subject_id=sid, amount=-arg, kind="redeem", cause="redemption",
                                ref_type="redemption", ref_id=None, cause_key=f"t:{n}", actor="test")
                elif what == "redeem":
                    shop.redeem(s, subject_id=sid, offer_id=offers[arg], key=f"k{n}", actor="test")
                elif what == "cancel":
                    open_ = s.execute(select(Redemption.id).where(Redemption.status == "reserved")
                                      .order_by(Redemption.id)).scalars().all()
                    if open_:
                        shop.cancel(s, open_[arg % len(open_)], actor="test")
                elif what == "reverse" and credits:
                    ledger.reverse(s, s.get(PointsEntry, credits[arg % len(credits)]), actor="test",
                                   reason="property")
                elif what == "days":
                    day += dt.timedelta(days=arg)
                    os.environ["CREDITGOV_TODAY"] = day.isoformat()
                    ledger.expire_due(s, today=day, actor="test")
                    shop.expire_reservations(s, actor="test")
        except Conflict:
            pass   # refused (not enough points, sold out, too late): the unit rolled back
        with db.session_scope(url) as s:
            _check(s, sid)
    os.environ["CREDITGOV_TODAY"] = "2026-11-01"
