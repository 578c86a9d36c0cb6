"""The shape of list definitions (`data/lists.yaml`) and of upper-platform list
imports, validated on load so an error names the file, line and field.

A list is law turned into data: who identifies (认定单位), on what legal basis, by
which entry criteria, for how long it is published, how a subject leaves it, and which
departments respond. Nothing here is hard-coded in the service.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from creditgov.ingest.schemas import Filter, Step

CODE = r"^[a-z][a-z0-9-]*$"
UNIT = r"^[a-z][a-z0-9_]*$"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# A text a page shows in the reader's language has its English beside the Chinese
# (`legal_basis` / `legal_basis_en`, a criterion's `basis` / `basis_en`, an exit
# condition's `text` / `text_en`). The English is optional so a file written before it
# existed still loads — its English pages show the Chinese — but when given it must say
# something; `ListsFile.untranslated` names what a file leaves in Chinese only.
def _said(v: str | None) -> str | None:
    if v is not None and len(v.strip()) < 2:
        raise ValueError("an English text says something: give it, or leave the field out to show the Chinese")
    return v


English = Annotated[str | None, AfterValidator(_said),
                    Field(description="the text on English pages; else the Chinese one")]


class ResponseWindow(Frozen):
    """How long the subject has to make its representation (陈述申辩) after notice.

    `counting: working` counts working days on the calendar the objection procedure
    uses (statutory holidays and adjusted working weekends: `workflows.calendar`); a
    rule that says calendar days says `counting: calendar`. `service.response_due` is
    the one place a window is counted."""

    days: int = Field(ge=0, le=90)
    counting: Literal["working", "calendar"]
    citation: str = Field(min_length=2)


class PublicationRange(Frozen):
    """The period a decision may choose for an entry (国办发〔2020〕49号: a
    serious-dishonesty entry is published for 1 to 3 years); `default_months` applies
    when the decision does not choose, and the decision states the period either way."""

    min_months: int = Field(ge=1, le=120)
    max_months: int = Field(ge=1, le=120)
    default_months: int = Field(ge=1, le=120)
    citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _inside(self) -> PublicationRange:
        if not self.min_months <= self.default_months <= self.max_months:
            raise ValueError(f"default_months {self.default_months} is outside {self.min_months}–{self.max_months}")
        return self


class _Criterion(Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    basis: str = Field(min_length=2, description="the reason the proposal states, with its rule")
    basis_en: English = None
    identifying_unit: str | None = Field(default=None, pattern=UNIT,
                                         description="overrides the list's unit for this criterion")
    subject_kinds: list[str] = Field(default_factory=list, description="empty: every kind")


class EvaluationCriterion(_Criterion):
    """From evaluation results: the grade was in `grades` in each of the latest
    `consecutive_runs` published runs of `model` (as of the run date), optionally with
    no negative record in the last `no_negative_years` years."""

    kind: Literal["evaluation"]
    model: str
    grades: list[str] = Field(min_length=1)
    consecutive_runs: int = Field(default=1, ge=1, le=12)
    no_negative_years: int | None = Field(default=None, ge=1, le=10)


class RecordCriterion(_Criterion):
    """From records: a record of one of `items`, in force on the as-of date. The entry
    rests on that record, so repairing or revoking it makes the entry exit."""

    kind: Literal["record"]
    items: list[str] = Field(min_length=1)


class ManualCriterion(_Criterion):
    """Manual identification: an officer proposes with a decision document number."""

    kind: Literal["manual"]


Criterion = Annotated[EvaluationCriterion | RecordCriterion | ManualCriterion, Field(discriminator="kind")]


class ExitCondition(Frozen):
    kind: Literal["expiry", "repair", "upper", "manual"]
    text: str = Field(min_length=2)
    text_en: English = None


class ListDef(Frozen):
    code: str = Field(pattern=CODE)
    name_zh: str
    name_en: str
    kind: Literal["red", "black", "attention", "other"]
    public_code: int | None = Field(default=None, description="code on public platforms: 2 red, 4 attention, 8 black")
    identifying_unit: str = Field(pattern=UNIT)
    legal_basis: str = Field(min_length=2)
    legal_basis_en: English = None
    publication_months: int | None = Field(default=None, ge=1, le=120)
    publication_range: PublicationRange | None = Field(
        default=None, description="the decision chooses the period within it (then publication_months is its default)")
    response_window: ResponseWindow
    requires_decision_no: bool = Field(default=False, description="approval needs a written decision's number")
    criteria: list[Criterion] = Field(min_length=1)
    exit_conditions: list[ExitCondition] = Field(min_length=1)
    responding_departments: list[str] = Field(min_length=1)
    origin: Literal["local", "upper"] = "local"

    @model_validator(mode="after")
    def _unique_criteria(self) -> ListDef:
        r = self.publication_range
        if r is not None and self.publication_months != r.default_months:
            raise ValueError(f"publication_months ({self.publication_months}) must equal the range's "
                             f"default_months ({r.default_months})")
        ids = [c.id for c in self.criteria]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"criterion ids listed twice: {sorted(dup)}")
        return self

    def criterion(self, cid: str) -> EvaluationCriterion | RecordCriterion | ManualCriterion | None:
        return next((c for c in self.criteria if c.id == cid), None)

    def legal_basis_in(self, lang: str) -> str:
        """The list's legal basis in `lang` (the Chinese where no English was given)."""
        return ((self.legal_basis_en if lang == "en" else None) or self.legal_basis).strip()

    def basis_in(self, basis: str | None, lang: str) -> str | None:
        """An entry's stated basis in `lang`: a criterion's own basis in its English when
        the entry states it unchanged; an officer's own words, or an upper platform's,
        as written."""
        if lang != "en" or not basis:
            return basis
        hit = next((c for c in self.criteria if c.basis.strip() == basis.strip() and c.basis_en), None)
        return hit.basis_en if hit else basis

    def untranslated(self) -> list[str]:
        """The texts this list gives in Chinese only (field paths)."""
        out = [] if self.legal_basis_en else ["legal_basis_en"]
        out += [f"criteria[{c.id}].basis_en" for c in self.criteria if not c.basis_en]
        out += [f"exit_conditions[{e.kind}].text_en" for e in self.exit_conditions if not e.text_en]
        return [f"{self.code}: {x}" for x in out]


