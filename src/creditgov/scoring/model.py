"""The evaluation model as data: an immutable, validated tree (Pydantic, frozen).

No I/O and no SQL here. A model file is YAML; `parse_model`/`load_model` validate it
and report errors as `file:line: field: message`. Every number a model holds is a
`Decimal` with a bounded number of places, because both evaluation paths (the
per-subject explainer and the compiled relational plan) work in integers — points
in thousandths ("milli-points"), scores in hundredths — so that SQLite, PostgreSQL,
DuckDB and Spark give the same digits (see docs/scoring.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import abstractmethod
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.scoring.bands import BandName, check_grade_bands

CODE = r"^[a-z0-9][a-z0-9_.\-]*$"
#: Points carry at most three decimals (they are computed as integer milli-points).
Points = Annotated[Decimal, Field(decimal_places=3, ge=Decimal(-1_000_000), le=Decimal(1_000_000))]
#: Scores carry at most two decimals (they are stored as NUMERIC(12, 2)).
ScoreValue = Annotated[Decimal, Field(decimal_places=2, ge=Decimal(-1_000_000), le=Decimal(1_000_000))]
Colour = Literal["green", "yellow", "red"]
Polarity = Literal["negative", "positive", "neutral", "basic"]
Severity = Literal["minor", "general", "serious"]
#: How a missing input is scored: a fixed number of points, or the item's lowest or
#: highest possible points. Always explicit for items whose input can be missing.
Missing = Literal["lowest", "highest"] | Points

#: Intermediate integers must stay below 2**52 so that a floor division done in
#: floating point by an engine (Ibis compiles `//` to FLOOR(a / b)) is still exact.
SAFE_INT = 2**52


def milli(x: Decimal | int) -> int:
    """Points to integer milli-points (exact: points carry at most three decimals)."""
    return int(Decimal(x) * 1000)


def centi(x: Decimal | int) -> int:
    """A score to integer hundredths (exact: scores carry at most two decimals)."""
    return int(Decimal(x) * 100)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Window(_Frozen):
    """Records count when `cutoff < occurred_on <= as_of`, the cutoff being the as-of
    date moved back by `days` or by calendar `months`."""

    days: int | None = Field(default=None, ge=1, le=36500)
    months: int | None = Field(default=None, ge=1, le=1200)

    @model_validator(mode="after")
    def _one(self) -> Window:
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of days or months")
        return self


class Band(_Frozen):
    """`min <= value < max`; either bound may be left open. Bands are tried in order
    and the first that matches gives the points."""

    min: Decimal | None = Field(default=None, decimal_places=3)
    max: Decimal | None = Field(default=None, decimal_places=3)
    points: Points

    @model_validator(mode="after")
    def _order(self) -> Band:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class Decay(_Frozen):
    """Exponential decay of a record's points with its age: x 2^(-age / half_life)."""

    half_life_days: int = Field(ge=1, le=36500)


class _ItemBase(_Frozen):
    description: str | None = None

    @abstractmethod
    def point_values(self) -> list[Decimal]:
        """Every fixed number of points the item can give (for lowest/highest); each
        item kind gives its own."""

    def missing_points(self, missing: Missing) -> Decimal:
        if missing == "lowest":
            return min(self.point_values())
        if missing == "highest":
            return max(self.point_values())
        return Decimal(missing)


class AttributeBand(_ItemBase):
    """Bands over a numeric subject attribute (a JSON number in `attributes`), or over a
    derived value: `established_years` (whole calendar years since `established_on`)
    or `age` (as-of year minus the `birth_year` attribute)."""

    kind: Literal["attribute_band"]
    attribute: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    derived: Literal["established_years", "age"] | None = None
    bands: list[Band] = Field(min_length=1)
    default: Points = Decimal(0)
    missing: Missing

    @model_validator(mode="after")
    def _source(self) -> AttributeBand:
        if (self.attribute is None) == (self.derived is None):
            raise ValueError("give exactly one of attribute or derived")
        if self.derived == "established_years":
            for b in self.bands:
                for v in (b.min, b.max):
                    if v is not None and v != int(v):
                        raise ValueError("established_years bands need whole years")
        return self

    def point_values(self) -> list[Decimal]:
        return [b.points for b in self.bands] + [self.default]


