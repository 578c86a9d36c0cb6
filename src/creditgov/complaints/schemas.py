"""Shapes of the complaints policy file and of the complaints API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CHANNELS = ("public", "counter", "api", "supervisor")
OUTCOMES = ("substantiated", "unsubstantiated", "not_accepted")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(Frozen):
    code: str = Field(min_length=1, max_length=30, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class ComplaintsFile(Frozen):
    version: str = Field(min_length=1, max_length=30)
    basis: str = Field(min_length=2)
    accept_days: int = Field(ge=1, le=60, description="working days to accept (assign) or refuse")
    accept_citation: str = Field(min_length=2)
    reply_days: int = Field(ge=1, le=120, description="working days from receipt to the reply")
    reply_citation: str = Field(min_length=2)
    extension_days: int = Field(ge=0, le=120, description="working days one extension adds")
    extension_citation: str = Field(min_length=2)
    record_item: str = Field(min_length=1, max_length=60)
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> ComplaintsFile:
        codes = [c.code for c in self.categories]
        if len(codes) != len(set(codes)):
            raise ValueError("categories: codes must be unique")
        if self.accept_days > self.reply_days:
            raise ValueError("accept_days cannot exceed reply_days: a complaint is accepted before it is answered")
        return self


class ComplaintIn(BaseModel):
    """A complaint as filed. Name and contact are optional (anonymous complaints are
    taken); without a contact the complainant follows it by number and query code."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=30)
    respondent_name: str = Field(min_length=1, max_length=200)
    respondent_code: str | None = Field(default=None, max_length=18,
                                        description="the respondent's unified social credit code, if known")
    content: str = Field(min_length=5, max_length=4000)
    complainant_name: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=200, description="a mobile number or an e-mail address")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=40)
    note: str | None = Field(default=None, max_length=2000)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["substantiated", "unsubstantiated", "not_accepted"]
    reply: str = Field(min_length=2, max_length=4000)


class ObservationIn(BaseModel):
    """A special supervisor's observation (监督意见): about a firm on the public pages (by
    name, and its credit code when known) or about the credit work itself. The
    supervisor's name and contact come from the account, not the form."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=30)
    respondent_name: str = Field(min_length=1, max_length=200)
    respondent_code: str | None = Field(default=None, max_length=18)
    content: str = Field(min_length=5, max_length=4000)
    contact: str | None = Field(default=None, max_length=200, description="a mobile number or an e-mail address")
