"""The catalogue's YAML shape, validated on load."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Polarity = Literal["positive", "negative", "neutral", "basic"]
Severity = Literal["minor", "general", "serious"]
DataClass = Literal["public", "shared", "restricted", "secret"]
ValueKind = Literal["none", "number", "amount", "grade", "score", "days"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DepartmentIn(Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str


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

    @model_validator(mode="after")
    def _severity_rules(self) -> CatalogItemIn:
        if self.polarity == "negative" and self.severity is None:
            raise ValueError(f"{self.code}: a negative item needs a severity (minor/general/serious)")
        if self.polarity != "negative" and self.severity is not None:
            raise ValueError(f"{self.code}: only negative items carry a severity")
        lo, hi = self.min_publication_months, self.max_publication_months
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"{self.code}: minimum publication {lo} exceeds maximum {hi}")
        return self


class SeverityPeriods(Frozen):
    min_publication_months: int = Field(ge=0)
    max_publication_months: int = Field(ge=0)
    citation: str


class CatalogFile(Frozen):
    version: str
    citation: str
    severity_periods: dict[Severity, SeverityPeriods]
    positive_publication_months: int = Field(ge=0)
    departments: list[DepartmentIn]
    items: list[CatalogItemIn]

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
        return self

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
