"""Unified social credit codes and resident ID numbers, checked with python-stdnum.

The one owner of the USCC (GB 32100) and resident-ID rules: the stdnum-backed
`clean_*`/`looks_like_*` functions, the fast checks of identifiers already in canonical
form that ingestion runs on every row (`is_canonical_uscc`, `is_canonical_resident_id`),
and the USCC check character (`uscc_check_char`). tests/subjects/test_identifiers.py
pins the fast copies to stdnum's answers. Where stdnum raises something other than a
validation error for a bad number (a birth place with a province but no county), the
number is rejected here with a reason, so one such row cannot stop a batch.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from operator import mul

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError

from creditgov.core.errors import InvalidInput
from creditgov.security.crypto import mask_id

# stdnum looks up the birth place of every ID number in its region table, a slow
# tree walk; the answer depends only on the first six digits, so remember it.
_loc = numdb.get("cn/loc")
_loc.info = lru_cache(maxsize=1 << 14)(_loc.info)  # type: ignore[method-assign]  # memoise stdnum's shared table in place


@lru_cache(maxsize=1 << 20)
def clean_uscc(value: str) -> str:
    """The canonical USCC, or InvalidInput naming what is wrong."""
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise InvalidInput(f"invalid unified social credit code {value!r}: {exc}") from None


def _validate_resident_id(value: str) -> str:
    """`ric.validate`, except that an ID number whose first six digits start with a
    province stdnum knows but name no county in its table (110001…) is an
    InvalidComponent saying so: python-stdnum's ric raises KeyError('county') there
    (seen in 2.2), which would crash a whole batch instead of rejecting one row."""
    try:
        return ric.validate(value)
    except KeyError as exc:
        if exc.args != ("county",):
            raise
        raise InvalidComponent(f"birth place code {ric.compact(value)[:6]} is not a known county") from None


@lru_cache(maxsize=1 << 20)
def clean_resident_id(value: str) -> str:
    try:
        return _validate_resident_id(value).upper()
    except StdnumError as exc:
        # str(exc): stdnum's message, or the one _validate_resident_id gives
        # Masked: the reason is stored in the clear (the quarantine, error messages),
        # and an identifier is stored only encrypted.
        raise InvalidInput(f"invalid resident ID number {mask_id(value.strip())!r}: {exc}") from None


def looks_like_uscc(value: str) -> bool:
    return uscc.is_valid(value)


def looks_like_resident_id(value: str) -> bool:
    """`ric.is_valid`, with an unknown county rejected as `_validate_resident_id` does."""
    try:
        return bool(_validate_resident_id(value))
    except StdnumError:
        return False


# python-stdnum checks identifiers through generic Unicode clean-up that costs tens of
# microseconds each, and a large county has a few hundred thousand distinct ones. An
# identifier already in canonical form (ASCII, right length and alphabet, nothing for
# the clean-up to change) is checked here with the same rules; anything else goes to
# stdnum (`clean_uscc`, `clean_resident_id` above), which gives the canonical form or
# the reason.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(body17: str) -> str:
    """The GB 32100 check character of a USCC's first 17 characters, as
    `stdnum.cn.uscc.calc_check_digit` computes it without its clean-up (many times
    faster, for code that makes or checks many codes). ValueError for a body that is not
    17 characters of the USCC alphabet."""
    if len(body17) != 17:
        raise ValueError(f"a USCC body has 17 characters, not {len(body17)}")
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, body17), _USCC_WEIGHTS))
    except KeyError:
        raise ValueError(f"{body17!r} has a character outside the USCC alphabet") from None
    return _USCC_ALPHABET[(31 - total) % 31]


def is_canonical_uscc(v: str) -> bool:
    """True when stdnum's `uscc.validate(v)` returns `v` itself."""
    if len(v) != 18 or not v.isascii() or not v[:8].isdigit():
        return False
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, v[:17]), _USCC_WEIGHTS))
    except KeyError:  # a character outside the alphabet
        return False
    return _USCC_ALPHABET[(31 - total) % 31] == v[17]


@lru_cache(maxsize=1 << 14)
def _birth_place_known(prefix: str, year: str) -> bool:
    """stdnum's birth-place check, which depends only on the first six digits and the year."""
    try:
        ric.get_birth_place(prefix + year + "01010000")
        return True
    except StdnumError:
        return False
    except KeyError:  # a known province, no county: see _validate_resident_id
        return False


def is_canonical_resident_id(v: str) -> bool:
    """True when stdnum's `ric.validate(v)` returns `v` itself."""
    if len(v) != 18 or not v.isascii() or not v[:17].isdigit() or v[17] not in "0123456789X":
        return False
    check = (1 - 2 * int(v[:17], 13)) % 11
    if v[17] != ("X" if check == 10 else str(check)):
        return False
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return _birth_place_known(v[:6], v[6:10])
