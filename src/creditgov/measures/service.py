"""Joint measures and the credit check (信用核查).

A check answers one question inside a department's procedure: what does this
subject's credit change here? It reads the current grade and colour (the latest
published run of the scenario's model), the lists in force today, the subject's
commitments, and returns the measures that apply in the scenario with their legal
basis. Each check is stored (`CreditCheck`) and audited, and the department reports
back what it did (`CheckFeedback`) — the closed loop the paper asks for.

A check must be fast (p99 ≤ 5 ms on a million subjects): a handful of indexed point
queries, the catalogue parsed once per distinct definition text, one insert and one
audit append.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Date, and_, bindparam, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from creditgov.commitments.models import Commitment
from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.lists.models import CreditList, ListEntry
from creditgov.lists.queries import listed_on
from creditgov.measures.models import CheckFeedback, CreditCheck, Measure, Scenario
from creditgov.measures.schemas import (
    CommitmentCondition,
    Condition,
    MeasureDef,
    MeasuresFile,
    ScenarioDef,
    ScenariosFile,
)
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.security.models import AuditEntry
from creditgov.subjects import service as subject_service
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Subject

# ----------------------------------------------------------------------------- loading


MEASURES = PolicyFile(MeasuresFile, "creditgov.measures", "data/measures.yaml")
SCENARIOS = PolicyFile(ScenariosFile, "creditgov.measures", "data/scenarios.yaml")


def shipped_text(name: str) -> str:
    """The text of a shipped data file (`measures.yaml`, `scenarios.yaml`)."""
    files: dict[str, PolicyFile[Any]] = {"measures.yaml": MEASURES, "scenarios.yaml": SCENARIOS}
    return files[name].text()


def read_measures(path: Path | None = None) -> MeasuresFile:
    return MEASURES.load(path)


def read_scenarios(path: Path | None = None) -> ScenariosFile:
    return SCENARIOS.load(path)


def load_measures(session: Session, *, path: Path | None = None, scenarios_path: Path | None = None,
                  actor: str | None = None) -> dict[str, Any]:
    """Upsert scenarios and measures (the shipped defaults when no paths). Measures
    must name known scenarios and known lists, so a typo cannot silently disable one."""
    sc = read_scenarios(scenarios_path)
    ms = read_measures(path)
    src = str(path) if path else "measures.yaml (shipped)"
    known_scenarios = {s.code for s in sc.scenarios} | {
        c for (c,) in session.execute(select(Scenario.code))}
    known_lists = {c for (c,) in session.execute(select(CreditList.code))}
    for n, m in enumerate(ms.measures):
        for code in m.scenarios:
            if code not in known_scenarios:
                raise ConfigError(f"{src}: measures[{n}] ({m.code}): unknown scenario {code!r}")
        for cond in m.when:
            for lc in cond.lists:
                if lc not in known_lists:
                    raise ConfigError(f"{src}: measures[{n}] ({m.code}): unknown list {lc!r} "
                                      "(load list definitions first)")
        for lc in m.unless_lists:
            if lc not in known_lists:
                raise ConfigError(f"{src}: measures[{n}] ({m.code}): unknown list {lc!r} in unless_lists")
    # Each scenario is stored with its models resolved (defaults, then its overrides),
    # so a check needs one row to know whose grade to show.
    for s in sc.scenarios:
        resolved = s.model_copy(update={"models": {**sc.default_models, **s.models}})
        session.merge(Scenario(code=s.code, name_zh=s.name_zh, name_en=s.name_en, department=s.department,
                               version=sc.version, definition=resolved.model_dump_json()))
    for m in ms.measures:
        session.merge(Measure(code=m.code, name_zh=m.name_zh, name_en=m.name_en, measure_kind=m.kind,
                              department=m.department, legal_basis=m.legal_basis, scenarios=list(m.scenarios),
                              active=m.active, version=ms.version, definition=m.model_dump_json()))
    session.flush()
    audit.append(session, action="measures.load", actor=actor,
                 detail={"version": ms.version, "measures": len(ms.measures), "scenarios": len(sc.scenarios),
                         "default_models": sc.default_models})
    return {"version": ms.version, "measures": len(ms.measures), "scenarios": len(sc.scenarios)}


@lru_cache(maxsize=1024)
def _measure_of(text: str) -> MeasureDef:
    return MeasureDef.model_validate_json(text)


@lru_cache(maxsize=1024)
def _scenario_of(text: str) -> ScenarioDef:
    return ScenarioDef.model_validate_json(text)


def measures(session: Session, *, scenario: str | None = None, include_inactive: bool = False) -> list[MeasureDef]:
    q = select(Measure.definition).order_by(Measure.code)
    if not include_inactive:
        q = q.where(Measure.active.is_(True))
    out = [_measure_of(t) for (t,) in session.execute(q)]
    return [m for m in out if scenario is None or scenario in m.scenarios]


def measure(session: Session, code: str) -> MeasureDef:
    row = session.get(Measure, code)
    if row is None:
        raise NotFound(f"measure {code!r} not found")
    return _measure_of(row.definition)


def scenarios(session: Session) -> list[ScenarioDef]:
    q = select(Scenario.definition).order_by(Scenario.code)
    return [_scenario_of(t) for (t,) in session.execute(q)]


# ----------------------------------------------------------------------------- warnings seam

# The alerts domain sits above this one, so the check cannot import it: the composition
# root registers its `open_warnings` here at start-up (`bootstrap.wire`), and the check
# shows whatever the registered sources return.
WarningSource = Callable[[Session, int], list[dict[str, Any]]]
WARNING_SOURCES: list[WarningSource] = []


def register_warning_source(fn: WarningSource) -> None:
    if fn not in WARNING_SOURCES:
        WARNING_SOURCES.append(fn)


def open_warnings(session: Session, subject_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for fn in WARNING_SOURCES:
        out.extend(fn(session, subject_id))
    return out


# ----------------------------------------------------------------------------- the check


# The check's statements are built once: building a SQLAlchemy statement costs more
# than running it (≈1.5 ms against ≈0.15 ms on SQLite), and a check runs about ten.
_D = bindparam("day", type_=Date)
_Q_SUBJECT_BY_ID = select(Subject.id, Subject.kind, Subject.name, Subject.uscc, Subject.resident_id_index).where(
    Subject.id == bindparam("key"))
_Q_SUBJECT_BY_USCC = select(Subject.id, Subject.kind, Subject.name, Subject.uscc, Subject.resident_id_index).where(
    Subject.uscc == bindparam("key"))
_Q_MEASURES = select(Measure.definition).where(Measure.active.is_(True)).order_by(Measure.code)
_Q_RUN = (select(EvaluationRun.id).where(EvaluationRun.model_name == bindparam("model"),
                                         EvaluationRun.published.is_(True), EvaluationRun.status == "done")
          .order_by(EvaluationRun.as_of.desc(), EvaluationRun.id.desc()).limit(1))
# The latest published run of a model and the subject's row in it, in one statement.
_Q_GRADE = (select(EvaluationRun.id, Score.grade, Score.colour).select_from(EvaluationRun)
            .outerjoin(Score, and_(Score.run_id == EvaluationRun.id, Score.subject_id == bindparam("subject")))
            .where(EvaluationRun.model_name == bindparam("model"), EvaluationRun.published.is_(True),
                   EvaluationRun.status == "done")
            .order_by(EvaluationRun.as_of.desc(), EvaluationRun.id.desc()).limit(1))
_Q_LISTS = (select(ListEntry.id, ListEntry.list_code, ListEntry.origin, ListEntry.published_on,
                   ListEntry.expires_on, ListEntry.decision_no)
            .where(ListEntry.subject_id == bindparam("subject"), listed_on(_D)).order_by(ListEntry.list_code))
_Q_COMMITMENTS = select(Commitment.type, Commitment.status, Commitment.due_on, Commitment.verified_on).where(
    Commitment.subject_id == bindparam("subject"))
_INSERT_CHECK = insert(CreditCheck)


# Every load of the catalogue appends a `measures.load` audit entry, so the id of the
# last one is a version stamp: one indexed query tells whether the catalogue cached
# in this process is still the one in the store.
_Q_STAMP = select(func.max(AuditEntry.id)).where(AuditEntry.action == "measures.load")


@dataclass(frozen=True)
class Catalogue:
    scenarios: dict[str, ScenarioDef]
    by_scenario: dict[str, list[MeasureDef]]


_CATALOGUES: dict[tuple[str, int | None], Catalogue] = {}


def catalogue(conn: Connection) -> Catalogue:
    """The active measures by scenario and the scenarios, cached per loaded version."""
    key = (str(conn.engine.url), conn.execute(_Q_STAMP).scalar())
    cat = _CATALOGUES.get(key)
    if cat is None:
        by: dict[str, list[MeasureDef]] = {}
        for (t,) in conn.execute(_Q_MEASURES):
            m = _measure_of(t)
            for sc in m.scenarios:
                by.setdefault(sc, []).append(m)
        scs = {d.code: d for d in (_scenario_of(t) for (t,) in conn.execute(select(Scenario.definition)))}
        cat = Catalogue(scenarios=scs, by_scenario=by)
        if len(_CATALOGUES) > 16:
            _CATALOGUES.clear()
        _CATALOGUES[key] = cat
    return cat


@dataclass
class Standing:
    """What the conditions are evaluated against: one subject on one day."""

    subject_id: int
    today: dt.date
    model: str | None
    lists: set[str]
    commitments: list[tuple[str, str, dt.date | None, dt.date | None]]  # type, status, due_on, verified_on
    grades: dict[str, tuple[int | None, str | None, str | None]] = field(default_factory=dict)

    def grade_of(self, conn: Connection, model: str | None) -> tuple[int | None, str | None, str | None]:
        """(run id, grade, colour) in the latest published run of the model."""
        model = model or self.model
        if model is None:
            return None, None, None
        if model not in self.grades:
            self.grades[model] = current_grade(conn, self.subject_id, model)
        return self.grades[model]

    def has_commitment(self, c: CommitmentCondition) -> bool:
        for ctype, status, due, verified in self.commitments:
            if c.type is not None and ctype != c.type:
                continue
            if c.status == "signed":
                if status == "signed" and (due is None or due >= self.today):
                    return True
            elif status == c.status:
                if c.within_months is None or (verified is not None and
                                               verified > clock.add_months(self.today, -c.within_months)):
                    return True
        return False


def latest_published_run(conn: Connection, model: str) -> int | None:
    return conn.execute(_Q_RUN, {"model": model}).scalar()


def current_grade(conn: Connection, subject_id: int, model: str) -> tuple[int | None, str | None, str | None]:
    """(run id, grade, colour): the subject's row in the latest published run of
    `model`; grade and colour are None when the run did not grade the subject."""
    row = conn.execute(_Q_GRADE, {"model": model, "subject": subject_id}).first()
    return (row[0], row[1], row[2]) if row else (None, None, None)


def _holds(conn: Connection, cond: Condition, st: Standing) -> tuple[bool, bool]:
    """(holds, holds except for a commitment not yet signed)."""
    if cond.lists and not (st.lists & set(cond.lists)):
        return False, False
    if cond.grades or cond.colours:
        _, grade, colour = st.grade_of(conn, cond.model)
        if cond.grades and grade not in cond.grades:
            return False, False
        if cond.colours and colour not in cond.colours:
            return False, False
    if cond.commitment is not None and not st.has_commitment(cond.commitment):
        return False, cond.commitment.status == "signed"
    return True, False


def _measure_out(m: MeasureDef, because: str) -> dict[str, Any]:
    return {"code": m.code, "name_zh": m.name_zh, "name_en": m.name_en, "kind": m.kind,
            "department": m.department, "department_name": m.department_name, "legal_basis": m.legal_basis.strip(),
            "action": m.action, "because": because}


def applicable(conn: Connection, st: Standing, measures_here: list[MeasureDef]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Measures that apply in a scenario, and those that would apply once the subject
    signs the commitment they name (e.g. 容缺受理)."""
    applies: list[dict[str, Any]] = []
    offer: list[dict[str, Any]] = []
    for m in measures_here:
        if st.lists & set(m.unless_lists):
            continue
        if any(_holds(conn, c, st)[0] for c in m.unless):
            continue
        hit: Condition | None = None
        pending: Condition | None = None
        for cond in m.when:
            ok, almost = _holds(conn, cond, st)
            if ok:
                hit = cond
                break
            if almost and pending is None:
                pending = cond
        if hit is not None:
            applies.append(_measure_out(m, hit.describe()))
        elif pending is not None and pending.commitment is not None:
            offer.append({**_measure_out(m, pending.describe()), "needs_commitment": pending.commitment.type})
    return applies, offer


