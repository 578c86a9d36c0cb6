"""What the points domain's edges show (API, pages, commands): a balance with its
history, the offers a subject may redeem, a redemption. Codes go out with Chinese and
English words beside them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core import clock, labels
from creditgov.points import ledger, shop
from creditgov.points.models import Offer, PointsEntry, Redemption, Shop
from creditgov.subjects.models import Subject

KIND_LABELS: dict[str, tuple[str, str]] = {
    "earn": ("获得", "Earned"), "award": ("奖励", "Award"), "redeem": ("兑换", "Redeemed"),
    "refund": ("退回", "Returned"), "expire": ("过期", "Expired"), "reverse": ("冲正", "Reversed"),
}
CAUSE_LABELS: dict[str, tuple[str, str]] = {
    "evaluation": ("信用评价", "Credit evaluation"), "record": ("信用记录", "Credit record"),
    "award": ("人工奖励", "Manual award"), "redemption": ("积分兑换", "Redemption"),
    "expiry": ("积分过期", "Expiry"), "correction": ("更正", "Correction"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "reserved": ("待核销", "Reserved"), "settled": ("已核销", "Settled"),
    "cancelled": ("已取消", "Cancelled"), "expired": ("已过期", "Expired"),
}


# The notes the ledger writes itself (earning.py, ledger.py), in English with codes;
# shown in words in either language. A person's own note (an award's reason) is data.
_RUN_NOTE = re.compile(r"^(?P<model>[\w.-]+@\d+) as of (?P<on>[\d-]+): (?P<grade>\S+)$")
_RECORD_NOTE = re.compile(r"^(?P<item>[\w.-]+) on (?P<on>[\d-]+)(?:; (?P<full>\d+) points cut to (?P<room>\d+) "
                          r"by the cap of (?P<cap>\d+) per (?P<per>\w+))?$")
_EXPIRY_NOTE = re.compile(r"^points earned (?P<n>\d+) months ago and not used$")
_REASONS = {"the record was revoked": ("该记录已撤销", "the record was revoked"),
            "the record was replaced by a corrected version": ("该记录已被更正版本取代",
                                                               "the record was replaced by a corrected version")}
_REVERSED_RUN = re.compile(r"^run (?P<run>\d+) was replaced or withdrawn$")
_SHORT = re.compile(r"^(?P<why>.*); (?P<n>\d+) points already used were not taken back$")
_PER = {"month": ("每月", "month"), "year": ("每年", "year"), "quarter": ("每季度", "quarter")}


def note_label(note: str | None) -> dict[str, str] | None:
    """A ledger-written note in Chinese and English words (models and items by their
    labels); None for a note a person wrote, or none."""
    if not note:
        return None
    if m := _SHORT.match(note):
        inner = note_label(m["why"]) or {"zh": m["why"], "en": m["why"]}
        return {"zh": f"{inner['zh']}；其中 {m['n']} 分已使用，未扣回",
                "en": f"{inner['en']}; {m['n']} points already used were not taken back"}
    if m := _RUN_NOTE.match(note):
        return {"zh": f"{labels.label('model', m['model'], 'zh')} {m['on']} 评价等级 {m['grade']}",
                "en": f"{labels.label('model', m['model'], 'en')} as of {m['on']}: grade {m['grade']}"}
    if m := _RECORD_NOTE.match(note):
        zh, en = (f"{labels.label('item', m['item'], lang)}（{m['on']}）" if lang == "zh"
                  else f"{labels.label('item', m['item'], lang)} on {m['on']}" for lang in ("zh", "en"))
        if m["full"]:
            per_zh, per_en = _PER.get(m["per"], (m["per"], m["per"]))
            zh += f"；按{per_zh}上限 {m['cap']} 分，{m['full']} 分减为 {m['room']} 分"
            en += f"; {m['full']} points cut to {m['room']} by the cap of {m['cap']} per {per_en}"
        return {"zh": zh, "en": en}
    if m := _EXPIRY_NOTE.match(note):
        return {"zh": f"{m['n']} 个月前获得且未使用的积分", "en": note}
    if m := _REVERSED_RUN.match(note):
        return {"zh": f"评价批次 {m['run']} 已被取代或撤回", "en": note}
    if note in _REASONS:
        zh, en = _REASONS[note]
        return {"zh": zh, "en": en}
    return None


def entry_out(e: PointsEntry) -> dict[str, Any]:
    return {"id": e.id, "amount": e.amount, "kind": e.kind, "kind_label": KIND_LABELS[e.kind],
            "cause": e.cause, "cause_label": CAUSE_LABELS[e.cause], "ref_type": e.ref_type, "ref_id": e.ref_id,
            "rule": e.rule, "on": e.earned_on.isoformat(), "expires_on": clock.iso(e.expires_on),
            "reverses": e.reverses_id, "note": e.note, "note_label": note_label(e.note)}


def summary(session: Session, subject_id: int, *, limit: int = 50, before: int | None = None) -> dict[str, Any]:
    """Balance, what expires within 90 days, and the newest entries (`before`: an entry
    id, for the next page)."""
    today = clock.today()
    soon = today + dt.timedelta(days=90)
    expiring = sum(lot.remaining for lot in ledger.lots(session, subject_id) if lot.expires_on <= soon)
    q = select(PointsEntry).where(PointsEntry.subject_id == subject_id)
    if before is not None:
        q = q.where(PointsEntry.id < before)
    rows = session.execute(q.order_by(PointsEntry.id.desc()).limit(limit)).scalars().all()
    return {"subject_id": subject_id, "balance": ledger.balance(session, subject_id),
            "expiring_within_90_days": expiring, "entries": [entry_out(e) for e in rows],
            "next_before": rows[-1].id if rows and len(rows) == limit else None}


def offer_out(o: Offer, shop_row: Shop, reason: dict[str, str] | None = None) -> dict[str, Any]:
    """An offer; for a subject, `why_not` (English, as the API always said it) and
    `why_not_label` (both languages) when it may not redeem it."""
    return {"id": o.id, "shop": shop_row.code, "shop_name": shop_row.name, "title": o.title,
            "description": o.description, "price": o.price, "stock": o.stock, "left": o.stock - o.taken,
            "valid_from": o.valid_from.isoformat(), "valid_until": o.valid_until.isoformat(), "kinds": o.kinds,
            "min_band": o.min_band, "per_subject": o.per_subject, "why_not": reason["en"] if reason else None,
            "why_not_label": reason}


def offers(session: Session, *, subject_id: int | None = None) -> list[dict[str, Any]]:
    """Active offers valid today; for a subject, each with why it may not redeem it."""
    today = clock.today()
    q = (select(Offer, Shop).join(Shop, Shop.id == Offer.shop_id)
         .where(Offer.active.is_(True), Shop.active.is_(True), Offer.valid_from <= today,
                Offer.valid_until >= today).order_by(Offer.price, Offer.id))
    subject = session.get(Subject, subject_id) if subject_id is not None else None
    out = []
    for o, s in session.execute(q).tuples():
        reason = shop.refusal(session, o, subject, today) if subject is not None else None
        out.append(offer_out(o, s, reason))
    return out


def redemption_out(r: Redemption) -> dict[str, Any]:
    return {"id": r.id, "offer_id": r.offer_id, "shop_id": r.shop_id, "subject_id": r.subject_id,
            "points": r.points, "status": r.status, "status_label": STATUS_LABELS[r.status], "code": r.code,
            "reserved_at": clock.iso(r.reserved_at), "expires_at": clock.iso(r.expires_at),
            "settled_at": clock.iso(r.settled_at), "closed_at": clock.iso(r.closed_at)}


def redemptions(session: Session, subject_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    q = (select(Redemption, Offer.title, Shop.name).join(Offer, Offer.id == Redemption.offer_id)
         .join(Shop, Shop.id == Redemption.shop_id).where(Redemption.subject_id == subject_id)
         .order_by(Redemption.id.desc()).limit(limit))
    return [{**redemption_out(r), "title": t, "shop_name": n} for r, t, n in session.execute(q).tuples()]


def own_shops(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """The active shops a subject runs (`Shop.subject_id`): its accounts confirm their codes."""
    q = select(Shop.code, Shop.name).where(Shop.subject_id == subject_id, Shop.active.is_(True)).order_by(Shop.code)
    return [{"code": c, "name": n} for c, n in session.execute(q).tuples()]


def shops(session: Session) -> list[dict[str, Any]]:
    left = func.coalesce(func.sum(Offer.stock - Offer.taken), 0)
    q = (select(Shop, func.count(Offer.id), left).outerjoin(Offer, Offer.shop_id == Shop.id)
         .group_by(Shop.id).order_by(Shop.code))
    return [{"code": s.code, "name": s.name, "subject_id": s.subject_id, "address": s.address, "offers": int(n),
             "items_left": int(k)} for s, n, k in session.execute(q).tuples()]


# The monthly settlement as a table (page, download, command): one row per shop, then the total.
SETTLEMENT_HEADER = {"zh": ["商户编号", "商户名称", "已核销兑换（笔）", "积分"],
                     "en": ["Shop code", "Shop", "Settled redemptions", "Points"]}


def settlement_rows(rows: list[dict[str, Any]], lang: str) -> list[list[Any]]:
    """`shop.settlement` rows as table rows, with a total row at the end."""
    out: list[list[Any]] = [[r["shop"], r["name"], r["redemptions"], r["points"]] for r in rows]
    out.append(["", "合计" if lang == "zh" else "Total", sum(r["redemptions"] for r in rows),
                sum(r["points"] for r in rows)])
    return out
