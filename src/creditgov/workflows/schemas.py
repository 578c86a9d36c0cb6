"""The shapes of the workflow rules file and of a working-day year file, validated on
load so an error names the file, line and field.

Deadlines are law or local policy, so they are data with their citation. The repair
tiers' publication periods are NOT here: they belong to the catalogue
(`severity_periods`, copied onto each item), and repair reads them from there so one
change of the catalogue moves every date.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditgov.core.labels import Label

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


class RetentionRules(Frozen):
    """How long information is kept. Adverse records are archived `adverse_years` after
    the behaviour ended — out of evaluation, publication and the file, still traceable
    by authorised staff; query logs (the audit chain's reads and the credit checks) are
    deleted `query_log_years` after they were written, the chain keeping a checkpoint
    of each purged segment so it still verifies."""

    adverse_years: int = Field(ge=1, le=50)
    adverse_citation: str = Field(min_length=2)
    query_log_years: int = Field(ge=1, le=50)
    query_log_actions: list[str] = Field(min_length=1, description="audit actions that are query logs")
    query_log_citation: str = Field(min_length=2)


class RulesFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    credit_office: str = Field(pattern=UNIT)
    objection: ObjectionRules
    repair: RepairRules
    exchange: ExchangeRules
    notifications: NotificationRules = NotificationRules()
    # A copy loaded before retention was data has none: the shipped rules' then apply.
    retention: RetentionRules | None = None


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


# ----------------------------------------------------------------------------- the REST API's shapes
# (workflows/views.py). Dates are ISO strings, as the services' dicts give them.

Outcome = Literal["upheld", "corrected", "deleted"]
Correctable = Literal["occurred_on", "decided_on", "value", "grade", "text", "document_no"]
RecordId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ObjectionIn(BaseModel):
    record_ids: list[RecordId] = Field(max_length=20, description="Records of the subject's file that are "
                                       "contested; each is marked disputed at once. One filing, one case each.")
    reason: str = Field(min_length=1, max_length=2000, description="Why the records are wrong.")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class DecisionIn(BaseModel):
    outcome: Outcome = Field(description="upheld (back in force), corrected (a new version) or deleted (revoked)")
    reason: str = Field(min_length=1, max_length=2000, description="The reason the subject is told.")
    corrections: dict[Correctable, Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None, description="For `corrected`: the fields that change, e.g. {\"text\": \"…\"}.")


class RepairIn(BaseModel):
    applicant: str | None = Field(default=None, max_length=200, description="Who applies for the subject.")


class ApproveIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class MaterialOut(BaseModel):
    file: str
    sha256: str
    size: int


class RecordRef(BaseModel):
    """The record a case is about, as its file shows it."""

    id: int
    item: str
    item_name: str | None = None
    item_name_en: str | None = None
    occurred_on: str | None = None
    document_no: str | None = None
    department: str | None = None
    status: str
    is_current: bool = True
    superseded_by: int | None = Field(default=None, description="For a version no longer current: the version "
                                      "current now (a correction's result).")


class ReviewOut(BaseModel):
    requested_on: str | None
    reason: str | None
    due_on: str | None
    authority: str | None
    outcome: str | None
    decision_reason: str | None
    decided_on: str | None
    decided_by: str | None
    labels: dict[str, Label] = Field(default_factory=dict, description="outcome, authority: names in zh and en")


class ObjectionOut(BaseModel):
    id: int
    filing_no: str
    subject_id: int
    subject_name: str | None = None
    record_id: int
    record: RecordRef | None = None
    department: str
    channel: str
    filed_by: str
    reason: str
    received_on: str | None
    due_on: str | None
    extended_on: str | None
    extension_reason: str | None
    status: str
    outcome: str | None
    decision_reason: str | None
    decided_on: str | None
    decided_by: str | None
    result_record_id: int | None
    result_record: RecordRef | None = Field(default=None, description="The corrected version, as its file shows it.")
    review: ReviewOut | None
    deadline: str | None = Field(description="The date the pending stage must be answered by.")
    working_days_left: int | None = Field(description="Working days to the deadline; negative when overdue.")
    overdue: bool
    evidence: list[MaterialOut]
    labels: dict[str, Label] = Field(default_factory=dict,
                                     description="status, outcome, department: names in zh and en")


class CheckOut(BaseModel):
    condition: str
    met: bool
    detail: str


class EligibilityOut(BaseModel):
    record_id: int
    tier: str | None
    eligible: bool
    eligible_from: str = Field(description="The first day the minimum publication period allows repair.")
    publication_ends: str | None
    checks: list[CheckOut]


class RepairOut(BaseModel):
    id: int
    subject_id: int
    subject_name: str | None = None
    record_id: int
    record: RecordRef | None = None
    tier: str | None
    channel: str
    applicant: str | None
    applied_on: str | None
    status: str
    eligible_from: str | None
    publication_ends: str | None
    eligibility: dict[str, Any]
    refusal_reason: str | None
    intake_due_on: str | None
    forwarded_on: str | None
    department: str
    decision_due_on: str | None
    decided_on: str | None
    decided_by: str | None
    decision_reason: str | None
    deadline: str | None
    working_days_left: int | None = None
    overdue: bool
    materials: list[MaterialOut]
    labels: dict[str, Label] = Field(default_factory=dict,
                                     description="status, tier, department: names in zh and en")


class ScheduleOut(BaseModel):
    record_id: int
    item: str
    item_name: str | None
    tier: str | None
    min_months: int
    max_months: int | None
    publication_start: str
    repairable_from: str
    publication_ends: str | None
    status: str
    occurred_on: str
    department: str
    repairable_now: bool


class PackageOut(BaseModel):
    id: int
    record_id: int
    subject_id: int
    recipient: str
    kind: str
    cause: str
    status: str
    payload: dict[str, Any]
    created_at: str


class ReevaluationOut(BaseModel):
    model: str
    as_of: str
    score: str
    grade: str
    colour: str
    previous_run_id: int | None
    previous_grade: str | None
    cause: str


class ApprovalOut(BaseModel):
    application: RepairOut
    record: dict[str, Any]
    lists: dict[str, list[int]]
    exchange: list[PackageOut]
    reevaluations: list[ReevaluationOut]
    reevaluation_error: str | None


class OwnViewOut(BaseModel):
    """What a signed-in subject sees of itself (`workflows.flows.own_view`)."""

    as_of: str
    file: dict[str, Any]
    published_record_ids: list[int]
    scores: list[dict[str, Any]]
    reevaluations: list[ReevaluationOut]
    lists: list[dict[str, Any]]
    objections: list[ObjectionOut]
    repairs: list[RepairOut]
    repair_schedule: list[ScheduleOut]
    repair_conditions: list[dict[str, Any]]
    inbox: list[dict[str, Any]]
    readers: list[dict[str, Any]]


# ----------------------------------------------------------------------------- repair conditions (API)

ConditionKind = Literal["obligations-fulfilled", "training", "commitment"]


class ConditionIn(BaseModel):
    """One repair condition recorded as met. Who may record which: the department that
    supplied the record or the credit office confirm `obligations-fulfilled` and
    `training` (dated, with a note); the subject signs its `commitment` itself (or the
    credit office's window records one signed there, naming `signed_by`)."""

    kind: ConditionKind
    met_on: dt.date | None = Field(default=None, description="When it was met (default today, never after "
                                   "today). A commitment is signed today.")
    note: str | None = Field(default=None, max_length=2000, description="What was done (e.g. the fine paid, "
                             "with its receipt number); for a training, the course (required).")
    signed_by: str | None = Field(default=None, max_length=200, description="Who signs the commitment for the "
                                  "subject (e.g. its legal representative); required at the window.")
    agree: bool = Field(default=False, description="For a commitment: the signer read its text (the listing's "
                        "`commitment.text`) and agrees to it.")


class ConditionEntryOut(BaseModel):
    id: int = Field(description="The condition's id; for a commitment, the commitment's.")
    kind: str
    met_on: str = Field(description="When it was met; for a commitment, the day it was signed.")
    unit: str | None = Field(description="The unit that recorded it (none for a commitment).")
    note: str | None
    signed_by: str | None = None
    status: str | None = Field(default=None, description="A commitment's status (signed, fulfilled, breached).")
    text: str | None = Field(default=None, description="A commitment's text as signed.")
    counts: bool = Field(description="Whether it counts for this record's repair today.")


class ConditionOut(BaseModel):
    condition: str
    required: bool = Field(description="Whether the record's tier requires it (the rules' `repair.tiers`).")
    met: bool
    met_on: str | None
    recorded_by: list[str] = Field(description="Who records it: unit codes, `subject` for the subject itself.")
    entries: list[ConditionEntryOut]


class CommitmentTextOut(BaseModel):
    template: str
    name_zh: str
    name_en: str
    text: str = Field(description="The text as it would be signed today.")
    due_on: str | None
    legal_basis: str


class RepairConditionsOut(BaseModel):
    record_id: int
    subject_id: int
    tier: str | None
    department: str = Field(description="The department that supplied the record.")
    credit_office: str
    open: bool = Field(description="Conditions can still be recorded (a current negative record, not repaired "
                       "or revoked).")
    conditions: list[ConditionOut]
    commitment: CommitmentTextOut | None
