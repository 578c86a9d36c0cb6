"""A model bound to a catalogue and an as-of date: every constant both paths share.

The explainer (explain.py) and the compiler (compile.py) must not each derive their own
cut-off dates, item sets, integer weights or decay tables — one slip and the paths
disagree. Everything either path needs that is not data lives here, computed once, in
integers: points as milli-points, scores as hundredths, shares as per-mille.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from creditgov.core.clock import add_months
from creditgov.core.errors import ConfigError
from creditgov.scoring.model import (
    SAFE_INT,
    AttributeBand,
    Band,
    CategoryMap,
    EvaluationModel,
    GradeItem,
    Indicator,
    ListPresence,
    OverrideWhen,
    Ratio,
    RecordFilter,
    Records,
    Window,
    centi,
    milli,
)
from creditgov.scoring.model import Assessment as AssessmentItem

#: Catalogue classes whose records may enter evaluation (secret never does).
EVALUATION_CLASSES = frozenset({"public", "shared", "restricted"})


@dataclass(frozen=True)
class CatalogInfo:
    code: str
    polarity: str
    severity: str | None
    data_class: str
    name: str = ""


@dataclass(frozen=True)
class MBand:
    """A band in integer units of its input (lo inclusive, hi exclusive; None = open)."""

    lo: Any
    hi: Any
    points: int

    def matches(self, v: Any) -> bool:
        return (self.lo is None or v >= self.lo) and (self.hi is None or v < self.hi)


@dataclass(frozen=True)
class Leaf:
    """One item of the model, ready to evaluate."""

    index: int                # position among leaves (column suffix in the plan)
    code: str
    name: str
    path: tuple[str, ...]     # codes from the first level down to this leaf
    item: Any                 # the model's item (AttributeBand, Records, ...)
    lo: int | None            # clamp of the item's milli-points (weighted: 0..100000)
    hi: int | None
    missing: int | None = None
    items: frozenset[str] = frozenset()   # resolved catalogue items (record-based kinds)
    cutoff: dt.date | None = None         # records count when cutoff < occurred_on <= as_of
    grades: frozenset[str] = frozenset()  # only records with one of these grades (empty: any)
    bands: tuple[MBand, ...] = ()
    default: int = 0
    mapping: Mapping[str, int] = field(default_factory=dict)
    decay: Mapping[dt.date, int] | None = None   # occurred_on -> milli-points of one record
    bonus: bool = False


@dataclass(frozen=True)
class Cond:
    """An override's condition, resolved."""

    index: int
    code: str
    name: str
    cap_rank: int
    kind: str                          # records / list
    items: frozenset[str] = frozenset()
    cutoff: dt.date | None = None
    grades: frozenset[str] = frozenset()
    min_count: int = 1
    lists: frozenset[str] = frozenset()
    latest: bool = False               # the latest graded record decides (its grade in `grades`)


@dataclass(frozen=True)
class Prepared:
    model: EvaluationModel
    as_of: dt.date
    leaves: tuple[Leaf, ...]
    bonuses: tuple[Leaf, ...]
    overrides: tuple[Cond, ...]
    weighted: bool
    #: weighted: each leaf's integer coefficient c (share x L); points: unused
    coef: Mapping[str, int]
    L: int
    #: the score is N / D points; Q = D / 100 turns N into hundredths
    D: int
    Q: int
    n_min: int
    n_max: int
    base: int
    #: first-level indicators: (code, {leaf code: coefficient}, L_d) for weighted models
    dims: tuple[tuple[str, Mapping[str, int], int], ...]
    grade_mins: tuple[int | None, ...]   # hundredths, best grade first
    catalog: Mapping[str, CatalogInfo]

    @property
    def used_items(self) -> frozenset[str]:
        out: set[str] = set()
        for leaf in (*self.leaves, *self.bonuses):
            out |= leaf.items
        for c in self.overrides:
            out |= c.items
        return frozenset(out)

    @property
    def min_cutoff(self) -> dt.date | None:
        """The earliest cut-off of any record-based input; None if some input has no window."""
        cuts: list[dt.date | None] = []
        for leaf in (*self.leaves, *self.bonuses):
            if leaf.items:
                cuts.append(leaf.cutoff)
        for c in self.overrides:
            if c.kind == "records":
                cuts.append(c.cutoff)
        if not cuts or any(c is None for c in cuts):
            return None
        return min(c for c in cuts if c is not None)

    @property
    def attributes_num(self) -> tuple[str, ...]:
        names = set(self.model.scope.attributes)
        for leaf in (*self.leaves, *self.bonuses):
            it = leaf.item
            if isinstance(it, AttributeBand):
                if it.attribute:
                    names.add(it.attribute)
                elif it.derived == "age":
                    names.add("birth_year")
        return tuple(sorted(names))

    @property
    def attributes_str(self) -> tuple[str, ...]:
        return tuple(sorted({leaf.item.attribute for leaf in (*self.leaves, *self.bonuses)
                             if isinstance(leaf.item, CategoryMap) and leaf.item.attribute}))

    def score_centi(self, n: int) -> int:
        """Round the exact score N / D to hundredths, half up (N is never negative)."""
        return (2 * n + self.Q) // (2 * self.Q)

    def rank_of(self, score_centi: int) -> int:
        for i, m in enumerate(self.grade_mins):
            if m is None or score_centi >= m:
                return i
        return len(self.grade_mins) - 1

    def dim_value(self, k: int, raw: int) -> Decimal:
        """A first-level score as a Decimal: hundredths (weighted) or milli-points (points)."""
        return Decimal(raw) / (100 if self.weighted else 1000)


