"""The finance policy file (`data/fund.yaml`) and the API's shapes, validated so an
error names the file, the line and the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BandName = Literal["excellent", "good", "fair", "poor"]
SubjectKind = Literal["enterprise", "merchant", "homestay", "social_org", "individual"]
#: Kinds that post financing needs (issue 16: a firm, a merchant or a homestay).
NEED_KINDS = ("enterprise", "merchant", "homestay")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Labelled(Frozen):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class Cited(Frozen):
    value: Decimal
    citation: str = Field(min_length=2)


class FundPolicy(Frozen):
    """Who the fund covers and how much (风险补偿资金池)."""

    kinds: list[SubjectKind] = Field(min_length=1, description="eligible borrowers' kinds")
    collateral_free_only: bool = True
    max_principal: Cited = Field(description="largest eligible principal, yuan")
    share: Cited = Field(description="share of the principal loss the fund covers (0..1)")
    cap_per_loan: Cited = Field(description="most paid on one loan, yuan")
    cap_per_bank: Cited = Field(description="most paid to one bank in all, yuan")
    claim_window_days: int = Field(ge=1, le=3650)
    claim_window_citation: str = Field(min_length=2)
    default_after_days: int = Field(ge=1, le=3650, description="overdue days after which a loan is in default")
    default_citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _ranges(self) -> FundPolicy:
        if not (0 < self.share.value <= 1):
            raise ValueError("share.value must be in (0, 1]")
        for name in ("max_principal", "cap_per_loan", "cap_per_bank"):
            if getattr(self, name).value <= 0:
                raise ValueError(f"{name}.value must be positive")
        return self


class InDefaultRule(Frozen):
    """Whether a borrower with a loan of this platform in default (past
    `default_after_days`, not repaid) is still matched and may apply."""

    exclude: bool = Field(description="true: such a borrower matches no product and cannot apply")
    citation: str = Field(min_length=2)


#: A policy file written before the rule: nobody is excluded for a default.
NOT_DECLARED = InDefaultRule(exclude=False, citation="not declared in this policy")


class FinanceFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    basis: str = Field(min_length=2)
    fund: FundPolicy
    decline_reasons: list[Labelled] = Field(min_length=1)
    consent_days: int = Field(ge=1, le=3650, description="how long a consent for one need lasts")
    consent_citation: str = Field(min_length=2)
    monitoring_channels: list[str] = Field(default_factory=lambda: ["inbox"], min_length=1,
                                           description="alert channels post-loan warnings go out on")
    in_default: InDefaultRule = Field(default=NOT_DECLARED,
                                      description="a borrower with a loan in default: excluded or not")

    @model_validator(mode="after")
    def _unique(self) -> FinanceFile:
        codes = [r.code for r in self.decline_reasons]
        if len(codes) != len(set(codes)):
            raise ValueError("decline_reasons: codes must be unique")
        return self


# ----------------------------------------------------------------------------- API shapes

class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BankIn(In):
    code: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)


class ProductIn(In):
    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    kinds: list[SubjectKind] = Field(min_length=1)
    min_bands: dict[str, BandName] = Field(default_factory=dict,
                                           description="model -> lowest band; met in any one graded model")
    lists_absent: list[str] = Field(default_factory=list, description="list codes the subject must not be on")
    amount_min: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    amount_max: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    term_min: int = Field(ge=1, le=360)
    term_max: int = Field(ge=1, le=360)
    rate_min: Decimal = Field(ge=0, le=100, decimal_places=3)
    rate_max: Decimal = Field(ge=0, le=100, decimal_places=3)
    collateral_free: bool = True

    @model_validator(mode="after")
    def _ranges(self) -> ProductIn:
        if self.amount_min > self.amount_max:
            raise ValueError("amount_min is above amount_max")
        if self.term_min > self.term_max:
            raise ValueError("term_min is above term_max")
        if self.rate_min > self.rate_max:
            raise ValueError("rate_min is above rate_max")
        return self


class NeedIn(In):
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    term_months: int = Field(ge=1, le=360)
    purpose: str = Field(min_length=1, max_length=2000)
    collateral: bool = False
    contact_name: str = Field(min_length=1, max_length=100)
    contact_phone: str = Field(min_length=5, max_length=30, pattern=r"^[0-9+\- ]+$")


class DecisionIn(In):
    approve: bool
    amount: Decimal | None = Field(default=None, gt=0, max_digits=16, decimal_places=2)
    rate: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=3)
    term_months: int | None = Field(default=None, ge=1, le=360)
    decline_code: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _complete(self) -> DecisionIn:
        if self.approve and (self.amount is None or self.rate is None or self.term_months is None):
            raise ValueError("an approval names amount, rate and term_months")
        if not self.approve and not self.decline_code:
            raise ValueError("a decline names its decline_code")
        return self


class RepaymentIn(In):
    ref: str = Field(min_length=1, max_length=80)
    paid_on: dt.date
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2)


class StatusIn(In):
    """The bank's report of a loan's standing on a day."""

    on: dt.date
    overdue_days: int = Field(ge=0, le=36500)
    outstanding: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
