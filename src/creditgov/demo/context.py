"""The county's fixed facts and the generation context every source writes through: seeded
streams, dates in the window, identifiers, sinks and specs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditgov.core.clock import add_months
from creditgov.demo.ids import _base31, _org_code
from creditgov.demo.names import _WORD_CHARS
from creditgov.demo.writers import _Sink
from creditgov.ingest.schemas import SourceSpec
from creditgov.subjects.identifiers import uscc_check_char

Progress = Callable[[str, int], None]

# 330127 (淳安县 in python-stdnum's table) has no validity period there, so resident IDs
# of people born in any year validate; 330822, say, only validates births from 1985 on.
# The county's name is invented.
COUNTY_CODE = "330127"
COUNTY_NAME = "安澜县"
COUNTY_SHORT = "安澜"
PROVINCE_SHORT = "浙"
SPEC_VERSION = "1"


@dataclass
class _Ctx:
    out: Path
    seed: int
    as_of: dt.date
    n: int
    progress: Progress | None
    start: dt.date = field(init=False)
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    file_spec: dict[str, str] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    org_mult: int = 1
    org_add: int = 0
    unregistered: int = 0

    def __post_init__(self) -> None:
        # Records spread over the four years before as_of.
        self.start = add_months(self.as_of, -48)
        r = self.rng("codes")
        # Coprime to 10 and 31, so i -> mult*i+add is a bijection mod 10^8 and mod 31^6.
        self.org_mult = 31
        while self.org_mult % 31 == 0:
            self.org_mult = r.randrange(10**6, 10**7) * 10 + r.choice((1, 3, 7, 9))
        self.org_add = r.randrange(10**8)

    @property
    def data(self) -> Path:
        return self.out / "data"

    def rng(self, stream: str) -> random.Random:
        # str seeds go through SHA-512: stable across runs and PYTHONHASHSEED.
        return random.Random(f"creditgov.demo:{self.seed}:{stream}")

    def say(self, stage: str, count: int) -> None:
        if self.progress:
            self.progress(stage, count)

    # dates -----------------------------------------------------------------
    def when(self, rng: random.Random, est: int, pad: int = 30) -> dt.date:
        """A day in the four-year window, after the subject was established."""
        hi = self.as_of.toordinal()
        lo = max(self.start.toordinal(), est + pad)
        if lo >= hi:
            lo = hi - 1
        return dt.date.fromordinal(lo + rng.randrange(hi - lo))

    def after(self, rng: random.Random, d: dt.date, lo: int, hi: int) -> dt.date:
        return min(d + dt.timedelta(days=rng.randint(lo, hi)), self.as_of - dt.timedelta(days=1))

    # identifiers -----------------------------------------------------------
    def uscc(self, i: int, prefix: str, new: bool) -> str:
        """A valid, unique USCC for org index i (an affine map keeps codes unique but unordered)."""
        if new:  # codes issued since 2015 start MA…
            body8 = "MA" + _base31((self.org_mult * i + self.org_add) % 31**6, 6)
        else:
            body8 = f"{(self.org_mult * i + self.org_add) % 10**8:08d}"
        body = prefix + COUNTY_CODE + _org_code(body8)
        return body + uscc_check_char(body)

    def stranger(self, rng: random.Random) -> tuple[str, str]:
        """A valid USCC and name of a firm the register does not hold (unique by construction)."""
        self.unregistered += 1
        code = self.uscc(10**7 + self.unregistered, "91", True)
        word = rng.choice(_WORD_CHARS) + rng.choice(_WORD_CHARS)
        return code, f"浙江{word}{rng.choice(('实业', '贸易', '科技', '建设'))}有限公司"

    # output ------------------------------------------------------------------
    def sink(self, spec: str, file: str, fmt: str, header: Sequence[str], **kw: Any) -> _Sink:
        self.file_spec[file] = spec
        return _Sink(self, file, fmt, header, **kw)

    def spec(self, name: str, **kw: Any) -> None:
        self.specs[name] = _spec(name, **kw)


def _spec(name: str, *, title: str, department: str, kind: str, file: str, fmt: str,
          columns: dict[str, str], encoding: str = "utf-8", sheet: str | None = None,
          attributes: dict[str, str] | None = None, ids: Sequence[str] = (),
          maps: dict[str, dict[str, str]] | None = None, dates: Sequence[str] = (),
          numbers: dict[str, float | None] | None = None, items: Sequence[str] = (),
          item: str | None = None, subject_kind: str | None = None,
          unknown_subject: str = "quarantine", natural_key: Sequence[str] = (),
          order: int = 100) -> dict[str, Any]:
    """A SourceSpec as plain data, validated here so a bad spec fails at generation time."""
    steps: list[dict[str, Any]] = [{"field": "*", "op": "trim"}, {"field": "*", "op": "halfwidth"}]
    steps += [{"field": f, "op": "upper"} for f in ids]
    steps += [{"field": f, "op": "map", "map": m} for f, m in (maps or {}).items()]
    steps += [{"field": f, "op": "date"} for f in dates]
    for f, scale in (numbers or {}).items():
        steps.append({"field": f, "op": "number", **({"scale": scale} if scale else {})})
    spec: dict[str, Any] = {"name": name, "version": SPEC_VERSION, "title": title,
                            "department": department, "kind": kind, "file": file, "format": fmt}
    if encoding != "utf-8":
        spec["encoding"] = encoding
    if sheet:
        spec["sheet"] = sheet
    spec["columns"] = columns
    if attributes:
        spec["attributes"] = attributes
    spec["steps"] = steps
    if items:
        spec["items"] = list(items)
    if item:
        spec["item"] = item
    if subject_kind:
        spec["subject_kind"] = subject_kind
    spec["unknown_subject"] = unknown_subject
    if natural_key:
        spec["natural_key"] = list(natural_key)
    spec["order"] = order
    SourceSpec.model_validate(spec)
    return spec
