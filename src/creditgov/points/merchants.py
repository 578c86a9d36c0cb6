"""The credit-merchant selection (诚信商户评选).

A round opens with the candidates the criteria draw (`data/merchant_awards.yaml`:
grades from published evaluations and a clean record), published on the boards for
nomination and objection until the N-th working day after opening (the workflows'
calendar, reached through `lists.service.response_due`, the one place a window is
counted). Once the period has passed the credit office decides: each candidate is
awarded or rejected with a reason, and every objection is answered by that decision.
An award becomes a positive credit record (`record_item`), written the way the
commitments domain writes an outcome's record: a natural key derived from the round
and the subject (so deciding twice writes once), the decision number as its document
number and the round, candidate and basis in its raw row — traceable from the record
back to the round. The points of that record are then earned by the daily pass.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, labels
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError, Conflict, InvalidInput, NotFound
from creditgov.ingest.values import short_hash
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on
from creditgov.lists.schemas import ResponseWindow
from creditgov.lists.service import response_due
from creditgov.points.boards import is_personal, model_titles, public_name
from creditgov.points.models import MerchantCandidate, MerchantObjection, MerchantSelection
from creditgov.points.shop import kinds_only
from creditgov.records.models import CreditRecord
from creditgov.scoring import bands
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.scoring.published import band_table, latest_runs
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

SOURCE = "merchant-award"
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("公示中", "Open for nomination and objection"), "decided": ("已决定", "Decided"),
    "candidate": ("候选", "Candidate"), "awarded": ("已授予", "Awarded"), "rejected": ("未授予", "Not awarded"),
    "criteria": ("按条件产生", "Drawn by the criteria"), "nomination": ("提名", "Nominated"),
    "upheld": ("异议成立", "Objection upheld"), "dismissed": ("异议不成立", "Objection dismissed"),
}


class Criteria(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    basis: str = Field(min_length=2)
    kinds: list[str] = Field(min_length=1)
    models: list[str] = Field(min_length=1)
    min_band: bands.BandName
    clean_months: int = Field(ge=1, le=120)
    unless_lists: list[str] = Field(default_factory=list)
    criteria_citation: str = Field(min_length=2)
    objection_window: ResponseWindow
    record_item: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    department: str = Field(min_length=1, max_length=40)


CRITERIA = PolicyFile(Criteria, "creditgov.points", "data/merchant_awards.yaml")


def criteria() -> Criteria:
    own = os.environ.get("CREDITGOV_MERCHANT_AWARDS_FILE")
    return CRITERIA.load(Path(own) if own else None)


# ------------------------------------------------------------------ who qualifies
def _graded(session: Session, cfg: Criteria, subject_ids: list[int] | None) -> dict[int, dict[str, Any]]:
    """Subject -> its best basis among the criteria's models (newest published run each)."""
    table = band_table(session.connection())
    out: dict[int, dict[str, Any]] = {}
    latest = {r.model_name: r for r in session.execute(latest_runs(cfg.models)).scalars()}
    for model in cfg.models:
        run = latest.get(model)
        if run is None:
            continue
        grades = table.get((run.model_name, run.model_version), {})
        good = [g for g, b in grades.items() if bands.at_least(b, cfg.min_band)]
        q = (select(Score.subject_id, Score.score, Score.grade).join(Subject, Subject.id == Score.subject_id)
             .where(Score.run_id == run.id, Score.grade.in_(good), Subject.kind.in_(cfg.kinds)))
        if subject_ids is not None:
            q = q.where(Score.subject_id.in_(subject_ids))
        for sid, score, grade in session.execute(q).tuples():
            basis = {"model": model, "run_id": run.id, "as_of": run.as_of.isoformat(), "grade": grade,
                     "band": grades[grade], "score": str(score)}
            if sid not in out or bands.rank(grades[grade]) < bands.rank(out[sid]["band"]):
                out[sid] = basis
    return out


