"""Amounts of yuan for reading, one way everywhere: thousands separated (800,000.00), to
the fen; or, for a rule's round figures, fen only where there are any (100,000–5,000,000
yuan). Pages use it as the `|money` filter; what is not a number is shown as it is."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def yuan(value: Any, *, fen: bool = True) -> str:
    """`value` (a Decimal, number or numeric text) in yuan for reading; `fen=False`
    leaves the fen off a whole amount. None or "" reads as ""; other text as it is."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    if not fen and amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount:,.2f}"
