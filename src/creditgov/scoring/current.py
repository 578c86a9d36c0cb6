"""A subject's current result in a model: its row in the model's latest run, unless the
subject was re-evaluated since — a procedure changed its file (a repair approved, a
record corrected or deleted after an objection, an inspection's finding recorded) and
the subject was recomputed at once for every published model, inside that unit of work.

A re-evaluation is kept beside the run it was computed against (`previous_run_id`), not
written into it: a run is a record of what the whole county scored on its day, and a
one-subject run would hide every other subject from "the latest run". It supersedes
that run's row for the subject — on the credit file, in its report, in a credit check
and in a credit code — until the next run, which recomputes everyone and leaves it
behind. County-wide figures (statistics, lists' criteria, draws) read runs only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import CreditGovError
from creditgov.scoring import explain, published
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import Reevaluation, Score
from creditgov.security import service as audit

# What set a re-evaluation off (its `cause`, "<kind>:<id>"), in words.
CAUSES = {"repair": ("信用修复申请 #{v}", "credit repair application #{v}"),
          "objection": ("异议 #{v}", "objection #{v}"),
          "inspection": ("检查任务 #{v}", "inspection task #{v}")}


def cause_words(cause: str) -> tuple[str, str]:
    """(Chinese, English) words for a re-evaluation's cause; one of another shape as stored."""
    kind, _, value = cause.partition(":")
    if kind in CAUSES:
        zh, en = CAUSES[kind]
        return zh.format(v=value), en.format(v=value)
    return cause, cause


def published_models(session: Session) -> list[str]:
    """Names of the models with a published version."""
    return sorted({v.name for v in scoring_service.versions(session) if v.status == "published"})


def latest_published(session: Session, model: str, subject_id: int) -> tuple[int | None, str | None]:
    """(the model's latest published run, the subject's grade in it)."""
    run_id = session.execute(published.latest_run_id(model)).scalar()
    if run_id is None:
        return None, None
    grade = session.execute(select(Score.grade).where(Score.run_id == run_id, Score.subject_id == subject_id)).scalar()
    return run_id, grade


def reevaluate(session: Session, *, subject_id: int, cause: str, actor: str | None = None,
               as_of: dt.date | None = None) -> list[Reevaluation]:
    """Recompute the subject at once for every published model whose scope holds it,
    with the engine's reference evaluator (`scoring.explain`), inside this unit of work
    so the change just made counts; kept beside each model's latest published run (see
    the module's note) and written to the audit chain in the name of `actor`, whose
    decision set it off."""
    as_of = as_of or clock.today()
    out = []
    for name in published_models(session):
        mv, p = scoring_service.prepared_for(session, name, as_of)
        data = explain.load_subject_data(session, [subject_id], items=p.used_items).get(subject_id)
        if data is None or not explain.in_scope(p, data):
            continue
        ex = explain.evaluate(p, data)
        prev_run, prev_grade = latest_published(session, name, subject_id)
        row = Reevaluation(subject_id=subject_id, model_name=mv.name, model_version=mv.version, as_of=as_of,
                           score=Decimal(ex.score_centi) / 100, grade=ex.grade, colour=ex.colour,
                           previous_run_id=prev_run, previous_grade=prev_grade, cause=cause,
                           created_at=clock.now())
        session.add(row)
        out.append(row)
    session.flush()
    if out:
        audit.append(session, action="evaluation.reevaluate", actor=actor, subject_id=subject_id,
                     detail={"cause": cause, "as_of": as_of.isoformat(),
                             "results": {r.model_name: {"grade": r.grade, "previous": r.previous_grade}
                                         for r in out}})
    return out


def reevaluate_after(session: Session, *, subject_id: int, cause: str, actor: str | None = None
                     ) -> tuple[list[Reevaluation], str | None]:
    """`reevaluate` after a legal decision (a repair, an objection's outcome, an
    inspection's finding): in a savepoint, so a broken model pack cannot undo the
    decision — its error is returned (and reported by the caller), not raised; the next
    run recomputes the subject anyway."""
    try:
        with session.begin_nested():
            return reevaluate(session, subject_id=subject_id, cause=cause, actor=actor), None
    except CreditGovError as exc:
        return [], str(exc)


# The rule, stated once: the subject's newest re-evaluation in the model computed
# against the run a reader shows supersedes its row there (parameters: subject, model, run).
Q_LATER = (select(Reevaluation)
           .where(Reevaluation.subject_id == bindparam("subject"), Reevaluation.model_name == bindparam("model"),
                  Reevaluation.previous_run_id == bindparam("run"))
           .order_by(Reevaluation.id.desc()).limit(1))


def superseding(session: Session, subject_id: int, run_ids: dict[str, int]) -> dict[str, Reevaluation]:
    """Model name -> the re-evaluation that supersedes the subject's row in that model's
    run in `run_ids` (the run the reader shows), for the models that have one: `Q_LATER`
    for every model at once, in one statement."""
    if not run_ids:
        return {}
    q = (select(Reevaluation)
         .where(Reevaluation.subject_id == subject_id,
                or_(*(and_(Reevaluation.model_name == model, Reevaluation.previous_run_id == run)
                      for model, run in run_ids.items())))
         .order_by(Reevaluation.id))
    out: dict[str, Reevaluation] = {}
    for later in session.execute(q).scalars():
        out[later.model_name] = later  # by id: the newest of each model wins
    return out
