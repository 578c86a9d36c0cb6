"""The credit check (信用核查): one subject, one scenario, today.

A check answers one question inside a department's procedure: what does this
subject's credit change here? It reads the subject's grade in the model the scenario
uses for its kind (the first of the scenario's models whose latest published run
graded it), that grade's shared band, the lists in force today and the subject's
commitments, and returns the measures that apply with their legal basis. Each check is
stored (`CreditCheck`) and audited. Beside the measures it names the subject's related
parties on a list (`related.py`: information that changes no measure).

A check must be fast (p99 ≤ 5 ms on a million subjects): a handful of indexed point
queries built once at import, the catalogue cached per loaded version
(`catalogue.catalogue`), one insert and one audit append.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import Date, and_, bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from creditgov.commitments.models import Commitment
from creditgov.core import clock
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on
from creditgov.measures.catalogue import Catalogue, catalogue
from creditgov.measures.models import CreditCheck
from creditgov.measures.related import related_warnings
from creditgov.measures.schemas import (
    CommitmentCondition,
    Condition,
    MeasureDef,
    RelatedParties,
    ScenarioDef,
)
from creditgov.records import received
from creditgov.scoring import bands, current, published
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.subjects import service as subject_service
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Subject

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


# ----------------------------------------------------------------------------- evidence seam

# A credit code presented at the check (跨地互认) is read by the codes domain, above this
# one: the composition root registers its reader here. The reader returns at least
# {"accepted": bool, "band": str | None}; an accepted band stands in for a grade this
# region does not have.
EvidenceReader = Callable[..., dict[str, Any]]
EVIDENCE_READERS: list[EvidenceReader] = []


def register_evidence_reader(fn: EvidenceReader) -> None:
    if fn not in EVIDENCE_READERS:
        EVIDENCE_READERS.append(fn)


def read_evidence(session: Session, text: str, *, scenario: str, subject_id: int) -> dict[str, Any]:
    if not EVIDENCE_READERS:
        raise InvalidInput("no reader of credit codes is registered")
    s = session.get(Subject, subject_id)
    assert s is not None  # the check found it a moment ago
    about = {"kind": s.kind, "name": s.name, "uscc": s.uscc, "resident_id_masked": s.resident_id_masked}
    return EVIDENCE_READERS[0](session, text, scenario=scenario, subject=about)


def upper_evidence(session: Session, sc: ScenarioDef, *, subject_id: int, today: dt.date) -> dict[str, Any] | None:
    """The upper platform's latest evaluation of a subject this region has not graded
    (received by the exchange), as the check shows it: accepted when the scenario reads
    upper evaluations (`upper_evaluations` in scenarios.yaml), the evaluation is recent
    enough and its band is one the scenario counts; otherwise refused with the reason.
    None when no upper evaluation of the subject was received."""
    got = received.evaluations(session, subject_id)
    if not got:
        return None
    e = got[0]
    out: dict[str, Any] = {"issuer": e["issuer"], "as_of": e["as_of"].isoformat() if e["as_of"] else None,
                           "model": e["model"], "grade": e["grade"], "band": e["band"], "accepted": False}
    rule = sc.upper_evaluations
    if rule is None:
        out["why"] = f"scenario {sc.code} does not read the upper platform's evaluations"
    elif e["as_of"] is None or (today - e["as_of"]).days > rule.max_age_days:
        out["why"] = f"the evaluation is older than {rule.max_age_days} days"
    elif e["band"] not in rule.bands:
        out["why"] = f"scenario {sc.code} counts bands {list(rule.bands)}, the evaluation states {e['band']!r}"
    else:
        out.update(accepted=True, citation=rule.citation.strip())
    return out


# ----------------------------------------------------------------------------- statements

# Built once: building a SQLAlchemy statement costs more than running it (≈1.5 ms
# against ≈0.15 ms on SQLite), and a check runs about ten.
_D = bindparam("day", type_=Date)
_Q_SUBJECT_BY_ID = select(Subject.id, Subject.kind, Subject.name, Subject.uscc, Subject.resident_id_index).where(
    Subject.id == bindparam("key"))
_Q_SUBJECT_BY_USCC = select(Subject.id, Subject.kind, Subject.name, Subject.uscc, Subject.resident_id_index).where(
    Subject.uscc == bindparam("key"))
_Q_RUN = published.latest_run_id(bindparam("model"))
# The latest published run of a model and the subject's row in it, in one statement.
_Q_GRADE = (published.newest_first(bindparam("model"), EvaluationRun.id, Score.grade, Score.colour,
                                   EvaluationRun.model_version)
            .select_from(EvaluationRun)
            .outerjoin(Score, and_(Score.run_id == EvaluationRun.id, Score.subject_id == bindparam("subject")))
            .limit(1))
_Q_LISTS = (select(ListEntry.id, ListEntry.list_code, ListEntry.origin, ListEntry.published_on,
                   ListEntry.expires_on, ListEntry.decision_no)
            .where(ListEntry.subject_id == bindparam("subject"), listed_on(_D)).order_by(ListEntry.list_code))
_Q_COMMITMENTS = select(Commitment.type, Commitment.status, Commitment.due_on, Commitment.verified_on).where(
    Commitment.subject_id == bindparam("subject"))
_INSERT_CHECK = insert(CreditCheck)


class Grade(NamedTuple):
    """A subject's row in the latest published run of a model (all None but the run
    when the run did not grade it; all None when the model has no published run)."""

    run_id: int | None
    grade: str | None
    colour: str | None
    version: str | None


NO_GRADE = Grade(None, None, None, None)


def latest_published_run(conn: Connection, model: str) -> int | None:
    return conn.execute(_Q_RUN, {"model": model}).scalar()


def current_grade(conn: Connection, subject_id: int, model: str) -> Grade:
    """The subject's grade in the model's latest published run, or the re-evaluation a
    procedure made since against that run (`scoring.current`)."""
    row = conn.execute(_Q_GRADE, {"model": model, "subject": subject_id}).first()
    if not row:
        return NO_GRADE
    later = conn.execute(current.Q_LATER, {"model": model, "subject": subject_id, "run": row[0]}).first()
    if later is not None:
        return Grade(row[0], later.grade, later.colour, later.model_version)
    return Grade(row[0], row[1], row[2], row[3])


# ----------------------------------------------------------------------------- standing


@dataclass
class Standing:
    """What the conditions are evaluated against: one subject on one day. `models` are
    the scenario's models for the subject's kind; the check's model is the first of
    them whose latest published run graded the subject (else the first)."""

    subject_id: int
    today: dt.date
    models: list[str]
    lists: set[str]
    commitments: list[tuple[str, str, dt.date | None, dt.date | None]]  # type, status, due_on, verified_on
    bands: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    grades: dict[str, Grade] = field(default_factory=dict)
    evidence_band: str | None = None  # a recognised foreign code's band (read_evidence)
    _model: str | None = None
    _resolved: bool = False

    def _grade(self, conn: Connection, model: str) -> Grade:
        if model not in self.grades:
            self.grades[model] = current_grade(conn, self.subject_id, model)
        return self.grades[model]

    def model(self, conn: Connection) -> str | None:
        """The check's model: the first of `models` that graded the subject."""
        if not self._resolved:
            self._model = next((m for m in self.models if self._grade(conn, m).grade is not None),
                               self.models[0] if self.models else None)
            self._resolved = True
        return self._model

    def grade_of(self, conn: Connection, model: str | None) -> Grade:
        """The subject's grade in `model`, or in the check's model when None."""
        model = model or self.model(conn)
        return NO_GRADE if model is None else self._grade(conn, model)

    def band_of(self, conn: Connection, model: str | None) -> str | None:
        own = model is None
        model = model or self.model(conn)
        g = self.grade_of(conn, model)
        if model is None or g.grade is None or g.version is None:
            return self.evidence_band if own and g.grade is None else None
        return self.bands.get((model, g.version), {}).get(g.grade)

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


