"""The joint measures catalogue (联合奖惩措施清单) and the check scenarios as data.

A measure says who implements it, on which legal basis, in which scenarios, and when
it applies: a list of conditions (any one suffices), each a conjunction of list
membership, band, grade, colour and commitment status. `unless_lists` keeps incentives
away from subjects on punitive lists, `unless` from anyone meeting another condition
(e.g. a commitment breached in the last year). Validated on load so an error names
file:line:field. The texts a page shows (the implementing department's name, the legal
basis, the action) have their English beside them (`*_en`); a file without them still
loads, and its English pages show the Chinese.

A grade condition reads bands, never a bare label: "band at least good" of the model
the scenario uses for the subject's kind (labels mean different things in different
models: `scoring/bands.py`), or a named model's own grades ("grade A of
yiwu-ecommerce"). A scenario names, for every subject kind, the models whose grade a
check reads (the first that graded the subject), or says why the kind is checked on
lists and commitments only (`ungraded`) or not checked there at all (`not_checked`).

`related_parties` says which related parties a check warns about (a person in one of
these roles of the checked firm, or a firm such a person also holds one of these roles
in, on one of these lists today). A warning is information: no measure reads it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditgov.lists.schemas import (
    English,  # an optional English text beside the Chinese, said when given
)
from creditgov.scoring.bands import BandName

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


class BandRange(Frozen):
    """The grade's shared band is `at_least` this one (or better), and/or `at_most`
    this one (or worse)."""

    at_least: BandName | None = None
    at_most: BandName | None = None

    @model_validator(mode="after")
    def _one(self) -> BandRange:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least and/or at_most")
        return self

    def describe(self) -> str:
        parts = []
        if self.at_least:
            parts.append(f"≥ {self.at_least}")
        if self.at_most:
            parts.append(f"≤ {self.at_most}")
        return "band " + " and ".join(parts)


class Condition(Frozen):
    lists: list[str] = Field(default_factory=list, description="on any of these lists")
    band: BandRange | None = Field(default=None, description="the grade's shared band")
    grades: list[str] = Field(default_factory=list, description="grade is one of these (of the named model)")
    colours: list[Colour] = Field(default_factory=list, description="current colour is one of these")
    model: str | None = Field(default=None, description="whose grade/colour; default the check's model")
    commitment: CommitmentCondition | None = None

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if not (self.lists or self.band or self.grades or self.colours or self.commitment):
            raise ValueError("a condition needs lists, a band, grades, colours or a commitment")
        if self.model and not (self.band or self.grades or self.colours):
            raise ValueError("`model` only qualifies a band, grades or colours")
        if self.grades and not self.model:
            raise ValueError("grades name their model (a label means different things in different models); "
                             "or use `band: {at_least: …}`, which holds in every model")
        return self

    @property
    def reads_grade(self) -> bool:
        return bool(self.band or self.grades or self.colours)

    def describe(self) -> str:
        parts = []
        if self.lists:
            parts.append("on list " + "/".join(self.lists))
        if self.band:
            parts.append(self.band.describe() + (f" ({self.model})" if self.model else ""))
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
    department_name_en: English = None
    legal_basis: str = Field(min_length=2)
    legal_basis_en: English = None
    scenarios: list[str] = Field(min_length=1)
    when: list[Condition] = Field(min_length=1, description="any one condition suffices")
    unless_lists: list[str] = Field(default_factory=list)
    unless: list[Condition] = Field(default_factory=list, description="blocked when any of these holds")
    action: str = Field(min_length=2, description="what the department does")
    action_en: English = None
    active: bool = True

    def untranslated(self) -> list[str]:
        """The texts this measure gives in Chinese only (shown in Chinese on English pages)."""
        return [f"{self.code}: {f}_en" for f in ("department_name", "legal_basis", "action")
                if not getattr(self, f + "_en")]


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

    def untranslated(self) -> list[str]:
        return [x for m in self.measures for x in m.untranslated()]


def _as_list(v: object) -> object:
    """A kind's models: one name or several (the first that graded the subject counts)."""
    if isinstance(v, dict):
        return {k: [m] if isinstance(m, str) else m for k, m in v.items()}
    return v


