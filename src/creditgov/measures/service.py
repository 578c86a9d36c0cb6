"""Joint measures and the credit check (信用核查): the domain's services.

Split along its seams: `catalogue.py` loads and validates the measures and scenarios
and caches them; `check.py` is the check itself (standing, conditions, the stored and
audited answer). This module holds the closed loop the paper asks for — the
department's feedback on what it did with each measure (`CheckFeedback`) and the
statistics over checks — and re-exports the rest, so callers keep one door.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.measures.catalogue import (
    MEASURES,
    SCENARIOS,
    Catalogue,
    catalogue,
    load_measures,
    measure,
    measures,
    read_measures,
    read_scenarios,
    scenarios,
    shipped_text,
)
from creditgov.measures.check import (
    WARNING_SOURCES,
    CheckResult,
    Grade,
    Standing,
    _subject_row,
    applicable,
    check,
    current_grade,
    latest_published_run,
    measures_today,
    open_warnings,
    register_warning_source,
)
from creditgov.measures.models import CheckFeedback, CreditCheck
from creditgov.security import service as audit

__all__ = ["MEASURES", "SCENARIOS", "WARNING_SOURCES", "Catalogue", "CheckResult", "Grade", "Standing", "_subject_row", "applicable",
           "catalogue", "check", "current_grade", "feedback_of", "get_check", "latest_published_run",
           "load_measures", "measure", "measures", "measures_today", "open_warnings", "purge_checks",
           "read_measures", "read_scenarios", "register_warning_source", "report_feedback", "scenarios",
           "shipped_text", "stats"]


def get_check(session: Session, check_id: str) -> CreditCheck:
    row = session.execute(select(CreditCheck).where(CreditCheck.check_id == check_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"check {check_id!r} not found")
    return row


# ----------------------------------------------------------------------------- feedback and stats


def report_feedback(session: Session, *, check_id: str, measure_code: str, applied: bool,
                    reason: str | None = None, department: str | None = None,
                    actor: str | None = None) -> CheckFeedback:
    """The department says whether it applied a measure the check returned, and why
    not when it did not. One report per measure per check; only the checking
    department reports."""
    actor = actor or audit.default_actor()
    chk = get_check(session, check_id)
    if measure_code not in chk.measures:
        raise InvalidInput(f"check {check_id} did not return measure {measure_code!r}; it returned {chk.measures}")
    dept = department or chk.department
    if dept != chk.department:
        raise InvalidInput(f"check {check_id} was made by {chk.department!r}; only it reports back")
    if not applied and not (reason and reason.strip()):
        raise InvalidInput("say why the measure was not applied (--reason)")
    dup = session.execute(select(CheckFeedback.id).where(CheckFeedback.check_id == check_id,
                                                         CheckFeedback.measure_code == measure_code)).scalar()
    if dup is not None:
        raise InvalidInput(f"feedback on {measure_code} for check {check_id} is already on file")
    fb = CheckFeedback(check_id=check_id, measure_code=measure_code, applied=applied,
                       reason=(reason or "").strip() or None, department=dept, actor=actor, at=clock.now())
    session.add(fb)
    session.flush()
    audit.append(session, action="check.feedback", actor=actor, subject_id=chk.subject_id,
                 detail={"check_id": check_id, "measure": measure_code, "applied": applied, "reason": fb.reason})
    return fb


def feedback_of(session: Session, check_id: str) -> list[CheckFeedback]:
    q = select(CheckFeedback).where(CheckFeedback.check_id == check_id).order_by(CheckFeedback.id)
    return list(session.execute(q).scalars())


def stats(session: Session, *, since: dt.date | None = None, until: dt.date | None = None) -> dict[str, Any]:
    """Checks and applied measures by department and scenario, and per measure."""
    cq = select(CreditCheck.department, CreditCheck.scenario, func.count(),
                func.coalesce(func.sum(CreditCheck.measure_count), 0)).group_by(
        CreditCheck.department, CreditCheck.scenario)
    fq = (select(CreditCheck.department, CreditCheck.scenario, CheckFeedback.measure_code, CheckFeedback.applied,
                 func.count())
          .join(CheckFeedback, CheckFeedback.check_id == CreditCheck.check_id)
          .group_by(CreditCheck.department, CreditCheck.scenario, CheckFeedback.measure_code,
                    CheckFeedback.applied))
    if since:
        cq, fq = cq.where(CreditCheck.checked_on >= since), fq.where(CreditCheck.checked_on >= since)
    if until:
        cq, fq = cq.where(CreditCheck.checked_on <= until), fq.where(CreditCheck.checked_on <= until)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for dept, sc, n, offered in session.execute(cq):
        rows[(dept, sc)] = {"department": dept, "scenario": sc, "checks": n, "measures_returned": int(offered),
                            "reported": 0, "applied": 0, "not_applied": 0}
    by_measure: dict[str, dict[str, int]] = {}
    for dept, sc, code, applied, n in session.execute(fq):
        r = rows[(dept, sc)]
        r["reported"] += n
        r["applied" if applied else "not_applied"] += n
        m = by_measure.setdefault(code, {"applied": 0, "not_applied": 0})
        m["applied" if applied else "not_applied"] += n
    out_rows = sorted(rows.values(), key=lambda r: (r["department"], r["scenario"]))
    for r in out_rows:
        r["awaiting_feedback"] = r["measures_returned"] - r["reported"]
    totals = {k: sum(r[k] for r in out_rows) for k in ("checks", "measures_returned", "reported", "applied",
                                                       "not_applied", "awaiting_feedback")}
    return {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
            "rows": out_rows, "by_measure": dict(sorted(by_measure.items())), "totals": totals}


def purge_checks(session: Session, *, before: dt.date) -> dict[str, int]:
    """Delete the query log of credit checks made before `before` (their retention
    ended), with the departments' feedback on them. The caller audits the purge."""
    old = select(CreditCheck.check_id).where(CreditCheck.checked_on < before)
    fb = session.execute(delete(CheckFeedback).where(CheckFeedback.check_id.in_(old)))
    ck = session.execute(delete(CreditCheck).where(CreditCheck.checked_on < before))
    return {"checks": int(ck.rowcount or 0), "feedback": int(fb.rowcount or 0)}  # type: ignore[attr-defined]  # a CursorResult
