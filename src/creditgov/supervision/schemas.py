"""The shape of supervision policies (`data/policies.yaml`), validated on load so an
error names the file, the line and the field.

A policy is graded supervision turned into data: which evaluation it reads (a grade,
a colour or a score), its bands with a sampling ratio and a yearly frequency cap for
each, who inspects (a pool, how many per task, conflicts of interest), which catalogue
items an inspection's result becomes, and how often the plan draws.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditgov.core.labels import Label

NAME = r"^[a-z][a-z0-9-]*$"
InspectorKind = Literal["inspector", "grid_worker"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Band(Frozen):
    """A band of subjects and how hard it is inspected."""

    label: str = Field(min_length=1, max_length=20)
    name_zh: str | None = Field(default=None, max_length=40, description="the band in words (pages); else its label")
    name_en: str | None = Field(default=None, max_length=60)
    grades: list[str] = Field(default_factory=list, description="basis grade: the grades in this band")
    colours: list[Literal["green", "yellow", "red"]] = Field(default_factory=list)
    min_score: Decimal | None = Field(default=None, description="basis score: inclusive lower bound")
    max_score: Decimal | None = Field(default=None, description="basis score: exclusive upper bound")
    ratio: Decimal = Field(ge=0, le=1, description="share of the band drawn in one draw")
    ratio_range: tuple[Decimal, Decimal] | None = Field(
        default=None, description="the published range the ratio must lie in (checked on load)")
    max_per_year: int | None = Field(
        default=None, ge=1, description="inspections in the last 365 days after which a subject is not drawn")
    frequency: str | None = Field(default=None, description="the published frequency, as written")
    citation: str = Field(min_length=2)

    @model_validator(mode="after")
    def _range(self) -> Band:
        if self.ratio_range is not None:
            lo, hi = self.ratio_range
            if not lo <= self.ratio <= hi:
                raise ValueError(f"band {self.label}: ratio {self.ratio} is outside the published range {lo}–{hi}")
        return self


class Matter(Frozen):
    """An inspection matter (检查事项) of a policy's random checks, as its published list
    of random-check matters (随机抽查事项清单, 国办发〔2015〕58号) writes it: what is checked,
    how, and the provision that allows it. Printed on the inspection notice."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    title: str = Field(min_length=2, max_length=200, description="the matter, as the list writes it (Chinese)")
    content: str | None = Field(default=None, max_length=500, description="what is checked")
    method: str | None = Field(default=None, max_length=200, description="how: 书面检查, 实地核查, 网络监测 …")
    citation: str = Field(min_length=2, max_length=500, description="the provision that allows the check")
    bands: list[str] = Field(default_factory=list, description="only for these bands (empty: every band)")


class Exclusions(Frozen):
    """Conflicts of interest (回避): an inspector is never drawn for a subject in the
    region they work in, nor for a subject they inspected last time."""

    own_region: bool = True
    previous_inspectors: bool = True


class Results(Frozen):
    """Which catalogue item each outcome becomes (a credit record, through ingestion)."""

    passed: str
    problems: str
    penalty: str | None = None


class Plan(Frozen):
    """The periodic plan: one draw per period over `scope`, with a fresh random seed
    published with it."""

    every: Literal["month", "quarter", "half_year", "year"]
    scope: dict[str, Any] = Field(default_factory=dict)


