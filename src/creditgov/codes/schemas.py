"""The credit code's policy file (`data/policy.yaml`) and its API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from creditgov.core.config import PolicyFile
from creditgov.scoring.bands import BANDS


class Recognition(BaseModel):
    """Which bands of a code from another region a scenario's credit check accepts."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bands: list[str] = Field(min_length=1)
    citation: str = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for b in v:
            if b not in BANDS:
                raise ValueError(f"unknown band {b!r}; bands are {list(BANDS)}")
        return v


class PolicyDoc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    validity_hours: int = Field(ge=1, le=24 * 7)
    validity_citation: str = Field(min_length=1)
    clock_skew_seconds: int = Field(ge=0, le=3600)
    models: dict[str, list[str]]
    models_citation: str = Field(min_length=1)
    recognition: dict[str, Recognition] = {}

    @field_validator("models")
    @classmethod
    def _kinds(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        from creditgov.subjects.schemas import kinds

        unknown = sorted(set(v) - set(kinds()))
        if unknown:
            raise ValueError(f"unknown subject kinds {unknown}; kinds are {sorted(kinds())}")
        return v


POLICY = PolicyFile(PolicyDoc, "creditgov.codes", "data/policy.yaml")


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject_id: int = Field(ge=1, le=2**31 - 1)


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4096)
