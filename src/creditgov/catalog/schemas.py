"""The catalogue's YAML shape, validated on load."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Polarity = Literal["positive", "negative", "neutral", "basic"]
Severity = Literal["minor", "general", "serious"]
DataClass = Literal["public", "shared", "restricted", "secret"]
#: The data classes whose items may be shared with credit bureaus at all: restricted and
#: secret data never leave the platform, whatever an item's bureau marker says.
BUREAU_CLASSES = frozenset({"public", "shared"})
ValueKind = Literal["none", "number", "amount", "grade", "score", "days"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DepartmentIn(Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str


class RatingLevel(Frozen):
    """One level of a rating scheme, as the issuer names it."""

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9+\-]{0,9}$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class RatingScheme(Frozen):
    """An item that is a rating (评价结果) another body issues: an industry rating
    (environmental credit, work safety, farm-produce quality) or the city credit score.
    The item's department is the issuer; a record of it is one rating, `grade` its
    level (and `value` its score where the scheme scores), valid from its effective
    date (`decided_on`, else `occurred_on`) for `validity_months` — the record's
    publication period is that validity (catalog/publication.py), so a rating counts
    in an evaluation only while valid. `basis` cites the rule that sets the levels
    and the validity, or says it is a local choice."""

    scheme: Literal["environment", "work_safety", "farm_produce", "city_score"]
    levels: list[RatingLevel] = Field(min_length=2, description="best first")
    validity_months: int = Field(ge=1, le=60)
    basis: str = Field(min_length=2)

    @model_validator(mode="after")
    def _unique(self) -> RatingScheme:
        codes = [lv.code for lv in self.levels]
        if len(set(codes)) != len(codes):
            raise ValueError("rating level codes must be unique")
        return self

    def level(self, code: str | None) -> RatingLevel | None:
        return next((lv for lv in self.levels if lv.code == code), None)


class CatalogItemIn(Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    name_zh: str
    name_en: str
    polarity: Polarity
    severity: Severity | None = None
    department: str
    legal_basis: str = Field(min_length=2)
    data_class: DataClass
    value_kind: ValueKind = "none"
    unit: str | None = None
    min_publication_months: int | None = Field(default=None, ge=0)
    max_publication_months: int | None = Field(default=None, ge=0)
    # Shared with credit bureaus (征信机构) on the footing of this term of the file's
    # `bureau_sharing` (None: never shared with a bureau).
    bureau: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,39}$")
    # The item is a rating another body issues (RatingScheme); None: an ordinary item.
    rating: RatingScheme | None = None

    @model_validator(mode="after")
    def _severity_rules(self) -> CatalogItemIn:
        if self.polarity == "negative" and self.severity is None:
            raise ValueError(f"{self.code}: a negative item needs a severity (minor/general/serious)")
        if self.polarity != "negative" and self.severity is not None:
            raise ValueError(f"{self.code}: only negative items carry a severity")
        lo, hi = self.min_publication_months, self.max_publication_months
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"{self.code}: minimum publication {lo} exceeds maximum {hi}")
        if self.bureau is not None and self.data_class not in BUREAU_CLASSES:
            raise ValueError(f"{self.code}: {self.data_class} data never leaves the platform; "
                             "it cannot be marked for credit bureaus")
        if self.rating is not None:
            if self.polarity != "basic" or self.value_kind not in ("grade", "score"):
                raise ValueError(f"{self.code}: a rating is a basic item whose value kind is grade or score")
            if lo is not None or hi is not None:
                raise ValueError(f"{self.code}: a rating's period is its validity (rating.validity_months), "
                                 "not a publication period of its own")
        return self


class BureauTerms(Frozen):
    """On what footing an item's records go to credit bureaus: with the subject's
    consent to that bureau, or (`consent_required: false`) without it, because the law
    makes the information public — only for items of the public class, and a record
    then goes only while it is published (bureaus/service.py)."""

    consent_required: bool
    citation: str = Field(min_length=2)


class SeverityPeriods(Frozen):
    min_publication_months: int = Field(ge=0)
    max_publication_months: int = Field(ge=0)
    citation: str


Aspect = Literal["publish", "period", "deadlines"]
#: Which terms each aspect of publication is made of.
ASPECT_FIELDS: dict[str, tuple[str, ...]] = {
    "publish": ("publish",),
    "period": ("min_months", "max_months"),
    "deadlines": ("publish_within_working_days", "withdraw_within_working_days"),
}


class PublicationTerms(Frozen):
    """What a rule says about an item's publication; a term left out says nothing."""

    publish: bool | None = Field(default=None, description="published at all")
    min_months: int | None = Field(default=None, ge=0, le=120)
    max_months: int | None = Field(default=None, ge=0, le=120)
    publish_within_working_days: int | None = Field(default=None, ge=1, le=120,
                                                    description="published within N working days of the decision")
    withdraw_within_working_days: int | None = Field(default=None, ge=1, le=60,
                                                     description="withdrawn within N working days of a revocation")
    note: str | None = None

    def speaks_on(self, aspect: str) -> bool:
        return any(getattr(self, f) is not None for f in ASPECT_FIELDS[aspect])


