"""Regional analysis (研判分析): distributions by street, grid, industry and kind; trends
across evaluation runs; a risk view per grid from loan, water and electricity data.

Read-only service functions returning plain dicts, so the web issue's pages, the
`creditgov analyse` command and the charts all show the same numbers. Everything is
aggregated in SQL by region id and folded into streets and grids in Python (the region
tree is small; the subjects and records are not).

Each function takes an optional `scope`, a condition on `Subject` (a caller's data scope,
`Grant.subject_clause()`): the API and the pages pass it, so a grid worker's analysis
counts its own grid's subjects only; the command line analyses the whole county.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from creditgov.alerts.models import Alert, ColourCode
from creditgov.analysis import scan
from creditgov.core import clock, labels
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.scoring import published, score_copies
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.subjects.models import Region, Subject
from creditgov.supervision.models import InspectionTask

By = Literal["street", "grid", "industry", "kind"]
What = Literal["grade", "colour", "alerts", "inspections"]
BY: tuple[str, ...] = ("street", "grid", "industry", "kind")
WHAT: tuple[str, ...] = ("grade", "colour", "alerts", "inspections")
COLOURS = ("green", "yellow", "red")
SEVERITIES = ("info", "low", "medium", "high", "critical")
OUTCOMES = ("passed", "problems", "penalty", "pending")
UNKNOWN = "(未知)"


@dataclass
class Areas:
    """Each region cell's street and grid (code, name), from the materialised paths."""

    street: dict[int, tuple[str, str]]
    grid: dict[int, tuple[str, str]]

    @classmethod
    def load(cls, session: Session) -> Areas:
        rows = session.execute(select(Region.id, Region.code, Region.name, Region.level, Region.path)).all()
        by_code = {code: (name, level) for _, code, name, level, _ in rows}
        street: dict[int, tuple[str, str]] = {}
        grid: dict[int, tuple[str, str]] = {}
        for rid, _, _, _, path in rows:
            for c in (c for c in path.strip("/").split("/") if c):
                name, level = by_code.get(c, (c, ""))
                if level == "street":
                    street[rid] = (c, name)
                elif level == "grid":
                    grid[rid] = (c, name)
        return cls(street, grid)

    def group(self, by: str, region_id: int | None, industry: str | None, kind: str | None) -> tuple[str, str]:
        if by == "street":
            return self.street.get(region_id or -1, (UNKNOWN, UNKNOWN))
        if by == "grid":
            return self.grid.get(region_id or -1, (UNKNOWN, UNKNOWN))
        if by == "industry":
            # Names from the one label catalogue (subjects/data/industries.yaml, kinds.yaml).
            return (industry or UNKNOWN, labels.label("industry", industry, "zh") or UNKNOWN)
        return (kind or UNKNOWN, labels.label("subject_kind", kind, "zh") or UNKNOWN)


def latest_published_run(session: Session, model: str, on: dt.date | None = None) -> EvaluationRun:
    on = on or clock.today()
    run = published.latest_run(session, model, on)
    if run is None:
        raise NotFound(f"model {model!r} has no published run (as of {on})")
    return run


def _scope(scope: ColumnElement[bool] | None) -> ColumnElement[bool]:
    return true() if scope is None else scope


def published_models(session: Session, on: dt.date | None = None) -> list[str]:
    """Models with at least one published run (what grades and trends can be drawn for)."""
    on = on or clock.today()
    q = (select(EvaluationRun.model_name).where(published.PUBLISHED, EvaluationRun.as_of <= on)
         .group_by(EvaluationRun.model_name).order_by(EvaluationRun.model_name))
    return list(session.execute(q).scalars())


def _check(by: str, what: str | None = None) -> None:
    if by not in BY:
        raise InvalidInput(f"group by one of {', '.join(BY)}, not {by!r}")
    if what is not None and what not in WHAT:
        raise InvalidInput(f"analyse one of {', '.join(WHAT)}, not {what!r}")


def _fold(areas: Areas, by: str, rows: list[tuple[Any, ...]], categories: list[str]) -> list[dict[str, Any]]:
    """(region_id, industry, kind, category, n) rows → one row per group."""
    groups: dict[str, dict[str, Any]] = {}
    for region_id, industry, kind, cat, n in rows:
        code, name = areas.group(by, region_id, industry, kind)
        g = groups.setdefault(code, {"group": code, "name": name, "counts": {c: 0 for c in categories}, "total": 0})
        key = cat if cat in g["counts"] else str(cat)
        g["counts"][key] = g["counts"].get(key, 0) + int(n)
        g["total"] += int(n)
    return sorted(groups.values(), key=lambda g: (g["group"] == UNKNOWN, g["group"]))


