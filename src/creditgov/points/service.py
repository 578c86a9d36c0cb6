"""The points domain's rules, split along its seams: `ledger` (entries, balances,
lots, expiry, manual awards), `earning` (evaluations and records, and their
reversal), `shop` (the points supermarket) and `rules` (the earning rules in force).
This module runs them together as the daily pass."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.points import earning, ledger, shop
from creditgov.security import service as audit


def run_daily(session: Session, *, actor: str) -> dict[str, Any]:
    """Corrections first, so a cap counts a revoked record's points as gone; then the
    new credits, expiry, and reservations nobody collected. Safe to run twice."""
    out: dict[str, Any] = {"reversed_records": earning.reverse_records(session, actor=actor)}
    out["evaluations"] = earning.credit_runs(session, actor=actor)
    out["records"] = earning.credit_records(session, actor=actor)
    out["expired"] = ledger.expire_due(session, today=clock.today(), actor=actor)
    out["reservations_expired"] = shop.expire_reservations(session, actor=actor)
    audit.append(session, action="points.run", actor=actor, detail=out)
    return out
