"""Official decision numbers (发文字号) for list decisions: the unit's code, the year in
〔〕 and the unit's next serial of that year, as the policy file says
(data/decision_numbers.yaml, GB/T 9704-2012 7.2.4).

The organs' codes (发文机关代字) are a deployment's choice: the shipped file holds
generic county defaults (县法失惩 …); a deployment names its own file, with its organs'
registered codes and a citation, in `CREDITGOV_DECISION_NUMBERS`. That file is validated
when read (a missing citation, a format without its placeholders, an unknown key is
refused with the file's name), and in force for every numbering from then on."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

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
    version: str = Field(min_length=1)
    citation: str = Field(min_length=1)
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
ENV = "CREDITGOV_DECISION_NUMBERS"
# The deployment's file, parsed once per (path, modification time, size).
_READ: dict[str, tuple[tuple[int, int], NumbersFile]] = {}


def in_force() -> tuple[NumbersFile, str]:
    """The numbering in force and where it comes from: the deployment's file named in
    `CREDITGOV_DECISION_NUMBERS`, else the shipped defaults."""
    name = (os.environ.get(ENV) or "").strip()
    if not name:
        return NUMBERS.shipped(), NUMBERS.source
    path = Path(name).expanduser()
    try:
        st = path.stat()
    except OSError:
        return NUMBERS.load(path), str(path)  # refused with the file's name (not found)
    stamp = (st.st_mtime_ns, st.st_size)
    seen = _READ.get(str(path))
    if seen is None or seen[0] != stamp:
        seen = (stamp, NUMBERS.load(path))
        _READ[str(path)] = seen
    return seen[1], str(path)


def prefix_of(session: Session, unit: str, doc: NumbersFile) -> str:
    if unit in doc.units:
        return doc.units[unit].prefix
    name = session.execute(select(Department.name_zh).where(Department.code == unit)).scalar() or unit
    return doc.default.prefix.replace("{unit}", name[:2])


def next_number(session: Session, *, unit: str, year: int, doc: NumbersFile | None = None,
                counters: dict[str, int] | None = None) -> str:
    """The unit's next decision number of `year` (1 more than the highest it used).
    `counters` carries the serials across one bulk step (read from the store once)."""
    doc = doc or in_force()[0]
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


def describe(session: Session, *, year: int) -> dict[str, Any]:
    """The numbering in force, for a deployment to check its file: where it comes from,
    its citation and format, and each named unit's prefix and next number of `year`."""
    doc, source = in_force()
    units = [{"unit": u, "prefix": n.prefix, "next": next_number(session, unit=u, year=year, doc=doc)}
             for u, n in doc.units.items()]
    return {"source": source, "version": doc.version, "citation": doc.citation, "format": doc.format,
            "default_prefix": doc.default.prefix, "units": units}
