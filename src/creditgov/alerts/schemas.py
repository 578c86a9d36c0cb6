"""The shapes of warning rules, channels, contacts and colour-code settings, validated
on load so an error names the file, the line and the field.

A warning rule is data: what sets it off (a new record of given items, N records in
a window, M consecutive months of arrears, a score drop between runs, a grade change,
a list entry; or, about a department's source rather than a subject, a source that is
late, a batch whose volume jumps or falls, a batch with too many rows rejected, a batch
whose rejection rate jumps above the source's own recent rate), how
severe it is, who is told on which channels, how repeats are
folded into one alert (a de-duplication key and window), and who is told next when
nobody acknowledges it in time (escalation).
"""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditgov.core.labels import Label

CODE = r"^[a-z][a-z0-9_.-]*$"
Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITY_ORDER = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
RecipientKind = Literal["grid_worker", "department", "bank", "principal", "subject", "user", "principal_id"]


def template_fields(text: str) -> list[str]:
    """The placeholders of a message template, or ValueError. Only plain names
    (`{subject_name}`, with an optional format such as `{score:.2f}`): a template is
    filled with data, and attribute or index access (`{x.__class__}`) could reach far
    more than the data."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValueError(f"template {text!r}: {exc}") from None
    for f in fields:
        if not f.isidentifier():
            raise ValueError(f"template {text!r}: placeholder {{{f}}} must be a plain name")
    return fields


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(Frozen):
    """Who is told, and on which configured channels.

    - grid_worker: the worker(s) of the subject's grid (the nearest region with a contact)
    - department: `code`, or the department that supplied the triggering record
    - bank: banks that hold the subject's consent (contacts with `watch`)
    - principal: the firm's principal (else its legal representative); a person: itself
    - subject: the subject itself (its inbox, and its own contact if any)
    - user: the user named by `code`
    - principal_id: an explicit inbox principal in `code` (e.g. `department:credit`)
    """

    who: RecipientKind
    code: str | None = None
    channels: list[str] = Field(default_factory=lambda: ["inbox"], min_length=1)

    @model_validator(mode="after")
    def _code(self) -> Recipient:
        if self.who in ("user", "principal_id") and not self.code:
            raise ValueError(f"recipient {self.who!r} needs `code`")
        return self


class Dedup(Frozen):
    """Repeats of the same key inside the window fold into the open alert (its
    occurrence count rises; nobody is told twice). Placeholders: {rule}, {subject_id},
    {item}, {model}, {list}; data-quality rules: {rule}, {source}, {department}, {period}."""

    key: str = "{rule}:{subject_id}"
    window_days: int = Field(default=30, ge=0, le=3650)

    @model_validator(mode="after")
    def _template(self) -> Dedup:
        template_fields(self.key)
        return self


class EscalationStep(Frozen):
    """When the alert is still not acknowledged `after_hours` after it was raised,
    tell `to` as well."""

    after_hours: float = Field(gt=0)
    to: list[Recipient] = Field(min_length=1)


class _Rule(Frozen):
    code: str = Field(pattern=CODE)
    name_zh: str
    name_en: str | None = None
    severity: Severity
    enabled: bool = True
    citation: str = Field(min_length=2, description="why the rule exists: the paper, a policy, a local rule")
    # The citation in English, for readers of the English pages (the alert's page, the
    # inbox: the message's "Basis:" line): documents by their usual English names with
    # their numbers, the county's own thresholds translated. Without it those pages say
    # the citation as written.
    citation_en: str | None = Field(default=None, min_length=2)
    subject_kinds: list[str] = Field(default_factory=list, description="empty: every kind")
    recipients: list[Recipient] = Field(min_length=1)
    dedup: Dedup = Field(default_factory=Dedup)
    escalation: list[EscalationStep] = Field(default_factory=list)
    title: str | None = Field(default=None, description="template; default: the rule's name and the subject")
    body: str | None = None
    # The message in English, for readers of the English pages (the inbox, the alert's
    # page). Default: the kind's English wording when the rule keeps the default
    # Chinese one; a rule with a Chinese template of its own and none here is shown in
    # English as stored.
    title_en: str | None = None
    body_en: str | None = None

    @model_validator(mode="after")
    def _escalation_order(self) -> _Rule:
        for t in (self.title, self.body, self.title_en, self.body_en):
            if t is not None:
                template_fields(t)
        hours = [s.after_hours for s in self.escalation]
        if hours != sorted(hours):
            raise ValueError("escalation steps must be in increasing order of after_hours")
        return self


class _RecordRule(_Rule):
    items: list[str] = Field(min_length=1, description="catalogue items that set the rule off")
    max_age_days: int | None = Field(
        default=60, ge=0,
        description="ignore records decided (or occurring) longer ago than this: a warning is about news")


class NewRecordRule(_RecordRule):
    """A new record of one of `items` (optionally with a value of at least `min_value`)."""

    kind: Literal["new_record"]
    min_value: Decimal | None = None


class RecordCountRule(_RecordRule):
    """At least `threshold` records of `items` for the subject within `window_days`
    (litigation counts, public-opinion mentions, complaints)."""

    kind: Literal["record_count"]
    threshold: int = Field(ge=2)
    window_days: int = Field(ge=1, le=3650)


class ConsecutiveMonthsRule(_RecordRule):
    """Records of `items` in at least `months` consecutive calendar months, ending
    with the new record's month (utility arrears)."""

    kind: Literal["consecutive_months"]
    months: int = Field(ge=2, le=60)