def distribution(session: Session, *, what: str, by: str = "street", model: str | None = None,
                 run_id: int | None = None, since: dt.date | None = None,
                 scope: ColumnElement[bool] | None = None, engine: str | None = None) -> dict[str, Any]:
    """How grades, colours, alerts or inspection results spread over streets, grids,
    industries or kinds. Grades need a model (its latest published run) or a run; they
    are read by `engine` (analysis/scan.py: the store's SQL, or the run's score copy on
    DuckDB or Spark for a large store; `read` says which)."""
    _check(by, what)
    areas = Areas.load(session)
    cols = (Subject.region_id, Subject.industry, Subject.kind)
    out: dict[str, Any] = {"what": what, "by": by}
    if what == "grade":
        if run_id is None:
            if model is None:
                raise InvalidInput("grades are per model: give --model (or a run id)",
                                   code="analysis.grade.no_model")
            run = latest_published_run(session, model)
        else:
            found = session.get(EvaluationRun, run_id)
            if found is None:
                raise NotFound(f"run {run_id} not found")
            run = found
        out.update(model=run.model_name, run_id=run.id, as_of=run.as_of.isoformat())
        found_rows, out["read"] = _grade_rows(session, run, _scope(scope), scan.choose(session, engine))
        categories = list((run.grades or {}).keys()) or sorted({r[3] for r in found_rows})
        rows = _fold(areas, by, found_rows, categories)
        totals = {c: sum(r["counts"].get(c, 0) for r in rows) for c in categories}
        out.update(categories=categories, rows=rows, totals=totals, total=sum(totals.values()))
        return out
    elif what == "colour":
        q = (select(*cols, ColourCode.colour, func.count()).join(ColourCode, ColourCode.subject_id == Subject.id)
             .group_by(*cols, ColourCode.colour))
        categories = list(COLOURS)
    elif what == "alerts":
        since = since or clock.today() - dt.timedelta(days=365)
        q = (select(*cols, Alert.severity, func.count()).join(Alert, Alert.subject_id == Subject.id)
             .where(Alert.raised_at >= clock.day_start(since)).group_by(*cols, Alert.severity))
        categories = list(SEVERITIES)
        out["since"] = since.isoformat()
    else:
        since = since or clock.today() - dt.timedelta(days=365)
        outcome = case((InspectionTask.status == "done", InspectionTask.outcome), else_="pending")
        q = (select(*cols, outcome, func.count()).join(InspectionTask, InspectionTask.subject_id == Subject.id)
             .where(InspectionTask.status != "cancelled",
                    InspectionTask.created_at >= clock.day_start(since))
             .group_by(*cols, outcome))
        categories = list(OUTCOMES)
        out["since"] = since.isoformat()
    rows = _fold(areas, by, [tuple(r) for r in session.execute(q.where(_scope(scope)))], categories)
    totals = {c: sum(r["counts"].get(c, 0) for r in rows) for c in categories}
    out.update(categories=categories, rows=rows, totals=totals, total=sum(totals.values()))
    return out


