"""Helpers the department sources share: codes a spec does not know, per-year document
numbers, and industry-weighted risk.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from creditgov.demo.draw import GOOD, RISK
from creditgov.demo.population import _Orgs
from creditgov.demo.writers import _Sink


def _unknown(rng: random.Random, events: list[list[Any]], col: int, codes: Sequence[str], sink: _Sink) -> None:
    """A handful of rows carry a department code the spec's map does not know."""
    if not events:
        return
    k = min(rng.randint(3, 7), max(1, len(events) // 4))
    for j in sorted(rng.sample(range(len(events)), k)):
        events[j][col] = rng.choice(codes)
    sink.count("unknown_codes", k)


def _numbered(events: list[list[Any]], col_date: int, fmt: Callable[[int, int], str]) -> None:
    """Append a document number, sequential per year in date order."""
    counters: dict[int, int] = {}
    for e in events:
        y = e[col_date].year
        counters[y] = counters.get(y, 0) + 1
        e.append(fmt(y, counters[y]))


def _ind_weights(orgs: _Orgs, pop: Sequence[int], factors: dict[str, float], default: float = 1.0,
                 kind_factors: dict[str, float] | None = None, park: float = 1.0, park_street: int = -1,
                 good: bool = False) -> list[float]:
    table = GOOD if good else RISK
    kf = kind_factors or {}
    ind, kind, tier, street = orgs.industry, orgs.kind, orgs.tier, orgs.street
    return [table[tier[i]] * factors.get(ind[i], default) * kf.get(kind[i], 1.0)
            * (park if street[i] == park_street else 1.0) for i in pop]
