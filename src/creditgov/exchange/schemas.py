"""Shapes of the exchange's policy file (data/channels.yaml) and its API."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["record.new", "record.changed", "record.repaired", "record.revoked", "record.corrected",
               "record.publication-ended", "record.archived", "list.entered", "list.exited",
               "evaluation.result", "inspection.result", "code.revocations"]
KINDS: tuple[str, ...] = get_args(Kind)
NAME = r"^[a-z][a-z0-9-]{0,39}$"


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retry(Frozen):
    first_seconds: int = Field(ge=1, le=86400)
    factor: float = Field(ge=1, le=10)
    max_seconds: int = Field(ge=1, le=7 * 86400)


class Channel(Frozen):
    direction: Literal["up", "down", "peer"]
    recipient: str = Field(min_length=1, max_length=80)
    sends: list[Kind] = Field(default_factory=list)
    accepts: list[Kind] = Field(default_factory=list)


class ChannelsFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    citation: str = Field(min_length=2)
    share_classes: list[Literal["public", "shared", "restricted", "secret"]]
    package_items: int = Field(ge=1, le=10000)
    retry: Retry
    channels: dict[str, Channel]

    @model_validator(mode="after")
    def _names(self) -> ChannelsFile:
        import re

        for name in self.channels:
            if not re.fullmatch(NAME, name):
                raise ValueError(f"channel name {name!r}: lower-case letters, digits and '-'")
        return self


class PeerIn(Frozen):
    channel: str = Field(pattern=NAME)
    node: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
    public_key: str = Field(min_length=40, max_length=80)
    transport: str = Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")  # http, http-pull, folder, or a plugin
    address: str = Field(min_length=1, max_length=500)
    backlog: bool = False
