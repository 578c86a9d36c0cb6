"""The points supermarket (积分超市): partner shops, offers and redemptions.

A redemption goes reserved → settled (the shop confirms the code) or → cancelled /
expired, which return the points and the item. Reserving is one transaction that
locks the subject's account, checks the balance, writes the redemption and its debit,
then takes one item with a conditional UPDATE (`taken < stock`), undoing its own
writes when none is left: two requests can neither sell the last item twice nor spend
the same points twice, and a request retried with the same idempotency key returns
the first redemption.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached

from creditgov.core import clock, labels
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.points import ledger
from creditgov.points.models import Offer, PointsAccount, Redemption, Shop
from creditgov.points.rules import NEWEST_HASH, NEWEST_ID, in_force
from creditgov.points.schemas import OfferIn, ShopIn
from creditgov.scoring import bands
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.scoring.published import NEWEST_FIRST, PUBLISHED, band_table
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

# Unambiguous letters and digits (no 0/O, 1/I/L): a code is read aloud at a counter.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    """Ten characters drawn uniformly from the alphabet (one draw of a number below
    31^10, written in base 31): about 49 bits, as ten separate draws give."""
    n = secrets.randbelow(len(_ALPHABET) ** 10)
    body = []
    for _ in range(10):
        n, d = divmod(n, len(_ALPHABET))
        body.append(_ALPHABET[d])
    return f"JF-{''.join(body[:5])}-{''.join(body[5:])}"


# ------------------------------------------------------------------ shops and offers
def add_shop(session: Session, data: ShopIn, *, actor: str) -> Shop:
    if session.execute(select(Shop.id).where(Shop.code == data.code)).first():
        raise Conflict(f"shop {data.code!r} already exists")
    region = None
    if data.subject_id is not None:
        subj = session.get(Subject, data.subject_id)
        if subj is None:
            raise NotFound(f"subject {data.subject_id} not found")
        region = subj.region_id
    shop = Shop(code=data.code, name=data.name.strip(), subject_id=data.subject_id, region_id=region,
                address=data.address, active=True, created_at=clock.now())
    session.add(shop)
    session.flush()
    audit.append(session, action="points.shop.add", actor=actor, subject_id=data.subject_id,
                 detail={"shop": shop.code})
    return shop


def shop_by_code(session: Session, code: str) -> Shop:
    shop = session.execute(select(Shop).where(Shop.code == code)).scalar_one_or_none()
    if shop is None:
        raise NotFound(f"shop {code!r} not found")
    return shop


def add_offer(session: Session, data: OfferIn, *, actor: str) -> Offer:
    shop = shop_by_code(session, data.shop)
    offer = Offer(shop_id=shop.id, title=data.title.strip(), description=data.description, price=data.price,
                  stock=data.stock, taken=0, valid_from=data.valid_from, valid_until=data.valid_until,
                  kinds=list(data.kinds), min_band=data.min_band, per_subject=data.per_subject, active=True,
                  created_at=clock.now())
    session.add(offer)
    session.flush()
    audit.append(session, action="points.offer.add", actor=actor,
                 detail={"offer": offer.id, "shop": shop.code, "price": offer.price, "stock": offer.stock})
    return offer


def subject_band(session: Session, subject_id: int) -> str | None:
    """The shared band of the subject's newest published grade, in any model."""
    row = session.execute(
        select(EvaluationRun.model_name, EvaluationRun.model_version, Score.grade)
        .join(Score, Score.run_id == EvaluationRun.id)
        .where(Score.subject_id == subject_id, PUBLISHED).order_by(*NEWEST_FIRST).limit(1)).first()
    if row is None:
        return None
    return band_table(session.connection()).get((row[0], row[1]), {}).get(row[2])


class OfferTerms(Protocol):
    """What a refusal reads of an offer: an `Offer`, or a row of `_OFFER_TERMS`."""

    @property
    def active(self) -> bool: ...
    @property
    def valid_from(self) -> dt.date: ...
    @property
    def valid_until(self) -> dt.date: ...
    @property
    def kinds(self) -> list[str]: ...
    @property
    def min_band(self) -> str | None: ...


class Redeemer(Protocol):
    """What a refusal reads of a subject: a `Subject`, or a row of `_SUBJECT_KIND`."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...


def kinds_only(kinds: list[str], *, zh: str, en: str) -> dict[str, str]:
    """A clause limiting something to subjects of `kinds`, each named by its label
    (`{kinds}` in `zh` and `en`): "仅限自然人兑换", "the offer is only for subjects of the
    kind “Individual”" (a label is a name, not a noun to pluralise, so English quotes it)."""
    zh_kinds = "、".join(labels.label("subject_kind", k, "zh") for k in kinds)
    named = [f"“{labels.label('subject_kind', k, 'en')}”" for k in kinds]
    en_kinds = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return {"zh": zh.format(kinds=zh_kinds),
            "en": en.format(kinds=f"subjects of the kind{'s' if len(kinds) > 1 else ''} {en_kinds}")}


