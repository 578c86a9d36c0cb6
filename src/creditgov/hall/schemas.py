"""The shape of the service-hall policy file (data/hall.yaml), validated on load."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class HallFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str = Field(min_length=1, max_length=30)
    idle_minutes: int = Field(ge=1, le=60, description="a counter session ends after this long without a step")
    absolute_minutes: int = Field(ge=5, le=480, description="and in any case this long after it was opened")
    basis: str = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> HallFile:
        if self.idle_minutes > self.absolute_minutes:
            raise ValueError("idle_minutes cannot exceed absolute_minutes")
        return self