def _holds(conn: Connection, cond: Condition, st: Standing) -> tuple[bool, bool]:
    """(holds, holds except for a commitment not yet signed)."""
    if cond.lists and not (st.lists & set(cond.lists)):
        return False, False
    if cond.reads_grade:
        g = st.grade_of(conn, cond.model)
        if cond.grades and g.grade not in cond.grades:
            return False, False
        if cond.colours and g.colour not in cond.colours:
            return False, False
        if cond.band is not None:
            band = st.band_of(conn, cond.model)
            if band is None:
                return False, False
            if cond.band.at_least and not bands.at_least(band, cond.band.at_least):
                return False, False
            if cond.band.at_most and not bands.at_most(band, cond.band.at_most):
                return False, False
    if cond.commitment is not None and not st.has_commitment(cond.commitment):
        return False, cond.commitment.status == "signed"
    return True, False


def _measure_out(m: MeasureDef, because: str) -> dict[str, Any]:
    return {"code": m.code, "name_zh": m.name_zh, "name_en": m.name_en, "kind": m.kind,
            "department": m.department, "department_name": m.department_name,
            "department_name_en": m.department_name_en or m.department_name, "legal_basis": m.legal_basis.strip(),
            "legal_basis_en": (m.legal_basis_en or m.legal_basis).strip(), "action": m.action,
            "action_en": m.action_en or m.action, "because": because}


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


