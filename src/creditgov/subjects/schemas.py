"""Subject kinds and region configuration, validated on load."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from creditgov.core.config import PolicyFile

LINK_ROLES = ("legal_representative", "principal", "employee")


class SubjectKind(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str
    identifier: Literal["uscc", "resident_id"]


class KindsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    kinds: list[SubjectKind]


KINDS = PolicyFile(KindsFile, "creditgov.subjects", "data/kinds.yaml")


def kinds() -> dict[str, SubjectKind]:
    """The shipped kinds, or the deployment's own file named by `CREDITGOV_KINDS_FILE`."""
    return _kinds(os.environ.get("CREDITGOV_KINDS_FILE") or "")


@lru_cache(maxsize=4)
def _kinds(path: str) -> dict[str, SubjectKind]:
    doc = KINDS.load(Path(path) if path else None)
    return {k.code: k for k in doc.kinds}


class RegionIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    name: str
    level: str
    parent: str | None = None


class RegionFile(BaseModel):
    """The county's region tree: `levels` fixes the depth, any number of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    levels: list[str] = Field(min_length=1)
    regions: list[RegionIn]
