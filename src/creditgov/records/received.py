"""What other platforms said about a subject, received by the exchange and kept as
received facts (`exchange_facts`, written only by the exchange): evaluations and
inspection results. The credit file, the credit report, the credit check and the
supervision draws read them here, each with the platform it came from.

A fact received on a channel whose direction is `up` (this installation sends up on
it) came from the upper platform; one received on a `down` channel from a lower one.
Facts kept before the sender was written into them fall back to the channel's name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.exchange.models import ExchangePackage, ReceivedFact


def _date(v: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def _decimal(v: Any) -> str | None:
    try:
        return format(Decimal(str(v)), "f") if v not in (None, "") else None
    except InvalidOperation:
        return None


def _facts(session: Session, subject_id: int, kind: str) -> list[tuple[ReceivedFact, ExchangePackage]]:
    return [(f, p) for f, p in session.execute(
        select(ReceivedFact, ExchangePackage).join(ExchangePackage, ExchangePackage.id == ReceivedFact.package_id)
        .where(ReceivedFact.subject_id == subject_id, ReceivedFact.kind == kind,
               ReceivedFact.outcome == "stored").order_by(ReceivedFact.id.desc())).tuples()]


def _source(f: ReceivedFact, p: ExchangePackage) -> dict[str, Any]:
    got = f.body.get("from")
    sender: dict[str, Any] = got if isinstance(got, dict) else {}
    direction = sender.get("direction") or ("up" if p.channel == "upper" else "down")
    return {"issuer": str(sender.get("node") or p.peer), "channel": p.channel, "upper": direction == "up",
            "received_at": f.created_at}


def evaluations(session: Session, subject_id: int, *, upper_only: bool = True) -> list[dict[str, Any]]:
    """Evaluations of the subject received from other platforms (the upper platform's
    only, unless `upper_only` is False), newest evaluation date first: issuer, date,
    model, grade, shared band (as the sender stated it), colour, score."""
    out = []
    for f, p in _facts(session, subject_id, "evaluation.result"):
        src = _source(f, p)
        if upper_only and not src["upper"]:
            continue
        item = f.body.get("item") or {}
        band = item.get("band")
        out.append({**src, "model": item.get("model"), "model_version": item.get("model_version"),
                    "as_of": _date(item.get("as_of")), "grade": item.get("grade"),
                    "band": band if band in ("excellent", "good", "fair", "poor") else None,
                    "colour": item.get("colour"), "score": _decimal(item.get("score"))})
    out.sort(key=lambda e: (e["as_of"] or dt.date.min, e["received_at"]), reverse=True)
    return out


def inspections(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """Inspection results of the subject received from other platforms, newest first:
    the platform, the date inspected, kind, department, outcome, finding, decision."""
    out = []
    for f, p in _facts(session, subject_id, "inspection.result"):
        item = f.body.get("item") or {}
        out.append({**_source(f, p), "inspected_on": _date(item.get("inspected_on")),
                    "task_kind": item.get("task_kind"), "department": item.get("department"),
                    "outcome": item.get("outcome"), "finding": item.get("finding"),
                    "decision_no": item.get("decision_no"), "penalty_amount": _decimal(item.get("penalty_amount"))})
    out.sort(key=lambda e: (e["inspected_on"] or dt.date.min, e["received_at"]), reverse=True)
    return out


def inspected_since(session: Session, since: dt.date) -> dict[int, int]:
    """Received inspection results per subject inspected on or after `since` (the
    supervision draws count them against a band's yearly cap)."""
    out: dict[int, int] = {}
    for sid, body in session.execute(select(ReceivedFact.subject_id, ReceivedFact.body).where(
            ReceivedFact.kind == "inspection.result", ReceivedFact.outcome == "stored",
            ReceivedFact.subject_id.is_not(None))):
        on = _date((body.get("item") or {}).get("inspected_on"))
        if on is not None and on >= since:
            out[int(sid)] = out.get(int(sid), 0) + 1
    return out