def models_for(sc: ScenarioDef, kind: str) -> list[str]:
    """The scenario's models for a kind; refuses a kind the scenario does not check."""
    if kind in sc.not_checked:
        raise InvalidInput(f"scenario {sc.code} does not check a {kind}: {sc.not_checked[kind]}",
                           code="measures.scenario.not_checked",
                           params={"scenario": sc.code, "kind": kind, "why": sc.not_checked[kind]})
    if kind in sc.models:
        return sc.models_for(kind)
    if kind in sc.ungraded:
        return []
    raise InvalidInput(f"scenario {sc.code} names no model for a {kind} (reload the scenarios: "
                       "every kind needs a model, `ungraded` or `not_checked`)", code="measures.scenario.no_model",
                       params={"scenario": sc.code, "kind": kind})


def standing(conn: Connection, cat: Catalogue, *, subject_id: int, models: list[str], today: dt.date) -> Standing:
    lists = {e.list_code for e in conn.execute(_Q_LISTS, {"subject": subject_id, "day": today})}
    commitments = [cast(tuple[str, str, dt.date | None, dt.date | None], tuple(r))
                   for r in conn.execute(_Q_COMMITMENTS, {"subject": subject_id})]
    return Standing(subject_id=subject_id, today=today, models=models, lists=lists, commitments=commitments,
                    bands=cat.bands)


# ----------------------------------------------------------------------------- the check


@dataclass
class CheckResult:
    check_id: str
    subject: dict[str, Any]
    scenario: dict[str, Any]
    department: str
    model: str | None
    run_id: int | None
    grade: str | None
    band: str | None
    colour: str | None
    lists: list[dict[str, Any]]
    measures: list[dict[str, Any]]
    available_with_commitment: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    checked_on: dt.date
    evidence: dict[str, Any] | None = None
    related: list[dict[str, Any]] = field(default_factory=list)  # related parties on a list (related.py)
    upper_evaluation: dict[str, Any] | None = None  # the upper platform's evaluation read (upper_evidence)

    def as_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "subject": self.subject, "scenario": self.scenario,
                "department": self.department, "model": self.model, "run_id": self.run_id,
                "grade": self.grade, "band": self.band, "colour": self.colour, "lists": self.lists,
                "measures": self.measures, "available_with_commitment": self.available_with_commitment,
                "warnings": self.warnings, "related": self.related, "checked_on": self.checked_on.isoformat(),
                "evidence": self.evidence, "upper_evaluation": self.upper_evaluation}


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
        raise NotFound(f"no subject matches {subject_service.shown_key(key)!r}", code="subjects.no_match")
    return row