def cutoff(window: Window | None, as_of: dt.date) -> dt.date | None:
    if window is None:
        return None
    if window.days is not None:
        return as_of - dt.timedelta(days=window.days)
    assert window.months is not None
    return add_months(as_of, -window.months)


def decay_milli(points_milli: int, age_days: int, half_life: int) -> int:
    """One record's decayed milli-points, rounded half away from zero. Only ever run in
    Python: the plan joins this as a lookup table, so no engine evaluates exp()."""
    mag = math.floor(abs(points_milli) * 2.0 ** (-age_days / half_life) + 0.5)
    return mag if points_milli >= 0 else -mag


class Unresolvable(ConfigError):
    """The model names catalogue items the store does not have, or may not use."""


def resolve_filter(f: RecordFilter, catalog: Mapping[str, CatalogInfo], where: str) -> frozenset[str]:
    for code in f.items:
        info = catalog.get(code)
        if info is None:
            raise Unresolvable(f"{where}: unknown catalogue item {code!r}")
        if info.data_class not in EVALUATION_CLASSES:
            raise Unresolvable(f"{where}: item {code!r} is of class {info.data_class}; it never enters evaluation")
    out = set()
    for code, info in catalog.items():
        if info.data_class not in EVALUATION_CLASSES:
            continue
        if f.items and code not in f.items:
            continue
        if f.polarity and info.polarity not in f.polarity:
            continue
        if f.severity and info.severity not in f.severity:
            continue
        out.add(code)
    return frozenset(out)


def _item_code(code: str, catalog: Mapping[str, CatalogInfo], where: str) -> frozenset[str]:
    return resolve_filter(RecordFilter(items=[code]), catalog, where)


def _bands(bands: list[Band], conv: Any) -> tuple[MBand, ...]:
    return tuple(MBand(None if b.min is None else conv(b.min), None if b.max is None else conv(b.max),
                       milli(b.points)) for b in bands)


def _leaf(index: int, node: Indicator, path: tuple[str, ...], model: EvaluationModel, as_of: dt.date,
          catalog: Mapping[str, CatalogInfo], bonus: bool) -> Leaf:
    it = node.item
    assert it is not None
    weighted = model.aggregation.mode == "weighted" and not bonus
    lo, hi = (0, 100_000) if weighted else (None, None)
    where = f"indicator {node.code}"
    missing = None
    if hasattr(it, "missing"):
        missing = milli(it.missing_points(it.missing))
    common: dict[str, Any] = dict(index=index, code=node.code, name=node.name, path=path, item=it, lo=lo,
                                  hi=hi, missing=missing, bonus=bonus)
    if isinstance(it, AttributeBand):
        if it.derived == "established_years":
            # years >= y  <=>  established_on <= as_of moved back y calendar years
            def conv(y: Decimal) -> dt.date:
                return add_months(as_of, -12 * int(y))
            bands = tuple(MBand(None if b.min is None else conv(b.min), None if b.max is None else conv(b.max),
                                milli(b.points)) for b in it.bands)
        else:
            bands = _bands(it.bands, float)
        return Leaf(**common, bands=bands, default=milli(it.default))
    if isinstance(it, CategoryMap):
        return Leaf(**common, mapping={k: milli(v) for k, v in it.map.items()}, default=milli(it.default))
    if isinstance(it, Records):
        items = resolve_filter(it.match, catalog, where)
        cut = cutoff(it.match.window, as_of)
        rlo = None if it.floor is None else milli(it.floor)
        rhi = None if it.cap is None else milli(it.cap)
        if weighted:
            rlo = 0 if rlo is None else max(rlo, 0)
            rhi = 100_000 if rhi is None else min(rhi, 100_000)
        common.update(lo=rlo, hi=rhi)
        decay = None
        if it.decay is not None:
            assert cut is not None
            pm = milli(it.points)
            decay = {as_of - dt.timedelta(days=age): decay_milli(pm, age, it.decay.half_life_days)
                     for age in range((as_of - cut).days)}
        return Leaf(**common, items=items, cutoff=cut, grades=frozenset(it.match.grades), default=milli(it.base),
                    decay=decay)
    if isinstance(it, GradeItem):
        return Leaf(**common, items=_item_code(it.item, catalog, where), cutoff=cutoff(it.window, as_of),
                    mapping={k: milli(v) for k, v in it.map.items()})
    if isinstance(it, Ratio):
        return Leaf(**common, items=_item_code(it.item, catalog, where), cutoff=cutoff(it.window, as_of),
                    bands=_bands(it.bands, lambda x: int(Decimal(x) * 1000)), default=milli(it.default))
    if isinstance(it, AssessmentItem):
        return Leaf(**common, items=_item_code(it.item, catalog, where), cutoff=cutoff(it.window, as_of),
                    bands=_bands(it.bands or [], centi))
    if isinstance(it, ListPresence):
        return Leaf(**common)
    raise AssertionError(f"unknown item kind {type(it).__name__}")  # pragma: no cover


