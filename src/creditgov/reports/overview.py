"""Read models for dashboards, the big screen and the public lists (the boards are
`points.boards`).

Plain queries over the stored runs, scores, records and lists, each restricted by a
scope clause handed in by the caller (from `security.scopes`). Nothing here changes
state or decides permissions; pages and API routes share these so a chart and its
JSON never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on
from creditgov.records.models import CreditRecord
from creditgov.scoring import current
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security.crypto import mask_name
from creditgov.subjects.models import Region, Subject

COLOURS = ("green", "yellow", "red")


def latest_runs(session: Session) -> list[EvaluationRun]:
    """The newest finished run of each model."""
    newest = (select(EvaluationRun.model_name, func.max(EvaluationRun.id).label("id"))
              .where(EvaluationRun.status == "done").group_by(EvaluationRun.model_name).subquery())
    q = select(EvaluationRun).join(newest, EvaluationRun.id == newest.c.id).order_by(EvaluationRun.model_name)
    return list(session.execute(q).scalars())


def trend(session: Session, *, scope: ColumnElement[bool] | None = None, limit: int = 30) -> list[dict[str, Any]]:
    """Grade counts across runs, oldest first, for the trend chart: counted over the
    subjects in `scope` (None: the whole county, the run's own stored counts). Each
    row names its model; a chart draws one model's rows (grades of two models are two
    scales, never one axis: `by_model`)."""
    q = (select(EvaluationRun).where(EvaluationRun.status == "done")
         .order_by(EvaluationRun.id.desc()).limit(limit))
    runs = list(session.execute(q).scalars())
    counted: dict[int, dict[str, int]] = {}
    if scope is not None and runs:
        cq = (select(Score.run_id, Score.grade, func.count()).join(Subject, Subject.id == Score.subject_id)
              .where(Score.run_id.in_([r.id for r in runs]), scope).group_by(Score.run_id, Score.grade))
        for run_id, grade, n in session.execute(cq):
            counted.setdefault(run_id, {})[grade] = n
    out = []
    for r in runs:
        grades = dict(sorted(counted.get(r.id, {}).items())) if scope is not None else r.grades
        out.append({"run_id": r.id, "model": r.model_name, "version": r.model_version, "as_of": r.as_of.isoformat(),
                    "subjects": sum(grades.values()) if scope is not None else r.subjects, "grades": grades})
    return list(reversed(out))


def by_model(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Trend rows grouped per model (one chart each), keeping their order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["model"], []).append(r)
    return out


def _level_of(session: Session, level: str | None) -> str:
    if level:
        return level
    levels: dict[int, str] = {d: lv for d, lv in session.execute(select(Region.depth, Region.level).distinct())}
    return levels.get(1) or levels.get(0) or "county"


def colour_order(models: list[str], precedence: Sequence[str] = ()) -> list[str]:
    """The models in the order a subject takes its colour from: those `precedence`
    names, in its order (the colour codes' rule, `alerts/data/colour_codes.yaml`),
    then any other by name."""
    rank = {m: i for i, m in enumerate(precedence)}
    return sorted(set(models), key=lambda m: (rank.get(m, len(rank)), m))


def colour_choice(session: Session, runs: Sequence[int], precedence: Sequence[str] = (),
                  where: Sequence[ColumnElement[bool]] = ()) -> tuple[list[str], Subquery | None]:
    """Each subject's one colour over `runs`: the colour rule (`colour_order` of the
    runs' models) and a subquery of (subject_id, colour), a subject scored by several
    models taking the colour of its first model in the rule, as its colour code does
    (None when no run is named). `where` narrows the scores read (a page's subjects).
    The dashboard's counters (`distribution`) and the subject list's colour filter and
    column (`subjects.access.find`) both read it, so a counter and the list it links to
    count the same subjects."""
    model_of: dict[int, str] = {rid: m for rid, m in session.execute(
        select(EvaluationRun.id, EvaluationRun.model_name).where(EvaluationRun.id.in_(runs)))} if runs else {}
    rule = colour_order(list(model_of.values()), precedence)
    if not model_of:
        return rule, None
    rank = case({rid: rule.index(m) for rid, m in model_of.items()}, value=Score.run_id)
    first = (select(Score.subject_id.label("sid"), func.min(rank).label("rank")).where(Score.run_id.in_(runs), *where)
             .group_by(Score.subject_id).subquery())
    chosen = (select(Score.subject_id, Score.colour).join(first, and_(first.c.sid == Score.subject_id,
                                                                      first.c.rank == rank))
              .where(Score.run_id.in_(runs), *where).subquery())
    return rule, chosen


def subject_colours(session: Session, *, precedence: Sequence[str] = (),
                    where: Sequence[ColumnElement[bool]] = ()) -> Subquery | None:
    """Each subject's colour as the dashboard counts it: over the latest run of every
    model (`colour_choice`); None before any run."""
    return colour_choice(session, [r.id for r in latest_runs(session)], precedence, where)[1]


def distribution(session: Session, *, scope: ColumnElement[bool], level: str | None = None,
                 run_ids: list[int] | None = None, precedence: Sequence[str] = ()) -> dict[str, Any]:
    """Colour and grade counts per region of one level (default: the level under the
    county, streets), over the latest run of every model unless runs are named.

    Colours count subjects, each once: a subject scored by several models takes the
    colour of the first of them in `colour_rule` (`colour_order`: `precedence`, then
    the others by name), as its colour code does. Grades count evaluations, one model
    each (`grades_by_model`: two models' grades are two scales); `grades` and a
    region's `grades` add them up and are kept for the API's old readers only."""
    level = _level_of(session, level)
    runs = run_ids if run_ids is not None else [r.id for r in latest_runs(session)]
    rule, chosen = colour_choice(session, runs, precedence)
    if not runs or chosen is None:
        return {"level": level, "regions": [], "grades": {}, "grades_by_model": {}, "colour_rule": [],
                "colours": {c: 0 for c in COLOURS}}
    cells = select(Region.id.label("rid"), Region.path.label("path")).subquery()
    top = select(Region.code, Region.name, Region.path).where(Region.level == level).subquery()
    q = (select(top.c.code, top.c.name, EvaluationRun.model_name, Score.grade, func.count())
         .select_from(Score)
         .join(EvaluationRun, EvaluationRun.id == Score.run_id)
         .join(Subject, Subject.id == Score.subject_id)
         .join(cells, cells.c.rid == Subject.region_id)
         .join(top, cells.c.path.startswith(top.c.path))
         .where(Score.run_id.in_(runs), scope)
         .group_by(top.c.code, top.c.name, EvaluationRun.model_name, Score.grade))
    regions: dict[str, dict[str, Any]] = {}
    grades: dict[str, int] = {}
    per_model: dict[str, dict[str, int]] = {}

    def region(code: str, name: str) -> dict[str, Any]:
        return regions.setdefault(code, {"code": code, "name": name, "colours": {c: 0 for c in COLOURS},
                                         "grades": {}})

    for code, name, model, grade, n in session.execute(q):
        r = region(code, name)
        r["grades"][grade] = r["grades"].get(grade, 0) + n
        grades[grade] = grades.get(grade, 0) + n
        m = per_model.setdefault(model, {})
        m[grade] = m.get(grade, 0) + n
    # Each subject's one colour: the score of its first model in the rule.
    colours = {c: 0 for c in COLOURS}
    for colour, n in session.execute(select(chosen.c.colour, func.count()).join(Subject, Subject.id == chosen.c.subject_id)
                                     .where(scope).group_by(chosen.c.colour)):
        colours[colour] = colours.get(colour, 0) + n
    for code, name, colour, n in session.execute(
            select(top.c.code, top.c.name, chosen.c.colour, func.count()).select_from(chosen)
            .join(Subject, Subject.id == chosen.c.subject_id).join(cells, cells.c.rid == Subject.region_id)
            .join(top, cells.c.path.startswith(top.c.path)).where(scope)
            .group_by(top.c.code, top.c.name, chosen.c.colour)):
        r = region(code, name)
        r["colours"][colour] = r["colours"].get(colour, 0) + n
    return {"level": level, "regions": sorted(regions.values(), key=lambda r: r["code"]),
            "grades": dict(sorted(grades.items())),
            "grades_by_model": {m: dict(sorted(g.items())) for m, g in sorted(per_model.items())},
            "colour_rule": rule, "colours": colours}


def recent_records(session: Session, *, scope: ColumnElement[bool], limit: int = 10,
                   polarity: str | None = None, mask_people: bool = False) -> list[dict[str, Any]]:
    q = (select(CreditRecord, CatalogItem.name_zh, CatalogItem.name_en, CatalogItem.polarity, Subject)
         .join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
         .join(Subject, Subject.id == CreditRecord.subject_id)
         .where(CreditRecord.is_current.is_(True), scope)
         .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc()).limit(limit))
    if polarity:
        q = q.where(CatalogItem.polarity == polarity)
    out = []
    for rec, zh, en, pol, subj in session.execute(q):
        personal = subj.resident_id_index is not None
        out.append({"id": rec.id, "subject_id": subj.id,
                    "subject": mask_name(subj.name) if personal and mask_people else subj.name,
                    "item": rec.item_code, "item_name": zh, "item_name_en": en, "polarity": pol,
                    "occurred_on": rec.occurred_on.isoformat(), "department": rec.department_code,
                    "status": rec.status})
    return out


def subject_scores(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """The subject's result in the newest run of each model that scored it — or, when
    a procedure re-evaluated the subject since (`scoring.current`), that result, with
    `reevaluated` saying when and why (`dimensions` then None: a re-evaluation keeps
    the score, grade and colour)."""
    newest = (select(func.max(Score.run_id).label("run_id")).join(EvaluationRun, EvaluationRun.id == Score.run_id)
              .where(Score.subject_id == subject_id, EvaluationRun.status == "done")
              .group_by(EvaluationRun.model_name).subquery())
    q = (select(Score, EvaluationRun).join(EvaluationRun, EvaluationRun.id == Score.run_id)
         .where(Score.subject_id == subject_id, Score.run_id.in_(select(newest.c.run_id)))
         .order_by(EvaluationRun.model_name))
    rows = [{"run_id": run.id, "model": run.model_name, "version": run.model_version,
             "ref": f"{run.model_name}@{run.model_version}", "as_of": run.as_of.isoformat(),
             "published": run.published, "score": str(sc.score), "grade": sc.grade, "colour": sc.colour,
             "dimensions": sc.dimensions, "reevaluated": None} for sc, run in session.execute(q)]
    later = current.superseding(session, subject_id, {r["model"]: r["run_id"] for r in rows})
    for r in rows:
        if (re := later.get(r["model"])) is not None:
            r.update(version=re.model_version, ref=f"{re.model_name}@{re.model_version}", as_of=re.as_of.isoformat(),
                     score=str(re.score), grade=re.grade, colour=re.colour, dimensions=None,
                     reevaluated={"id": re.id, "cause": re.cause, "cause_words": current.cause_words(re.cause),
                                  "previous_grade": re.previous_grade,
                                  "at": re.created_at.isoformat(timespec="seconds")})
    return rows


def list_entries_of(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """Every list entry of a subject (any status), newest first."""
    q = select(ListEntry).where(ListEntry.subject_id == subject_id).order_by(ListEntry.id.desc())
    return [{"id": e.id, "list": e.list_code, "status": e.status, "origin": e.origin,
             "published_on": e.published_on.isoformat() if e.published_on else None,
             "expires_on": e.expires_on.isoformat() if e.expires_on else None,
             "exited_on": e.exited_on.isoformat() if e.exited_on else None, "decision_no": e.decision_no,
             "basis": e.basis} for e in session.execute(q).scalars()]


# ----------------------------------------------------------------------------- public side


def _published(on: dt.date | None, list_code: str | None) -> list[ColumnElement[bool]]:
    cond = [listed_on(on or clock.today()), ListEntry.status == "published"]
    if list_code:
        cond.append(ListEntry.list_code == list_code)
    return cond


def published_count(session: Session, *, list_code: str | None = None, on: dt.date | None = None) -> int:
    """How many list entries are in force today (the public lists' total)."""
    return int(session.execute(select(func.count(ListEntry.id)).where(*_published(on, list_code))).scalar_one())


def published_entries(session: Session, *, list_code: str | None = None, on: dt.date | None = None,
                      limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """List entries in force today, for public display, newest first, `limit` from
    `offset` (`published_count` says how many in all): residents' names masked and
    their ID numbers never shown."""
    q = (select(ListEntry, Subject).join(Subject, Subject.id == ListEntry.subject_id)
         .where(*_published(on, list_code))
         .order_by(ListEntry.published_on.desc(), ListEntry.id.desc()).limit(limit).offset(offset))
    out = []
    for e, s in session.execute(q):
        personal = s.resident_id_index is not None
        out.append({"list": e.list_code, "subject": mask_name(s.name) if personal else s.name,
                    "uscc": None if personal else s.uscc, "kind": s.kind, "decision_no": e.decision_no,
                    "published_on": e.published_on.isoformat() if e.published_on else None,
                    "expires_on": e.expires_on.isoformat() if e.expires_on else None})
    return out


def region_tree(session: Session) -> list[dict[str, Any]]:
    return [{"code": r.code, "name": r.name, "level": r.level, "depth": r.depth, "path": r.path}
            for r in session.execute(select(Region).order_by(Region.path)).scalars()]


def headline(session: Session, *, scope: ColumnElement[bool]) -> dict[str, Any]:
    """The counters across the top of the dashboard and the big screen."""
    subjects = session.execute(select(func.count(Subject.id)).where(scope)).scalar_one()
    by_kind: dict[str, int] = {k: n for k, n in session.execute(
        select(Subject.kind, func.count()).where(scope).group_by(Subject.kind))}
    records = session.execute(select(func.count(CreditRecord.id)).join(Subject, Subject.id == CreditRecord.subject_id)
                              .where(CreditRecord.is_current.is_(True), scope)).scalar_one()
    on_lists: dict[str, int] = {code: n for code, n in session.execute(
        select(ListEntry.list_code, func.count()).join(Subject, Subject.id == ListEntry.subject_id)
        .where(listed_on(clock.today()), scope).group_by(ListEntry.list_code))}
    return {"subjects": subjects, "by_kind": by_kind, "records": records, "lists": on_lists}
