"""Unified social credit codes and resident ID numbers, checked with python-stdnum."""

from __future__ import annotations

from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from creditgov.core.errors import InvalidInput

# stdnum looks up the birth place of every ID number in its region table, a slow
# tree walk; the answer depends only on the first six digits, so remember it.
_loc = numdb.get("cn/loc")
_loc.info = lru_cache(maxsize=1 << 14)(_loc.info)  # type: ignore[method-assign]


@lru_cache(maxsize=1 << 20)
def clean_uscc(value: str) -> str:
    """The canonical USCC, or InvalidInput naming what is wrong."""
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise InvalidInput(f"invalid unified social credit code {value!r}: {exc.message}") from None


@lru_cache(maxsize=1 << 20)
def clean_resident_id(value: str) -> str:
    try:
        return ric.validate(value).upper()
    except StdnumError as exc:
        raise InvalidInput(f"invalid resident ID number {value!r}: {exc.message}") from None


def looks_like_uscc(value: str) -> bool:
    return uscc.is_valid(value)


def looks_like_resident_id(value: str) -> bool:
    return ric.is_valid(value)