class CategoryMap(_ItemBase):
    """Points by category: the subject's `kind` or `industry`, or a string attribute."""

    kind: Literal["category_map"]
    field: Literal["kind", "industry"] | None = None
    attribute: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    map: dict[str, Points] = Field(min_length=1)
    default: Points = Decimal(0)
    missing: Missing

    @model_validator(mode="after")
    def _source(self) -> CategoryMap:
        if (self.field is None) == (self.attribute is None):
            raise ValueError("give exactly one of field or attribute")
        return self

    def point_values(self) -> list[Decimal]:
        return [*self.map.values(), self.default]


class RecordFilter(_Frozen):
    """Which records: catalogue items, and/or polarity and severity, and/or the
    record's grade (all given parts must hold). Resolved to a set of catalogue items when the model is bound to a
    catalogue; secret-class items never match."""

    items: list[str] = Field(default_factory=list)
    polarity: list[Polarity] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    grades: list[str] = Field(default_factory=list)
    window: Window | None = None

    @model_validator(mode="after")
    def _some(self) -> RecordFilter:
        if not (self.items or self.polarity or self.severity):
            raise ValueError("name items, a polarity or a severity")
        return self


class Records(_ItemBase):
    """Counts (points per record) or sums (points per `unit` of the record's value) of
    records in force, from `base`, optionally decayed, then clamped to [floor, cap]."""

    kind: Literal["records"]
    match: RecordFilter
    measure: Literal["count", "sum"] = "count"
    points: Points
    unit: int = Field(default=1, ge=1, le=1_000_000)
    base: Points = Decimal(0)
    cap: Points | None = None
    floor: Points | None = None
    decay: Decay | None = None

    @model_validator(mode="after")
    def _rules(self) -> Records:
        if self.cap is not None and self.floor is not None and self.floor > self.cap:
            raise ValueError("floor must not exceed cap")
        if self.decay is not None:
            if self.measure != "count":
                raise ValueError("decay applies to counts (points per record) only")
            if self.match.window is None:
                raise ValueError("decay needs a window")
        if self.measure == "count" and self.unit != 1:
            raise ValueError("unit applies to sums only")
        return self

    def point_values(self) -> list[Decimal]:
        return [v for v in (self.base, self.cap, self.floor) if v is not None]


class GradeItem(_ItemBase):
    """An external grade (e.g. tax credit A/B/M/C/D) mapped to points: the latest record
    in force of the item within the window."""

    kind: Literal["grade"]
    item: str
    window: Window | None = None
    map: dict[str, Points] = Field(min_length=1)
    missing: Missing

    def point_values(self) -> list[Decimal]:
        return list(self.map.values())


class Ratio(_ItemBase):
    """Periodic data (e.g. monthly utility bills, value = days late): the share of
    records whose value is at most `good_max`, scored by bands over that share (0–1).
    Fewer than `min_records` records in the window counts as missing."""

    kind: Literal["ratio"]
    item: str
    window: Window | None = None
    good_max: Decimal = Field(default=Decimal(0), decimal_places=2)
    min_records: int = Field(default=1, ge=1)
    bands: list[Band] = Field(min_length=1)
    default: Points = Decimal(0)
    missing: Missing

    @model_validator(mode="after")
    def _share(self) -> Ratio:
        for b in self.bands:
            for v in (b.min, b.max):
                if v is not None and not (Decimal(0) <= v <= Decimal(1)):
                    raise ValueError("ratio bands are shares between 0 and 1")
        return self

    def point_values(self) -> list[Decimal]:
        return [b.points for b in self.bands] + [self.default]