class PublicationRule(Frozen):
    """A rule on publication and the items it governs: every item it names, or every
    item of the polarities / severities / departments it lists (all given parts must
    hold). `terms` hold for all of them, refined `by_severity` and then `by_item`.
    `severity_periods: true` takes its minimum and maximum periods from the
    catalogue's severity tiers (the rule those tiers are)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    citation: str = Field(min_length=2)
    items: list[str] = Field(default_factory=list)
    polarity: list[Polarity] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    severity_periods: bool = False
    terms: PublicationTerms = Field(default_factory=PublicationTerms)
    by_severity: dict[Severity, PublicationTerms] = Field(default_factory=dict)
    by_item: dict[str, PublicationTerms] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _scope(self) -> PublicationRule:
        if not (self.items or self.polarity or self.severity or self.departments):
            raise ValueError(f"rule {self.code}: name the items it governs (items, polarity, severity or departments)")
        stray = set(self.by_item) - set(self.items) if self.items else set()
        if stray:
            raise ValueError(f"rule {self.code}: by_item names items outside its scope: {sorted(stray)}")
        return self

    def governs(self, item: CatalogItemIn) -> bool:
        return ((not self.items or item.code in self.items)
                and (not self.polarity or item.polarity in self.polarity)
                and (not self.severity or item.severity in self.severity)
                and (not self.departments or item.department in self.departments))

    def aspects(self) -> set[str]:
        """The aspects this rule speaks on anywhere."""
        every = [self.terms, *self.by_severity.values(), *self.by_item.values()]
        out = {a for a in ASPECT_FIELDS for t in every if t.speaks_on(a)}
        return out | ({"period"} if self.severity_periods else set())


class Precedence(Frozen):
    """For one aspect, the rules in order: the first that governs an item and speaks on
    the aspect decides it."""

    aspect: Aspect
    order: list[str] = Field(min_length=1)
    why: str = Field(min_length=2)


class PublicationPolicy(Frozen):
    rules: list[PublicationRule] = Field(min_length=1)
    precedence: list[Precedence] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PublicationPolicy:
        codes = [r.code for r in self.rules]
        if len(set(codes)) != len(codes):
            raise ValueError("publication rule codes listed twice")
        aspects = [p.aspect for p in self.precedence]
        if len(set(aspects)) != len(aspects):
            raise ValueError("an aspect is given its precedence twice")
        for p in self.precedence:
            unknown = set(p.order) - set(codes)
            if unknown:
                raise ValueError(f"precedence of {p.aspect} names unknown rule(s) {sorted(unknown)}")
        placed: dict[str, set[str]] = {p.aspect: set(p.order) for p in self.precedence}
        for r in self.rules:
            for aspect in sorted(r.aspects()):
                if r.code not in placed.get(aspect, set()):
                    raise ValueError(f"rule {r.code} speaks on {aspect} but the precedence of {aspect} does not "
                                     "place it: say which rule wins")
        return self


class CatalogFile(Frozen):
    version: str
    citation: str
    severity_periods: dict[Severity, SeverityPeriods]
    positive_publication_months: int = Field(ge=0)
    departments: list[DepartmentIn]
    items: list[CatalogItemIn]
    publication: PublicationPolicy | None = None
    bureau_sharing: dict[str, BureauTerms] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _refs(self) -> CatalogFile:
        deps = {d.code for d in self.departments}
        seen: set[str] = set()
        for it in self.items:
            if it.department not in deps:
                raise ValueError(f"{it.code}: unknown department {it.department!r}")
            if it.code in seen:
                raise ValueError(f"{it.code}: listed twice")
            seen.add(it.code)
            if it.bureau is not None:
                terms = self.bureau_sharing.get(it.bureau)
                if terms is None:
                    raise ValueError(f"{it.code}: unknown bureau_sharing term {it.bureau!r}")
                if not terms.consent_required and it.data_class != "public":
                    raise ValueError(f"{it.code}: only public data may go to a bureau without consent "
                                     f"(term {it.bureau!r}); this item is {it.data_class}")
        for r in self.publication.rules if self.publication else []:
            for code in [*r.items, *r.by_item]:
                if code not in seen:
                    raise ValueError(f"publication rule {r.code}: unknown catalogue item {code!r}")
        return self

    def bureau_of(self, item: CatalogItemIn) -> dict[str, object] | None:
        """The item's bureau marker as stored with the item (None: never shared)."""
        if item.bureau is None:
            return None
        terms = self.bureau_sharing[item.bureau]
        return {"term": item.bureau, "consent_required": terms.consent_required, "citation": terms.citation}

    def periods(self, item: CatalogItemIn) -> tuple[int, int | None]:
        """Publication periods: the item's own, else its severity tier's, else none."""
        if item.polarity == "negative" and item.severity:
            tier = self.severity_periods[item.severity]
            lo = item.min_publication_months if item.min_publication_months is not None else tier.min_publication_months
            hi = item.max_publication_months if item.max_publication_months is not None else tier.max_publication_months
            return lo, hi
        if item.polarity == "positive":
            return item.min_publication_months or 0, item.max_publication_months or self.positive_publication_months
        return item.min_publication_months or 0, item.max_publication_months


class DataRequestIn(Frozen):
    item: str
    department: str
    status: Literal["requested", "approved", "rejected"]
    requested_on: dt.date | None = None
    decided_on: dt.date | None = None
    note: str | None = None


class DataRequestFile(Frozen):
    requests: list[DataRequestIn]
