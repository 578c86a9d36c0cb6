"""Why a row was refused, by category: the quarantine's reason texts (the `RowError`s of
ingestion — transforms, values, prepare_rows, prepare_records, writer, readers) sorted
by their fixed wording into a `quarantine_reason` code (labels: quality/labels.py).
Kept beside the texts it reads; the quality reports and a refused manual entry use it.

A reason's detail is said in the reader's language where its shape is known
(`reason_detail`): each known wording is matched here and said with the words of
`labels.REASON_DETAIL` (ingest/labels.py), the values it names filled in and the codes
among them (a field, an item, a department) by their labels. An identifier's fault is
python-stdnum's message (English), said by its exception class (`IDENTIFIER_PROBLEM`).
A reason of another shape has no words here: the page shows it as it was stored.

A reason about one field names the file's column it came from, as the department's file
names it (`values.in_column`: `… (column '账单日期', field occurred_on)`); its words say
that column, the field's label in brackets (`labels.COLUMN_WORDS`)."""

from __future__ import annotations

import ast
import re
import string
from typing import Any

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from creditgov.core import labels
from creditgov.ingest.labels import COLUMN_WORDS, IDENTIFIER_PROBLEM, REASON_DETAIL

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
    ("bad_number", r"not a number|is out of range$|is below zero: item "),
    ("unknown_code", r"^unknown (code|subject kind|region code|role|step) "),
    ("missing_value", r"^missing "),
))


# The column a reason names (values.in_column): the file's column as Python writes a text
# (in quotes, escaped as needed), then the field.
_COLUMN = re.compile(r"^(?P<body>.*) \(column (?P<column>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"), "
                     r"field (?P<field>[a-z][a-z0-9_.]*)\)$", re.S)


def split_column(text: str) -> tuple[str, str | None, str | None]:
    """(the reason without its column, the file's column, the field) of a reason text;
    the column and field None where it names none."""
    t = (text or "").strip()
    m = _COLUMN.match(t)
    if m is None:
        return t, None, None
    try:
        column = ast.literal_eval(m["column"])
    except (ValueError, SyntaxError):
        return t, None, None
    return m["body"], str(column), m["field"]


def reason_code(text: str) -> str:
    """The category (a `quarantine_reason` code) of a quarantine reason text."""
    t = split_column(text)[0]
    for code, rx in REASON_PATTERNS:
        if rx.search(t):
            return code
    return "other"


_Q = r"'(?P<{}>[^']*)'"  # a value as the reason quotes it (Python's repr of a text without a quote)
_ID_FAULT = r"(?P<why>.+)"
# The known shapes of a reason's detail: the code of its words (labels.REASON_DETAIL) and
# the wording, its named groups the values the words name. First match wins.
DETAIL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((code, re.compile(rx)) for code, rx in (
    ("uscc", rf"^invalid unified social credit code {_Q.format('value')}: {_ID_FAULT}$"),
    ("uscc_hidden", r"^invalid credit code$"),
    ("resident_id", rf"^invalid resident ID number {_Q.format('value')}: {_ID_FAULT}$"),
    ("neither", r"^identifier is neither a credit code nor an ID number "
                r"\((?P<first>invalid (?:credit code|unified social credit code .+?)); "
                r"(?P<second>invalid resident ID number .+)\)$"),
    ("no_identifier", r"^no subject identifier \(credit code or ID number\) in the row$"),
    ("both_identifiers", r"^identifier is valid both as a credit code and as an ID number"),
    ("wrong_identifier", r"^an? (?P<kind>\S+) is identified by (?P<expected>\S+), the row gives (?P<given>\S+)$"),
    ("unregistered_firm", r"^subject not registered: credit code (?P<value>\S+)$"),
    ("unregistered_person", r"^subject not registered: ID number \(index\) (?P<value>\S+)$"),
    ("unregistered_no_name", r"^subject not registered and the row has no name to create a provisional subject$"),
    ("firm_not_registered", r"^firm not registered: credit code (?P<value>\S+)$"),
    ("person_not_registered", r"^person not registered \(ID number not on the household roll\)$"),
    ("item_missing", r"^missing item$"),
    ("item_not_in_spec", rf"^item {_Q.format('item')} is not among the items spec \S+ may produce$"),
    ("item_not_in_catalogue", rf"^item {_Q.format('item')} is not in the data catalogue$"),
    ("item_rejected", rf"^item {_Q.format('item')} is not approved from department {_Q.format('department')}: "
                      r"the data request was rejected$"),
    ("item_not_requested", rf"^item {_Q.format('item')} is not approved from department "
                           rf"{_Q.format('department')}: the data request was never requested$"),
    ("missing", r"^missing (?P<field>[a-z_]+)$"),
    ("future", r"^(?P<field>[a-z_]+) (?P<value>\S+) lies in the future$"),
    ("not_a_date", rf"^(?P<field>[a-z_]+) {_Q.format('value')} is not a date \(add a `date` step to the spec\)$"),
    ("impossible_date", rf"^impossible date {_Q.format('value')}$"),
    ("unrecognised_date", rf"^unrecognised date {_Q.format('value')}$"),
    ("not_a_number", rf"^not a number: {_Q.format('value')}$"),
    ("not_a_number", rf"^value {_Q.format('value')} is not a number \(add a `number` step to the spec\)$"),
    ("out_of_range", rf"^value {_Q.format('value')} is out of range$"),
    ("negative", rf"^value {_Q.format('value')} is below zero: item {_Q.format('item')} is never negative$"),
    ("unknown_code", rf"^unknown code {_Q.format('value')} in field {_Q.format('field')} "
                     r"\(not in the spec's code map\)$"),
    ("unknown_region", rf"^unknown region code {_Q.format('value')}$"),
    ("unknown_role", rf"^unknown role {_Q.format('value')}$"),
    ("unknown_kind", rf"^unknown subject kind {_Q.format('value')}$"),
    ("role_ends_early", r"^the role ends \((?P<until>[^)]*)\) before it begins \((?P<since>[^)]*)\)$"),
    ("conflict_key", r"^conflicts with an earlier row of this file with the same natural key \((?P<value>.*)\)$"),
    ("conflict_subject", r"^conflicts with an earlier row of this file for the same subject$"),
    ("malformed_json", r"^malformed JSON line: "),
    ("nul", rf"^a NUL character \(U\+0000\) in field {_Q.format('field')}: not a text the store can keep$"),
))

