"""Commitment templates as data (`data/templates.yaml`), validated on load."""

from __future__ import annotations

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