class Assessment(_ItemBase):
    """Manual assessment inputs (e.g. inspection scores): the latest, mean, lowest or
    highest value in the window, either scored by bands or passed through x `factor`."""

    kind: Literal["assessment"]
    item: str
    window: Window | None = None
    aggregate: Literal["latest", "mean", "min", "max"] = "latest"
    bands: list[Band] | None = None
    factor: Decimal = Field(default=Decimal(1), decimal_places=3, gt=0, le=1000)
    missing: Missing

    @model_validator(mode="after")
    def _bands(self) -> Assessment:
        for b in self.bands or []:
            for v in (b.min, b.max):
                if v is not None and v != round(v, 2):
                    raise ValueError("assessment band bounds carry at most two decimals")
        if self.missing in ("lowest", "highest") and not self.bands:
            raise ValueError("a passed-through assessment needs a number of points for missing")
        return self

    def point_values(self) -> list[Decimal]:
        return [b.points for b in self.bands or []]


class ListPresence(_ItemBase):
    """Presence on any of the named credit lists (entries published and in force)."""

    kind: Literal["list"]
    lists: list[str] = Field(min_length=1)
    points: Points
    absent: Points = Decimal(0)

    def point_values(self) -> list[Decimal]:
        return [self.points, self.absent]


Item = Annotated[
    AttributeBand | CategoryMap | Records | GradeItem | Ratio | Assessment | ListPresence,
    Field(discriminator="kind"),
]


class Indicator(_Frozen):
    """A node of the tree. A leaf carries an `item`; any other node has `children`.
    Weighted models give every node a weight (relative to its siblings); points models
    may clamp a node's subtotal with `min`/`max` instead."""

    code: str = Field(pattern=CODE, max_length=60)
    name: str
    name_en: str | None = None
    description: str | None = None
    weight: Decimal | None = Field(default=None, gt=0, decimal_places=3)
    min: Points | None = None
    max: Points | None = None
    children: list[Indicator] | None = None
    item: Item | None = None

    @model_validator(mode="after")
    def _shape(self) -> Indicator:
        if (self.children is None) == (self.item is None):
            raise ValueError("an indicator has either children or an item")
        if self.children is not None and not self.children:
            raise ValueError("children must not be empty")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self

    def walk(self, depth: int = 1) -> Iterator[tuple[int, Indicator]]:
        yield depth, self
        for c in self.children or []:
            yield from c.walk(depth + 1)

    def leaves(self) -> Iterator[Indicator]:
        if self.item is not None:
            yield self
        for c in self.children or []:
            yield from c.leaves()


class Scope(_Frozen):
    """Which subjects the model applies to."""

    kinds: list[str] = Field(min_length=1)
    industries: list[str] = Field(default_factory=list)
    attributes: dict[str, Decimal] = Field(default_factory=dict)
    statuses: list[str] = Field(default_factory=lambda: ["confirmed"])


class Aggregation(_Frozen):
    """`weighted`: items score 0–100, combined by weights and scaled to 0–`scale`.
    `points`: `base` plus every item's points. Either way the total (with bonuses) is
    clamped to [`min`, `max`]."""

    mode: Literal["weighted", "points"]
    scale: int = Field(default=100, ge=1, le=100_000)
    base: Points = Decimal(0)
    min: ScoreValue = Decimal(0)
    max: ScoreValue | None = None

    @model_validator(mode="after")
    def _range(self) -> Aggregation:
        if self.min < 0:
            raise ValueError("min must be at least 0 (scores are rounded as non-negative numbers)")
        if self.mode == "weighted" and self.base != 0:
            raise ValueError("base applies to points models only")
        if self.max is not None and self.max <= self.min:
            raise ValueError("max must exceed min")
        if self.mode == "points" and not self.min <= self.base <= self.upper:
            # The total is clamped to [min, max] (max defaults to scale): a base outside
            # it would give every subject the same clamped score.
            top = f"max {self.max}" if self.max is not None else f"scale {self.scale} (the top when max is not given)"
            raise ValueError(f"base {self.base} lies outside the score range [min {self.min}, {top}]: "
                             f"every score would be clamped; give `max:` (or `scale:`) a value that holds the base")
        return self

    @property
    def upper(self) -> Decimal:
        if self.max is not None:
            return self.max
        return Decimal(self.scale)