# python-stdnum's messages (its exception classes' own) by the class that gives them, and
# the faults `subjects.identifiers.validate_resident_id` names itself (InvalidComponent).
_STDNUM = {str(cls()): cls.__name__ for cls in (InvalidChecksum, InvalidLength, InvalidFormat, InvalidComponent)}
_COMPONENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((code, re.compile(rx)) for code, rx in (
    ("birth_date", r"^birth date (?P<value>\d+) is not a real date$"),
    ("birth_place_unknown", r"^birth place code (?P<value>\d+) is not a known county$"),
    ("birth_place_retired", r"^birth place code (?P<value>\d+) was retired before (?P<year>\d+)$"),
))


class _Fill(string.Formatter):
    """`{name}` filled with the value, `{name:kind}` with the label of the value's code; the
    field `column` came from said as that column, the field's label in brackets."""

    def __init__(self, lang: str, column: tuple[str, str] | None = None) -> None:
        self.lang, self.column, self.used = lang, column, False

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec:
            return str(value)
        said = labels.label(format_spec, value, self.lang)
        if format_spec == "spec_field" and self.column is not None and value == self.column[1]:
            self.used = True
            if self.column[0] not in (value, said):  # a column named as the field is the field
                return COLUMN_WORDS["field"][self.lang == "en"].format(column=self.column[0], field=said)
        return said


def _identifier_fault(text: str, lang: str) -> str | None:
    """An identifier's fault (stdnum's message, or one the component check gives) in words."""
    if text in _STDNUM:
        return IDENTIFIER_PROBLEM[_STDNUM[text]][lang == "en"]
    for code, rx in _COMPONENTS:
        if (m := rx.match(text)) is not None:
            return IDENTIFIER_PROBLEM[code][lang == "en"].format(**m.groupdict())
    return None


def reason_detail(text: str, lang: str) -> str | None:
    """A quarantine reason's detail in `lang` ("zh" or "en") when its shape is known;
    None when it is not (the stored text is then all there is to show). A reason naming
    the file's column says it: where its words name the field, the column stands there
    (the field's label in brackets); else the words follow the column."""
    t, column, fld = split_column(text)
    for code, rx in DETAIL_PATTERNS:
        m = rx.match(t)
        if m is None:
            continue
        values = m.groupdict()
        if "why" in values:
            values["why"] = _identifier_fault(values["why"], lang)
        for part in ("first", "second"):
            if part in values:
                values[part] = reason_detail(values[part], lang)
        if any(v is None for v in values.values()):
            return None
        fill = _Fill(lang, (column, fld) if column is not None and fld is not None else None)
        words = fill.format(REASON_DETAIL[code][lang == "en"], **values)
        if column is not None and fld is not None and not fill.used:
            field_label = labels.label("spec_field", fld, lang)
            if column not in (fld, field_label):
                words = COLUMN_WORDS["prefix"][lang == "en"].format(column=column, field=field_label, detail=words)
            elif code in _UNNAMED:  # the column is named as the field: said by the field's name
                words = COLUMN_WORDS["named"][lang == "en"].format(column=field_label, detail=words)
        return words
    return None


_NEITHER = dict(DETAIL_PATTERNS)["neither"]
# The shapes whose words do not say what the value was (a date, a number): where the
# column is named as the field, the field's name goes before them.
_UNNAMED = frozenset({"impossible_date", "unrecognised_date", "not_a_number", "out_of_range"})


def said(text: str) -> tuple[str, str]:
    """A reason in words, (Chinese, English), for a refusal to say: its detail where its
    shape is known, else its category's label (`quarantine_reason`)."""
    code = reason_code(text)
    zh, en = (reason_detail(text, lang) or labels.label("quarantine_reason", code, lang) for lang in ("zh", "en"))
    return zh, en


def identifier_said(text: str) -> tuple[str, str]:
    """What is wrong with an identifier, (Chinese, English), for a sentence that already
    says it is neither a credit code nor an ID number: both faults, each in words."""
    m = _NEITHER.match(split_column(text)[0])
    if m is None:
        return said(text)
    parts = {lang: [reason_detail(m[p], lang) for p in ("first", "second")] for lang in ("zh", "en")}
    if any(w is None for ws in parts.values() for w in ws):
        return said(text)
    return "；".join(map(str, parts["zh"])), "; ".join(map(str, parts["en"]))
