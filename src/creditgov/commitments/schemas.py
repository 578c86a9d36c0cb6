"""Commitment templates as data (`data/templates.yaml`), validated on load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TemplateDef(Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    type: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="what measures and repair ask for")
    name_zh: str
    name_en: str
    text: str = Field(min_length=10, description="may use {deadline_days} and {due_on}")
    verifying_department: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    deadline_days: int | None = Field(default=None, ge=1, le=3650)
    legal_basis: str = Field(min_length=2)
    fulfil_item: str = "commitment.fulfilled"
    breach_item: str = "commitment.breach"


class TemplatesFile(Frozen):
    version: str
    citation: str
    templates: list[TemplateDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TemplatesFile:
        codes = [t.code for t in self.templates]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ValueError(f"template codes listed twice: {sorted(dup)}")
        return self


# ----------------------------------------------------------------------------- the REST API's shapes
# (commitments/views.py). Dates are ISO strings, as the service's dicts give them.


class TemplateOut(BaseModel):
    """A template as a signer reads it: the text filled in as it would be signed today."""

    code: str
    type: str
    name_zh: str
    name_en: str
    text: str = Field(description="The text as signed today, deadline filled in.")
    due_on: str | None
    deadline_days: int | None
    verifying_department: str
    legal_basis: str
    signable: bool = Field(description="False for the credit-repair commitment, signed with a repair "
                                       "(POST /records/{id}/repair-conditions).")


class CommitmentRecordOut(BaseModel):
    """The credit record a verification left (positive when fulfilled, negative when breached)."""

    id: int
    item: str
    polarity: str | None = None
    department: str
    published_from: str | None = None
    published_until: str | None = None


class CommitmentOut(BaseModel):
    id: int
    template: str
    template_name: str | None = None
    template_name_en: str | None = None
    type: str
    subject_id: int
    subject_name: str | None = None
    text: str
    signed_by: str | None
    signed_on: str
    due_on: str | None
    overdue: bool = Field(description="Signed and past its deadline, awaiting verification.")
    scenario: str | None
    check_id: str | None
    status: str
    verifying_department: str
    verified_on: str | None
    verified_by: str | None
    note: str | None
    record_id: int | None
    record: CommitmentRecordOut | None = None


class SignIn(BaseModel):
    template: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=80, description="The template's code.")
    agree: bool = Field(description="The signer read the template's text and agrees to it; required.")
    signed_by: str | None = Field(default=None, max_length=200, description="Who signs for the subject "
                                  "(e.g. the legal representative); required when recorded at the window.")
    scenario: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$", max_length=80,
                                 description="The scenario it was signed in (e.g. administrative-approval).")


class VerifyIn(BaseModel):
    outcome: Literal["fulfilled", "breached"]
    note: str | None = Field(default=None, max_length=2000, description="What was found; required for a breach.")
