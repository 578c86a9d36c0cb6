"""Why a row was refused, by category: the quarantine's reason texts (the `RowError`s of
ingestion — transforms, values, prepare_rows, prepare_records, writer, readers) sorted
by their fixed wording into a `quarantine_reason` code (labels: quality/labels.py).
Kept beside the texts it reads; the quality reports and a refused manual entry use it."""

from __future__ import annotations

import re

# Each reason text is sorted into a category by its fixed wording; first match wins.
REASON_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((code, re.compile(rx)) for code, rx in (
    ("malformed", r"^malformed JSON line|cannot decode as"),
    ("item_not_allowed", r"^missing item$|^item .* (is not among|is not in the data catalogue|is not approved)"),
    ("conflict", r"^conflicts with an earlier row"),
    ("unregistered", r"^(subject|firm|person) not registered"),
    ("bad_identifier", r"^no subject identifier|^identifier is|^invalid (unified social credit code|resident ID)"
                       r"|^an? \S+ is identified by"),
    ("future_date", r" lies in the future$"),
    ("bad_date", r"^(impossible|unrecognised) date|is not a date"),
    ("bad_number", r"not a number|is out of range$"),
    ("unknown_code", r"^unknown (code|subject kind|region code|role|step) "),
    ("missing_value", r"^missing "),
))


def reason_code(text: str) -> str:
    """The category (a `quarantine_reason` code) of a quarantine reason text."""
    t = (text or "").strip()
    for code, rx in REASON_PATTERNS:
        if rx.search(t):
            return code
    return "other"
