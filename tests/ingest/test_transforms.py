"""Transformations and validation: exact cases and Hypothesis properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditgov.ingest.schemas import SourceSpec, Step
from creditgov.ingest.transforms import (
    RowError,
    compile_step,
    halfwidth,
    parse_date,
    parse_number,
    trim,
)

ASCII = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else c for c in s)


@given(ASCII)
def test_halfwidth_undoes_fullwidth(s: str) -> None:
    assert halfwidth(fullwidth(s)) == s


@given(st.text(max_size=40))
def test_halfwidth_is_idempotent_and_keeps_chinese(s: str) -> None:
    once = halfwidth(s)
    assert halfwidth(once) == once
    for a, b in zip(s, once, strict=True):
        if "\u4e00" <= a <= "\u9fff":
            assert a == b


@given(st.text(max_size=30))
def test_trim_is_idempotent(s: str) -> None:
    assert trim(trim(s)) == trim(s)
    assert trim("\u3000 " + s + "\u200b\t").strip() == trim(s).strip()


def test_trim_keeps_joiners_that_join_and_drops_the_rest() -> None:
    family, persian = "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert trim(f" 店主{family}之家 ") == f"店主{family}之家"
    assert trim(persian) == persian
    # Beside ASCII, a space or at an end a joiner joins nothing: a pasted code reads whole.
    assert trim("\ufeff9133\u200d0782\u200b\u200cMA2K4X0J5U\u200d ") == "91330782MA2K4X0J5U"
    assert trim("\u200d店\u200d\u3000") == "店"


FORMS = [
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: d.isoformat(),
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: fullwidth(d.isoformat()),
    lambda d: f"{d.isoformat()} 10:30:00",
]


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(range(len(FORMS))))
def test_every_date_form_parses_to_iso(d: dt.date, form: int) -> None:
    assert parse_date(FORMS[form](d)) == d.isoformat()


@pytest.mark.parametrize("bad", ["2025-02-30", "2025年13月1日", "20251301"])
def test_impossible_dates_are_rejected(bad: str) -> None:
    with pytest.raises(RowError, match="impossible date"):
        parse_date(bad)


@pytest.mark.parametrize("bad", ["yesterday", "03/05/2024", "2024-3"])
def test_unrecognised_dates_are_rejected(bad: str) -> None:
    with pytest.raises(RowError, match="unrecognised date"):
        parse_date(bad)


@pytest.mark.parametrize(("raw", "scale", "out"), [
    ("1,234.50", None, "1234.5"), ("１２", None, "12"), ("3小时", None, "3"), ("1.5", 10000, "15000"),
    ("", None, ""), ("-7", None, "-7"), ("2万元", None, "2"),
])
def test_numbers(raw: str, scale: float | None, out: str) -> None:
    assert parse_number(raw, scale) == out


def test_not_a_number() -> None:
    with pytest.raises(RowError, match="not a number"):
        parse_number("abc")


def test_code_map_rejects_unknown_codes_naming_them() -> None:
    fn = compile_step(Step(field="item", op="map", map={"罚款": "market.penalty"}))
    assert fn("罚款") == "market.penalty"
    with pytest.raises(RowError, match="unknown code '没收'"):
        fn("没收")
    with_default = compile_step(Step(field="item", op="map", map={"a": "x"}, default="y"))
    assert with_default("b") == "y"


def test_spec_validation_names_the_problem() -> None:
    base = {"name": "s", "version": "1", "department": "market", "kind": "records", "file": "f.csv",
            "format": "csv", "columns": {"uscc": "c", "occurred_on": "d"}, "items": ["market.penalty"],
            "item": "market.penalty"}
    SourceSpec.model_validate(base)
    with pytest.raises(ValueError, match="unknown field"):
        SourceSpec.model_validate({**base, "columns": {**base["columns"], "colour": "x"}})
    with pytest.raises(ValueError, match="names field 'value'"):
        SourceSpec.model_validate({**base, "steps": [{"field": "value", "op": "number"}]})
    with pytest.raises(ValueError, match="needs `map`"):
        Step(field="item", op="map")