def _blemished(session: Session, cfg: Criteria, today: dt.date) -> Any:
    """Subjects with a recent negative record or on a named list today (a subquery)."""
    since = clock.add_months(today, -cfg.clean_months)
    negative = (select(CreditRecord.subject_id).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
                .where(CatalogItem.polarity == "negative", CreditRecord.is_current.is_(True),
                       CreditRecord.status == "active", CreditRecord.occurred_on >= since))
    on_list = select(ListEntry.subject_id).where(ListEntry.list_code.in_(cfg.unless_lists), listed_on(today))
    return negative.union(on_list)


def eligible(session: Session, cfg: Criteria, *, subject_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    graded = _graded(session, cfg, subject_ids)
    if not graded:
        return {}
    bad = set(session.execute(_blemished(session, cfg, clock.today())).scalars())
    return {sid: b for sid, b in graded.items() if sid not in bad}


def why_not(session: Session, cfg: Criteria, subject: Subject) -> dict[str, str] | None:
    """Why a nominated subject does not meet the criteria, in Chinese and English words
    (kinds, bands and models by their labels); None if it does."""
    if subject.kind not in cfg.kinds:
        return kinds_only(cfg.kinds, zh="本次评选仅限{kinds}", en="the selection is only for {kinds}")
    if not _graded(session, cfg, [subject.id]):
        zh, en = bands.LABELS[cfg.min_band]
        return {"zh": f"在{'、'.join(labels.label('model', m, 'zh') for m in cfg.models)}中没有{zh}及以上的已发布评价",
                "en": f"no published grade in the band “{en}” or better in "
                      f"{', '.join(labels.label('model', m, 'en') for m in cfg.models)}"}
    if subject.id in set(session.execute(_blemished(session, cfg, clock.today())).scalars()):
        return {"zh": f"近 {cfg.clean_months} 个月内有失信记录，或在不予入选的名单上",
                "en": f"a negative record within {cfg.clean_months} months, or on a list that excludes it"}
    return None


# ------------------------------------------------------------------ the round
def get(session: Session, code: str, *, lock: bool = False) -> MerchantSelection:
    q = select(MerchantSelection).where(MerchantSelection.code == code)
    sel = session.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if sel is None:
        raise NotFound(f"no credit-merchant selection {code!r}")
    return sel


def open_selection(session: Session, *, code: str, title: str, actor: str) -> MerchantSelection:
    """Open a round: draw the candidates and start the public period."""
    if not title.strip():
        raise InvalidInput("a selection needs a title")
    if session.execute(select(MerchantSelection.id).where(MerchantSelection.code == code)).first():
        raise Conflict(f"selection {code!r} already exists")
    cfg = criteria()
    today = clock.today()
    sel = MerchantSelection(code=code, title=title.strip(), status="open", criteria=cfg.model_dump(mode="json"),
                            opened_on=today, objection_until=response_due(session, today, cfg.objection_window),
                            opened_by=actor, created_at=clock.now())
    session.add(sel)
    session.flush()
    drawn = eligible(session, cfg)
    for sid, basis in sorted(drawn.items()):
        session.add(MerchantCandidate(selection_id=sel.id, subject_id=sid, origin="criteria", basis=basis,
                                      status="candidate", created_at=clock.now()))
    session.flush()
    audit.append(session, action="points.selection.open", actor=actor,
                 detail={"selection": code, "candidates": len(drawn), "criteria": cfg.version,
                         "objection_until": sel.objection_until.isoformat()})
    return sel


def _in_period(sel: MerchantSelection) -> None:
    if sel.status != "open" or clock.today() > sel.objection_until:
        raise Conflict(f"selection {sel.code!r} takes no nominations or objections after "
                       f"{sel.objection_until.isoformat()}", code="points.selection.period_over",
                       params={"until": sel.objection_until.isoformat()})


def nominate(session: Session, *, code: str, subject_id: int, text: str, actor: str) -> MerchantCandidate:
    """Nominate a subject during the public period; it must meet the same criteria."""
    if not text.strip():
        raise InvalidInput("a nomination says why", code="points.selection.no_reason")
    sel = get(session, code, lock=True)
    _in_period(sel)
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"subject {subject_id} not found")
    if session.execute(select(MerchantCandidate.id).where(MerchantCandidate.selection_id == sel.id,
                                                          MerchantCandidate.subject_id == subject_id)).first():
        raise Conflict(f"subject {subject_id} is already a candidate of {code!r}", code="points.selection.candidate",
                       params={"id": subject_id})
    cfg = Criteria.model_validate(sel.criteria)
    reason = why_not(session, cfg, subject)
    if reason:
        raise InvalidInput(f"subject {subject_id} does not meet the criteria: {reason['en']}",
                           code="points.selection.criteria",
                           params={"id": subject_id, "zh": reason["zh"], "en": reason["en"]})
    c = MerchantCandidate(selection_id=sel.id, subject_id=subject_id, origin="nomination",
                          basis=_graded(session, cfg, [subject_id])[subject_id], status="candidate",
                          nominated_by=actor, nomination=text.strip(), created_at=clock.now())
    session.add(c)
    session.flush()
    audit.append(session, action="points.selection.nominate", actor=actor, subject_id=subject_id,
                 detail={"selection": code, "candidate": c.id})
    return c


