"""The random draw (双随机) as a pure function of published inputs.

Why not `random.sample`: a draw must be re-run by anyone from what was published —
another program, another language, years later. So every choice is a keyed hash:

    rank(seed, salt, key) = HMAC-SHA256(key=str(seed), msg=salt + "|" + key), hex

A band of N candidates gives n = floor(ratio × N) subjects, plus one more when the
fraction left over exceeds u = (the first 15 hex digits of rank(seed, "quota|<band>",
"")) / 16^15 — randomised rounding, so a band of 3 at 80 % yields 2 or 3 and every
subject's chance is exactly the ratio (plain rounding would give 2 every time: 67 %).
The n drawn are those with the smallest rank under salt "subject|<band>". Each drawn
subject, taken in rank order, gets the eligible inspectors with the smallest rank
under salt "inspector|<subject key>", skipping conflicts of interest and anyone at
the load cap. Nothing depends on row order, database ids or the platform's random
generator, so SQLite and PostgreSQL, or a citizen with the published JSON, get the
same subjects and the same inspectors.

The published inputs file is the inputs document with two more keys, `inputs_hash`
(SHA-256 of the canonical JSON of the document without those two keys) and
`result_hash` (SHA-256 of the canonical JSON of the result), so a re-run checks
itself: `check_published`. The exact recipe, with a worked example, is in
docs/supervision.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from creditgov.core.errors import InvalidInput


@dataclass(frozen=True)
class Candidate:
    key: str  # credit code, blind index of the ID number, or "id:<n>" — stable across databases
    band: str
    regions: tuple[str, ...]  # the subject's region and its ancestors (codes)
    previous: tuple[str, ...]  # inspectors of the subject's last inspection


@dataclass(frozen=True)
class Member:
    code: str
    region: str | None


@dataclass(frozen=True)
class Pick:
    key: str
    band: str
    rank: str
    inspectors: tuple[str, ...]


@dataclass(frozen=True)
class Params:
    ratios: dict[str, Decimal]
    per_task: int
    max_load: int | None
    own_region: bool
    previous_inspectors: bool


def rank(seed: str, salt: str, key: str) -> str:
    return hmac.new(str(seed).encode("utf-8"), f"{salt}|{key}".encode(), hashlib.sha256).hexdigest()


def quota(seed: str, band: str, ratio: Decimal, n: int) -> int:
    """floor(ratio × n), plus one with probability equal to the fraction (exact decimals)."""
    exact = ratio * n
    whole = exact.to_integral_value(rounding=ROUND_FLOOR)
    u = Decimal(int(rank(seed, f"quota|{band}", "")[:15], 16)) / Decimal(16**15)
    return int(whole) + (1 if exact - whole > u else 0)


def conflicts(c: Candidate, m: Member, p: Params) -> bool:
    if p.own_region and m.region is not None and m.region in c.regions:
        return True
    return p.previous_inspectors and m.code in c.previous


def _by_rank(rc: tuple[str, Candidate]) -> tuple[str, str]:
    return rc[0], rc[1].key


def run(seed: str, candidates: Sequence[Candidate], pool: Sequence[Member], p: Params) -> list[Pick]:
    """The draw. Subjects per band by rank; then inspectors per subject by rank."""
    chosen: list[tuple[str, Candidate]] = []
    by_band: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_band.setdefault(c.band, []).append(c)
    for band in sorted(by_band):
        members = by_band[band]
        n = quota(seed, band, p.ratios.get(band, Decimal(0)), len(members))
        ranked = sorted(((rank(seed, f"subject|{band}", c.key), c) for c in members), key=_by_rank)
        chosen.extend(ranked[:n])
    chosen.sort(key=_by_rank)
    load: dict[str, int] = {}
    out: list[Pick] = []
    for r, c in chosen:
        eligible = [m for m in pool if not conflicts(c, m, p)
                    and (p.max_load is None or load.get(m.code, 0) < p.max_load)]
        ordered = sorted((rank(seed, f"inspector|{c.key}", m.code), m.code) for m in eligible)
        team = tuple(code for _, code in ordered[:p.per_task])
        for code in team:
            load[code] = load.get(code, 0) + 1
        out.append(Pick(c.key, c.band, r, team))
    return out


def canonical(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def inputs_doc(*, policy: str, policy_hash: str, seed: str, as_of: str, scope: dict[str, Any],
               runs: dict[str, int], candidates: Sequence[Candidate], pool: Sequence[Member], p: Params,
               excluded: dict[str, int]) -> dict[str, Any]:
    """Everything the draw used, in a form anyone can re-run (`replay`)."""
    return {
        "algorithm": "creditgov-draw/1 (HMAC-SHA256 ranks, randomised rounding; see supervision/draw.py)",
        "policy": policy, "policy_hash": policy_hash, "seed": seed, "as_of": as_of, "scope": scope, "runs": runs,
        "params": {"ratios": {k: str(v) for k, v in sorted(p.ratios.items())}, "per_task": p.per_task,
                   "max_load": p.max_load, "own_region": p.own_region, "previous_inspectors": p.previous_inspectors},
        "candidates": [[c.key, c.band, list(c.regions), list(c.previous)]
                       for c in sorted(candidates, key=lambda c: c.key)],
        "pool": [[m.code, m.region] for m in sorted(pool, key=lambda m: m.code)],
        "excluded": excluded,
    }


def result_doc(picks: Sequence[Pick]) -> list[list[Any]]:
    return [[x.key, x.band, list(x.inspectors)] for x in picks]


HASH_KEYS = ("inputs_hash", "result_hash")


def published(inputs: dict[str, Any], inputs_hash: str, result_hash: str) -> dict[str, Any]:
    """The inputs as published: the document plus the hashes recorded when the draw
    was made, so that whoever holds the file alone can tell whether it, or a re-run
    of it, is the draw."""
    return {**inputs_of(inputs), "inputs_hash": inputs_hash, "result_hash": result_hash}


def inputs_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The inputs document of a published file: the hashes are not part of what they hash."""
    return {k: v for k, v in doc.items() if k not in HASH_KEYS}