def refusal(session: Session, offer: OfferTerms, subject: Redeemer, today: dt.date) -> dict[str, str] | None:
    """Why this subject may not redeem this offer now, in Chinese and English (subject
    kinds and bands by their labels), with a code; None when it may."""
    if not offer.active:
        return {"code": "withdrawn", "zh": "该商品已下架", "en": "the offer is withdrawn"}
    if not offer.valid_from <= today <= offer.valid_until:
        start, end = offer.valid_from.isoformat(), offer.valid_until.isoformat()
        return {"code": "not_valid", "zh": f"该商品的兑换期为 {start} 至 {end}", "en": f"the offer is valid {start} to {end}"}
    if offer.kinds and subject.kind not in offer.kinds:
        return {"code": "kind", **kinds_only(offer.kinds, zh="仅限{kinds}兑换", en="the offer is only for {kinds}")}
    if offer.min_band:
        band = subject_band(session, subject.id)
        if band is None or not bands.at_least(band, offer.min_band):
            zh, en = bands.LABELS[offer.min_band]
            return {"code": "band", "zh": f"需信用档次{zh}及以上", "en": f"the offer needs the credit band “{en}” or better"}
    return None


# ------------------------------------------------------------------ redemption
# Take one item if one is left: the database decides, so two takers never get the last one.
_OFFERS = cast(Table, Offer.__table__)
_TAKE = update(_OFFERS).where(_OFFERS.c.id == bindparam("oid"), _OFFERS.c.taken < _OFFERS.c.stock).values(
    taken=_OFFERS.c.taken + 1)


_S, _O, _R = Subject.__table__.c, Offer.__table__.c, Redemption.__table__.c
_ACCOUNTS = PointsAccount.__table__
# The subject, its points account locked (PostgreSQL FOR UPDATE; SQLite's unit of work
# holds the write lock already): no row when either is missing.
_SUBJECT_LOCKED = (select(_S.id, _S.kind).join(_ACCOUNTS, _ACCOUNTS.c.subject_id == _S.id)
                   .where(_S.id == bindparam("sid")).with_for_update(of=_ACCOUNTS))
_SUBJECT_KIND = select(_S.id, _S.kind).where(_S.id == bindparam("sid"))
_SAME_KEY = select(_R.id, _R.offer_id).where(_R.subject_id == bindparam("sid"), _R.idempotency_key == bindparam("key"))
# Read under the account lock, in one statement: the offer's terms, an earlier
# redemption with the same key, the subject's open or settled redemptions of the offer,
# and which earning rules are in force.
_OFFER_TERMS = select(
    _O.id, _O.shop_id, _O.title, _O.price, _O.active, _O.valid_from, _O.valid_until, _O.kinds, _O.min_band,
    _O.per_subject, _O.taken, _O.stock,
    _SAME_KEY.with_only_columns(_R.id).scalar_subquery().label("same_id"),
    _SAME_KEY.with_only_columns(_R.offer_id).scalar_subquery().label("same_offer"),
    select(func.count()).select_from(Redemption.__table__)
    .where(_R.offer_id == _O.id, _R.subject_id == bindparam("sid"), _R.status.in_(("reserved", "settled")))
    .scalar_subquery().label("held"),
    NEWEST_ID.label("rules_id"), NEWEST_HASH.label("rules_hash"),
).where(_O.id == bindparam("oid"))
_RESERVE = insert(cast(Table, Redemption.__table__)).returning(_R.id)
_SAVEPOINT, _BACK_TO_SAVEPOINT = text("SAVEPOINT redeem"), text("ROLLBACK TO SAVEPOINT redeem")
_RELEASE_SAVEPOINT = text("RELEASE SAVEPOINT redeem")