class ScoreDropRule(_Rule):
    """The score fell by at least `min_drop` between two consecutive published runs
    of `model` (any model when omitted)."""

    kind: Literal["score_drop"]
    model: str | None = None
    min_drop: Decimal = Field(gt=0)


class GradeChangeRule(_Rule):
    """The grade changed to one of `to_grades` between two consecutive published runs."""

    kind: Literal["grade_change"]
    model: str | None = None
    to_grades: list[str] = Field(min_length=1)
    include_first_run: bool = Field(default=False, description="also warn on a subject's first graded run")


class ListEntryRule(_Rule):
    """An entry on one of `lists` was published."""

    kind: Literal["list_entry"]
    lists: list[str] = Field(min_length=1)


SOURCE = r"^[a-z][a-z0-9_]*$"  # a source is a spec's name (ingest.schemas.SourceSpec.name)
# Recipients a rule about a source can reach: the others are found through a subject.
SOURCE_RECIPIENTS = ("department", "user", "principal_id")


class _SourceRule(_Rule):
    """A data-quality rule: about one department's source (an ingestion spec), not a
    subject. `{who: department}` without a code is the department that supplies the
    source; the credit office's desk is `{who: department, code: credit}`. Repeats fold
    per source and period (the due day of a late source, the month of a batch)."""

    sources: list[str] = Field(default_factory=list, description="the sources watched (spec names); empty: every source")
    dedup: Dedup = Field(default_factory=lambda: Dedup(key="{rule}:{source}:{period}"))

    @model_validator(mode="after")
    def _about_a_source(self) -> _SourceRule:
        if self.subject_kinds:
            raise ValueError("a data-quality rule is about a source, not a subject: it takes no subject_kinds")
        for r in [*self.recipients, *(t for step in self.escalation for t in step.to)]:
            if r.who not in SOURCE_RECIPIENTS:
                raise ValueError(f"a data-quality rule has no subject, so no {r.who!r} to tell: "
                                 f"recipients may be {', '.join(SOURCE_RECIPIENTS)}")
        for s in self.sources:
            if not re.fullmatch(SOURCE, s):
                raise ValueError(f"source {s!r} is not a source name (a spec's name: lower case, digits, _)")
        return self


class SourceLateRule(_SourceRule):
    """No delivery (a file batch) from a source for longer than its expected interval:
    `interval_days` for that source, else the frequency of the approved data request
    its department was asked for, else `default_interval_days` (none: such a source is
    never late). Judged against today, so it is checked on every scan."""

    kind: Literal["source_late"]
    default_interval_days: int | None = Field(default=None, ge=1, le=3660)
    interval_days: dict[str, int] = Field(default_factory=dict, description="source -> days, before any other")

    @model_validator(mode="after")
    def _days(self) -> SourceLateRule:
        for s, d in self.interval_days.items():
            if not re.fullmatch(SOURCE, s):
                raise ValueError(f"interval_days: {s!r} is not a source name")
            if not 1 <= d <= 3660:
                raise ValueError(f"interval_days: {s}: {d} must be between 1 and 3660 days")
        return self


class _BatchRule(_SourceRule):
    max_age_days: int = Field(default=30, ge=1, le=3650,
                              description="judge batches received within this many days: a warning is about news")


class VolumeChangeRule(_BatchRule):
    """A batch's rows differ from the median of the source's previous `history`
    batches by more than `factor` (more than factor × the median, or less than the
    median ÷ factor). Needs `min_history` earlier batches and a median of at least
    `min_rows` (too small a source to judge otherwise)."""

    kind: Literal["volume_change"]
    factor: Decimal = Field(gt=1, le=1000)
    history: int = Field(default=6, ge=1, le=60)
    min_history: int = Field(default=3, ge=1, le=60)
    min_rows: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _history(self) -> VolumeChangeRule:
        if self.min_history > self.history:
            raise ValueError(f"min_history ({self.min_history}) cannot exceed history ({self.history})")
        return self


class RejectionRateRule(_BatchRule):
    """A batch of at least `min_rows` rows rejected (quarantined) more than `threshold`
    of them (0.1: more than one row in ten)."""

    kind: Literal["rejection_rate"]
    threshold: Decimal = Field(gt=0, lt=1)
    min_rows: int = Field(default=20, ge=1)