@dataclass(frozen=True)
class Check:
    picks: list[Pick]
    inputs_hash: str
    result_hash: str
    published_inputs_hash: str | None
    published_result_hash: str | None

    @property
    def inputs_ok(self) -> bool | None:
        return None if self.published_inputs_hash is None else self.published_inputs_hash == self.inputs_hash

    @property
    def result_ok(self) -> bool | None:
        return None if self.published_result_hash is None else self.published_result_hash == self.result_hash

    @property
    def ok(self) -> bool:
        """Nothing published disagrees (a file without hashes has nothing to disagree with)."""
        return self.inputs_ok is not False and self.result_ok is not False


def check_published(doc: dict[str, Any], *, result_hash: str | None = None) -> Check:
    """Re-run a published inputs file and compare with the hashes it carries (or a
    result hash published elsewhere, `result_hash`, which takes precedence)."""
    if not isinstance(doc, dict):
        raise InvalidInput("not a draw's published inputs: the file holds no JSON object")
    inputs = inputs_of(doc)
    try:
        picks, computed = replay(inputs)
    except KeyError as exc:
        raise InvalidInput(f"not a draw's published inputs: no {exc} in it") from None
    except ArithmeticError:
        raise InvalidInput("not a draw's published inputs: a ratio is not a decimal number") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not a draw's published inputs: {exc}") from None
    return Check(picks, digest(inputs), computed, doc.get("inputs_hash"), result_hash or doc.get("result_hash"))


def replay(inputs: dict[str, Any]) -> tuple[list[Pick], str]:
    """Re-run a draw from its published inputs alone: (picks, result hash)."""
    pr = inputs["params"]
    p = Params(ratios={k: Decimal(v) for k, v in pr["ratios"].items()}, per_task=int(pr["per_task"]),
               max_load=pr["max_load"], own_region=bool(pr["own_region"]),
               previous_inspectors=bool(pr["previous_inspectors"]))
    cands = [Candidate(k, b, tuple(r), tuple(prev)) for k, b, r, prev in inputs["candidates"]]
    pool = [Member(code, region) for code, region in inputs["pool"]]
    picks = run(str(inputs["seed"]), cands, pool, p)
    return picks, digest(result_doc(picks))
