"""Amounts read one way everywhere (`core.amounts.yuan`: pages' `|money`, the finance
rules' words and commands): thousands separated, to the fen, or fen only where there
are any; what is not a number passes as it is."""

from __future__ import annotations

from decimal import Decimal

from creditgov.core.amounts import yuan
from creditgov.web.render import templates


def test_yuan_reads_amounts_and_passes_other_text() -> None:
    assert yuan(Decimal("800000")) == "800,000.00"
    assert yuan("1234567.891") == "1,234,567.89"
    assert yuan(Decimal("100000"), fen=False) == "100,000"
    assert yuan(Decimal("100000.50"), fen=False) == "100,000.50"
    assert yuan(0) == "0.00"
    assert yuan(None) == "" and yuan("") == ""
    assert yuan("<b>n/a</b>") == "<b>n/a</b>"  # markup is escaped by the page, not here
    assert yuan("NaN") == "NaN" and yuan("Infinity") == "Infinity"
    assert templates.env.filters["money"] is yuan
    page = templates.env.from_string("{{ a|money }} {{ b|money }}").render(a=Decimal("800000"), b="<i>x</i>")
    assert page == "800,000.00 &lt;i&gt;x&lt;/i&gt;"
