"""Words for what the ingestion pages and a subject's file name (no store needed): every
source the product writes credit records under itself — not a department's spec — has a
Chinese and an English name where source names are resolved (`quality.service.
source_names`); and a quarantine reason's detail is said in either language from the
shapes its fixed wording takes, python-stdnum's English faults by their class, with no
English left in the Chinese words."""

from __future__ import annotations

import re

import pytest
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from creditgov import bootstrap
from creditgov.commitments.service import SOURCE as COMMITMENTS
from creditgov.core import labels
from creditgov.core.errors import InvalidInput
from creditgov.ingest.labels import REASON_DETAIL
from creditgov.ingest.reasons import DETAIL_PATTERNS, reason_code, reason_detail
from creditgov.points.merchants import SOURCE as MERCHANT_AWARD
from creditgov.quality.service import source_names
from creditgov.subjects.identifiers import clean_resident_id, clean_uscc

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_products_own_sources_have_names_in_both_languages() -> None:
    bootstrap.wire()
    market = {"zh": labels.label("department", "market", "zh"), "en": labels.label("department", "market", "en")}
    for name, doc in ((MERCHANT_AWARD, {}), (COMMITMENTS, {}), ("objection", {}), ("exchange:province", {}),
                      ("inspection_market", {"department": "market", "kind": "records",
                                             "title": "market 检查结果 (supervision domain)"})):
        zh, en = source_names(name, doc)
        assert name not in (zh, en) and zh != en, name
        assert HAN.search(zh) and not HAN.search(en), (name, zh, en)
    assert source_names("exchange:province", {}) == ("信用信息交换：province", "Credit information exchange: province")
    assert source_names("inspection_market", {"department": "market"}) == (f"{market['zh']}检查结果",
                                                                          f"{market['en']}: inspection results")
    # A department's spec: its title, else (and in English) its department and kind.
    assert source_names("market_x", {"department": "market", "kind": "records", "title": "市场处罚"})[0] == "市场处罚"
    assert source_names("market_x", {"department": "market", "kind": "records"})[1].startswith(market["en"] + ": ")
    assert source_names("nobody_knows", {}) == ("nobody_knows", "nobody_knows")


def _stored(fn, value: str) -> str:
    with pytest.raises(InvalidInput) as exc:
        fn(value)
    return str(exc.value)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reason_in_the_readers_language(lang: str) -> None:
    bootstrap.wire()
    en = lang == "en"
    # Each of stdnum's faults in words, never its English message.
    faults = {InvalidChecksum: _stored(clean_uscc, "91330522MA2B000100"),
              InvalidLength: _stored(clean_uscc, "91330522MA2B0001"),
              InvalidFormat: _stored(clean_uscc, "A1330522MA2B00010N"),
              InvalidComponent: f"invalid unified social credit code 'X': {InvalidComponent()}"}
    said = {cls: reason_detail(text, lang) for cls, text in faults.items()}
    assert all(said.values()) and len(set(said.values())) == len(said), said
    for cls, words in said.items():
        assert str(cls()) not in str(words)
        assert bool(HAN.search(str(words))) is not en
    assert said[InvalidChecksum] == ("统一社会信用代码 91330522MA2B000100 校验位不正确" if not en else
                                     "the credit code 91330522MA2B000100 has a wrong check digit")
    # A part of a resident ID number the product checks itself (its birth date here).
    assert reason_detail(_stored(clean_resident_id, "330522198502300010"), lang) == (
        "身份证号 330***********0010 中的出生日期 19850230 不存在" if not en else
        "the ID number 330***********0010 holds the birth date 19850230, which is not a real date")
    # Neither a credit code nor an ID number: both faults said.
    neither = ("identifier is neither a credit code nor an ID number (invalid credit code; "
               f"{_stored(clean_resident_id, '330522198501010012')})")
    assert reason_code(neither) == "bad_identifier"
    assert reason_detail(neither, lang) == (
        "既不是有效的统一社会信用代码，也不是有效的身份证号（不是有效的统一社会信用代码；身份证号 330***********0012 校验位不正确）"
        if not en else "neither a valid credit code nor a valid ID number (not a valid credit code; the ID number "
                       "330***********0012 has a wrong check digit)")
    # Codes inside a reason by their labels: a field, an item, a department, a subject kind.
    for text, named in (("missing occurred_on", labels.label("spec_field", "occurred_on", lang)),
                        ("item 'police.traffic_violation' is not approved from department 'police': the data "
                         "request was never requested", labels.label("department", "police", lang)),
                        ("a enterprise is identified by uscc, the row gives resident_id",
                         labels.label("subject_kind", "enterprise", lang))):
        words = reason_detail(text, lang)
        assert words is not None and named in words and bool(HAN.search(words)) is not en, text
    # Every known shape has words in both languages; a text of another shape has none.
    assert {code for code, _rx in DETAIL_PATTERNS} <= set(REASON_DETAIL)
    assert all(zh and en and zh != en and not HAN.search(en) for zh, en in REASON_DETAIL.values())
    assert reason_detail("refused for a reason of another shape", lang) is None
