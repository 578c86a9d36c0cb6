"""Does the criterion an entry was proposed under still hold? Asked again on the day
the identifying unit decides (`service.approve`) and on the day the entry is published
(`service.publish`), and by `lists run` of every pending proposal (`exits.withdraw_lapsed`).

A proposal rests on what was true when the criteria ran; the procedure takes weeks (a
notice, a response window), and what it rests on can stop holding meanwhile: a firm
proposed for the red list for "grade A and no negative record in three years" whose
loan falls into default before the decision must not be approved, let alone published.
So the criterion is checked for the subject as of that day, the same rule
`criteria.py` proposes by:

- an **evaluation** criterion: the grade is among `grades` in each of the latest
  `consecutive_runs` published runs of its model dated on or before the day, and — with
  `no_negative_years` — no negative record (current, not revoked, not secret-class)
  occurred in those years up to the day;
- a **record** criterion: the record the entry rests on (its current version) is still
  active, of one of the criterion's items and in its publication period;
- a **manual** identification rests on a decision document: nothing here re-checks it.

What changed is said in words (`Lapse.facts`): the record that breaks it (its item,
date, department and number), the grade it now has, what became of the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, labels
from creditgov.core.clock import day_in_words
from creditgov.core.errors import Conflict
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import definition
from creditgov.lists.schemas import EvaluationCriterion, ListDef, RecordCriterion
from creditgov.records.models import CreditRecord
from creditgov.scoring import published
from creditgov.scoring.models import EvaluationRun, Score

# The data classes whose items a stored note may name (the history of an entry is read
# by every officer whose scope holds the subject); a refusal to the deciding unit names
# every item.
NAMED_CLASSES = frozenset({"public", "shared"})


@dataclass(frozen=True)
class Lapse:
    """Why an entry's criterion no longer holds: `why` is one of `negative_record`,
    `grade`, `record`; `facts` the values its words are made of."""

    entry_id: int
    list_code: str
    criterion: str
    why: str
    facts: dict[str, Any] = field(default_factory=dict)

    def words(self, lang: str = "zh", *, name_item: bool = True) -> str:
        """What changed, in `lang`; `name_item=False` names a restricted or secret
        record's item only by its department (for the entry's stored history)."""
        f, en = self.facts, lang == "en"

        def day(v: str | None) -> str:
            return day_in_words(dt.date.fromisoformat(v) if v else None, lang)

        hidden = not name_item and f.get("data_class") not in NAMED_CLASSES

        def item() -> str:
            if hidden:
                return "an adverse record" if en else "不良"
            return labels.label("item", f["item"], lang)

        dept = labels.label("department", f.get("department"), lang) if f.get("department") else ""
        if self.why == "negative_record":
            more = (f" (and {f['more']} more)" if en else f"（另有 {f['more']} 条）") if f.get("more") else ""
            if en:
                what = item() if hidden else f"a record of {item()}"
                return (f"{what} dated {day(f['on'])} ({dept}, record #{f['record']}){more}: "
                        f"no longer “no negative record in {f['years']} years”")
            return (f"{day(f['on'])}有{item()}记录（{dept}，记录 #{f['record']}）{more}，"
                    f"已不符合“{f['years']}年内无不良信用记录”")
        if self.why == "grade":
            model = labels.label("model", f["model"], lang)
            wanted = "/".join(f["grades"])
            if f.get("grade") is None:
                return (f"not graded in the {model} of {day(f['run_on'])} (it must be {wanted})" if en
                        else f"{day(f['run_on'])}的{model}中没有该主体的评价结果（须为 {wanted}）")
            return (f"graded {f['grade']} in the {model} of {day(f['run_on'])} (it must be {wanted})" if en
                    else f"{day(f['run_on'])}的{model}中评价等级为 {f['grade']}（须为 {wanted}）")
        # the record it rests on
        what = f["change"]
        if what == "gone":
            return f"the record it rests on (#{f['record']}) no longer exists" if en \
                else f"所依据的记录 #{f['record']} 已不存在"
        if what == "status":
            status = labels.label("record_status", f["status"], lang)
            return f"the record it rests on (#{f['record']}, {item()}) is now “{status}”" if en \
                else f"所依据的记录 #{f['record']}（{item()}）现为“{status}”"
        if what == "item":
            return f"the record it rests on (#{f['record']}) was corrected to {item()}" if en \
                else f"所依据的记录 #{f['record']} 已更正为{item()}"
        return (f"the record it rests on (#{f['record']}, {item()}) is not published on {day(f['on'])}" if en
                else f"所依据的记录 #{f['record']}（{item()}）{day(f['on'])}不在公示期内")

    def refuse(self, step: str) -> NoReturn:
        """Refuse `step` (`approve`, `publish`), 409: what changed, and what may be done
        instead — withdraw the proposal, or the unit decides not to list."""
        raise Conflict(f"entry {self.entry_id} cannot be {'approved' if step == 'approve' else 'published'}: "
                        f"criterion {self.criterion} of list {self.list_code} no longer holds — "
                        f"{self.words('en')}; withdraw the proposal (`creditgov lists withdraw {self.entry_id}`) "
                        "or decide not to list (`creditgov lists reject`)",
                        code="lists.entry.criterion_lapsed",
                        params={"entry": self.entry_id, "list": self.list_code, "step": step,
                                "facts_zh": self.words("zh"), "facts_en": self.words("en")})


def _record_facts(session: Session, rec: CreditRecord) -> dict[str, Any]:
    cls = session.execute(select(CatalogItem.data_class).where(CatalogItem.code == rec.item_code)).scalar()
    return {"record": rec.id, "item": rec.item_code, "department": rec.department_code, "data_class": cls}


def _evaluation_lapse(session: Session, entry: ListEntry, crit: EvaluationCriterion, on: dt.date) -> Lapse | None:
    runs = list(session.execute(published.newest_first(crit.model, EvaluationRun.id, EvaluationRun.as_of,
                                                       as_of=on).limit(crit.consecutive_runs)).tuples())
    grades = dict(session.execute(select(Score.run_id, Score.grade).where(
        Score.run_id.in_([r for r, _ in runs]), Score.subject_id == entry.subject_id)).tuples().all())
    base = {"model": crit.model, "grades": list(crit.grades)}
    if len(runs) < crit.consecutive_runs:  # a run withdrawn from publication since
        return Lapse(entry.id, entry.list_code, crit.id, "grade", {**base, "grade": None, "run_on": on.isoformat()})
    for run_id, run_on in runs:
        if grades.get(run_id) not in crit.grades:
            return Lapse(entry.id, entry.list_code, crit.id, "grade",
                         {**base, "grade": grades.get(run_id), "run_on": run_on.isoformat()})
    if crit.no_negative_years:
        cutoff = clock.add_months(on, -12 * crit.no_negative_years)
        q = (select(CreditRecord).join(CatalogItem, CatalogItem.code == CreditRecord.item_code)
             .where(CreditRecord.subject_id == entry.subject_id, CatalogItem.polarity == "negative",
                    CatalogItem.data_class != "secret", CreditRecord.is_current.is_(True),
                    CreditRecord.status != "revoked", CreditRecord.occurred_on > cutoff,
                    CreditRecord.occurred_on <= on)
             .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc()))
        found = list(session.execute(q.limit(1)).scalars())
        if found:
            n = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rec = found[0]
            return Lapse(entry.id, entry.list_code, crit.id, "negative_record",
                         {**_record_facts(session, rec), "on": rec.occurred_on.isoformat(),
                          "years": crit.no_negative_years, "more": n - 1})
    return None


def _record_lapse(session: Session, entry: ListEntry, crit: RecordCriterion, on: dt.date) -> Lapse | None:
    first = session.get(CreditRecord, entry.record_id) if entry.record_id is not None else None
    if first is None:
        return Lapse(entry.id, entry.list_code, crit.id, "record", {"change": "gone", "record": entry.record_id})
    rec = first if first.is_current else session.execute(select(CreditRecord).where(
        CreditRecord.natural_key == first.natural_key, CreditRecord.is_current.is_(True))).scalar() or first
    facts = _record_facts(session, rec)
    if rec.status != "active":
        return Lapse(entry.id, entry.list_code, crit.id, "record", {**facts, "change": "status", "status": rec.status})
    if rec.item_code not in crit.items:
        return Lapse(entry.id, entry.list_code, crit.id, "record", {**facts, "change": "item"})
    if (rec.published_from is not None and rec.published_from > on) or \
            (rec.published_until is not None and rec.published_until < on):
        return Lapse(entry.id, entry.list_code, crit.id, "record", {**facts, "change": "published",
                                                                   "on": on.isoformat()})
    return None


def lapse(session: Session, entry: ListEntry, *, on: dt.date | None = None, d: ListDef | None = None) -> Lapse | None:
    """Why the criterion `entry` was proposed under no longer holds for its subject as
    of `on` (today), or None while it holds — and for a manual identification, an
    upper platform's entry or a criterion the list no longer has."""
    if entry.origin != "local" or not entry.criterion:
        return None
    crit = (d or definition(session, entry.list_code)).criterion(entry.criterion)
    day = on or clock.today()
    if isinstance(crit, EvaluationCriterion):
        return _evaluation_lapse(session, entry, crit, day)
    if isinstance(crit, RecordCriterion):
        return _record_lapse(session, entry, crit, day)
    return None


def refuse_if_lapsed(session: Session, entry: ListEntry, step: str, d: ListDef | None = None) -> None:
    """Refuse `step` (409) when the entry's criterion no longer holds today."""
    if (found := lapse(session, entry, d=d)) is not None:
        found.refuse(step)


def pending_with_lapses(session: Session, *, list_code: str | None = None, on: dt.date | None = None,
                        statuses: tuple[str, ...] = ("proposed", "notified", "approved")) -> list[Lapse]:
    """The local entries in `statuses` whose criterion no longer holds (as of `on`)."""
    q = select(ListEntry).where(ListEntry.origin == "local", ListEntry.status.in_(statuses),
                                ListEntry.criterion.is_not(None))
    if list_code:
        q = q.where(ListEntry.list_code == list_code)
    defs: dict[str, ListDef] = {}
    out = []
    for e in session.execute(q.order_by(ListEntry.id)).scalars():
        d = defs.get(e.list_code) or defs.setdefault(e.list_code, definition(session, e.list_code))
        if (found := lapse(session, e, on=on, d=d)) is not None:
            out.append(found)
    return out
