"""The same model as one set-based relational plan (Ibis), for any engine.

The plan reads four relations — subjects, credit records, record status changes and
list entries — and returns one row per subject in scope with the integer score
numerator N, the score in hundredths, the grade and colour and the first-level
scores. It follows explain.py rule for rule, in integers only:

- records in force: one filter plus two small left joins on the status history;
- every record-based input: one pass and one GROUP BY subject with a filtered sum (or
  count) per item (`agg(...) FILTER (WHERE ...)`), each record carrying its item as a
  small integer so the filters compare integers, not strings; decay read from a lookup
  table keyed by date (no exp() in SQL);
- "latest" inputs (external grades, latest assessment): ROW_NUMBER per subject;
- list presence: one GROUP BY over list entries in force;
- items, indicators, score, grade rank, overrides, grade and colour: CASE/GREATEST/
  LEAST arithmetic over int64 columns; the one division (rounding to hundredths) is on
  non-negative integers below 2**52, where FLOOR(a / b) is exact on every engine.

An engine supplies the relations and the way to read a subject attribute
(`Source`); the plan never changes with the engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir

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


class Source(Protocol):
    """What an engine adapter hands the plan."""

    name: str
    subjects: ir.Table
    records: ir.Table
    changes: ir.Table
    list_entries: ir.Table

    def attr_num(self, subjects: ir.Table, name: str) -> ir.FloatingValue:
        """A JSON-number attribute as float64; NULL for anything else."""

    def attr_str(self, subjects: ir.Table, name: str) -> ir.StringValue:
        """A JSON-string attribute; NULL for anything else."""


I64 = "int64"


def _i(v: int) -> ir.IntegerScalar:
    """An int64 constant that every engine types as 64-bit. Ibis renders an int64
    literal as a bare number, which DuckDB, PostgreSQL and Spark type as a 32-bit
    INTEGER when it fits — and `40000 * 56` then overflows. A literal typed int32 and
    cast to int64 is rendered as CAST(40000 AS BIGINT)."""
    v = int(v)
    if -(2**31) <= v < 2**31:
        return ibis.literal(v, type="int32").cast(I64)
    return ibis.literal(v, type=I64)


def _f(v: float) -> ir.FloatingScalar:
    return ibis.literal(float(v), type="float64")


def _d(v: dt.date) -> ir.DateScalar:
    return ibis.literal(v, type="date")


def _clamp(x: ir.IntegerValue, lo: int | None, hi: int | None) -> ir.IntegerValue:
    if lo is not None:
        x = ibis.greatest(x, _i(lo))
    if hi is not None:
        x = ibis.least(x, _i(hi))
    return x


def _sum(terms: list[ir.IntegerValue]) -> ir.IntegerValue:
    """A balanced sum: SQLite's parser overflows its stack on a left-deep chain of
    a few dozen additions ("parser stack overflow"); a tree is log2(n) deep."""
    if not terms:
        return _i(0)
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def _cases(pairs: list[tuple[ir.BooleanValue, Any]], default: Any) -> ir.Value:
    if not pairs:
        return default
    return ibis.cases(*pairs, else_=default)


def _item_numbers(p: Prepared) -> dict[str, int]:
    """Each used catalogue item's number in the plan: records carry it as `ic`, so the
    per-item conditions compare small integers, not strings, on every record."""
    return {code: k for k, code in enumerate(sorted(p.used_items))}


def _in_window(r: ir.Table, leaf_items: frozenset[str], cut: dt.date | None,
               grades: frozenset[str] = frozenset(), *, numbers: dict[str, int]) -> ir.BooleanValue:
    if len(leaf_items) == 1:
        cond = r.ic == _i(numbers[next(iter(leaf_items))])
    elif leaf_items:
        cond = r.ic.isin([_i(numbers[c]) for c in sorted(leaf_items)])
    else:
        cond = ibis.literal(False)
    if cut is not None:
        cond = cond & (r.occurred_on > _d(cut))
    if grades:
        cond = cond & r.grade.notnull() & r.grade.isin(sorted(grades))
    return cond


def records_in_force(p: Prepared, src: Source) -> ir.Table | None:
    """Current versions of used items that are active on the as-of date."""
    used = sorted(p.used_items)
    if not used:
        return None
    a = _d(p.as_of)
    r = src.records
    r = r.filter(
        r.is_current,
        r.item_code.isin(used),
        r.occurred_on <= a,
        r.published_from.isnull() | (r.published_from <= a),
        r.published_until.isnull() | (r.published_until >= a),
        r.status != "revoked",
    )
    if p.min_cutoff is not None:
        r = r.filter(r.occurred_on > _d(p.min_cutoff))
    c = src.changes
    end = ibis.literal(dt.datetime.combine(p.as_of + dt.timedelta(days=1), dt.time()), type="timestamp")
    before = c.filter(c.at < end)
    last = (before.mutate(_rn=ibis.row_number().over(group_by=before.record_id,
                                                      order_by=[before.at.desc(), before.id.desc()]))
            .filter(lambda t: t._rn == 0)
            .select(_last_rid=lambda t: t.record_id, _last_to=lambda t: t.to_status))
    first = (c.mutate(_rn=ibis.row_number().over(group_by=c.record_id, order_by=[c.at.asc(), c.id.asc()]))
             .filter(lambda t: t._rn == 0)
             .select(_first_rid=lambda t: t.record_id, _first_from=lambda t: t.from_status))
    r = r.select("id", "subject_id", "item_code", "occurred_on", "value", "grade", "status")
    j = r.left_join(last, r.id == last._last_rid).left_join(first, r.id == first._first_rid)
    j = j.filter(ibis.coalesce(j._last_to, j._first_from, j.status) == "active")
    numbers = _item_numbers(p)
    return j.select(
        "id", "subject_id", "item_code", "occurred_on", "grade",
        vc=(j.value * 100).round().cast(I64),
        ic=_cases([(j.item_code == code, _i(k)) for code, k in numbers.items()], _i(-1)),
    )


def standing_entries(p: Prepared, src: Source) -> ir.Table:
    """`explain.standing_entry` as a relational filter (the two must agree)."""
    a = _d(p.as_of)
    e = src.list_entries
    return e.filter(
        e.status == "published",
        e.published_on.notnull(),
        e.published_on <= a,
        e.exited_on.isnull() | (e.exited_on > a),
        e.expires_on.isnull() | (e.expires_on > a),
    )


def build(p: Prepared, src: Source, *, with_items: bool = False) -> ir.Table:
    """The whole evaluation as one Ibis expression."""
    leaves = (*p.leaves, *p.bonuses)
    sc = p.model.scope
    s = src.subjects
    cond = s.kind.isin(list(sc.kinds)) & s.status.isin(list(sc.statuses))
    if sc.industries:
        cond = cond & s.industry.isin(list(sc.industries))
    for name, v in sc.attributes.items():
        cond = cond & (src.attr_num(s, name) == _f(float(v)))
    cols: dict[str, Any] = {"subject_id": s.id, "kind": s.kind, "industry": s.industry,
                            "established_on": s.established_on}
    for name in p.attributes_num:
        cols[f"an_{name}"] = src.attr_num(s, name)
    for name in p.attributes_str:
        cols[f"as_{name}"] = src.attr_str(s, name)
    base = s.filter(cond).select(**cols)

    r = records_in_force(p, src)
    aggs: dict[str, Any] = {}
    latest_tables: list[ir.Table] = []
    if r is not None:
        decay_leaves = [leaf for leaf in leaves if leaf.decay is not None]
        if decay_leaves:
            days = sorted({d for leaf in decay_leaves for d in (leaf.decay or {})})
            data: dict[str, list[Any]] = {"_day": days}
            for leaf in decay_leaves:
                assert leaf.decay is not None
                data[f"_d{leaf.index}"] = [int(leaf.decay.get(d, 0)) for d in days]
            schema = {"_day": "date", **{k: I64 for k in data if k != "_day"}}
            lookup = ibis.memtable(data, schema=schema)
            r = r.left_join(lookup, r.occurred_on == lookup._day)
        numbers = _item_numbers(p)
        for leaf in leaves:
            it = leaf.item
            k = leaf.index
            if not leaf.items:  # nothing can match: the item keeps its base (see _col)
                continue
            # every aggregate reads only its own records (FILTER): no match gives NULL,
            # which _item_expr reads as no record
            m = _in_window(r, leaf.items, leaf.cutoff, leaf.grades, numbers=numbers)
            if isinstance(it, Records):
                pm = int(it.points * 1000)
                if it.measure == "count":
                    per = ibis.coalesce(r[f"_d{k}"], _i(0)) if leaf.decay is not None else _i(pm)
                else:
                    vc = ibis.greatest(ibis.coalesce(r.vc, _i(0)), _i(0))
                    mag = (vc * _i(abs(pm) * 2) + _i(100 * it.unit)) // _i(200 * it.unit)
                    per = mag if pm >= 0 else -mag
                if isinstance(per, ir.Scalar):  # a fixed number of points per record: count them
                    aggs[f"r{k}"] = r.ic.count(where=m) * per
                else:
                    aggs[f"r{k}"] = per.sum(where=m)
            elif isinstance(it, Ratio):
                gm = int(it.good_max * 100)
                aggs[f"t{k}"] = r.ic.count(where=m)
                aggs[f"g{k}"] = r.ic.count(where=m & r.vc.notnull() & (r.vc <= _i(gm)))
            elif isinstance(it, AssessmentItem) and it.aggregate != "latest":
                mv = m & r.vc.notnull()
                v0 = ibis.greatest(r.vc, _i(0))
                if it.aggregate == "mean":
                    aggs[f"s{k}"] = v0.sum(where=mv)
                    aggs[f"n{k}"] = r.ic.count(where=mv)
                else:
                    aggs[f"s{k}"] = v0.min(where=mv) if it.aggregate == "min" else v0.max(where=mv)
            elif isinstance(it, GradeItem | AssessmentItem):
                pick = r.filter(m & (r.grade.notnull() if isinstance(it, GradeItem) else r.vc.notnull()))
                pick = pick.mutate(_rn=ibis.row_number().over(
                    group_by=pick.subject_id, order_by=[pick.occurred_on.desc(), pick.id.desc()]))
                pick = pick.filter(pick._rn == 0)
                val = pick.grade if isinstance(it, GradeItem) else ibis.greatest(pick.vc, _i(0))
                latest_tables.append(pick.select(**{f"_sid{k}": pick.subject_id, f"l{k}": val}))
        for c in p.overrides:
            if c.kind == "records" and c.items and c.latest:
                pick = r.filter(_in_window(r, c.items, c.cutoff, numbers=numbers) & r.grade.notnull())
                pick = pick.mutate(_rn=ibis.row_number().over(
                    group_by=pick.subject_id, order_by=[pick.occurred_on.desc(), pick.id.desc()]))
                pick = pick.filter(pick._rn == 0)
                hit = pick.grade.isin(sorted(c.grades)).ifelse(_i(1), _i(0))
                latest_tables.append(pick.select(**{f"_sido{c.index}": pick.subject_id, f"o{c.index}": hit}))
            elif c.kind == "records" and c.items:
                aggs[f"o{c.index}"] = r.ic.count(where=_in_window(r, c.items, c.cutoff, c.grades, numbers=numbers))
    list_conds: dict[str, frozenset[str]] = {}
    for leaf in leaves:
        if isinstance(leaf.item, ListPresence):
            list_conds[f"l{leaf.index}"] = frozenset(leaf.item.lists)
    for c in p.overrides:
        if c.kind == "list":
            list_conds[f"ol{c.index}"] = c.lists

    t = base
    if aggs:
        assert r is not None
        g = r.group_by(_sid=r.subject_id).aggregate(**aggs)
        t = t.left_join(g, t.subject_id == g._sid).drop("_sid")
    for lt in latest_tables:
        key = next(c for c in lt.columns if c.startswith("_sid"))
        t = t.left_join(lt, t.subject_id == lt[key]).drop(key)
    if list_conds:
        e = standing_entries(p, src)
        lg = e.group_by(_lsid=e.subject_id).aggregate(
            **{name: e.list_code.isin(sorted(codes)).ifelse(_i(1), _i(0)).max() for name, codes in list_conds.items()})
        t = t.left_join(lg, t.subject_id == lg._lsid).drop("_lsid")

    item_cols = {f"i{leaf.index}": _item_expr(p, leaf, t) for leaf in leaves}
    t = t.select("subject_id", **item_cols, **{k: t[k] for k in t.columns if k.startswith("o")})
    return _finish(p, t, with_items=with_items)


def _col(t: ir.Table, name: str, type_: str = I64) -> ir.Value:
    """A column of the joined table, or NULL when no input can feed it (an item whose
    filter matches no catalogue item, a model that reads no records)."""
    return t[name] if name in t.columns else ibis.null(type_)


def _item_expr(p: Prepared, leaf: Leaf, t: ir.Table) -> ir.IntegerValue:
    """One item's milli-points (missing policy and clamps applied)."""
    it = leaf.item
    k = leaf.index
    missing = _i(leaf.missing) if leaf.missing is not None else None
    value: ir.IntegerValue
    is_missing: ir.BooleanValue | None = None
    if isinstance(it, AttributeBand):
        if it.derived == "established_years":
            est = t.established_on
            pairs = []
            for b in leaf.bands:
                c = ibis.literal(True)
                if b.lo is not None:
                    c = c & (est <= _d(b.lo))
                if b.hi is not None:
                    c = c & (est > _d(b.hi))
                pairs.append((c, _i(b.points)))
            value, is_missing = _cases(pairs, _i(leaf.default)), est.isnull()
        else:
            v = (_f(float(p.as_of.year)) - t["an_birth_year"]) if it.derived == "age" else t[f"an_{it.attribute}"]
            pairs = []
            for b in leaf.bands:
                c = ibis.literal(True)
                if b.lo is not None:
                    c = c & (v >= _f(b.lo))
                if b.hi is not None:
                    c = c & (v < _f(b.hi))
                pairs.append((c, _i(b.points)))
            value, is_missing = _cases(pairs, _i(leaf.default)), v.isnull()
    elif isinstance(it, CategoryMap):
        v = t[it.field] if it.field else t[f"as_{it.attribute}"]
        pairs = [(v == key, _i(pts)) for key, pts in sorted(leaf.mapping.items())]
        value, is_missing = _cases(pairs, _i(leaf.default)), v.isnull()
    elif isinstance(it, Records):
        value = _i(leaf.default) + ibis.coalesce(_col(t, f"r{k}").cast(I64), _i(0))
    elif isinstance(it, GradeItem):
        g = _col(t, f"l{k}", "string")
        pairs = [(g == key, _i(pts)) for key, pts in sorted(leaf.mapping.items())]
        known = g.isin(sorted(leaf.mapping)) if leaf.mapping else ibis.literal(False)
        value, is_missing = _cases(pairs, _i(0)), g.isnull() | ~known
    elif isinstance(it, Ratio):
        tot = ibis.coalesce(_col(t, f"t{k}").cast(I64), _i(0))
        good = ibis.coalesce(_col(t, f"g{k}").cast(I64), _i(0))
        pairs = []
        for b in leaf.bands:
            c = ibis.literal(True)
            if b.lo is not None:
                c = c & (good * _i(1000) >= _i(b.lo) * tot)
            if b.hi is not None:
                c = c & (good * _i(1000) < _i(b.hi) * tot)
            pairs.append((c, _i(b.points)))
        value, is_missing = _cases(pairs, _i(leaf.default)), tot < _i(it.min_records)
    elif isinstance(it, AssessmentItem):
        if it.aggregate == "latest":
            v = _col(t, f"l{k}").cast(I64)
        elif it.aggregate == "mean":
            n = ibis.coalesce(_col(t, f"n{k}").cast(I64), _i(0))
            s = ibis.coalesce(_col(t, f"s{k}").cast(I64), _i(0))
            v = (n > _i(0)).ifelse((s * _i(2) + n) // ibis.greatest(n * _i(2), _i(1)), ibis.null(I64))
        else:
            v = _col(t, f"s{k}").cast(I64)
        if it.bands:
            pairs = []
            for b in leaf.bands:
                c = ibis.literal(True)
                if b.lo is not None:
                    c = c & (v >= _i(b.lo))
                if b.hi is not None:
                    c = c & (v < _i(b.hi))
                pairs.append((c, _i(b.points)))
            matched = pairs[0][0]
            for c, _ in pairs[1:]:
                matched = matched | c
            value, is_missing = _cases(pairs, _i(0)), v.isnull() | ~matched
        else:
            value, is_missing = (v * _i(int(it.factor * 1000))) // _i(100), v.isnull()
    elif isinstance(it, ListPresence):
        flag = ibis.coalesce(_col(t, f"l{k}").cast(I64), _i(0))
        value = (flag > _i(0)).ifelse(_i(int(it.points * 1000)), _i(int(it.absent * 1000)))
    else:  # pragma: no cover
        raise AssertionError(type(it).__name__)
    if is_missing is not None:
        assert missing is not None
        value = is_missing.ifelse(missing, value)
    return _clamp(value.cast(I64), leaf.lo, leaf.hi)


def _finish(p: Prepared, t: ir.Table, *, with_items: bool) -> ir.Table:
    items = {leaf.code: t[f"i{leaf.index}"] for leaf in p.leaves}
    bonus = _sum([t[f"i{leaf.index}"] for leaf in p.bonuses])
    dims: dict[str, ir.IntegerValue] = {}
    if p.weighted:
        total = _sum([col * _i(p.coef[code]) for code, col in items.items()])
        n = total * _i(p.model.aggregation.scale) + bonus * _i(100 * p.L)
        for k, (_code, coef, Ld) in enumerate(p.dims):
            nd = _sum([items[leaf_code] * _i(c) for leaf_code, c in coef.items()])
            dims[f"dim{k}"] = (nd * _i(2) + _i(10 * Ld)) // _i(20 * Ld)
    else:
        def subtotal(node: Indicator) -> ir.IntegerValue:
            if node.item is not None:
                return items[node.code]
            acc = _sum([subtotal(c) for c in node.children or []])
            return _clamp(acc, None if node.min is None else int(node.min * 1000),
                          None if node.max is None else int(node.max * 1000))

        tops = [subtotal(top) for top in p.model.indicators]
        for k, v in enumerate(tops):
            dims[f"dim{k}"] = v
        n = _sum([_i(p.base), *tops, bonus])
    t = t.mutate(_n=_clamp(n, p.n_min, p.n_max), **dims)
    t = t.mutate(_sc=(t._n * _i(2) + _i(p.Q)) // _i(2 * p.Q))
    pairs = [(t._sc >= _i(m), _i(i)) for i, m in enumerate(p.grade_mins) if m is not None]
    rank = _cases(pairs, _i(len(p.grade_mins) - 1))
    caps = []
    for c in p.overrides:
        if c.kind == "records":
            hit = ibis.coalesce(_col(t, f"o{c.index}").cast(I64), _i(0)) >= _i(c.min_count)
        else:
            hit = ibis.coalesce(_col(t, f"ol{c.index}").cast(I64), _i(0)) > _i(0)
        caps.append(hit.ifelse(_i(c.cap_rank), _i(0)))
    if caps:
        rank = ibis.greatest(rank, *caps)
    t = t.mutate(_rank=rank)
    grades = p.model.grades
    grade = _cases([(t._rank == _i(i), ibis.literal(g.label)) for i, g in enumerate(grades)], ibis.literal("?"))
    colour = _cases([(t._rank == _i(i), ibis.literal(g.colour)) for i, g in enumerate(grades)], ibis.literal("?"))
    out: dict[str, Any] = {"subject_id": t.subject_id, "n": t._n.cast(I64), "score_centi": t._sc.cast(I64),
                           "grade": grade, "colour": colour}
    for k in range(len(p.dims)):
        out[f"dim{k}"] = t[f"dim{k}"].cast(I64)
    if with_items:
        for leaf in (*p.leaves, *p.bonuses):
            out[f"i{leaf.index}"] = t[f"i{leaf.index}"]
    return t.select(**out)