def check(session: Session, *, scenario: str, subject_id: int | None = None, key: str | None = None,
          keyring: KeyRing | None = None, model: str | None = None, department: str | None = None,
          purpose: str | None = None, actor: str | None = None, evidence: str | None = None,
          mask_people: bool = True) -> CheckResult:
    """Run one credit check: the service behind `creditgov check` and the API.
    `evidence` is a credit code the subject presents (read through the evidence seam);
    `mask_people` masks residents' names in the related-party warnings (the caller's
    grant says whether its viewer sees them whole)."""
    actor = actor or audit.default_actor()
    conn = session.connection()
    cat = catalogue(conn)
    sc = cat.scenarios.get(scenario)
    if sc is None:
        raise NotFound(f"unknown scenario {scenario!r}; known: {sorted(cat.scenarios)}", code="measures.scenario.unknown",
                       params={"scenario": scenario})
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
    models = [model] if model else models_for(sc, kind)
    entries = list(conn.execute(_Q_LISTS, {"subject": sid, "day": today}))
    st = standing(conn, cat, subject_id=sid, models=models, today=today)
    shown_evidence = None
    if evidence is not None:
        shown_evidence = read_evidence(session, evidence, scenario=sc.code, subject_id=sid)
        if shown_evidence.get("accepted"):
            st.evidence_band = shown_evidence.get("band")
    upper = upper_evidence(session, sc, subject_id=sid, today=today) \
        if st.grade_of(conn, None).grade is None else None
    if upper is not None and upper["accepted"] and st.evidence_band is None:
        st.evidence_band = upper["band"]
    model_name = st.model(conn)
    run_id, grade, colour, _version = st.grade_of(conn, None)
    band = st.band_of(conn, None)
    applies, offer = applicable(conn, st, cat.by_scenario.get(sc.code, []))
    warnings = open_warnings(session, sid)
    related = related_warnings(conn, subject_id=sid, policy=sc.related_parties or RelatedParties(), today=today,
                               mask_people=mask_people)
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
                         "band": band, "lists": on_lists, "measures": codes,
                         **({"related": [[w["party"]["id"], w["list"]] for w in related]} if related else {}),
                         **({"evidence": {k: shown_evidence.get(k) for k in ("status", "accepted", "band")}}
                            if shown_evidence is not None else {}),
                         **({"upper_evaluation": {k: upper[k] for k in ("issuer", "as_of", "grade", "accepted")}}
                            if upper is not None else {})})
    shown = mask_name(name) if rid_index is not None else name
    return CheckResult(check_id=check_id, subject={"id": sid, "kind": kind, "name": shown, "uscc": uscc},
                       scenario={"code": sc.code, "name_zh": sc.name_zh, "name_en": sc.name_en},
                       department=dept, model=model_name, run_id=run_id, grade=grade, band=band, colour=colour,
                       lists=lists_out, measures=applies, available_with_commitment=offer, warnings=warnings,
                       checked_on=today, evidence=shown_evidence, related=related, upper_evaluation=upper)


def measures_today(session: Session, *, subject_id: int, kind: str) -> list[tuple[ScenarioDef, dict[str, Any]]]:
    """Every measure that applies to a subject today, in every scenario that checks its
    kind, with the scenario (each measure once). A read: unlike a check, nothing is
    recorded."""
    conn = session.connection()
    cat = catalogue(conn)
    today = clock.today()
    out: list[tuple[ScenarioDef, dict[str, Any]]] = []
    seen: set[str] = set()
    for sc in sorted(cat.scenarios.values(), key=lambda s: s.code):
        if kind in sc.not_checked or not (kind in sc.models or kind in sc.ungraded):
            continue
        st = standing(conn, cat, subject_id=subject_id, models=sc.models_for(kind), today=today)
        applies, _offer = applicable(conn, st, cat.by_scenario.get(sc.code, []))
        for m in applies:
            if m["code"] not in seen:
                seen.add(m["code"])
                out.append((sc, m))
    return out