class RejectionJumpRule(_BatchRule):
    """A batch's rejection rate jumped well above the source's own recent rate (its
    rejected ÷ its rows over the previous `history` files): more than `factor` times it
    and at least `min_increase` above it (0.05: five percentage points). Needs
    `min_history` earlier files and a batch of at least `min_rows` rows. Where
    `rejection_rate` holds every source to one line, this one holds each to its own
    past: a source that usually rejects 0.5% and now 8% is news, one that always
    rejects 12% is not (`quality.service.rejection_jump`)."""

    kind: Literal["rejection_jump"]
    factor: Decimal = Field(gt=1, le=1000)
    min_increase: Decimal = Field(gt=0, lt=1)
    history: int = Field(default=6, ge=1, le=60)
    min_history: int = Field(default=2, ge=1, le=60)
    min_rows: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _history(self) -> RejectionJumpRule:
        if self.min_history > self.history:
            raise ValueError(f"min_history ({self.min_history}) cannot exceed history ({self.history})")
        return self

    def figures(self) -> dict[str, Any]:
        """The measure as `quality.service.rejection_jump` takes it."""
        return {"factor": self.factor, "min_increase": self.min_increase, "history": self.history,
                "min_history": self.min_history, "min_rows": self.min_rows}


RuleDef = Annotated[
    NewRecordRule | RecordCountRule | ConsecutiveMonthsRule | ScoreDropRule | GradeChangeRule | ListEntryRule
    | SourceLateRule | VolumeChangeRule | RejectionRateRule | RejectionJumpRule,
    Field(discriminator="kind"),
]
RECORD_KINDS = ("new_record", "record_count", "consecutive_months")
RUN_KINDS = ("score_drop", "grade_change")
QUALITY_KINDS = ("source_late", "volume_change", "rejection_rate", "rejection_jump")


class RulesFile(Frozen):
    version: str
    citation: str
    rules: list[RuleDef]

    @model_validator(mode="after")
    def _unique(self) -> RulesFile:
        seen: set[str] = set()
        for r in self.rules:
            if r.code in seen:
                raise ValueError(f"rule {r.code!r} is defined twice")
            seen.add(r.code)
        return self


# ----------------------------------------------------------------------------- channels, contacts


class ChannelIn(Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    plugin: str
    settings: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_seconds: float = Field(default=2.0, gt=0)
    backoff_cap_seconds: float = Field(default=600.0, gt=0)


class ChannelsFile(Frozen):
    """A deployment's channels. Secrets are never written here: a setting ending in
    `_env` names the environment variable that holds the secret."""

    channels: list[ChannelIn]


class ContactIn(Frozen):
    kind: Literal["grid_worker", "department", "bank", "subject", "user"]
    key: str = Field(description="region code, department code, bank code, subject (id or credit code), user")
    name: str
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None
    watch: list[str] = Field(default_factory=list,
                             description="banks: subjects (id or credit code) whose consent the bank holds")
    valid_until: str | None = Field(default=None, description="ISO date the consent ends")


class ContactsFile(Frozen):
    contacts: list[ContactIn]


class ColourSettings(Frozen):
    """Which evaluation decides a subject's colour code: the first model in
    `precedence` whose latest published run scored the subject."""

    version: str
    citation: str
    precedence: list[str] = Field(min_length=1)


# ----------------------------------------------------------------------------- the REST API's shapes

AlertStatusFilter = Literal["open", "acknowledged", "resolved", "unresolved"]


class AlertOut(BaseModel):
    """One alert as the API shows it (`service.alert_dict` plus names)."""

    id: int
    rule: str
    rule_name: str | None = None
    subject_id: int | None
    subject_name: str | None = None
    severity: str
    status: str
    title: str
    body: str
    occurrences: int
    evidence: list[dict[str, Any]]
    source: str
    raised_at: str | None
    last_seen_at: str | None
    ack_due_at: str | None
    escalation_level: int
    acknowledged_at: str | None
    acknowledged_by: str | None
    resolved_at: str | None
    resolved_by: str | None
    resolution: str | None
    labels: dict[str, Label] = Field(default_factory=dict, description="rule, severity, status: names in zh and en")


class AlertEventOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    note: str | None
    detail: dict[str, Any]
    notes: dict[str, list[str]] = Field(default_factory=dict,
                                        description="detail.notes (as stored) said in zh and en")


class NotificationOut(BaseModel):
    """A delivery of the alert (the outbox row): who, on which channel, and how it went.
    The address (phone, e-mail, URL) is shown to whole-county readers only."""

    id: int
    channel: str
    recipient: str
    address: str | None
    status: str
    attempts: int
    last_error: str | None
    provider_ref: str | None
    created_at: str | None
    sent_at: str | None
    labels: dict[str, Label] = Field(default_factory=dict, description="channel, status: names in zh and en")


class AlertDetailOut(AlertOut):
    events: list[AlertEventOut]
    notifications: list[NotificationOut]


class AckIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class CommentIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=2000, description="what was done")


class InboxMessageOut(BaseModel):
    id: int
    to: str
    subject_id: int | None
    topic: str
    body: str = Field(description="the message as sent, in Chinese")
    body_en: str | None = Field(default=None, description="its English, kept with it (null: written without one)")
    said: str | None = Field(default=None, description="the message in the language asked for (`lang`)")
    ref: str | None
    at: str
    read: bool
