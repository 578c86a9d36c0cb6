"""Official decision numbers (发文字号) for list decisions: the unit's code, the year in
〔〕 and the unit's next serial of that year, as the policy file says
(data/decision_numbers.yaml, GB/T 9704-2012 7.2.4)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import Department
from creditgov.core.config import PolicyFile
from creditgov.lists.models import ListEntry


class UnitNumbering(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    prefix: str = Field(min_length=1, max_length=40)


class NumbersFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    citation: str
    format: str
    units: dict[str, UnitNumbering] = Field(default_factory=dict)
    default: UnitNumbering

    @model_validator(mode="after")
    def _placeholders(self) -> NumbersFile:
        for key in ("{prefix}", "{year}", "{seq}"):
            if key not in self.format:
                raise ValueError(f"format must contain {key}")
        return self


NUMBERS = PolicyFile(NumbersFile, "creditgov.lists", "data/decision_numbers.yaml")


def prefix_of(session: Session, unit: str, doc: NumbersFile) -> str:
    if unit in doc.units:
        return doc.units[unit].prefix
    name = session.execute(select(Department.name_zh).where(Department.code == unit)).scalar() or unit
    return doc.default.prefix.replace("{unit}", name[:2])


def next_number(session: Session, *, unit: str, year: int, doc: NumbersFile | None = None,
                counters: dict[str, int] | None = None) -> str:
    """The unit's next decision number of `year` (1 more than the highest it used).
    `counters` carries the serials across one bulk step (read from the store once)."""
    doc = doc or NUMBERS.shipped()
    prefix = prefix_of(session, unit, doc)
    head, _, tail = doc.format.partition("{seq}")
    stem = head.replace("{prefix}", prefix).replace("{year}", str(year))
    end = tail.replace("{prefix}", prefix).replace("{year}", str(year))
    if counters is not None and stem in counters:
        counters[stem] += 1
        return f"{stem}{counters[stem]}{end}"
    used = session.execute(select(ListEntry.decision_no).where(ListEntry.decision_no.startswith(stem, autoescape=True)))
    pattern = re.compile(re.escape(stem) + r"(\d+)" + re.escape(end) + "$")
    top = max((int(m.group(1)) for (no,) in used if no and (m := pattern.match(no))), default=0)
    if counters is not None:
        counters[stem] = top + 1
    return f"{stem}{top + 1}{end}"