def redeem(session: Session, *, subject_id: int, offer_id: int, key: str, actor: str) -> tuple[Redemption, bool]:
    """Reserve one item for the subject: (redemption, created). See the module
    docstring for why the order of the steps matters.

    The reads and writes are plain statements on the session's connection, as few as
    the checks allow, rather than ORM loads and flushes: those were most of a
    redemption's cost (benchmarks/points.py), and a busy offer serves its redeemers
    one at a time."""
    key = key.strip()
    if not 1 <= len(key) <= 100:
        raise InvalidInput("the idempotency key must be 1–100 characters", code="points.key.invalid")
    conn = session.connection()
    subject = conn.execute(_SUBJECT_LOCKED, {"sid": subject_id}).first()
    if subject is None:  # no such subject, or its first spend: open the account
        subject = conn.execute(_SUBJECT_KIND, {"sid": subject_id}).first()
        if subject is None:
            raise NotFound(f"subject {subject_id} not found")
        ledger.lock_account(session, subject_id)
    offer = conn.execute(_OFFER_TERMS, {"oid": offer_id, "sid": subject_id, "key": key}).first()
    same = (offer.same_id, offer.same_offer) if offer is not None else \
        conn.execute(_SAME_KEY, {"sid": subject_id, "key": key}).first()
    if same is not None and same[0] is not None:
        if same[1] != offer_id:
            raise Conflict(f"idempotency key {key!r} was already used for another offer", code="points.key.reused")
        earlier = session.get(Redemption, same[0])
        assert earlier is not None  # redemptions are never deleted
        return earlier, False
    if offer is None:
        raise NotFound(f"offer {offer_id} not found")
    today, now = clock.today(), clock.now()
    why = refusal(session, offer, subject, today)
    if why:
        raise Conflict(why["en"], code="points.offer.refused",
                       params={"zh": why["zh"], "en": why["en"][:1].upper() + why["en"][1:]})
    if offer.per_subject is not None and offer.held >= offer.per_subject:
        raise Conflict(f"the offer allows {offer.per_subject} per subject", code="points.offer.limit",
                       params={"limit": offer.per_subject})
    # The balance cannot change under the account lock, so it is read once, checked
    # first, and passed to the debit.
    have, first_expiry = ledger.position(session, subject_id)
    if have < offer.price:
        raise Conflict(f"not enough points: {have} held, {offer.price} needed", code="points.balance.short",
                       params={"have": have, "price": offer.price})
    if offer.taken >= offer.stock:
        raise Conflict("the offer is sold out", code="points.offer.sold_out")
    hours = in_force(session, offer.rules_id, offer.rules_hash).reservation_hours
    fields: dict[str, Any] = {
        "offer_id": offer.id, "shop_id": offer.shop_id, "subject_id": subject_id, "points": offer.price,
        "status": "reserved", "code": new_code(), "idempotency_key": key, "reserved_at": now,
        "expires_at": now + dt.timedelta(hours=hours), "settled_at": None, "closed_at": None, "actor": actor,
        "closed_by": None, "extra": {"points_expire_on": first_expiry.isoformat() if first_expiry else None}}
    # The writes start at a savepoint, so a refusal at the take leaves the caller's
    # transaction as it was (the caller's own pending objects are flushed before it).
    if session.new or session.dirty or session.deleted:
        session.flush()
    conn.execute(_SAVEPOINT)
    new_id = int(conn.execute(_RESERVE, fields).scalar_one())
    ledger.debit(session, subject_id=subject_id, amount=offer.price, kind="redeem", cause="redemption",
                 ref_type="redemption", ref_id=new_id, cause_key=f"redemption:{new_id}", actor=actor,
                 note=offer.title, have=have)
    # The audit entry, then taking the item, come last. From the audit entry to the
    # commit the chain's lock is held (PostgreSQL; an advisory lock whose waiters are
    # served in order), and from the take to the commit the offer's row: taken in this
    # order, redeemers of a popular offer queue in order on the first instead of all
    # waking at each commit to race for the row. The last item can still go between
    # the read above and the take (PostgreSQL): then the writes are undone.
    audit.append(session, action="points.redeem", actor=actor, subject_id=subject_id,
                 detail={"redemption": new_id, "offer": offer.id, "points": offer.price})
    took = conn.execute(_TAKE, {"oid": offer_id})
    if took.rowcount != 1:
        conn.execute(_BACK_TO_SAVEPOINT)
        conn.execute(_RELEASE_SAVEPOINT)
        raise Conflict("the offer is sold out", code="points.offer.sold_out")
    # Released, so redemptions in one transaction do not nest savepoints (PostgreSQL
    # slows every snapshot once a transaction holds more than 64 subtransactions).
    conn.execute(_RELEASE_SAVEPOINT)
    # The row written above, as the session's own object (persistent, every column
    # set) without reading it back.
    r = Redemption(id=new_id, **fields)
    make_transient_to_detached(r)
    session.add(r)
    return r, True


def by_code(session: Session, code: str) -> Redemption:
    r = session.execute(select(Redemption).where(Redemption.code == code.strip().upper())).scalar_one_or_none()
    if r is None:
        raise NotFound("no redemption has this code", code="points.redemption.no_code")
    return r


