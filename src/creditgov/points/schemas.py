"""The earning rules file and the API's shapes, validated so an error names the file,
the line and the field."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BandName = Literal["excellent", "good", "fair", "poor"]
Period = Literal["month", "year"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cap(Frozen):
    period: Period
    points: int = Field(ge=1, le=1_000_000)


class EvaluationRule(Frozen):
    model: str = Field(min_length=1, max_length=80)
    points: dict[BandName, int] = Field(description="points per shared band; a band left out earns none")
    citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _positive(self) -> EvaluationRule:
        if any(v < 1 for v in self.points.values()):
            raise ValueError("points per band must be positive")
        return self


class RecordRule(Frozen):
    item: str = Field(min_length=1, max_length=80, description="a positive catalogue item")
    points: int | None = Field(default=None, ge=1)
    per_unit: int | None = Field(default=None, ge=1, description="points per unit of the record's value")
    cap: Cap | None = None
    citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _one_amount(self) -> RecordRule:
        if (self.points is None) == (self.per_unit is None):
            raise ValueError("give exactly one of points and per_unit")
        return self


class AwardRule(Frozen):
    max_points: int = Field(ge=1)
    cap: Cap | None = None
    citation: str = Field(min_length=2)


class ExpiryRule(Frozen):
    months: int = Field(ge=1, le=240)
    citation: str = Field(min_length=2)


class CounterRule(Frozen):
    """The counter's second factor: how long a one-time code holds and how many wrong
    codes one challenge takes (the account's own lock-out applies on top)."""

    code_minutes: int = Field(default=5, ge=1, le=30)
    attempts: int = Field(default=3, ge=1, le=10)
    citation: str = Field(default="local choice: 柜台兑换需居民本人第二因素 (一次性短信验证码或身份验证器)",
                          min_length=2)


class RulesFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    basis: str = Field(min_length=2)
    evaluations: list[EvaluationRule] = []
    records: list[RecordRule] = []
    lookback_months: int = Field(ge=1, le=240)
    awards: AwardRule
    expiry: ExpiryRule
    reservation_hours: int = Field(ge=1, le=24 * 90)
    counter: CounterRule = CounterRule()

    @model_validator(mode="after")
    def _unique(self) -> RulesFile:
        for what, keys in (("evaluations", [r.model for r in self.evaluations]),
                           ("records", [r.item for r in self.records])):
            dup = {k for k in keys if keys.count(k) > 1}
            if dup:
                raise ValueError(f"{what}: {sorted(dup)[0]!r} appears twice")
        return self

    def record_rule(self, item: str) -> RecordRule | None:
        return next((r for r in self.records if r.item == item), None)


# ---------------------------------------------------------------- the API's shapes
class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offer_id: int = Field(ge=1, le=2**31 - 1)
    subject_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                   description="staff at a counter redeem for a resident; a subject for itself")


class CodeIn(BaseModel):
    """A redemption code a shop confirms (the API's body and the confirmation page's form)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=20)


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject_id: int = Field(ge=1, le=2**31 - 1)
    points: int = Field(ge=1, le=1_000_000)
    reason: str = Field(min_length=2, max_length=2000)


class ShopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    name: str = Field(min_length=1, max_length=200)
    subject_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    address: str | None = Field(default=None, max_length=300)


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shop: str = Field(min_length=2, max_length=40, description="the shop's code")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    price: int = Field(ge=1, le=1_000_000)
    stock: int = Field(ge=0, le=1_000_000)
    valid_from: dt.date
    valid_until: dt.date
    kinds: list[str] = Field(default_factory=list, max_length=10)
    min_band: BandName | None = None
    per_subject: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _dates(self) -> OfferIn:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


# ------------------------------------------------------------------ boards and the credit-merchant selection
class OptInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opted_in: bool = Field(description="appear on the public boards (name masked) or not")


class SelectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    title: str = Field(min_length=1, max_length=200)


class CandidateNoteIn(BaseModel):
    """A nomination (why this merchant) or an objection (what is wrong)."""

    model_config = ConfigDict(extra="forbid")
    subject_id: int = Field(ge=1, le=2**31 - 1)
    text: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision_no: str = Field(min_length=1, max_length=120)
    reject: dict[int, str] = Field(default_factory=dict, description="subject id -> the reason it is not awarded")
