"""The shapes of the workflow rules file and of a working-day year file, validated on
load so an error names the file, line and field.

Deadlines are law or local policy, so they are data with their citation. The repair
tiers' publication periods are NOT here: they belong to the catalogue
(`severity_periods`, copied onto each item), and repair reads them from there so one
change of the catalogue moves every date.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["minor", "general", "serious"]
UNIT = r"^[a-z][a-z0-9_]*$"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObjectionRules(Frozen):
    handling_working_days: int = Field(ge=1, le=60)
    max_total_working_days: int = Field(ge=1, le=120, description="the deadline after the one extension")
    extensions: int = Field(ge=0, le=1)
    reviews: int = Field(ge=0, le=1)
    review_working_days: int = Field(ge=1, le=60)
    review_authority: str = Field(pattern=UNIT, description="department that handles a review (复核)")
    citation: str = Field(min_length=2)
    review_citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _order(self) -> ObjectionRules:
        if self.max_total_working_days < self.handling_working_days:
            raise ValueError("max_total_working_days is below handling_working_days")
        return self


class TierRules(Frozen):
    """What a tier asks beyond the minimum period (which the catalogue holds)."""

    obligations_required: bool = True
    commitment_required: bool = True
    training_required: bool = False
    citation: str = Field(min_length=2)


class RepairRules(Frozen):
    intake_working_days: int = Field(ge=1, le=60)
    decision_working_days: int = Field(ge=1, le=60)
    commitment_type: str = Field(min_length=2, description="the commitments domain's template type")
    intake_unit: str = Field(pattern=UNIT, description="the credit office that receives applications")
    tiers: dict[Severity, TierRules]
    end_publication_requires_obligations: bool = True
    citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _all_tiers(self) -> RepairRules:
        missing = {"minor", "general", "serious"} - set(self.tiers)
        if missing:
            raise ValueError(f"tiers missing: {sorted(missing)}")
        return self


class ExchangeRules(Frozen):
    """Where a record goes by default even before the exchange logs a share: public and
    shared records are collected upward (归集) to the upper platform."""

    recipients_by_data_class: dict[Literal["public", "shared", "restricted", "secret"], list[str]]
    citation: str = Field(min_length=2)


class NotificationRules(Frozen):
    """Channels (of the alerts domain's configured channels) that carry each step's
    notice besides the inbox, which always gets it at once. A channel the deployment
    has not configured is skipped. Deployment settings, not law: no citation."""

    subject_channels: list[str] = Field(default_factory=list)
    department_channels: list[str] = Field(default_factory=list)
    overdue_severity: Literal["low", "medium", "high", "critical"] = "high"


class RulesFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    credit_office: str = Field(pattern=UNIT)
    objection: ObjectionRules
    repair: RepairRules
    exchange: ExchangeRules
    notifications: NotificationRules = NotificationRules()


class WorkdayIn(Frozen):
    date: dt.date
    working: bool
    name: str = Field(min_length=1, max_length=100)


class WorkdayYearFile(Frozen):
    """A year's holiday arrangement (e.g. the State Council notice for a year the
    `holidays` package does not know yet): every day listed overrides the package."""

    year: int = Field(ge=2000, le=2100)
    source: str = Field(min_length=2, description="the notice, e.g. 国办发明电〔2026〕N号")
    days: list[WorkdayIn]

    @model_validator(mode="after")
    def _same_year(self) -> WorkdayYearFile:
        seen: set[dt.date] = set()
        for d in self.days:
            if d.date.year != self.year:
                raise ValueError(f"{d.date} is not in {self.year}")
            if d.date in seen:
                raise ValueError(f"{d.date} listed twice")
            seen.add(d.date)
        return self
