"""The points supermarket on a real store (SQLite and PostgreSQL): 50 concurrent
redemptions of an offer with stock 10 sell exactly 10 and the balances add up; one
subject's concurrent redemptions never spend the same points twice; a retried key
redeems once; confirm, cancel and expiry."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from creditgov.core import db
from creditgov.core.errors import Conflict, NotFound
from creditgov.points import ledger, shop
from creditgov.points.models import Offer, PointsEntry, Redemption
from creditgov.subjects.models import Subject
from tests import store_template
from tests.concurrency import at_once
from tests.lists.helpers import make_subject
from tests.points.helpers import a_shop, an_offer, give, residents


def _race(url: str, calls: list[tuple[int, int, str]]) -> list[str]:
    """Each call in its own thread and its own unit of work, released together."""
    def one(i: int) -> str:
        subject_id, offer_id, key = calls[i]
        with db.session_scope(url) as s:
            _r, created = shop.redeem(s, subject_id=subject_id, offer_id=offer_id, key=key,
                                      actor=f"test:{subject_id}")
        return "created" if created else "replayed"

    return [f"refused: {o}" if isinstance(o, Conflict) else o
            for o in at_once(one, len(calls), returning=(Conflict,))]


def test_fifty_concurrent_redemptions_of_stock_ten_sell_exactly_ten(store: str) -> None:
    with db.session_scope(store) as s:
        people = residents(s, 50, 150)
        a_shop(s)
        offer_id = an_offer(s, price=100, stock=10).id
    out = _race(store, [(p, offer_id, f"k-{p}") for p in people])
    assert out.count("created") == 10, out
    assert all(o == "created" or "sold out" in o for o in out), out
    with db.session_scope(store) as s:
        assert s.get(Offer, offer_id).taken == 10
        reds = s.execute(select(Redemption.subject_id).where(Redemption.offer_id == offer_id)).scalars().all()
        assert len(reds) == 10 and len(set(reds)) == 10
        for p in people:
            bal = ledger.balance(s, p)
            assert bal == (50 if p in reds else 150)
            assert bal == sum(e.amount for e in s.execute(select(PointsEntry).where(
                PointsEntry.subject_id == p)).scalars())
        total = s.execute(select(func.sum(PointsEntry.amount))).scalar_one()
        assert total == 50 * 150 - 10 * 100


def test_one_subject_racing_itself_never_spends_the_same_points_twice(store: str) -> None:
    with db.session_scope(store) as s:
        (p,) = residents(s, 1, 300)
        a_shop(s)
        offer_id = an_offer(s, price=100, stock=50).id
    out = _race(store, [(p, offer_id, f"k-{i}") for i in range(20)])
    assert out.count("created") == 3, out
    assert all(o == "created" or "not enough points" in o for o in out), out
    with db.session_scope(store) as s:
        assert ledger.balance(s, p) == 0
        assert s.get(Offer, offer_id).taken == 3


def test_a_retried_key_redeems_once_even_concurrently(store: str) -> None:
    with db.session_scope(store) as s:
        (p,) = residents(s, 1, 1000)
        a_shop(s)
        offer_id = an_offer(s, price=100, stock=50).id
        other = an_offer(s, price=10, stock=5).id
    out = _race(store, [(p, offer_id, "same-key")] * 8)
    assert out.count("created") == 1 and out.count("replayed") == 7, out
    with db.session_scope(store) as s:
        assert ledger.balance(s, p) == 900
        with pytest.raises(Conflict, match="another offer"):
            shop.redeem(s, subject_id=p, offer_id=other, key="same-key", actor="test")


def test_reserve_confirm_cancel_and_expire(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(store) as s:
        owner = make_subject(s, kind="merchant", name="诚信便利店")
        other_owner = make_subject(s, kind="merchant", name="别家")
        p, q = residents(s, 2, 500)
        a_shop(s, owner=owner.id)
        a_shop(s, "shop-2", owner=other_owner.id)
        offer_id = an_offer(s, price=100, stock=2).id
        r1, _ = shop.redeem(s, subject_id=p, offer_id=offer_id, key="a", actor="test")
        r2, _ = shop.redeem(s, subject_id=q, offer_id=offer_id, key="b", actor="test")
        with pytest.raises(Conflict, match="sold out"):
            shop.redeem(s, subject_id=q, offer_id=offer_id, key="c", actor="test")
        # Another shop's staff cannot confirm this shop's code: it is unknown to them.
        with pytest.raises(NotFound):
            shop.confirm(s, code=r1.code, actor="staff2", shop_subject_id=other_owner.id)
        assert shop.confirm(s, code=r1.code.lower(), actor="staff", shop_subject_id=owner.id).status == "settled"
        assert shop.confirm(s, code=r1.code, actor="staff", shop_subject_id=owner.id).status == "settled"
        with pytest.raises(Conflict, match="settled"):
            shop.cancel(s, r1.id, actor="test", subject_id=p)
        # Cancelling returns the points and the item.
        shop.cancel(s, r2.id, actor="test", subject_id=q)
        assert ledger.balance(s, q) == 500 and s.get(Offer, offer_id).taken == 1
        r3, _ = shop.redeem(s, subject_id=q, offer_id=offer_id, key="d", actor="test")
        assert shop.settlement(s, month="2026-11") == [
            {"shop": "shop-1", "name": "诚信超市", "redemptions": 1, "points": 100}]
        r3_id = r3.id
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-05")   # past the 72-hour hold
    with db.session_scope(store) as s:
        assert shop.expire_reservations(s, actor="test") == 1
        assert s.get(Redemption, r3_id).status == "expired"
        assert ledger.balance(s, q) == 500 and s.get(Offer, offer_id).taken == 1
        with pytest.raises(Conflict, match="expired"):
            shop.confirm(s, code=s.get(Redemption, r3_id).code, actor="staff")


def test_who_may_redeem_an_offer(store: str) -> None:
    with db.session_scope(store) as s:
        firm = make_subject(s, kind="enterprise")
        give(s, firm.id, 500, "test:firm")
        (p,) = residents(s, 1, 50)
        a_shop(s)
        for_residents = an_offer(s, kinds=["individual"]).id
        good_only = an_offer(s, min_band="good").id
        s.get(Offer, an_offer(s).id).valid_until = dt.date(2026, 10, 31)
        with pytest.raises(Conflict, match="only for subjects of the kind “Individual”"):
            shop.redeem(s, subject_id=firm.id, offer_id=for_residents, key="x", actor="test")
        with pytest.raises(Conflict, match="“Good” or better"):
            shop.redeem(s, subject_id=firm.id, offer_id=good_only, key="y", actor="test")
        with pytest.raises(Conflict, match="not enough points: 50 held"):
            shop.redeem(s, subject_id=p, offer_id=for_residents, key="z", actor="test")
    with db.session_scope(store) as s:   # the refused redemption took nothing
        assert s.get(Offer, for_residents).taken == 0


@pytest.mark.postgres
def test_the_last_item_taken_between_read_and_take_undoes_only_the_redemption(pg_url: str) -> None:
    """PostgreSQL: another transaction takes the last item after this redemption read
    the offer (one left) but before it takes it. The take waits on that transaction's
    row lock, finds the offer sold out once it commits, and the redemption is refused
    with its own rows undone — the caller's earlier work in the same transaction, and
    its audit entries, stay and commit; the chain verifies."""
    from sqlalchemy import text

    from creditgov.security import service as audit

    store_template.fill(pg_url)
    with db.session_scope(pg_url) as s:
        (p,) = residents(s, 1, 500)
        a_shop(s)
        offer_id = an_offer(s, price=100, stock=1).id
    other = db.engine_for(pg_url).connect()
    blocker = other.begin()
    other.execute(text("UPDATE points_offers SET taken = taken + 1 WHERE id = :o"), {"o": offer_id})
    outcome: dict[str, object] = {}

    def redeem_in_caller_transaction() -> None:
        with db.session_scope(pg_url) as s:
            mark = make_subject(s, kind="merchant", name="同一事务里先做的事")
            audit.append(s, action="test.before", actor="test", subject_id=mark.id)
            try:
                shop.redeem(s, subject_id=p, offer_id=offer_id, key="last", actor="test")
                outcome["result"] = "redeemed"
            except Conflict as exc:
                outcome["result"] = str(exc)
            outcome["mark"] = mark.id

    t = threading.Thread(target=redeem_in_caller_transaction)
    t.start()
    waited = 0.0
    try:
        with db.engine_for(pg_url).connect() as watch:  # until the redemption waits on the row lock
            while waited < 20:
                waiting = watch.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                             "AND query LIKE 'UPDATE points_offers%'")).scalar()
                watch.rollback()  # the activity view is read once per transaction
                if waiting:
                    break
                threading.Event().wait(0.05)
                waited += 0.05
    finally:
        blocker.commit()
        other.close()
        t.join(30)
    assert waited < 20, f"the redemption never reached the take: {outcome}"
    assert outcome["result"] == "the offer is sold out"
    with db.session_scope(pg_url) as s:
        assert s.get(Offer, offer_id).taken == 1
        assert s.execute(select(func.count()).select_from(Redemption)).scalar_one() == 0
        assert ledger.balance(s, p) == 500
        assert s.execute(select(func.count()).select_from(PointsEntry).where(PointsEntry.kind == "redeem")
                         ).scalar_one() == 0
        from creditgov.security.models import AuditEntry
        actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert actions[-1] == "test.before" and "points.redeem" not in actions
        assert s.get(Subject, outcome["mark"]) is not None
        assert audit.verify(s).ok
