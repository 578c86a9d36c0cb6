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
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
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


def _area_code_usable(prefix: str, year: int) -> bool | None:
    """Whether the area code `prefix` can stand in a number of someone born in `year`:
    True when the table knows the county and the code was not retired before `year`;
    False when it knows the code only as retired before then; None when the table names
    a province but no county (110001…: python-stdnum's `get_birth_place` raises
    KeyError('county') there) or does not know the code at all."""
    info = {k: v for _part, props in _loc.info(prefix) for k, v in props.items()}
    if "county" not in info:
        return None
    for county in info["county"].split(","):
        if not county.startswith("["):
            return True
        end = county[1:].split("]")[0].split("-")[1]
        # The start of the code's period is no bound (see the module docstring).
        if not end or year <= int(end):
            return True
    return False


def validate_resident_id(value: str) -> str:
    """The compact resident ID number if GB 11643 holds, else stdnum's ValidationError
    (InvalidComponent naming the area code when the table does not know it)."""
    number = ric.compact(value)
    if len(number) != 18:
        raise InvalidLength()
    if not number[:-1].isdigit() or not number[:-1].isascii():
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidComponent(f"birth date {number[6:14]} is not a real date") from None
    usable = _area_code_usable(number[:6], born.year)
    if usable is None:
        raise InvalidComponent(f"birth place code {number[:6]} is not a known county")
    if not usable:
        raise InvalidComponent(f"birth place code {number[:6]} was retired before {born.year}")
    return number



@lru_cache(maxsize=1 << 20)
def clean_resident_id(value: str) -> str:
    try:
        return validate_resident_id(value).upper()
    except StdnumError as exc:
        # str(exc): stdnum's message, or the one validate_resident_id gives
        # Masked: the reason is stored in the clear (the quarantine, error messages),
        # and an identifier is stored only encrypted.
        raise InvalidInput(f"invalid resident ID number {mask_id(value.strip())!r}: {exc}") from None


def looks_like_uscc(value: str) -> bool:
    return uscc.is_valid(value)


def looks_like_resident_id(value: str) -> bool:
    """Whether `validate_resident_id` accepts the value."""
    try:
        return bool(validate_resident_id(value))
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
    """The area-code check of `validate_resident_id`, which depends only on the first six
    digits and the year."""
    return bool(_area_code_usable(prefix, int(year)))


def is_canonical_resident_id(v: str) -> bool:
    """True when `validate_resident_id(v)` returns `v` itself."""
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
