"""The reference semantics: evaluate one subject in plain Python and say why.

`evaluate` is pure: it takes a prepared model and one subject's data and returns the
full explanation — every item's input and points, the records behind each with their
own points, the overrides that fired, the grade and the colour. The compiled plan
(compile.py) must give the same numbers for every subject; a property test holds the
two together. `load_subject_data` is the only part that reads the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core.clock import add_months
from creditgov.core.errors import InvalidInput
from creditgov.lists.models import ListEntry
from creditgov.records.models import CreditRecord, RecordStatusChange
from creditgov.scoring.model import Assessment as AssessmentItem
from creditgov.scoring.model import (
    AttributeBand,
    CategoryMap,
    GradeItem,
    Indicator,
    ListPresence,
    Ratio,
    Records,
)
from creditgov.scoring.prepared import Leaf, Prepared
from creditgov.subjects.models import Subject

# ----------------------------------------------------------------------------- input


@dataclass(frozen=True)
class RecordRow:
    id: int
    item_code: str
    occurred_on: dt.date
    value: Decimal | None
    grade: str | None
    status: str
    published_from: dt.date | None
    published_until: dt.date | None
    is_current: bool


@dataclass(frozen=True)
class StatusChange:
    id: int
    record_id: int
    from_status: str | None
    to_status: str
    at: dt.datetime


@dataclass(frozen=True)
class ListRow:
    list_code: str
    status: str
    published_on: dt.date | None
    expires_on: dt.date | None
    exited_on: dt.date | None
    entry_id: int | None = None  # the evidence an explanation names behind a list item
    decision_no: str | None = None
    record_id: int | None = None


def _entry_dict(e: ListRow, s: SubjectData) -> dict[str, Any]:
    """A standing list entry as the evidence of a list item or override: the entry, its
    decision and the credit record it rests on (with its item and date when the model
    reads that record's item)."""
    out: dict[str, Any] = {"list": e.list_code, "entry_id": e.entry_id, "decision_no": e.decision_no,
                           "published_on": e.published_on.isoformat() if e.published_on else None,
                           "record_id": e.record_id}
    rec = next((r for r in s.records if r.id == e.record_id), None) if e.record_id is not None else None
    if rec is not None:
        out["record"] = {"id": rec.id, "item": rec.item_code, "occurred_on": rec.occurred_on.isoformat()}
    return out


@dataclass
class SubjectData:
    id: int
    kind: str
    industry: str | None
    established_on: dt.date | None
    status: str
    attributes: dict[str, Any]
    name: str = ""
    records: list[RecordRow] = field(default_factory=list)
    changes: dict[int, list[StatusChange]] = field(default_factory=dict)
    lists: list[ListRow] = field(default_factory=list)


# ----------------------------------------------------------------------------- rules


def value_centi(v: Decimal | None) -> int | None:
    """A record's value in hundredths, rounded half away from zero (as SQL ROUND does)."""
    if v is None:
        return None
    return int((Decimal(v) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def attr_num(attributes: dict[str, Any], name: str) -> float | None:
    """A JSON number (not a boolean, not a numeric string) as float; else missing."""
    v = attributes.get(name)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def attr_str(attributes: dict[str, Any], name: str) -> str | None:
    v = attributes.get(name)
    return v if isinstance(v, str) else None


def status_on(rec: RecordRow, changes: Sequence[StatusChange], as_of: dt.date) -> str:
    """The record's status on the as-of date, from its status history: the last change
    made on or before that day; if every change came later, the status before the
    first; with no history, the current status."""
    if not changes:
        return rec.status
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    ordered = sorted(changes, key=lambda c: (c.at, c.id))
    before = [c for c in ordered if c.at < end]
    if before:
        return before[-1].to_status
    return ordered[0].from_status or rec.status


def exclusion(rec: RecordRow, changes: Sequence[StatusChange], as_of: dt.date) -> str | None:
    """Why a record is not in force on the as-of date (None: it is)."""
    if not rec.is_current:
        return "superseded by a corrected version"
    if rec.occurred_on > as_of:
        return "occurred after the as-of date"
    if rec.published_from is not None and rec.published_from > as_of:
        return "not yet published on the as-of date"
    if rec.published_until is not None and rec.published_until < as_of:
        return "publication period ended"
    if rec.status == "revoked":
        return "revoked"
    st = status_on(rec, changes, as_of)
    if st != "active":
        return f"{st} on the as-of date"
    return None


def file_exclusion(r: Mapping[str, Any], as_of: dt.date) -> str | None:
    """`exclusion` for a record as the credit file shows it (`subjects.service.credit_file`):
    the credit report applies the explanation's own rule, never a second one."""
    def day(v: str | None) -> dt.date | None:
        return dt.date.fromisoformat(v) if v else None

    row = RecordRow(int(r["id"]), r["item"], dt.date.fromisoformat(r["occurred_on"]), None, r.get("grade"),
                    r["status"], day(r.get("published_from")), day(r.get("published_until")),
                    bool(r.get("is_current", True)))
    changes = [StatusChange(n, row.id, h["from"], h["to"], dt.datetime.fromisoformat(h["at"]))
               for n, h in enumerate(r.get("status_history") or ())]
    return exclusion(row, changes, as_of)


def standing_entry(e: ListRow, as_of: dt.date) -> bool:
    """A list entry an evaluation counts: one that *stands* — published and not exited
    today — and had taken effect by the as-of date without expiring. An entry that has
    since left its list (by repair, exit or expiry) is not counted even for an earlier
    as-of date, so a re-evaluation after a repair reflects it. This differs on purpose
    from `lists.queries.listed_on`, the historical "was on the list that day" that
    checks and patrols use; `tests/scoring/test_list_rules.py` pins both."""
    return (e.status == "published" and e.published_on is not None and e.published_on <= as_of
            and (e.exited_on is None or e.exited_on > as_of)
            and (e.expires_on is None or e.expires_on > as_of))


def in_scope(p: Prepared, s: SubjectData) -> bool:
    sc = p.model.scope
    if s.kind not in sc.kinds or s.status not in sc.statuses:
        return False
    if sc.industries and s.industry not in sc.industries:
        return False
    return all(attr_num(s.attributes, k) == float(v) for k, v in sc.attributes.items())


def _clamp(v: int, lo: int | None, hi: int | None) -> int:
    if lo is not None and v < lo:
        v = lo
    if hi is not None and v > hi:
        v = hi
    return v


def _pts(m: int) -> Decimal:
    return Decimal(m) / 1000


def _in_window(r: RecordRow, leaf_cutoff: dt.date | None) -> bool:
    return leaf_cutoff is None or r.occurred_on > leaf_cutoff


def _matches(r: RecordRow, items: frozenset[str], leaf_cutoff: dt.date | None, grades: frozenset[str]) -> bool:
    return (r.item_code in items and _in_window(r, leaf_cutoff)
            and (not grades or r.grade in grades))


def _latest(rows: Iterable[RecordRow]) -> RecordRow | None:
    best = None
    for r in rows:
        if best is None or (r.occurred_on, r.id) > (best.occurred_on, best.id):
            best = r
    return best


# ----------------------------------------------------------------------------- output


@dataclass
class ItemResult:
    code: str
    name: str
    path: tuple[str, ...]
    kind: str
    input: dict[str, Any]
    missing: bool
    milli: int
    share: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def points(self) -> Decimal:
        return _pts(self.milli)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "path": list(self.path), "kind": self.kind,
                "input": self.input, "missing": self.missing, "points": str(self.points),
                "share": self.share, "records": self.records}


@dataclass
class Explanation:
    subject_id: int
    model: str
    version: str
    as_of: dt.date
    n: int
    score_centi: int
    grade: str
    colour: str
    grade_from_score: str
    items: list[ItemResult]
    bonuses: list[ItemResult]
    overrides: list[dict[str, Any]]
    dimensions: dict[str, Decimal]
    indicators: dict[str, Decimal]
    excluded: list[dict[str, Any]]

    @property
    def score(self) -> Decimal:
        return (Decimal(self.score_centi) / 100).quantize(Decimal("0.01"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id, "model": self.model, "version": self.version,
            "as_of": self.as_of.isoformat(), "score": str(self.score), "grade": self.grade,
            "colour": self.colour, "grade_from_score": self.grade_from_score,
            "dimensions": {k: str(v) for k, v in self.dimensions.items()},
            "indicators": {k: str(v) for k, v in self.indicators.items()},
            "items": [i.as_dict() for i in self.items],
            "bonuses": [i.as_dict() for i in self.bonuses],
            "overrides": self.overrides,
            "excluded_records": self.excluded,
        }


# ----------------------------------------------------------------------------- evaluation


def _rec_dict(r: RecordRow, points: int | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.id, "item": r.item_code, "occurred_on": r.occurred_on.isoformat(),
                           "value": None if r.value is None else str(r.value), "grade": r.grade}
    if points is not None:
        out["points"] = str(_pts(points))
    out.update(extra)
    return out


def _eval_leaf(p: Prepared, leaf: Leaf, s: SubjectData, live: list[RecordRow],
               on_lists: set[str]) -> ItemResult:
    it = leaf.item
    inp: dict[str, Any] = {}
    recs: list[dict[str, Any]] = []
    value: int | None = None  # None = missing input
    if isinstance(it, AttributeBand):
        if it.derived == "established_years":
            est = s.established_on
            inp["established_on"] = est.isoformat() if est else None
            if est is not None:
                value = leaf.default
                for b in leaf.bands:
                    if (b.lo is None or est <= b.lo) and (b.hi is None or est > b.hi):
                        value = b.points
                        break
                years = 0
                while est <= _years_back(p.as_of, years + 1):
                    years += 1
                inp["years"] = years
        else:
            if it.derived == "age":
                by = attr_num(s.attributes, "birth_year")
                v = None if by is None else float(p.as_of.year) - by
                inp["birth_year"] = by
                inp["age"] = v
            else:
                assert it.attribute is not None
                v = attr_num(s.attributes, it.attribute)
                inp[it.attribute] = v
            if v is not None:
                value = next((b.points for b in leaf.bands if b.matches(v)), leaf.default)
    elif isinstance(it, CategoryMap):
        if it.field == "kind":
            c: str | None = s.kind
        elif it.field == "industry":
            c = s.industry
        else:
            assert it.attribute is not None
            c = attr_str(s.attributes, it.attribute)
        inp[it.field or it.attribute or ""] = c
        if c is not None:
            value = leaf.mapping.get(c, leaf.default)
    elif isinstance(it, Records):
        total = leaf.default
        n = 0
        pm = int(it.points * 1000)
        for r in live:
            if not _matches(r, leaf.items, leaf.cutoff, leaf.grades):
                continue
            if it.measure == "count":
                rp = leaf.decay[r.occurred_on] if leaf.decay is not None else pm
            else:
                vc = max(value_centi(r.value) or 0, 0)
                mag = (vc * abs(pm) * 2 + 100 * it.unit) // (200 * it.unit)
                rp = mag if pm >= 0 else -mag
            total += rp
            n += 1
            recs.append(_rec_dict(r, rp))
        inp.update({"records": n, "base": str(_pts(leaf.default)), "sum": str(_pts(total - leaf.default))})
        value = total
    elif isinstance(it, GradeItem):
        g = _latest(r for r in live if r.item_code in leaf.items and _in_window(r, leaf.cutoff)
                    and r.grade is not None)
        inp["grade"] = None if g is None else g.grade
        if g is not None:
            recs.append(_rec_dict(g))
            assert g.grade is not None  # _latest chose among graded records only
            if g.grade in leaf.mapping:
                value = leaf.mapping[g.grade]
    elif isinstance(it, Ratio):
        rows = [r for r in live if r.item_code in leaf.items and _in_window(r, leaf.cutoff)]
        gm = int(it.good_max * 100)
        good = 0
        for r in rows:
            centi = value_centi(r.value)
            ok = centi is not None and centi <= gm
            good += ok
            recs.append(_rec_dict(r, None, good=ok))
        tot = len(rows)
        inp.update({"records": tot, "good": good, "ratio": f"{good / tot:.3f}" if tot else None})
        if tot >= it.min_records:
            value = leaf.default
            for b in leaf.bands:
                if (b.lo is None or good * 1000 >= b.lo * tot) and (b.hi is None or good * 1000 < b.hi * tot):
                    value = b.points
                    break
    elif isinstance(it, AssessmentItem):
        rows = [r for r in live if r.item_code in leaf.items and _in_window(r, leaf.cutoff) and r.value is not None]
        vals = [max(value_centi(r.value) or 0, 0) for r in rows]
        agg: int | None = None
        if rows:
            if it.aggregate == "latest":
                last = _latest(rows)
                assert last is not None
                agg = max(value_centi(last.value) or 0, 0)
                rows = [last]
            elif it.aggregate == "mean":
                agg = (2 * sum(vals) + len(vals)) // (2 * len(vals))
            elif it.aggregate == "min":
                agg = min(vals)
            else:
                agg = max(vals)
        recs.extend(_rec_dict(r) for r in rows)
        inp.update({"aggregate": it.aggregate, "records": len(rows),
                    "value": None if agg is None else str(Decimal(agg) / 100)})
        if agg is not None:
            if it.bands:
                value = next((b.points for b in leaf.bands if b.matches(agg)), None)
            else:
                value = agg * int(it.factor * 1000) // 100
    elif isinstance(it, ListPresence):
        hit = sorted(on_lists & set(it.lists))
        inp["lists"] = hit
        inp["entries"] = [_entry_dict(e, s) for e in s.lists if e.list_code in hit and standing_entry(e, p.as_of)]
        value = int(it.points * 1000) if hit else int(it.absent * 1000)
    else:  # pragma: no cover
        raise AssertionError(type(it).__name__)
    missing = value is None
    points = leaf.missing if value is None else value
    assert points is not None  # every kind whose input can be missing declares `missing` (model.py)
    m = _clamp(points, leaf.lo, leaf.hi)
    share = None
    if p.weighted and not leaf.bonus:
        share = f"{p.coef[leaf.code] / p.L:.6f}"
    return ItemResult(leaf.code, leaf.name, leaf.path, it.kind, inp, missing, m, share, recs)


def _years_back(as_of: dt.date, years: int) -> dt.date:
    return add_months(as_of, -12 * years)


def evaluate(p: Prepared, s: SubjectData) -> Explanation:
    """One subject's score, grade and colour, with every reason."""
    if not in_scope(p, s):
        raise InvalidInput(f"subject {s.id} ({s.kind}, {s.industry or '-'}) is outside the scope of model "
                           f"{p.model.name}")
    used = p.used_items
    live: list[RecordRow] = []
    excluded: list[dict[str, Any]] = []
    for r in s.records:
        if r.item_code not in used:
            continue
        why = exclusion(r, s.changes.get(r.id, ()), p.as_of)
        if why is None:
            live.append(r)
        else:
            excluded.append(_rec_dict(r, None, reason=why, status=r.status))
    on_lists = {e.list_code for e in s.lists if standing_entry(e, p.as_of)}
    items = [_eval_leaf(p, leaf, s, live, on_lists) for leaf in p.leaves]
    bonuses = [_eval_leaf(p, leaf, s, live, on_lists) for leaf in p.bonuses]
    by_code = {i.code: i.milli for i in items}
    bonus = sum(b.milli for b in bonuses)
    subtotals: dict[str, int] = {}

    def subtotal(n: Indicator) -> int:
        if n.item is not None:
            return by_code[n.code]
        v = _clamp(sum(subtotal(c) for c in n.children or []),
                   None if n.min is None else int(n.min * 1000), None if n.max is None else int(n.max * 1000))
        subtotals[n.code] = v
        return v

    indicators: dict[str, Decimal] = {}
    dims: dict[str, Decimal] = {}
    if p.weighted:
        n = p.model.aggregation.scale * sum(p.coef[c] * v for c, v in by_code.items()) + 100 * p.L * bonus
        for code, coef, Ld in p.dims:
            nd = sum(c * by_code[leaf] for leaf, c in coef.items())
            dims[code] = Decimal((2 * nd + 10 * Ld) // (20 * Ld)) / 100
    else:
        tops = [subtotal(t) for t in p.model.indicators]
        n = p.base + sum(tops) + bonus
        for t, v in zip(p.model.indicators, tops, strict=True):
            dims[t.code] = _pts(v)
        indicators = {k: _pts(v) for k, v in subtotals.items()}
    n = _clamp(n, p.n_min, p.n_max)
    sc = p.score_centi(n)
    rank0 = p.rank_of(sc)
    rank = rank0
    fired = []
    for c in p.overrides:
        if c.kind == "records" and c.latest:
            last = _latest(r for r in live if _matches(r, c.items, c.cutoff, frozenset()) and r.grade is not None)
            ev = [last] if last is not None and last.grade in c.grades else []
            hit = bool(ev)
            evidence = [_rec_dict(r) for r in ev]
        elif c.kind == "records":
            ev = [r for r in live if _matches(r, c.items, c.cutoff, c.grades)]
            hit = len(ev) >= c.min_count
            evidence = [_rec_dict(r) for r in ev]
        else:
            ev_l = sorted(on_lists & c.lists)
            hit = bool(ev_l)
            evidence = [_entry_dict(e, s) for e in s.lists if e.list_code in ev_l and standing_entry(e, p.as_of)]
        if hit:
            rank = max(rank, c.cap_rank)
        fired.append({"code": c.code, "name": c.name, "triggered": hit,
                      "cap_grade": p.model.grades[c.cap_rank].label, "evidence": evidence if hit else []})
    g = p.model.grades[rank]
    return Explanation(
        subject_id=s.id, model=p.model.name, version=p.model.version, as_of=p.as_of, n=n, score_centi=sc,
        grade=g.label, colour=g.colour, grade_from_score=p.model.grades[rank0].label, items=items,
        bonuses=bonuses, overrides=fired, dimensions=dims, indicators=indicators, excluded=excluded,
    )


# ----------------------------------------------------------------------------- loading


def load_subject_data(session: Session, ids: Sequence[int], *, items: Iterable[str] | None = None
                      ) -> dict[int, SubjectData]:
    """Subjects with their records, status histories and list entries, read in bulk.
    `items` limits the records read to the catalogue items a model uses."""
    out: dict[int, SubjectData] = {}
    item_list = None if items is None else sorted(set(items))
    for i in range(0, len(ids), 500):
        chunk = list(ids[i:i + 500])
        for row in session.execute(select(Subject.id, Subject.kind, Subject.industry, Subject.established_on,
                                          Subject.status, Subject.attributes, Subject.name)
                                   .where(Subject.id.in_(chunk))):
            out[row.id] = SubjectData(row.id, row.kind, row.industry, row.established_on, row.status,
                                      row.attributes or {}, row.name)
        q = select(CreditRecord.id, CreditRecord.subject_id, CreditRecord.item_code, CreditRecord.occurred_on,
                   CreditRecord.value, CreditRecord.grade, CreditRecord.status, CreditRecord.published_from,
                   CreditRecord.published_until, CreditRecord.is_current).where(CreditRecord.subject_id.in_(chunk))
        if item_list is not None:
            if not item_list:
                q = q.where(CreditRecord.id < 0)
            else:
                q = q.where(CreditRecord.item_code.in_(item_list))
        rec_ids = []
        for r in session.execute(q):
            if r.subject_id in out:
                out[r.subject_id].records.append(RecordRow(
                    r.id, r.item_code, r.occurred_on, r.value, r.grade, r.status, r.published_from,
                    r.published_until, bool(r.is_current)))
                rec_ids.append((r.id, r.subject_id))
        owner = dict(rec_ids)
        ch_ids = [rid for rid, _ in rec_ids]
        for j in range(0, len(ch_ids), 900):
            for c in session.execute(select(RecordStatusChange.id, RecordStatusChange.record_id,
                                            RecordStatusChange.from_status, RecordStatusChange.to_status,
                                            RecordStatusChange.at)
                                     .where(RecordStatusChange.record_id.in_(ch_ids[j:j + 900]))):
                out[owner[c.record_id]].changes.setdefault(c.record_id, []).append(
                    StatusChange(c.id, c.record_id, c.from_status, c.to_status, c.at))
        for e in session.execute(select(ListEntry.subject_id, ListEntry.list_code, ListEntry.status,
                                        ListEntry.published_on, ListEntry.expires_on, ListEntry.exited_on,
                                        ListEntry.id, ListEntry.decision_no, ListEntry.record_id)
                                 .where(ListEntry.subject_id.in_(chunk)).order_by(ListEntry.id)):
            out[e.subject_id].lists.append(ListRow(e.list_code, e.status, e.published_on, e.expires_on,
                                                   e.exited_on, e.id, e.decision_no, e.record_id))
    for s in out.values():
        s.records.sort(key=lambda r: (r.occurred_on, r.id))
    return out
