"""Earning and its corrections: points from published evaluation runs and from
positive credit records, and their reversal when the run is replaced or the record is
revoked or superseded. Everything here is safe to run again: each credit's cause key
is unique, so the daily job adds only what is new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, case, cast, exists, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from creditgov.core import clock
from creditgov.points import ledger
from creditgov.points.models import PointsAccount, PointsEntry
from creditgov.points.rules import rules
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.scoring.published import PUBLISHED, band_table


# ------------------------------------------------------------------ evaluations
def runs_of_record(session: Session, since: dt.date) -> dict[tuple[str, str], EvaluationRun]:
    """(model, month) -> the run that earns for that month: the latest published,
    finished run whose as-of date falls in it."""
    models = [r.model for r in rules(session).evaluations]
    q = (select(EvaluationRun).where(EvaluationRun.model_name.in_(models), PUBLISHED, EvaluationRun.as_of >= since)
         .order_by(EvaluationRun.id))
    out: dict[tuple[str, str], EvaluationRun] = {}
    for run in session.execute(q).scalars():
        out[(run.model_name, f"{run.as_of:%Y-%m}")] = run  # the later run of a month wins
    return out


def credit_run(session: Session, run: EvaluationRun, *, actor: str) -> int:
    """One set-based insert of the run's credits (a county's residents in one
    statement), skipping subjects the run already credited."""
    rule = next(r for r in rules(session).evaluations if r.model == run.model_name)
    grades = band_table(session.connection()).get((run.model_name, run.model_version), {})
    amounts = {g: rule.points[b] for g, b in grades.items() if b in rule.points}
    if not amounts:
        return 0
    today, now = clock.today(), clock.now()
    key = literal(f"run:{run.id}:") + cast(Score.subject_id, String) + literal(":earn")
    done = exists().where(PointsEntry.cause_key == key)
    have = select(PointsAccount.subject_id).where(PointsAccount.subject_id == Score.subject_id)
    session.execute(insert(PointsAccount).from_select(
        ["subject_id", "opened_at"],
        select(Score.subject_id, literal(now)).where(Score.run_id == run.id, Score.grade.in_(amounts),
                                                     ~exists(have))))
    amount = case(*[(Score.grade == g, p) for g, p in amounts.items()], else_=0)
    cols = ["subject_id", "amount", "kind", "cause", "ref_type", "ref_id", "rule", "period", "earned_on",
            "expires_on", "cause_key", "note", "actor", "at"]
    sel = select(Score.subject_id, cast(amount, Integer), literal("earn"), literal("evaluation"), literal("run"),
                 literal(run.id), literal(f"eval:{run.model_name}"), literal(f"{run.as_of:%Y-%m}"), literal(today),
                 literal(ledger.expiry_for(session, today)), key,
                 literal(f"{run.model_name}@{run.model_version} as of {run.as_of.isoformat()}: ")
                 + Score.grade, literal(actor), literal(now)).where(Score.run_id == run.id,
                                                                   Score.grade.in_(amounts), ~done)
    made = select(func.count()).select_from(PointsEntry).where(PointsEntry.ref_type == "run",
                                                               PointsEntry.ref_id == run.id)
    before = session.execute(made).scalar_one()
    session.execute(insert(PointsEntry).from_select(cols, sel))
    return int(session.execute(made).scalar_one() - before)  # rowcount of INSERT … SELECT is -1 on psycopg


def credit_runs(session: Session, *, actor: str) -> dict[str, Any]:
    cfg = rules(session)
    since = clock.add_months(clock.today(), -cfg.lookback_months)
    current = runs_of_record(session, since)
    credited = sum(credit_run(session, run, actor=actor) for run in current.values())
    # A run that no longer earns (a later run of its month was published, or it was
    # withdrawn): its credits are reversed, one by one.
    keep = {r.id for r in current.values()}
    reversed_ = 0
    for e in session.execute(ledger.unreversed("earn", "run")).scalars().all():
        if e.ref_id not in keep and e.period is not None and e.period >= f"{since:%Y-%m}":
            if ledger.reverse(session, e, actor=actor, reason=f"run {e.ref_id} was replaced or withdrawn"):
                reversed_ += 1
    return {"runs": len(current), "credited": credited, "reversed": reversed_}


# ------------------------------------------------------------------ records
def credit_records(session: Session, *, actor: str) -> dict[str, int]:
    """Credit each current, active positive record a rule names, once; a rule's cap
    per period cuts the amount (the note says so)."""
    cfg = rules(session)
    by_item = {r.item: r for r in cfg.records}
    if not by_item:
        return {"credited": 0, "capped": 0}
    since = clock.add_months(clock.today(), -cfg.lookback_months)
    earned = aliased(PointsEntry)
    q = (select(CreditRecord).where(CreditRecord.item_code.in_(by_item), CreditRecord.is_current.is_(True),
                                    CreditRecord.status == "active", CreditRecord.occurred_on >= since,
                                    ~exists().where(earned.ref_type == "record", earned.ref_id == CreditRecord.id,
                                                    earned.kind == "earn"))
         .order_by(CreditRecord.id))
    today = clock.today()
    credited = capped = 0
    for rec in session.execute(q).scalars():
        rule = by_item[rec.item_code]
        full = rule.points if rule.points is not None else int((rec.value or 0) * rule.per_unit)  # type: ignore[operator]  # per_unit is set when points is not
        period = ledger.period_of(rule.cap, rec.occurred_on)
        amount, note = full, f"{rec.item_code} on {rec.occurred_on.isoformat()}"
        if rule.cap is not None and period is not None:
            room = max(rule.cap.points - ledger.earned_in_period(session, rec.subject_id, rule.item, period), 0)
            if room < full:
                amount, capped = room, capped + 1
                note += f"; {full} points cut to {room} by the cap of {rule.cap.points} per {rule.cap.period}"
        if amount <= 0:
            continue
        if ledger.post(session, subject_id=rec.subject_id, amount=amount, kind="earn", cause="record",
                       ref_type="record", ref_id=rec.id, cause_key=f"record:{rec.id}:earn", actor=actor,
                       rule=rule.item, period=period, expires_on=ledger.expiry_for(session, today), note=note):
            credited += 1
    return {"credited": credited, "capped": capped}


def reverse_records(session: Session, *, actor: str) -> int:
    """Points of a record that was since revoked (by an objection, by its department)
    or replaced by a corrected version are taken back by a new entry."""
    q = (ledger.unreversed("earn", "record").join(CreditRecord, CreditRecord.id == PointsEntry.ref_id)
         .where((CreditRecord.status == "revoked") | CreditRecord.is_current.is_(False))
         .add_columns(CreditRecord.status))
    n = 0
    for e, status in session.execute(q).tuples().all():
        why = "the record was revoked" if status == "revoked" else "the record was replaced by a corrected version"
        if ledger.reverse(session, e, actor=actor, reason=why):
            n += 1
    return n


def count_entries(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(PointsEntry)).scalar_one())