def candidate(session: Session, sel: MerchantSelection, subject_id: int) -> MerchantCandidate:
    c = session.execute(select(MerchantCandidate).where(MerchantCandidate.selection_id == sel.id,
                                                        MerchantCandidate.subject_id == subject_id)).scalar()
    if c is None:
        raise NotFound(f"subject {subject_id} is no candidate of {sel.code!r}", code="points.selection.no_candidate",
                       params={"id": subject_id})
    return c


def object_to(session: Session, *, code: str, subject_id: int, text: str, actor: str) -> MerchantObjection:
    """An objection to a candidate during the public period."""
    if not text.strip():
        raise InvalidInput("an objection says what is wrong", code="points.selection.no_objection_text")
    sel = get(session, code)
    _in_period(sel)
    c = candidate(session, sel, subject_id)
    o = MerchantObjection(candidate_id=c.id, text=text.strip(), filed_by=actor, filed_at=clock.now())
    session.add(o)
    session.flush()
    audit.append(session, action="points.selection.object", actor=actor, subject_id=subject_id,
                 detail={"selection": code, "candidate": c.id, "objection": o.id})
    return o


def decide(session: Session, *, code: str, decision_no: str, reject: dict[int, str] | None = None,
           actor: str) -> dict[str, Any]:
    """The credit office's decision once the period has passed: every candidate not
    rejected (subject id -> reason) is awarded; an objection is upheld where its
    candidate is rejected and dismissed otherwise. Awards become credit records."""
    reject = reject or {}
    if not decision_no.strip():
        raise InvalidInput("a decision has a number (决定文号)", code="points.selection.no_decision_no")
    sel = get(session, code, lock=True)
    if sel.status != "open":
        raise Conflict(f"selection {code!r} was decided on {clock.iso(sel.decided_on)}", code="points.selection.decided",
                       params={"on": clock.iso(sel.decided_on) or "—"})
    today = clock.today()
    if today <= sel.objection_until:
        raise Conflict(f"the public period of {code!r} runs until {sel.objection_until.isoformat()}",
                       code="points.selection.in_period", params={"until": sel.objection_until.isoformat()})
    cands = list(session.execute(select(MerchantCandidate).where(MerchantCandidate.selection_id == sel.id)
                                 .order_by(MerchantCandidate.id)).scalars())
    unknown = set(reject) - {c.subject_id for c in cands}
    if unknown:
        raise InvalidInput(f"not candidates of {code!r}: {sorted(unknown)}")
    if any(not str(r).strip() for r in reject.values()):
        raise InvalidInput("a rejection gives its reason", code="points.selection.no_rejection_reason")
    cfg = Criteria.model_validate(sel.criteria)
    sel.decision_no = decision_no.strip()
    awarded: list[int] = []
    for c in cands:
        upheld = c.subject_id in reject
        c.status = "rejected" if upheld else "awarded"
        c.reason = reject[c.subject_id].strip() if upheld else None
        for o in session.execute(select(MerchantObjection).where(MerchantObjection.candidate_id == c.id)).scalars():
            o.outcome = "upheld" if upheld else "dismissed"
        if not upheld:
            c.record_id = award_record(session, cfg, sel, c).id
            awarded.append(c.subject_id)
    sel.status, sel.decided_on, sel.decided_by = "decided", today, actor
    session.flush()
    audit.append(session, action="points.selection.decide", actor=actor,
                 detail={"selection": code, "decision_no": sel.decision_no, "awarded": awarded,
                         "rejected": sorted(reject)})
    return {"selection": code, "decision_no": sel.decision_no, "awarded": awarded, "rejected": sorted(reject)}