def prepare(model: EvaluationModel, catalog: Mapping[str, CatalogInfo], as_of: dt.date) -> Prepared:
    weighted = model.aggregation.mode == "weighted"
    leaves: list[Leaf] = []

    def walk(n: Indicator, path: tuple[str, ...]) -> None:
        p = (*path, n.code)
        if n.item is not None:
            leaves.append(_leaf(len(leaves), n, p, model, as_of, catalog, bonus=False))
        for c in n.children or []:
            walk(c, p)

    for top in model.indicators:
        walk(top, ())
    bonuses = tuple(_leaf(len(leaves) + k, b, (b.code,), model, as_of, catalog, bonus=True)
                    for k, b in enumerate(model.bonuses))
    conds = []
    labels = [g.label for g in model.grades]
    for k, o in enumerate(model.overrides):
        w = o.when
        if isinstance(w, OverrideWhen):
            conds.append(Cond(k, o.code, o.name, labels.index(o.cap_grade), "records",
                              items=resolve_filter(w, catalog, f"override {o.code}"),
                              cutoff=cutoff(w.window, as_of), grades=frozenset(w.grades),
                              min_count=w.min_count, latest=w.latest))
        else:
            conds.append(Cond(k, o.code, o.name, labels.index(o.cap_grade), "list", lists=frozenset(w.lists)))
    agg = model.aggregation
    if weighted:
        fr = model.weight_fractions()
        L = model.weight_denominator()
        coef = {code: int(f * L) for code, f in fr.items()}
        D = 100_000 * L
        dims = []
        for top in model.indicators:
            frd = model.weight_fractions(top)
            Ld = model.weight_denominator(top)
            dims.append((top.code, {c: int(f * Ld) for c, f in frd.items()}, Ld))
        dims_t = tuple(dims)
    else:
        L, coef, D, dims_t = 1, {}, 1000, tuple((top.code, {}, 1) for top in model.indicators)
    Q = D // 100
    n_min = centi(agg.min) * Q
    n_max = centi(agg.upper) * Q
    if n_max * 2 >= SAFE_INT:
        raise ConfigError(f"model {model.name}: the score range is too large for exact arithmetic")
    return Prepared(
        model=model, as_of=as_of, leaves=tuple(leaves), bonuses=bonuses, overrides=tuple(conds),
        weighted=weighted, coef=coef, L=L, D=D, Q=Q, n_min=n_min, n_max=n_max, base=milli(agg.base),
        dims=dims_t, grade_mins=tuple(None if g.min is None else centi(g.min) for g in model.grades),
        catalog=dict(catalog),
    )


def catalogue_errors(model: EvaluationModel, catalog: Mapping[str, CatalogInfo]) -> list[tuple[tuple[Any, ...], str]]:
    """Every catalogue reference that does not resolve, with its location in the file."""
    errors = []
    for loc, code in model.catalogue_refs():
        info = catalog.get(code)
        if info is None:
            errors.append((loc, f"unknown catalogue item {code!r}"))
        elif info.data_class not in EVALUATION_CLASSES:
            errors.append((loc, f"item {code!r} is of class {info.data_class}; secret data never enters evaluation"))
    return errors