def confirm(session: Session, *, code: str, actor: str, shop_subject_id: int | None = None) -> Redemption:
    """The shop hands over the goods: settled. Staff of a shop (`shop_subject_id`, the
    shop's own subject) confirm only their shop's codes — another shop's code is
    answered as unknown."""
    r = by_code(session, code)
    if shop_subject_id is not None:
        shop = session.get(Shop, r.shop_id)
        if shop is None or shop.subject_id != shop_subject_id:
            raise NotFound("no redemption has this code", code="points.redemption.no_code")
    r = session.execute(select(Redemption).where(Redemption.id == r.id).with_for_update()).scalar_one()
    if r.status == "settled":
        return r  # a second press of the button changes nothing
    if r.status != "reserved":
        raise Conflict(f"the redemption is {r.status}", code="points.redemption.closed", params={"status": r.status})
    if r.expires_at < clock.now():
        raise Conflict("the redemption code has expired", code="points.redemption.expired")
    r.status, r.settled_at, r.closed_by = "settled", clock.now(), actor
    session.flush()
    audit.append(session, action="points.redemption.settle", actor=actor, subject_id=r.subject_id,
                 detail={"redemption": r.id})
    return r


def release(session: Session, r: Redemption, *, status: str, actor: str) -> Redemption:
    """Cancel or expire a reserved redemption: the item goes back on the shelf and the
    points back to the subject (keeping the expiry date of the points they came from,
    but at least until tomorrow)."""
    ledger.lock_account(session, r.subject_id)
    r = session.execute(select(Redemption).where(Redemption.id == r.id).with_for_update()).scalar_one()
    if r.status in ("cancelled", "expired"):
        return r
    if r.status != "reserved":
        raise Conflict(f"the redemption is {r.status} and cannot be {status}", code="points.redemption.settled",
                       params={"status": r.status, "to": status})
    r.status, r.closed_at, r.closed_by = status, clock.now(), actor
    session.execute(update(Offer).where(Offer.id == r.offer_id).values(taken=Offer.taken - 1)
                    .execution_options(synchronize_session=False))
    was = (r.extra or {}).get("points_expire_on")
    tomorrow = clock.today() + dt.timedelta(days=1)
    expires = max(dt.date.fromisoformat(was), tomorrow) if was else ledger.expiry_for(session, clock.today())
    ledger.post(session, subject_id=r.subject_id, amount=r.points, kind="refund", cause="redemption",
                ref_type="redemption", ref_id=r.id, cause_key=f"redemption:{r.id}:{status}", actor=actor,
                expires_on=expires, note=f"redemption {status}")
    audit.append(session, action=f"points.redemption.{status}", actor=actor, subject_id=r.subject_id,
                 detail={"redemption": r.id})
    return r


def cancel(session: Session, redemption_id: int, *, actor: str, subject_id: int | None = None) -> Redemption:
    """Cancel a reservation; a subject (`subject_id`) only its own."""
    r = session.get(Redemption, redemption_id)
    if r is None or (subject_id is not None and r.subject_id != subject_id):
        raise NotFound(f"redemption {redemption_id} not found")
    return release(session, r, status="cancelled", actor=actor)


def expire_reservations(session: Session, *, actor: str) -> int:
    due = session.execute(select(Redemption).where(Redemption.status == "reserved",
                                                   Redemption.expires_at < clock.now())).scalars().all()
    for r in due:
        release(session, r, status="expired", actor=actor)
    return len(due)


def settlement(session: Session, *, month: str) -> list[dict[str, Any]]:
    """Per shop, the redemptions settled in a month (YYYY-MM): what the county owes."""
    try:
        start = dt.datetime.strptime(month + "-01", "%Y-%m-%d")
    except ValueError:
        raise InvalidInput(f"month must be YYYY-MM, not {month!r}") from None
    # The month in China: its first moment there, as stored (naive UTC), to the next's.
    start, end = clock.day_start(start.date()), clock.day_start(clock.add_months(start.date(), 1))
    q = (select(Shop.code, Shop.name, func.count(Redemption.id), func.coalesce(func.sum(Redemption.points), 0))
         .join(Redemption, Redemption.shop_id == Shop.id)
         .where(Redemption.status == "settled", Redemption.settled_at >= start, Redemption.settled_at < end)
         .group_by(Shop.code, Shop.name).order_by(Shop.code))
    return [{"shop": c, "name": n, "redemptions": int(k), "points": int(p)}
            for c, n, k, p in session.execute(q).tuples()]