def award_record(session: Session, cfg: Criteria, sel: MerchantSelection, c: MerchantCandidate) -> CreditRecord:
    """The award as a positive credit record, once per round and subject."""
    nk = short_hash(f"{SOURCE}|{sel.id}|{c.subject_id}")
    existing = session.execute(select(CreditRecord).where(CreditRecord.natural_key == nk)).scalar_one_or_none()
    if existing is not None:
        return existing
    item = session.get(CatalogItem, cfg.record_item)
    if item is None:
        raise ConfigError(f"catalogue item {cfg.record_item!r} is missing: load the catalogue")
    today = clock.today()
    until = clock.add_months(today, item.max_publication_months) if item.max_publication_months else None
    raw = json.dumps({"selection": sel.code, "candidate": c.id, "origin": c.origin, "basis": c.basis,
                      "decision_no": sel.decision_no, "decided_on": today.isoformat()},
                     ensure_ascii=False, sort_keys=True)
    rec = CreditRecord(
        subject_id=c.subject_id, item_code=cfg.record_item, occurred_on=today, decided_on=today,
        department_code=cfg.department, document_no=sel.decision_no, text=f"{sel.title}: {item.name_zh}",
        status="active", published_from=today, published_until=until, natural_key=nk, version=1,
        is_current=True, content_hash=short_hash(raw), source=SOURCE, batch_id=None, spec_version=None,
        line_no=None, raw_hash=short_hash(raw), raw=raw, created_at=clock.now())
    session.add(rec)
    session.flush()
    return rec


# ------------------------------------------------------------------ reading
LOCAL = "local choice"  # how a policy file's citation marks the county's own choice (an authoring note)


def basis_words(citation: str | None) -> tuple[str, str] | None:
    """What a citation tells the public: "本地规定" / "local rule" for the county's own
    choice (its text is the author's note of the values, said in words by
    `criteria_words`), else the citation as written (a law's or a document's name)."""
    if not citation:
        return None
    if citation.strip().lower().startswith(LOCAL):
        return ("本地规定", "local rule")
    return (citation, citation)


