"""Lending statistics by the borrower's grade and band when the loan was granted: loans,
amounts, defaults and default rates — the loan outcomes a model is judged on.

`loan_defaults` gives the borrowers whose loan went into default in a window, the
shape of `scoring.service.outcomes`; the composition root registers it as the outcome
source "loans" (`creditgov model backtest --outcomes loans`), so a model is judged on
real loan outcomes beside its record outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from creditgov.finance.models import Loan
from creditgov.scoring.bands import BANDS


def by_grade(session: Session, *, model: str | None = None) -> dict[str, Any]:
    """Per (model, grade, band) and per band: loans, principal, defaults, default rate."""
    q = (select(Loan.model, Loan.grade, Loan.band, func.count(), func.sum(Loan.principal),
                func.sum(case((Loan.status == "default", 1), else_=0)))
         .group_by(Loan.model, Loan.grade, Loan.band).order_by(Loan.model, Loan.grade))
    if model is not None:
        q = q.where(Loan.model == model)
    grades = []
    per_band: dict[str, list[Any]] = {b: [0, Decimal(0), 0] for b in (*BANDS, "ungraded")}
    for m, g, b, n, amount, defaults in session.execute(q):
        n, defaults, amount = int(n), int(defaults or 0), Decimal(amount or 0)
        grades.append({"model": m, "grade": g, "band": b, "loans": n, "principal": str(amount),
                       "defaults": defaults, "default_rate": round(defaults / n, 4) if n else None})
        slot = per_band[b or "ungraded"]
        slot[0] += n
        slot[1] += amount
        slot[2] += defaults
    bands = [{"band": b, "loans": v[0], "principal": str(v[1]), "defaults": v[2],
              "default_rate": round(v[2] / v[0], 4) if v[0] else None} for b, v in per_band.items() if v[0]]
    return {"by_grade": grades, "by_band": bands,
            "loans": sum(r["loans"] for r in grades), "defaults": sum(r["defaults"] for r in grades)}


def loan_defaults(session: Session, ids: Sequence[int], *, start: dt.date, end: dt.date) -> set[int]:
    """Borrowers among `ids` whose loan went into default in (start, end]."""
    q = (select(Loan.subject_id).where(Loan.defaulted_on > start, Loan.defaulted_on <= end).distinct())
    return {sid for (sid,) in session.execute(q)} & set(ids)


#: The outcome source the composition root registers with the model back-test.
OUTCOME_SOURCE = ("loans", loan_defaults)