class GradeBand(_Frozen):
    """A grade and its colour; `min` is the lowest score (inclusive) that earns it;
    `band` is the shared band measures read (`scoring/bands.py`)."""

    label: str = Field(min_length=1, max_length=10)
    min: ScoreValue | None = None
    colour: Colour
    name: str | None = None
    band: BandName | None = None


class OverrideWhen(RecordFilter):
    """`latest: true` asks of the latest record in force of the items (a rating: the
    latest per issuer and type wins) whether its grade is one of `grades`."""

    kind: Literal["records"] = "records"
    min_count: int = Field(default=1, ge=1)
    latest: bool = False

    @model_validator(mode="after")
    def _latest(self) -> OverrideWhen:
        if self.latest and (not self.items or not self.grades or self.min_count != 1):
            raise ValueError("latest needs items and grades, and counts one record")
        return self


class OverrideList(_Frozen):
    kind: Literal["list"]
    lists: list[str] = Field(min_length=1)


def _when_kind(v: Any) -> str:
    """Override conditions are about records unless they say `kind: list`."""
    kind = v.get("kind", "records") if isinstance(v, dict) else getattr(v, "kind", "records")
    return str(kind)


class Override(_Frozen):
    """一票否决: when the condition holds, the grade is no better than `cap_grade`."""

    code: str = Field(pattern=CODE, max_length=60)
    name: str
    name_en: str | None = None
    when: Annotated[Annotated[OverrideWhen, Tag("records")] | Annotated[OverrideList, Tag("list")],
                    Discriminator(_when_kind)]
    cap_grade: str


