"""The draw and its two hashes, written again from docs/supervision.md ("Checking a
draw yourself") with the standard library only — no creditgov import — as a citizen
would in their own program. The tests compare it with recorded draws and with the
worked example in the document, so the document cannot drift from the code."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from fractions import Fraction
from typing import Any


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def inputs_hash(published: dict[str, Any]) -> str:
    return sha256_hex({k: v for k, v in published.items() if k not in ("inputs_hash", "result_hash")})


def rank(seed: str, salt: str, key: str) -> str:
    return hmac.new(seed.encode("utf-8"), (salt + "|" + key).encode("utf-8"), hashlib.sha256).hexdigest()


def quota(seed: str, band: str, ratio: str, n: int) -> tuple[int, Fraction, Fraction]:
    """(subjects drawn, r·N, u)."""
    exact = Fraction(ratio) * n
    u = Fraction(int(rank(seed, "quota|" + band, "")[:15], 16), 16**15)
    whole = math.floor(exact)
    return whole + (1 if exact - whole > u else 0), exact, u


def draw(doc: dict[str, Any]) -> list[list[Any]]:
    seed = doc["seed"]
    params = doc["params"]
    bands: dict[str, list[list[Any]]] = {}
    for cand in doc["candidates"]:
        bands.setdefault(cand[1], []).append(cand)
    chosen: list[tuple[str, list[Any]]] = []
    for band in sorted(bands):
        n, _, _ = quota(seed, band, params["ratios"].get(band, "0"), len(bands[band]))
        ranked = sorted(((rank(seed, "subject|" + band, c[0]), c) for c in bands[band]), key=lambda rc: (rc[0], rc[1][0]))
        chosen += ranked[:n]
    chosen.sort(key=lambda rc: (rc[0], rc[1][0]))
    load: dict[str, int] = {}
    result = []
    for _, (key, band, chain, previous) in chosen:
        eligible = []
        for code, region in doc["pool"]:
            if params["own_region"] and region is not None and region in chain:
                continue
            if params["previous_inspectors"] and code in previous:
                continue
            if params["max_load"] is not None and load.get(code, 0) >= params["max_load"]:
                continue
            eligible.append(code)
        team = [code for _, code in sorted((rank(seed, "inspector|" + key, code), code) for code in eligible)]
        team = team[:params["per_task"]]
        for code in team:
            load[code] = load.get(code, 0) + 1
        result.append([key, band, team])
    return result


def result_hash(doc: dict[str, Any]) -> str:
    return sha256_hex(draw(doc))
