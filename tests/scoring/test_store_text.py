"""The vectorised text forms a run stores equal the reference Python forms digit for digit."""

from __future__ import annotations

import random

import pyarrow as pa

from creditgov.scoring.run_store import centi_text as _centi_text
from creditgov.scoring.run_store import fixed_text as _fixed_text


def _num(v: int, per: int, width: int) -> str:
    sign, v = ("-", -v) if v < 0 else ("", v)
    whole, frac = divmod(v, per)
    text = f"{sign}{whole}.{frac:0{width}d}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def test_fixed_text_equals_the_reference_forms() -> None:
    rng = random.Random(3)
    vals = [0, 1, -1, 5, 10, 99, 100, 101, 1000, -1000, 100000, -5, 50, 500, 2**40]
    vals += [rng.randint(-10**7, 10**7) for _ in range(5000)]
    assert _fixed_text(pa.array(vals), 100, 2, strip=False).to_pylist() == [_centi_text(v) for v in vals]
    for per, width in ((100, 2), (1000, 3)):
        assert _fixed_text(pa.array(vals), per, width, strip=True).to_pylist() == [_num(v, per, width) for v in vals]
