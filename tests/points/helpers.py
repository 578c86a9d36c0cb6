"""Builders for the points tests: subjects with points in a real store, a shop and an
offer — through the domain's own services."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from creditgov.points import ledger, shop
from creditgov.points.models import Offer, Shop
from creditgov.points.schemas import OfferIn, ShopIn
from tests.lists.helpers import make_subject


def give(session: Session, subject_id: int, points: int, key: str) -> None:
    ledger.post(session, subject_id=subject_id, amount=points, kind="award", cause="award", ref_type="award",
                ref_id=None, cause_key=key, actor="test", expires_on=dt.date(2028, 11, 1))


def residents(session: Session, n: int, points: int) -> list[int]:
    out = []
    for i in range(n):
        s = make_subject(session, kind="individual", name=f"居民{i}")
        give(session, s.id, points, f"test:seed:{s.id}")
        out.append(s.id)
    return out


def a_shop(session: Session, code: str = "shop-1", *, owner: int | None = None) -> Shop:
    return shop.add_shop(session, ShopIn(code=code, name="诚信超市", subject_id=owner), actor="test")


def an_offer(session: Session, shop_code: str = "shop-1", *, price: int = 100, stock: int = 10,
             **kw: object) -> Offer:
    data = OfferIn.model_validate({"shop": shop_code, "title": "大米 5kg", "price": price, "stock": stock,
                                   "valid_from": dt.date(2026, 10, 1), "valid_until": dt.date(2026, 12, 31), **kw})
    return shop.add_offer(session, data, actor="test")