@dataclass
class CheckResult:
    check_id: str
    subject: dict[str, Any]
    scenario: dict[str, Any]
    department: str
    model: str | None
    run_id: int | None
    grade: str | None
    colour: str | None
    lists: list[dict[str, Any]]
    measures: list[dict[str, Any]]
    available_with_commitment: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    checked_on: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "subject": self.subject, "scenario": self.scenario,
                "department": self.department, "model": self.model, "run_id": self.run_id,
                "grade": self.grade, "colour": self.colour, "lists": self.lists, "measures": self.measures,
                "available_with_commitment": self.available_with_commitment, "warnings": self.warnings,
                "checked_on": self.checked_on.isoformat()}


def _new_check_id(today: dt.date) -> str:
    return f"CK{today:%Y%m%d}-{secrets.token_hex(5)}"


def _subject_row(session: Session, key: str, keyring: KeyRing | None) -> Any:
    """(id, kind, name, uscc, resident_id_index) by id or credit code on the fast path;
    ID numbers and names go through `subjects.service.resolve`."""
    key = key.strip()
    conn = session.connection()
    row = None
    if key.isdigit() and len(key) < 12:
        row = conn.execute(_Q_SUBJECT_BY_ID, {"key": int(key)}).first()
    elif looks_like_uscc(key.upper()):
        row = conn.execute(_Q_SUBJECT_BY_USCC, {"key": key.upper()}).first()
        if row is None and keyring is not None and looks_like_resident_id(key.upper()):
            # an ID number that happens to pass the credit code's check character too
            found = subject_service.resolve(session, keyring, key)
            row = conn.execute(_Q_SUBJECT_BY_ID, {"key": found.id}).first()
    else:
        if keyring is None and looks_like_resident_id(key.upper()):
            raise InvalidInput("looking a subject up by ID number needs the key ring")
        # `resolve` touches the key ring only for ID numbers, excluded just above.
        found = subject_service.resolve(session, cast(KeyRing, keyring), key)
        row = conn.execute(_Q_SUBJECT_BY_ID, {"key": found.id}).first()
    if row is None:
        raise NotFound(f"no subject matches {key!r}")
    return row


