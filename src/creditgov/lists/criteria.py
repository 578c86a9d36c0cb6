"""The lists' evaluation and record criteria turned into proposals.

A criterion never lists anyone by itself: each candidate becomes a `propose` (and,
when asked, a `notify`) of the entry procedure in `service.py`, with the evidence it
rests on, so re-running the criteria proposes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.lists.exits import withdraw_all_lapsed
from creditgov.lists.models import OPEN_STATUSES, ListEntry
from creditgov.lists.queries import definition, definitions
from creditgov.lists.recheck import Lapse, pending_with_lapses
from creditgov.lists.schemas import EvaluationCriterion, RecordCriterion
from creditgov.lists.service import notify, propose
from creditgov.records.models import CreditRecord
from creditgov.scoring import published
from creditgov.scoring.models import Score
from creditgov.security import service as audit
from creditgov.subjects.models import Subject


@dataclass
class Candidate:
    subject_id: int
    evidence_key: str
    record_id: int | None = None


def _kinds_filter(q: Any, subject_col: Any, kinds: list[str]) -> Any:
    if kinds:
        q = q.join(Subject, Subject.id == subject_col).where(Subject.kind.in_(kinds))
    return q


def _record_candidates(session: Session, crit: RecordCriterion, as_of: dt.date) -> list[Candidate]:
    q = (select(CreditRecord.subject_id, CreditRecord.id)
         .where(CreditRecord.item_code.in_(crit.items), CreditRecord.is_current.is_(True),
                CreditRecord.status == "active", CreditRecord.occurred_on <= as_of,
                or_(CreditRecord.published_from.is_(None), CreditRecord.published_from <= as_of),
                or_(CreditRecord.published_until.is_(None), CreditRecord.published_until >= as_of))
         .order_by(CreditRecord.subject_id, CreditRecord.occurred_on, CreditRecord.id))
    q = _kinds_filter(q, CreditRecord.subject_id, crit.subject_kinds)
    return [Candidate(sid, f"record:{rid}", rid) for sid, rid in session.execute(q)]


def latest_published_runs(session: Session, model: str, as_of: dt.date, n: int) -> list[int]:
    return list(session.execute(published.newest_first(model, as_of=as_of).limit(n)).scalars())


def _evaluation_candidates(session: Session, crit: EvaluationCriterion, as_of: dt.date) -> list[Candidate]:
    runs = latest_published_runs(session, crit.model, as_of, crit.consecutive_runs)
    if len(runs) < crit.consecutive_runs:
        return []
    q = (select(Score.subject_id).where(Score.run_id.in_(runs), Score.grade.in_(crit.grades))
         .group_by(Score.subject_id).having(func.count() == len(runs)))
    if crit.no_negative_years:
        cutoff = clock.add_months(as_of, -12 * crit.no_negative_years)
        negatives = (select(CreditRecord.subject_id)
                     .join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
                     .where(CatalogItem.polarity == "negative", CatalogItem.data_class != "secret",
                            CreditRecord.is_current.is_(True), CreditRecord.status != "revoked",
                            CreditRecord.occurred_on > cutoff, CreditRecord.occurred_on <= as_of))
        q = q.where(Score.subject_id.not_in(negatives))
    q = _kinds_filter(q, Score.subject_id, crit.subject_kinds)
    key = f"{crit.id}:run:{runs[0]}"
    return [Candidate(sid, key) for (sid,) in session.execute(q.order_by(Score.subject_id))]


@dataclass
class CriteriaResult:
    as_of: dt.date
    proposed: Counter[str] = field(default_factory=Counter)  # "list/criterion" -> n
    skipped: Counter[str] = field(default_factory=Counter)
    entry_ids: list[int] = field(default_factory=list)
    notified: int = 0
    # Pending proposals withdrawn because their criterion no longer holds, and published
    # entries whose criterion no longer holds (for the identifying unit to consider).
    withdrawn: list[Lapse] = field(default_factory=list)
    lapsed_published: list[Lapse] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "proposed": sum(self.proposed.values()),
                "notified": self.notified, "by_criterion": dict(self.proposed),
                "skipped": dict(self.skipped), "entries": self.entry_ids,
                "withdrawn": [_lapse_dict(x) for x in self.withdrawn],
                "lapsed_published": [_lapse_dict(x) for x in self.lapsed_published]}


def _lapse_dict(x: Lapse) -> dict[str, Any]:
    return {"entry": x.entry_id, "list": x.list_code, "criterion": x.criterion, "why": x.why,
            "said_zh": x.words("zh"), "said_en": x.words("en")}


def run_criteria(session: Session, *, list_code: str | None = None, as_of: dt.date | None = None,
                 notify_now: bool = False, actor: str | None = None) -> CriteriaResult:
    """Turn the lists' evaluation and record criteria into proposals (never straight
    into publication). Idempotent: a subject with an open entry on the list, or whose
    evidence (the record, or the latest run) already led to an entry, is skipped.

    Run as of today (the default), it first withdraws the pending proposals whose
    criterion no longer holds (`exits.withdraw_all_lapsed`, the reason saying what
    changed) and names the published entries whose criterion no longer holds — taking
    those off is the identifying unit's decision (a `manual` exit with its reasons)."""
    actor = actor or audit.default_actor()
    as_of = as_of or clock.today()
    res = CriteriaResult(as_of)
    if as_of == clock.today():
        res.withdrawn = withdraw_all_lapsed(session, list_code=list_code, actor=actor)
        res.lapsed_published = pending_with_lapses(session, list_code=list_code, statuses=("published",))
    defs = [definition(session, list_code)] if list_code else definitions(session)
    for d in defs:
        if d.origin != "local":
            continue
        open_subjects = set(session.execute(select(ListEntry.subject_id).where(
            ListEntry.list_code == d.code, ListEntry.origin == "local",
            ListEntry.status.in_(OPEN_STATUSES))).scalars())
        used = set(session.execute(select(ListEntry.subject_id, ListEntry.evidence_key).where(
            ListEntry.list_code == d.code, ListEntry.evidence_key.is_not(None))).tuples())
        for crit in d.criteria:
            if isinstance(crit, RecordCriterion):
                cands = _record_candidates(session, crit, as_of)
            elif isinstance(crit, EvaluationCriterion):
                cands = _evaluation_candidates(session, crit, as_of)
            else:
                continue
            tag = f"{d.code}/{crit.id}"
            for c in cands:
                if c.subject_id in open_subjects:
                    res.skipped[f"{tag}: already open"] += 1
                    continue
                if (c.subject_id, c.evidence_key) in used:
                    res.skipped[f"{tag}: evidence already used"] += 1
                    continue
                e = propose(session, list_code=d.code, subject_id=c.subject_id, criterion=crit.id,
                            record_id=c.record_id, evidence_key=c.evidence_key, actor=actor)
                open_subjects.add(c.subject_id)
                used.add((c.subject_id, c.evidence_key))
                res.proposed[tag] += 1
                res.entry_ids.append(e.id)
                if notify_now:
                    notify(session, entry_id=e.id, actor=actor)
                    res.notified += 1
    return res