LinkRole = Literal["legal_representative", "principal", "employee"]
_CONTROL: tuple[LinkRole, ...] = ("legal_representative", "principal")


class RelatedParties(Frozen):
    """Which related parties a credit check names in a warning (关联方风险提示). Shown
    beside the measures, never changing them: 国办发〔2020〕49号 forbids extending a
    punishment beyond what law names, and the joint-punishment memoranda name a listed
    firm's legal representative and principal as its related persons."""

    roles: list[LinkRole] = Field(default_factory=lambda: list(_CONTROL), min_length=1,
                                  description="the roles of a link that make its other end a related party")
    lists: list[str] = Field(default_factory=lambda: ["serious-dishonesty"],
                             description="lists a related party on which is warned about (empty: no warnings)")
    hops: int = Field(default=2, ge=1, le=2, description="1: the subject's own people or firms; 2: theirs too")
    citation: str | None = None


class UpperEvaluations(Frozen):
    """Whether a check may read the upper platform's evaluation of a subject this
    region has not graded (received by the exchange), and which of its bands count —
    like a foreign credit code. A local grade, or an accepted code, always wins."""

    bands: list[BandName] = Field(min_length=1, description="the upper platform's bands that count here")
    max_age_days: int = Field(ge=1, le=1100, description="an evaluation older than this (its as-of date) is not read")
    citation: str = Field(min_length=2, description="the basis, or the local choice stated as such")


class ScenarioDef(Frozen):
    code: str = Field(pattern=CODE)
    name_zh: str
    name_en: str
    department: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the department that usually checks")
    models: dict[str, list[str]] = Field(
        default_factory=dict, description="subject kind -> models, the first that graded the subject counts")
    ungraded: dict[str, str] = Field(
        default_factory=dict, description="kind -> why it is checked on lists and commitments only")
    not_checked: dict[str, str] = Field(default_factory=dict, description="kind -> why the scenario refuses it")
    related_parties: RelatedParties | None = Field(
        default=None, description="the related-party warnings of this scenario's checks (default: the file's)")
    upper_evaluations: UpperEvaluations | None = Field(
        default=None, description="the upper platform's evaluations read for a subject graded nowhere here")
    description: str | None = None
    citation: str | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _lists(cls, v: object) -> object:
        return _as_list(v)

    @model_validator(mode="after")
    def _disjoint(self) -> ScenarioDef:
        for kind in self.not_checked:
            if kind in self.models or kind in self.ungraded:
                raise ValueError(f"kind {kind!r} is both checked and not checked in scenario {self.code}")
        for kind, names in self.models.items():
            if not names:
                raise ValueError(f"kind {kind!r}: name at least one model")
        return self

    def models_for(self, kind: str) -> list[str]:
        return list(self.models.get(kind, []))


class ScenariosFile(Frozen):
    version: str
    citation: str
    default_models: dict[str, list[str]] = Field(
        description="subject kind -> the models whose grade a check reads (the first that graded the subject)")
    ungraded: dict[str, str] = Field(
        default_factory=dict, description="kinds no model grades, checked on lists and commitments only, and why")
    related_parties: RelatedParties = Field(
        default_factory=RelatedParties, description="which related parties a check warns about (information only)")
    scenarios: list[ScenarioDef] = Field(min_length=1)

    @field_validator("default_models", mode="before")
    @classmethod
    def _lists(cls, v: object) -> object:
        return _as_list(v)

    @model_validator(mode="after")
    def _unique(self) -> ScenariosFile:
        codes = [x.code for x in self.scenarios]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ValueError(f"scenario codes listed twice: {sorted(dup)}")
        return self

    def resolved(self, s: ScenarioDef) -> ScenarioDef:
        """The scenario with the defaults filled in: its own models and kinds win, a
        kind it does not check drops the default."""
        models = {k: v for k, v in self.default_models.items() if k not in s.not_checked and k not in s.ungraded}
        ungraded = {k: v for k, v in self.ungraded.items()
                    if k not in s.not_checked and k not in s.models}
        return s.model_copy(update={"models": {**models, **s.models}, "ungraded": {**ungraded, **s.ungraded},
                                    "related_parties": s.related_parties or self.related_parties})