def check(session: Session, *, scenario: str, subject_id: int | None = None, key: str | None = None,
          keyring: KeyRing | None = None, model: str | None = None, department: str | None = None,
          purpose: str | None = None, actor: str | None = None) -> CheckResult:
    """Run one credit check: the service behind `creditgov check` and the API."""
    actor = actor or audit.default_actor()
    conn = session.connection()
    cat = catalogue(conn)
    sc = cat.scenarios.get(scenario)
    if sc is None:
        raise NotFound(f"unknown scenario {scenario!r}; known: {sorted(cat.scenarios)}")
    if subject_id is not None:
        subject = conn.execute(_Q_SUBJECT_BY_ID, {"key": subject_id}).first()
        if subject is None:
            raise NotFound(f"subject {subject_id} not found")
    elif key is not None:
        subject = _subject_row(session, key, keyring)
    else:
        raise InvalidInput("a check needs a subject (id or key)")
    sid, kind, name, uscc, rid_index = subject
    today = clock.today()
    model_name = model or sc.models.get(kind)
    entries = list(conn.execute(_Q_LISTS, {"subject": sid, "day": today}))
    commitments = [tuple(r) for r in conn.execute(_Q_COMMITMENTS, {"subject": sid})]
    st = Standing(subject_id=sid, today=today, model=model_name, lists={e.list_code for e in entries},
                  commitments=commitments)
    run_id, grade, colour = st.grade_of(conn, None)
    applies, offer = applicable(conn, st, cat.by_scenario.get(sc.code, []))
    warnings = open_warnings(session, sid)
    dept = department or sc.department
    check_id = _new_check_id(today)
    lists_out = [{"list": e.list_code, "entry_id": e.id, "origin": e.origin,
                  "published_on": e.published_on.isoformat() if e.published_on else None,
                  "expires_on": e.expires_on.isoformat() if e.expires_on else None,
                  "decision_no": e.decision_no} for e in entries]
    codes = [m["code"] for m in applies]
    on_lists = sorted(st.lists)
    conn.execute(_INSERT_CHECK, {
        "check_id": check_id, "subject_id": sid, "scenario": sc.code, "department": dept, "model_name": model_name,
        "run_id": run_id, "grade": grade, "colour": colour, "lists": on_lists, "measures": codes,
        "measure_count": len(codes), "purpose": purpose, "actor": actor, "checked_on": today,
        "checked_at": clock.now()})
    audit.append(session, action="check", actor=actor, subject_id=sid,
                 purpose=purpose or f"credit check: {sc.code}",
                 detail={"check_id": check_id, "scenario": sc.code, "department": dept, "grade": grade,
                         "lists": on_lists, "measures": codes})
    shown = mask_name(name) if rid_index is not None else name
    return CheckResult(check_id=check_id, subject={"id": sid, "kind": kind, "name": shown, "uscc": uscc},
                       scenario={"code": sc.code, "name_zh": sc.name_zh, "name_en": sc.name_en},
                       department=dept, model=model_name, run_id=run_id, grade=grade, colour=colour,
                       lists=lists_out, measures=applies, available_with_commitment=offer, warnings=warnings,
                       checked_on=today)


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