def criteria_words(saved: dict[str, Any]) -> dict[str, tuple[str, str] | None]:
    """A round's criteria (the copy it opened with) in Chinese and English, from the
    values themselves rather than the policy file's note: who may be a candidate, the
    public period's rule, and the basis of each. A copy this version cannot read is
    described by its bases alone."""
    try:
        cfg = Criteria.model_validate(saved)
    except ValidationError:
        window = saved.get("objection_window")
        return {"criteria": None, "window": None, "criteria_basis": basis_words(saved.get("criteria_citation")),
                "window_basis": basis_words(window.get("citation") if isinstance(window, dict) else None)}

    def names(kind: str, codes: list[str], lang: str) -> str:
        said = [labels.label(kind, c, lang) for c in codes]
        if lang == "zh":
            return "、".join(said)
        return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]

    kinds = kinds_only(cfg.kinds, zh="{kinds}", en="{kinds}")
    band_zh, band_en = bands.LABELS[cfg.min_band]
    zh = (f"{kinds['zh']}；在{names('model', cfg.models, 'zh')}最新发布的评价中达到{band_zh}及以上；"
          f"近 {cfg.clean_months} 个月无有效的失信记录")
    en = (f"{kinds['en'][:1].upper()}{kinds['en'][1:]}, graded “{band_en}” or better in the newest published "
          f"evaluation of {names('model', cfg.models, 'en')}, with no negative record in force from the last "
          f"{cfg.clean_months} months")
    if cfg.unless_lists:
        zh += f"；未列入{names('list', cfg.unless_lists, 'zh')}"
        en += f" and not on the {names('list', cfg.unless_lists, 'en')}"
    w = cfg.objection_window
    working = w.counting == "working"
    return {"criteria": (zh + "。", en + "."),
            "window": (f"自开始之日起 {w.days} 个{'工作日' if working else '自然日'}。",
                       f"{w.days} {'working' if working else 'calendar'} days from the opening."),
            "criteria_basis": basis_words(cfg.criteria_citation), "window_basis": basis_words(w.citation)}


def selections(session: Session) -> list[MerchantSelection]:
    return list(session.execute(select(MerchantSelection).order_by(MerchantSelection.id.desc())).scalars())


def selection_out(session: Session, sel: MerchantSelection, *, public: bool = True) -> dict[str, Any]:
    """A round with its candidates; objections' texts only for the office (`public`
    False), their number for everyone."""
    objections = (select(MerchantObjection).join(MerchantCandidate,
                                                MerchantCandidate.id == MerchantObjection.candidate_id)
                  .where(MerchantCandidate.selection_id == sel.id).order_by(MerchantObjection.id))
    by_cand: dict[int, list[MerchantObjection]] = {}
    for o in session.execute(objections).scalars():
        by_cand.setdefault(o.candidate_id, []).append(o)
    q = (select(MerchantCandidate, Subject).join(Subject, Subject.id == MerchantCandidate.subject_id)
         .where(MerchantCandidate.selection_id == sel.id).order_by(Subject.name, Subject.id))
    found = session.execute(q).tuples().all()
    run_ids = {int(c.basis["run_id"]) for c, _ in found}
    titles = {run.id: model_titles(session, run) for run in session.execute(
        select(EvaluationRun).where(EvaluationRun.id.in_(run_ids))).scalars()}
    rows = []
    for c, s in found:
        obs = by_cand.get(c.id, [])
        rows.append({"subject_id": s.id, "name": public_name(s), "uscc": None if is_personal(s) else s.uscc,
                     "origin": c.origin, "origin_label": STATUS_LABELS[c.origin], "status": c.status,
                     "status_label": STATUS_LABELS[c.status], "basis": c.basis,
                     "model_label": titles.get(int(c.basis["run_id"]), (str(c.basis["model"]),) * 2),
                     "reason": c.reason,
                     "record_id": c.record_id, "objections": len(obs),
                     **({} if public else {"nomination": c.nomination, "objection_texts": [
                         {"id": o.id, "text": o.text, "filed_at": clock.iso(o.filed_at), "outcome": o.outcome}
                         for o in obs]})})
    return {"code": sel.code, "title": sel.title, "status": sel.status, "status_label": STATUS_LABELS[sel.status],
            "opened_on": sel.opened_on.isoformat(), "objection_until": sel.objection_until.isoformat(),
            "in_period": sel.status == "open" and clock.today() <= sel.objection_until,
            "decided_on": clock.iso(sel.decided_on), "decision_no": sel.decision_no,
            "criteria_citation": sel.criteria.get("criteria_citation"),
            "window_citation": sel.criteria.get("objection_window", {}).get("citation"),
            "criteria_words": criteria_words(sel.criteria), "candidates": rows}