def trend(session: Session, *, model: str, by: str | None = None, last: int = 12,
          scope: ColumnElement[bool] | None = None, engine: str | None = None) -> dict[str, Any]:
    """Published runs of a model over time: grade shares and mean score per run, and
    with `by` the mean score of each group per run. The scores are read by `engine`
    (as `distribution`'s grades; `read` says which)."""
    if by is not None:
        _check(by)
    runs = list(session.execute(published.newest_first(model, EvaluationRun).limit(last)).scalars())[::-1]
    if not runs:
        raise NotFound(f"model {model!r} has no published run")
    areas = Areas.load(session) if by else None
    grade_rows, group_rows, read = _run_rows(session, runs, scope, by is not None, scan.choose(session, engine))
    per_grade: dict[int, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for run_id, grade, n, total in grade_rows:
        per_grade[run_id][grade] = (int(n), Decimal(total or 0))
    per_group: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for run_id, *rest in group_rows:
        per_group[run_id].append(tuple(rest))
    points = []
    for run in runs:
        grades = {g: k for g, (k, _) in per_grade[run.id].items()}
        n = sum(grades.values())
        total = sum((t for _, t in per_grade[run.id].values()), Decimal(0))
        point: dict[str, Any] = {"run_id": run.id, "as_of": run.as_of.isoformat(), "subjects": n,
                                 "grades": grades, "shares": {g: round(k / n, 4) for g, k in grades.items()} if n else {},
                                 "mean_score": round(float(total / n), 2) if n else None}
        if areas is not None and by is not None:
            sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
            names: dict[str, str] = {}
            for rid, ind, kind, group_total, cnt in per_group[run.id]:
                code, name = areas.group(by, rid, ind, kind)
                names[code] = name
                sums[code][0] += Decimal(group_total or 0)
                sums[code][1] += cnt
            point["groups"] = {code: {"name": names[code], "mean_score": round(float(v[0] / v[1]), 2)}
                               for code, v in sorted(sums.items()) if v[1]}
        points.append(point)
    order = list(runs[-1].grades.keys()) if runs[-1].grades else sorted({g for p in points for g in p["grades"]})
    return {"model": model, "by": by, "grades": order, "runs": points, "read": read}


def _scores_engine(session: Session, runs: list[EvaluationRun], engine: str) -> tuple[str | None, dict[str, Any]]:
    """The store's URL when the runs' score copies can answer on `engine`, else None and
    what the store's answer should say."""
    read: dict[str, Any] = {"engine": "store"}
    if engine == "store":
        return None, read
    url = scan.store_url(session)
    now = score_copies.fingerprints(session, (r.id for r in runs))
    why = scan.scores_ready(url, [(r.id, *now[r.id]) for r in runs])
    if why is not None:
        read["reason"] = why
        return None, read
    return url, read


def _grade_rows(session: Session, run: EvaluationRun, where: ColumnElement[bool],
                engine: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """(region, industry, kind, grade, subjects) of a run's scores, and what read them."""
    url, read = _scores_engine(session, [run], engine)
    if url is not None:
        rows, done = scan.grade_counts(url, engine, run.id,
                                       scan.subjects_in(session, where, groups=True, engine=engine))
        return rows, done.as_dict()
    cols = (Subject.region_id, Subject.industry, Subject.kind)
    q = (select(*cols, Score.grade, func.count()).join(Score, Score.subject_id == Subject.id)
         .where(Score.run_id == run.id, where).group_by(*cols, Score.grade))
    return [tuple(r) for r in session.execute(q)], read


def _run_rows(session: Session, runs: list[EvaluationRun], scope: ColumnElement[bool] | None, groups: bool,
              engine: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[str, Any]]:
    """A trend's figures: (run, grade, subjects, sum of scores) and with `groups`
    (run, region, industry, kind, sum of scores, subjects); and what read them."""
    ids = [r.id for r in runs]
    if isinstance(scope, True_):  # every subject (Scope.ALL): nothing to read to scope by
        scope = None
    url, read = _scores_engine(session, runs, engine)
    if url is not None:
        subjects = (scan.subjects_in(session, _scope(scope), groups=groups, engine=engine)
                    if scope is not None or groups else None)
        from_copies = scan.run_totals(url, engine, ids, subjects, groups)
        return from_copies[0], from_copies[1], from_copies[2].as_dict()
    in_scope = Score.subject_id.in_(select(Subject.id).where(scope)) if scope is not None else true()
    grade_rows = [tuple(r) for r in session.execute(
        select(Score.run_id, Score.grade, func.count(), func.sum(Score.score))
        .where(Score.run_id.in_(ids), in_scope).group_by(Score.run_id, Score.grade))]
    group_rows: list[tuple[Any, ...]] = []
    if groups:
        cols = (Subject.region_id, Subject.industry, Subject.kind)
        group_rows = [tuple(r) for r in session.execute(
            select(Score.run_id, *cols, func.sum(Score.score), func.count()).join(Score, Score.subject_id == Subject.id)
            .where(Score.run_id.in_(ids), _scope(scope)).group_by(Score.run_id, *cols))]
    return grade_rows, group_rows, read


RISK_WEIGHTS = {"arrears_share": 0.30, "late_bill_share": 0.20, "overdue_loan_share": 0.25, "red_share": 0.25}


RISK_ITEMS = ("finance.loan", "finance.overdue", "utility.arrears", "utility.bill")


def grid_risk(session: Session, *, months: int = 12, on: dt.date | None = None, top: int | None = None,
              scope: ColumnElement[bool] | None = None, engine: str | None = None) -> dict[str, Any]:
    """Per grid: subjects, loans and overdue loans (finance data, where subjects
    consented to share it), utility arrears and late bills, red codes and open alerts,
    folded into a risk index (0–100, the weighted shares in `RISK_WEIGHTS`). The
    records are read by `engine` (analysis/scan.py: the store's SQL for a county, the
    record segments on DuckDB or Spark for a large store; `read` says which)."""
    on = on or clock.today()
    since = clock.add_months(on, -months)
    areas = Areas.load(session)
    where = _scope(scope)
    grids: dict[str, dict[str, Any]] = {}

    def g(region_id: int | None) -> dict[str, Any]:
        code, name = areas.grid.get(region_id or -1, (UNKNOWN, UNKNOWN))
        return grids.setdefault(code, {
            "grid": code, "name": name, "street": areas.street.get(region_id or -1, (UNKNOWN, UNKNOWN))[1],
            "subjects": 0, "loans": 0, "loan_amount": Decimal(0), "overdue_loans": 0, "overdue_subjects": 0,
            "arrears_records": 0, "arrears_subjects": 0, "bills": 0, "late_bills": 0, "red": 0, "open_alerts": 0})

    for rid, n in session.execute(select(Subject.region_id, func.count()).where(where).group_by(Subject.region_id)):
        g(rid)["subjects"] += n
    totals, read = _risk_records(session, where, since, on, scan.choose(session, engine))
    for rid, item, n, subjects, total, positive in totals:
        row = g(rid)
        if item == "finance.loan":
            row["loans"] += n
            row["loan_amount"] += Decimal(total or 0)
        elif item == "finance.overdue":
            row["overdue_loans"] += n
            row["overdue_subjects"] += subjects
        elif item == "utility.arrears":
            row["arrears_records"] += n
            row["arrears_subjects"] += subjects
        else:
            row["bills"] += n
            row["late_bills"] += int(positive or 0)
    for rid, n in session.execute(select(Subject.region_id, func.count()).join(
            ColourCode, ColourCode.subject_id == Subject.id).where(ColourCode.colour == "red", where)
            .group_by(Subject.region_id)):
        g(rid)["red"] += n
    for rid, n in session.execute(select(Subject.region_id, func.count()).join(Alert, Alert.subject_id == Subject.id)
                                  .where(Alert.status != "resolved", where).group_by(Subject.region_id)):
        g(rid)["open_alerts"] += n
    rows = []
    for row in grids.values():
        n = row["subjects"] or 1
        shares = {"arrears_share": row["arrears_subjects"] / n,
                  "late_bill_share": row["late_bills"] / row["bills"] if row["bills"] else 0.0,
                  "overdue_loan_share": row["overdue_subjects"] / n, "red_share": row["red"] / n}
        row.update({k: round(v, 4) for k, v in shares.items()})
        row["risk_index"] = round(100 * sum(RISK_WEIGHTS[k] * min(1.0, v) for k, v in shares.items()), 2)
        row["loan_amount"] = str(row["loan_amount"])
        rows.append(row)
    rows.sort(key=lambda r: (-r["risk_index"], r["grid"]))
    return {"on": on.isoformat(), "months": months, "weights": RISK_WEIGHTS, "rows": rows[:top] if top else rows,
            "read": read}


def _risk_records(session: Session, where: ColumnElement[bool], since: dt.date, on: dt.date,
                  engine: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """(region, item, records, subjects, sum of values, values above zero) for the
    risk items, and what read them."""
    read: dict[str, Any] = {"engine": "store"}
    if engine != "store":
        url = scan.store_url(session)
        try:
            why = scan.ready(url, RISK_ITEMS)
        except scan.SecretItems as exc:
            read["secret_items"] = list(exc.items)
        else:
            if why is None:
                rows, done = scan.record_totals(url, engine, scan.subjects_in(session, where, engine=engine),
                                               RISK_ITEMS, since, on)
                return rows, done.as_dict()
            read["reason"] = why
    rec = (select(Subject.region_id, CreditRecord.item_code, func.count(), func.count(func.distinct(Subject.id)),
                  func.sum(CreditRecord.value), func.sum(case((CreditRecord.value > 0, 1), else_=0)))
           .join(CreditRecord, CreditRecord.subject_id == Subject.id)
           .where(CreditRecord.item_code.in_(RISK_ITEMS), CreditRecord.is_current.is_(True),
                  CreditRecord.status == "active", CreditRecord.occurred_on >= since, CreditRecord.occurred_on <= on,
                  where).group_by(Subject.region_id, CreditRecord.item_code))
    return [tuple(r) for r in session.execute(rec)], read
