"""Shapes of the bureaus file (data/bureaus.yaml), validated on load."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME = r"^[a-z][a-z0-9-]{0,39}$"


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bureau(Frozen):
    """One bureau: its names, why it may receive credit information (its licence or the
    rule that makes it the receiver), and the plugin that hands runs to it with that
    plugin's settings (checked by the plugin when the file is loaded)."""

    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    citation: str = Field(min_length=2)
    exporter: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    settings: dict[str, Any] = Field(default_factory=dict)
    purpose: str = Field(min_length=2, max_length=300,
                         description="the purpose a subject's consent to this bureau names")


class BureausFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    citation: str = Field(min_length=2)
    bureaus: dict[str, Bureau] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> BureausFile:
        for name in self.bureaus:
            if not re.fullmatch(NAME, name):
                raise ValueError(f"bureau name {name!r}: lower-case letters, digits and '-'")
        return self
