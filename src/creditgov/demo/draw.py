"""The shared seeded draws (risk tiers, weighted picks, counts, broken check characters) and
the date forms the departments write.

Each source draws from its own seeded stream (`_Ctx.rng`), so a file's bytes depend only on
the order of that source's calls into these helpers: reordering them changes the county.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import accumulate

# Risk tiers: most subjects are clean, a heavy tail is not. The tier weights the draw of
# negative events (and inversely of positive ones), so the same few firms collect
# penalties, arrears and bad grades across departments, as they do in life.
TIER_CUM = (0.85, 0.97, 0.995, 1.0)
RISK = (0.3, 2.0, 10.0, 40.0)
GOOD = (1.0, 0.35, 0.08, 0.02)


def _cn(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _compact(d: dt.date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _slash(d: dt.date) -> str:
    return f"{d.year}/{d.month}/{d.day}"


def _dot(d: dt.date) -> str:
    return f"{d.year}.{d.month}.{d.day}"


def _iso(d: dt.date) -> str:
    return d.isoformat()


@lru_cache(maxsize=64)
def _cum(table: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    return [t[0] for t in table], list(accumulate(t[1] for t in table))


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    labels, cum = _cum(table)
    return rng.choices(labels, cum_weights=cum)[0]


def _tier(rng: random.Random) -> int:
    u = rng.random()
    return 0 if u < TIER_CUM[0] else 1 if u < TIER_CUM[1] else 2 if u < TIER_CUM[2] else 3


def _count(rng: random.Random, expected: float, minimum: int = 0) -> int:
    """An integer with the given expectation (so small counties still get fractional rates)."""
    n = int(expected)
    n += rng.random() < expected - n
    return max(n, minimum)


def _pick(rng: random.Random, pop: Sequence[int], weights: Iterable[float], k: int) -> list[int]:
    """k draws with replacement, weighted: the weights give the heavy tail."""
    cw = list(accumulate(weights))
    if not pop or k <= 0 or cw[-1] <= 0:
        return []
    return rng.choices(pop, cum_weights=cw, k=k)


def _break(code: str, alphabet: str, rng: random.Random) -> str:
    """The same identifier with a wrong check character (always different from the right one)."""
    pos = alphabet.index(code[-1])
    return code[:-1] + alphabet[(pos + rng.randrange(1, len(alphabet))) % len(alphabet)]
