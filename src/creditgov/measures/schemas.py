"""The joint measures catalogue (联合奖惩措施清单) and the check scenarios as data.

A measure says who implements it, on which legal basis, in which scenarios, and when
it applies: a list of conditions (any one suffices), each a conjunction of list
membership, grade, colour and commitment status. `unless_lists` keeps incentives away
from subjects on punitive lists, `unless` from anyone meeting another condition (e.g. a
commitment breached in the last year). Validated on load so an error names file:line:field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MeasureKind = Literal["incentive", "punishment", "supervision"]
Colour = Literal["green", "yellow", "red"]
CODE = r"^[a-z][a-z0-9-]*$"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommitmentCondition(Frozen):
    """A commitment of `type` (any type when omitted) in `status`: `signed` means
    signed and not yet verified nor past its deadline; `fulfilled` / `breached` count
    when verified within the last `within_months` (always, when omitted)."""

    type: str | None = None
    status: Literal["signed", "fulfilled", "breached"] = "signed"
    within_months: int | None = Field(default=None, ge=1, le=120)


class Condition(Frozen):
    lists: list[str] = Field(default_factory=list, description="on any of these lists")
    grades: list[str] = Field(default_factory=list, description="current grade is one of these")
    colours: list[Colour] = Field(default_factory=list, description="current colour is one of these")
    model: str | None = Field(default=None, description="whose grade/colour; default the check's model")
    commitment: CommitmentCondition | None = None

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if not (self.lists or self.grades or self.colours or self.commitment):
            raise ValueError("a condition needs lists, grades, colours or a commitment")
        if self.model and not (self.grades or self.colours):
            raise ValueError("`model` only qualifies grades or colours")
        return self

    def describe(self) -> str:
        parts = []
        if self.lists:
            parts.append("on list " + "/".join(self.lists))
        if self.grades:
            parts.append("grade " + "/".join(self.grades) + (f" ({self.model})" if self.model else ""))
        if self.colours:
            parts.append("colour " + "/".join(self.colours) + (f" ({self.model})" if self.model else ""))
        if self.commitment:
            parts.append(f"commitment {self.commitment.type or 'any'} {self.commitment.status}")
        return " and ".join(parts)


class MeasureDef(Frozen):
    code: str = Field(pattern=CODE)
    name_zh: str
    name_en: str
    kind: MeasureKind
    department: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="implementing department")
    department_name: str
    legal_basis: str = Field(min_length=2)
    scenarios: list[str] = Field(min_length=1)
    when: list[Condition] = Field(min_length=1, description="any one condition suffices")
    unless_lists: list[str] = Field(default_factory=list)
    unless: list[Condition] = Field(default_factory=list, description="blocked when any of these holds")
    action: str = Field(min_length=2, description="what the department does")
    active: bool = True


class MeasuresFile(Frozen):
    version: str
    citation: str
    measures: list[MeasureDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> MeasuresFile:
        codes = [m.code for m in self.measures]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ValueError(f"measure codes listed twice: {sorted(dup)}")
        return self


class ScenarioDef(Frozen):
    code: str = Field(pattern=CODE)
    name_zh: str
    name_en: str
    department: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the department that usually checks")
    models: dict[str, str] = Field(default_factory=dict, description="subject kind -> model, overriding defaults")
    description: str | None = None


class ScenariosFile(Frozen):
    version: str
    citation: str
    default_models: dict[str, str] = Field(description="subject kind -> the model whose grade a check shows")
    scenarios: list[ScenarioDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ScenariosFile:
        codes = [x.code for x in self.scenarios]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ValueError(f"scenario codes listed twice: {sorted(dup)}")
        return self