class PolicyDef(Frozen):
    name: str = Field(pattern=NAME)
    title: str
    title_en: str | None = Field(default=None, description="the title on English pages; else the Chinese one")
    department: str = Field(description="the inspecting department (its pool, its result records)")
    citation: str = Field(min_length=2)
    basis: Literal["grade", "colour", "score"]
    model: str | None = Field(default=None, description="the evaluation model; colour basis may use the colour codes")
    subject_kinds: list[str] = Field(min_length=1)
    unrated: str | None = Field(default=None, description="band label for subjects without a result; none: left out")
    bands: list[Band] = Field(min_length=1)
    inspector_pool: str
    inspector_kinds: list[InspectorKind] = Field(default_factory=lambda: list[InspectorKind](["inspector"]))
    inspectors_per_task: int = Field(default=2, ge=2, le=10, description="双随机: at least two")
    max_tasks_per_inspector: int | None = Field(default=None, ge=1)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    due_days: int = Field(default=30, ge=1, le=365)
    results: Results
    plan: Plan | None = None
    matters: list[Matter] = Field(default_factory=list, description="the inspection matters (检查事项)")

    @model_validator(mode="after")
    def _bands(self) -> PolicyDef:
        labels = [b.label for b in self.bands]
        if len(set(labels)) != len(labels):
            raise ValueError("band labels must be unique")
        codes = [m.code for m in self.matters]
        if len(set(codes)) != len(codes):
            raise ValueError("inspection matter codes must be unique")
        for m in self.matters:
            unknown = sorted(set(m.bands) - set(labels))
            if unknown:
                raise ValueError(f"inspection matter {m.code}: unknown band(s) {unknown}; bands are {labels}")
        if self.unrated is not None and self.unrated not in labels:
            raise ValueError(f"unrated band {self.unrated!r} is not one of the bands {labels}")
        if self.basis in ("grade", "score") and not self.model:
            raise ValueError(f"a {self.basis}-based policy names the evaluation `model` it reads")
        for b in self.bands:
            if self.basis == "grade" and not b.grades:
                raise ValueError(f"band {b.label}: a grade-based policy lists the `grades` of each band")
            if self.basis == "colour" and not b.colours:
                raise ValueError(f"band {b.label}: a colour-based policy lists the `colours` of each band")
            if self.basis == "score" and b.min_score is None and b.max_score is None:
                raise ValueError(f"band {b.label}: a score-based policy gives `min_score` and/or `max_score`")
        if self.basis == "grade":
            seen: set[str] = set()
            for b in self.bands:
                if seen & set(b.grades):
                    raise ValueError(f"band {b.label}: a grade is in two bands")
                seen |= set(b.grades)
        return self

    def band_of(self, grade: str | None, colour: str | None, score: Decimal | None) -> str | None:
        """The band a result falls in (None: no result and no `unrated` band, or no band fits)."""
        if grade is None and colour is None and score is None:
            return self.unrated
        for b in self.bands:
            if self.basis == "grade" and grade in b.grades:
                return b.label
            if self.basis == "colour" and colour in b.colours:
                return b.label
            if self.basis == "score" and score is not None and \
                    (b.min_score is None or score >= b.min_score) and (b.max_score is None or score < b.max_score):
                return b.label
        return None

    def matters_for(self, band: str | None) -> list[Matter]:
        """The matters inspected in a subject of `band` (all when the band is unknown)."""
        return [m for m in self.matters if not m.bands or band is None or band in m.bands]

    def band(self, label: str) -> Band:
        for b in self.bands:
            if b.label == label:
                return b
        raise KeyError(label)


class PoliciesFile(Frozen):
    version: str
    citation: str
    policies: list[PolicyDef]

    @model_validator(mode="after")
    def _unique(self) -> PoliciesFile:
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError("policy names must be unique")
        return self


class InspectorIn(Frozen):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    kind: Literal["inspector", "grid_worker"] = "inspector"
    department: str
    pool: str
    region: str | None = Field(default=None, description="the region (grid or street) they work in")
    active: bool = True
    account: str | None = Field(default=None, min_length=1, max_length=80,
                                description="the user name of the account that acts for them (an inspector "
                                            "account for an inspector, a grid worker's for a grid worker)")


class InspectorsFile(Frozen):
    inspectors: list[InspectorIn]

    @model_validator(mode="after")
    def _one_person_per_account(self) -> InspectorsFile:
        named = [i.account for i in self.inspectors if i.account]
        if twice := sorted({a for a in named if named.count(a) > 1}):
            raise ValueError(f"an account acts for one person only: {', '.join(twice)} named more than once")
        return self


# ----------------------------------------------------------------------------- the REST API's shapes

_EARLIEST, _LATEST = _dt.date(2000, 1, 1), _dt.date(2099, 12, 31)
Outcome = Literal["passed", "problems", "penalty"]
TaskStatus = Literal["assigned", "done", "cancelled"]


class PolicyOut(BaseModel):
    """A loaded policy: its definition with the version and content hash a draw records."""

    name: str
    title: str
    title_en: str | None = None
    department: str
    citation: str
    basis: str
    model: str | None
    subject_kinds: list[str]
    unrated: str | None
    bands: list[dict[str, Any]]
    inspector_pool: str
    inspector_kinds: list[str]
    inspectors_per_task: int
    max_tasks_per_inspector: int | None
    exclusions: dict[str, bool]
    due_days: int
    results: dict[str, Any]
    plan: dict[str, Any] | None
    version: str
    content_hash: str


class DrawScopeIn(BaseModel):
    """Which subjects a draw is made among: a region (its whole subtree), industries, kinds."""

    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, min_length=1, max_length=40)
    industry: list[str] | None = Field(default=None, max_length=50)
    kind: list[str] | None = Field(default=None, max_length=20)