class ListsFile(Frozen):
    version: str
    citation: str
    lists: list[ListDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ListsFile:
        codes = [x.code for x in self.lists]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ValueError(f"list codes listed twice: {sorted(dup)}")
        return self

    def untranslated(self) -> list[str]:
        """Every text of the file given in Chinese only: shown in Chinese on English pages."""
        return [x for d in self.lists for x in d.untranslated()]


UPPER_FIELDS = frozenset({
    "list_code", "uscc", "resident_id", "name", "decision_no", "basis", "identifying_unit",
    "published_on", "expires_on", "exited_on", "exit_reason",
})


class UpperListSpec(Frozen):
    """How an upper platform's list file maps to list entries. The same language as an
    ingestion spec (columns, ordered `steps`, `filters`, formats and encodings), so the
    ingestion readers and transformation steps are reused unchanged."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title: str | None = None
    source: str = Field(min_length=2, description="the upper platform the list comes from")
    format: Literal["csv", "xlsx", "jsonl"]
    encoding: Literal["utf-8", "utf-8-sig", "gbk", "gb18030"] = "utf-8"
    delimiter: str = ","
    sheet: str | None = None
    columns: dict[str, str]
    list_map: dict[str, str] = Field(default_factory=dict,
                                     description="the platform's list names -> our list codes")
    steps: list[Step] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)

    @property
    def attributes(self) -> dict[str, str]:  # what the ingestion readers expect of a spec
        return {}

    @model_validator(mode="after")
    def _fields(self) -> UpperListSpec:
        unknown = set(self.columns) - UPPER_FIELDS
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(UPPER_FIELDS)}")
        if "list_code" not in self.columns:
            raise ValueError("an upper list spec must map `list_code`")
        if not {"uscc", "resident_id"} & set(self.columns):
            raise ValueError("an upper list spec must map `uscc` or `resident_id`")
        if "published_on" not in self.columns:
            raise ValueError("an upper list spec must map `published_on`")
        for s in self.steps:
            if s.field != "*" and s.field not in self.columns:
                raise ValueError(f"step {s.op!r} names field {s.field!r}, which no column maps")
        for f in self.filters:
            if f.field not in self.columns:
                raise ValueError(f"filter names field {f.field!r}, which no column maps")
        return self