class EvaluationModel(_Frozen):
    """A credit evaluation model (信用评价模型)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9\-]*$", max_length=80)
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$", max_length=30)
    title: str
    title_en: str | None = None
    description: str | None = None
    citation: str | None = None
    scope: Scope
    aggregation: Aggregation
    grades: list[GradeBand] = Field(min_length=1)
    bands_basis: str | None = Field(default=None, description="why each grade is in its band: citation or local choice")
    indicators: list[Indicator] = Field(min_length=1)
    bonuses: list[Indicator] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationModel:
        weighted = self.aggregation.mode == "weighted"
        codes: set[str] = set()
        nodes = [n for top in self.indicators for _, n in top.walk()]
        for n in [*nodes, *self.bonuses]:
            if n.code in codes:
                raise ValueError(f"indicator code {n.code!r} is used twice")
            codes.add(n.code)
        for n in nodes:
            if weighted and n.weight is None:
                raise ValueError(f"{n.code}: every indicator of a weighted model needs a weight")
            if not weighted and n.weight is not None:
                raise ValueError(f"{n.code}: weights apply to weighted models only")
            if weighted and (n.min is not None or n.max is not None):
                raise ValueError(f"{n.code}: min/max apply to points models only")
            if weighted and n.item is not None:
                _check_0_100(n.code, n.item)
        for b in self.bonuses:
            if b.item is None:
                raise ValueError(f"bonus {b.code} must carry an item")
            if b.weight is not None:
                raise ValueError(f"bonus {b.code}: bonuses carry points, not weights")
        labels = [g.label for g in self.grades]
        if len(set(labels)) != len(labels):
            raise ValueError("grade labels must be unique")
        mins = [g.min for g in self.grades[:-1]]
        if any(m is None for m in mins):
            raise ValueError("only the last (lowest) grade may leave min open")
        for hi, lo in zip(mins, mins[1:], strict=False):
            if hi is not None and lo is not None and hi <= lo:
                raise ValueError("grades go from best to worst with strictly falling min")
        check_grade_bands(self.grades, self.bands_basis)
        top = self.aggregation.upper
        for g in self.grades:
            if g.min is not None and g.min > top:
                raise ValueError(f"grade {g.label!r} starts at {g.min}, above the highest score {top}: "
                                 f"no subject could earn it")
        for o in self.overrides:
            if o.cap_grade not in labels:
                raise ValueError(f"override {o.code}: cap_grade {o.cap_grade!r} is not a grade")
            if o.code in codes:
                raise ValueError(f"code {o.code!r} is used twice")
            codes.add(o.code)
        if weighted:
            lcm = self.weight_denominator()
            if lcm * 100_000 * self.aggregation.scale * 2 >= SAFE_INT:
                raise ValueError("weights are too fine-grained for exact integer arithmetic; "
                                 "use weights whose sums at each level are small integers (e.g. 100)")
        return self

    # --- structure -----------------------------------------------------------------

    def levels(self) -> dict[int, int]:
        """How many indicators sit at each depth (1 = first level)."""
        out: dict[int, int] = {}
        for top in self.indicators:
            for depth, _ in top.walk():
                out[depth] = out.get(depth, 0) + 1
        return out

    def leaves(self) -> list[Indicator]:
        return [leaf for top in self.indicators for leaf in top.leaves()]

    def grade_index(self, label: str) -> int:
        return [g.label for g in self.grades].index(label)

    def bands(self) -> dict[str, str]:
        """grade label -> shared band (empty when the model maps none)."""
        return {g.label: g.band for g in self.grades if g.band is not None}

    def weight_fractions(self, root: Indicator | None = None) -> dict[str, Fraction]:
        """Each leaf's share of its root (or of the whole model): the product of
        weight / sum of sibling weights along its path."""
        out: dict[str, Fraction] = {}
        if self.aggregation.mode != "weighted":
            return out

        def visit(nodes: list[Indicator], share: Fraction) -> None:
            total = sum(Fraction(n.weight or 0) for n in nodes)
            for n in nodes:
                f = share * Fraction(n.weight or 0) / total
                if n.item is not None:
                    out[n.code] = f
                else:
                    visit(n.children or [], f)

        visit([root] if root is not None else self.indicators, Fraction(1))
        return out

    def weight_denominator(self, root: Indicator | None = None) -> int:
        if self.aggregation.mode != "weighted":
            return 1
        fr = self.weight_fractions(root)
        return math.lcm(*(f.denominator for f in fr.values())) if fr else 1

    def content_hash(self) -> str:
        """A hash of the validated content (not of the YAML text: comments and layout
        do not change it)."""
        body = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def catalogue_refs(self) -> Iterator[tuple[tuple[Any, ...], str]]:
        """(location, item code) of every catalogue item the model names."""
        def item_refs(loc: tuple[Any, ...], it: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
            if isinstance(it, Records):
                for k, code in enumerate(it.match.items):
                    yield (*loc, "item", "match", "items", k), code
            elif isinstance(it, GradeItem | Ratio | Assessment):
                yield (*loc, "item", "item"), it.item

        def walk(loc: tuple[Any, ...], n: Indicator) -> Iterator[tuple[tuple[Any, ...], str]]:
            if n.item is not None:
                yield from item_refs(loc, n.item)
            for k, c in enumerate(n.children or []):
                yield from walk((*loc, "children", k), c)

        for k, top in enumerate(self.indicators):
            yield from walk(("indicators", k), top)
        for k, b in enumerate(self.bonuses):
            yield from walk(("bonuses", k), b)
        for k, o in enumerate(self.overrides):
            if isinstance(o.when, OverrideWhen):
                for j, code in enumerate(o.when.items):
                    yield ("overrides", k, "when", "items", j), code


def _check_0_100(code: str, item: Any) -> None:
    """In a weighted model every item scores on 0–100."""
    values = list(item.point_values())
    missing = getattr(item, "missing", None)
    if missing is not None and missing not in ("lowest", "highest"):
        values.append(Decimal(missing))
    for v in values:
        if not (Decimal(0) <= v <= Decimal(100)):
            raise ValueError(f"{code}: items of a weighted model score between 0 and 100 (got {v})")


def parse_model(text: str, source: str) -> EvaluationModel:
    return parse_yaml_model(EvaluationModel, text, source)


def load_model(path: Path) -> EvaluationModel:
    return load_yaml_model(EvaluationModel, path)


def json_schema() -> dict[str, Any]:
    schema = EvaluationModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "CreditGov evaluation model"
    return schema