class DrawIn(BaseModel):
    policy: str = Field(min_length=1, max_length=80)
    scope: DrawScopeIn = Field(default_factory=DrawScopeIn)
    seed: str | None = Field(default=None, pattern=r"^[0-9]{1,30}$",
                             description="omitted: a fresh unpredictable seed, published with the draw")
    as_of: _dt.date | None = Field(default=None, ge=_EARLIEST, le=_LATEST)
    create_tasks: bool = True
    dry_run: bool = Field(default=False, description="draw without recording anything")


class DrawItemOut(BaseModel):
    subject_id: int
    key: str
    name: str
    band: str
    inspectors: list[str]


class DrawOut(BaseModel):
    draw_id: int | None
    policy: str
    policy_version: str
    policy_hash: str
    seed: str
    as_of: str
    scope: dict[str, Any]
    runs: dict[str, int]
    inputs_hash: str
    result_hash: str
    counts: dict[str, Any]
    status: str | None = None
    plan_key: str | None = None
    created_at: str | None = None
    actor: str | None = None
    tasks: int | None = None
    items: list[DrawItemOut] = Field(default_factory=list)
    items_outside_scope: int = Field(default=0, description="drawn subjects outside your data scope, not listed")
    labels: dict[str, Label] = Field(default_factory=dict, description="status: its names in zh and en")


class VerifyOut(BaseModel):
    draw_id: int
    inputs_hash_ok: bool
    result_hash_ok: bool
    items_match: bool
    result_hash: str
    reproducible: bool


class RecordRef(BaseModel):
    id: int
    item: str
    document_no: str | None
    version: int
    status: str


class TeamMember(BaseModel):
    code: str
    name: str = Field(description="the roster's name (empty for a code the roster lacks)")


class TaskOut(BaseModel):
    id: int
    kind: str
    draw_id: int | None
    campaign_id: int | None = None
    policy: str | None
    department: str
    subject_id: int
    subject_name: str
    band: str | None
    assignees: list[str]
    team: list[TeamMember] = Field(default_factory=list, description="the assignees with their names")
    due_on: str
    status: str
    outcome: str | None
    finding: str | None
    penalty_amount: str | None
    decision_no: str | None
    score: str | None
    inspected_on: str | None
    record_id: int | None
    batch_id: int | None
    assigned_at: str | None = Field(default=None, description="when the task was last assigned (UTC, ISO 8601): "
                                                              "made, or re-assigned to other inspectors")
    labels: dict[str, Label] = Field(default_factory=dict,
                                     description="kind, status, outcome, department: names in zh and en")


class TaskDetailOut(TaskOut):
    policy_title: str | None
    note: str | None
    created_at: str
    completed_by: str | None
    record: RecordRef | None


class ResultIn(BaseModel):
    """An inspection's result; it becomes a credit record through ingestion."""

    outcome: Outcome
    finding: str | None = Field(default=None, max_length=2000)
    penalty_amount: Decimal | None = Field(default=None, ge=0, le=10**12, decimal_places=2)
    decision_no: str | None = Field(default=None, min_length=1, max_length=120)
    score: Decimal | None = Field(default=None, ge=0, le=1000, decimal_places=2)
    inspected_on: _dt.date | None = Field(default=None, ge=_EARLIEST, le=_LATEST)


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ReassignIn(BaseModel):
    """An open task given to other inspectors (their codes), with the reason."""

    assignees: list[str] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=500)


class PatrolTargetOut(BaseModel):
    subject_id: int
    name: str
    reasons: list[str]


class PatrolAssignIn(BaseModel):
    grid: str = Field(min_length=1, max_length=40)
    due_days: int = Field(default=7, ge=1, le=90)


# ----------------------------------------------------------------------------- campaigns (专项整治)


class CampaignIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1, max_length=300)
    policy: str = Field(min_length=1, max_length=80)
    basis: str = Field(min_length=1, max_length=2000)
    starts_on: _dt.date
    ends_on: _dt.date
    region: str | None = Field(default=None, max_length=40)
    kind: list[str] = Field(default_factory=list, max_length=20)
    industry: list[str] = Field(default_factory=list, max_length=50)


class CampaignTargetsIn(BaseModel):
    source: Literal["grade", "list", "query"]
    model: str | None = Field(default=None, max_length=80)
    grades: list[str] = Field(default_factory=list, max_length=20)
    lists: list[str] = Field(default_factory=list, max_length=20)
    kinds: list[str] = Field(default_factory=list, max_length=20)
    industries: list[str] = Field(default_factory=list, max_length=50)


class CampaignTasksIn(BaseModel):
    assignees: list[str] = Field(default_factory=list, max_length=20)
    due_on: _dt.date | None = None


class CampaignCloseIn(BaseModel):
    cancel_open: bool = False
