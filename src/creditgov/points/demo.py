"""Partner shops and offers for a demonstration store (`creditgov shop demo`): a
community supermarket run by the grid office and the best-graded merchants of the
store as credit-merchant shops. Safe to run twice: shops that exist are left alone.
Then, once points are credited, a few residents' redemptions, most handed over at the
shop (`creditgov shop demo-redemptions`), so the shop's settlement and the residents'
pages show every state a redemption has."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import Conflict
from creditgov.points import boards, ledger, shop
from creditgov.points.models import BoardOptIn, Offer, PointsEntry, Redemption, Shop
from creditgov.points.schemas import OfferIn, ShopIn
from creditgov.records.models import CreditRecord
from creditgov.subjects.models import Subject

OFFERS: dict[str, list[tuple[str, int, int, list[str], str | None]]] = {
    # shop code: (title, price, stock, subject kinds, minimum band)
    "community-market": [("大米 5kg", 300, 40, ["individual"], None), ("食用油 1.8L", 200, 60, ["individual"], None),
                         ("理发券", 100, 100, [], None), ("家政服务 2小时", 500, 20, ["individual"], "good")],
    "merchant": [("九折优惠券", 80, 200, [], None), ("免费洗车一次", 150, 50, [], None)],
}


def seed(session: Session, *, actor: str, merchants: int = 3) -> dict[str, Any]:
    today = clock.today()
    until = clock.add_months(today, 6)
    made: list[str] = []

    def ensure(data: ShopIn, offers: list[tuple[str, int, int, list[str], str | None]]) -> None:
        if session.execute(select(Shop.id).where(Shop.code == data.code)).first():
            return
        shop.add_shop(session, data, actor=actor)
        for title, price, stock, kinds, band in offers:
            shop.add_offer(session, OfferIn.model_validate({
                "shop": data.code, "title": title, "price": price, "stock": stock, "kinds": kinds, "min_band": band,
                "valid_from": today - dt.timedelta(days=30), "valid_until": until}), actor=actor)
        made.append(data.code)

    ensure(ShopIn(code="community-market", name="社区信用积分超市", address="社区服务中心一楼"),
           OFFERS["community-market"])
    honoured = select(CreditRecord.subject_id).where(CreditRecord.item_code == "market.credit_merchant",
                                                     CreditRecord.status == "active")
    picks = session.execute(select(Subject.id, Subject.name).where(Subject.kind == "merchant")
                            .order_by(Subject.id.in_(honoured).desc(), Subject.id).limit(merchants)).all()
    for n, (sid, name) in enumerate(picks, 1):
        ensure(ShopIn(code=f"merchant-{n}", name=f"{name}（诚信商户）"[:200], subject_id=sid),
               OFFERS["merchant"])
    return {"shops": made}


def redemptions(session: Session, *, actor: str, count: int = 12, settle_every: int = 3) -> dict[str, int]:
    """`count` residents who hold points each redeem the dearest offer their points buy
    and that is open to them; the shop settles all but every `settle_every`-th new one
    (those codes are still held). Safe to run twice: a resident's demonstration
    redemption (its idempotency key) is found and counted by its state, never made or
    settled again."""
    offers = session.execute(select(Offer).where(Offer.active.is_(True))
                             .order_by(Offer.price.desc(), Offer.id)).scalars().all()
    holders = select(PointsEntry.subject_id)
    people = session.execute(select(Subject.id).where(Subject.kind == "individual", Subject.id.in_(holders))
                             .order_by(Subject.id)).scalars().all()
    out = {"redeemed": 0, "settled": 0, "reserved": 0, "closed": 0}
    for sid in people:
        if out["redeemed"] >= count:
            break
        key = f"demo-{sid}"
        r = session.execute(select(Redemption).where(Redemption.subject_id == sid,
                                                     Redemption.idempotency_key == key)).scalar_one_or_none()
        created = False
        if r is None:
            have = ledger.balance(session, sid)
            for o in offers:
                if o.price > have:
                    continue
                try:
                    r, created = shop.redeem(session, subject_id=sid, offer_id=o.id, key=key, actor=actor)
                except Conflict:  # not for this resident (kind, band), or gone: the next offer
                    continue
                break
        if r is None:
            continue
        out["redeemed"] += 1
        if created and out["redeemed"] % settle_every:
            r = shop.confirm(session, code=r.code, actor=actor)
        out[{"settled": "settled", "reserved": "reserved"}.get(r.status, "closed")] += 1  # closed: cancelled, expired
    return out


def board_opt_ins(session: Session, *, actor: str, every: int = 3) -> dict[str, Any]:
    """Every `every`-th resident of the demonstration store chooses to appear (masked)
    on the public boards; the others stay off them, as residents do until they opt in.
    Safe to run twice: a resident who chose already keeps the choice."""
    chose = select(BoardOptIn.subject_id)
    ids = session.execute(select(Subject.id).where(Subject.kind == "individual", Subject.id.not_in(chose))
                          .order_by(Subject.id)).scalars().all()
    picked = [sid for n, sid in enumerate(ids) if n % every == 0]
    for sid in picked:
        boards.set_opt_in(session, subject_id=sid, opted_in=True, actor=actor)
    return {"opted_in": len(picked)}
