"""A form's faults in the reader's words (`web.forms.invalid_form`): every kind of fault
the pages' schemas raise, in both languages, with the field's label from the form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from creditgov import bootstrap
from creditgov.finance.schemas import NeedIn
from creditgov.supervision.schemas import ResultIn
from creditgov.web import i18n
from creditgov.web.forms import invalid_form

LABELS = {"outcome": "检查结果", "penalty_amount": "罚款金额（元）", "score": "评分", "inspected_on": "检查日期",
          "decision_no": "处罚决定书文号", "amount": "金额（元）", "term_months": "期限（月）", "contact_phone": "联系电话"}


def _said(model: type, data: dict[str, object], lang: str) -> str:
    bootstrap.wire()
    token = i18n.current.set(lang)
    try:
        with pytest.raises(ValidationError) as err:
            model.model_validate(data)
        labels = {k: i18n.gettext_(v) for k, v in LABELS.items()}
        return invalid_form(err.value, labels)
    finally:
        i18n.current.reset(token)


def test_each_fault_in_chinese() -> None:
    said = _said(ResultIn, {"outcome": "maybe", "penalty_amount": "abc", "score": "1001",
                            "inspected_on": "31/12/2026", "decision_no": ""}, "zh")
    assert said == ("请从列表中选择“检查结果”。 “罚款金额（元）”应填写数字。 请填写“处罚决定书文号”。 "
                    "“评分”不能大于 1,000。 “检查日期”应填写日期，如 2026-12-05。")
    said = _said(ResultIn, {"outcome": "penalty", "penalty_amount": "12.345", "score": "-1"}, "zh")
    assert said == "“罚款金额（元）”最多保留 2 位小数。 “评分”不能小于 0。"
    said = _said(NeedIn, {"amount": "0", "term_months": 400, "purpose": "x", "contact_name": "y",
                          "contact_phone": "<b>13800</b>"}, "zh")
    assert said == "“金额（元）”必须大于 0。 “期限（月）”不能大于 360。 “联系电话”的格式不对。"


def test_each_fault_in_english_and_an_unnamed_field() -> None:
    said = _said(ResultIn, {"outcome": "maybe", "penalty_amount": "1" * 20, "score": "1001"}, "en")
    assert said == ("Please choose “Result” from the list. “Fine (yuan)” cannot be more than 1,000,000,000,000. "
                    "“Score” cannot be more than 1,000."), said
    # a field the page did not name is "the form"; a fault not worded keeps Pydantic's words
    bootstrap.wire()
    token = i18n.current.set("zh")
    try:
        with pytest.raises(ValidationError) as err:
            NeedIn.model_validate({"amount": "1", "term_months": 1, "purpose": "x", "contact_name": "y",
                                   "contact_phone": "123456", "extra": 1})
        assert invalid_form(err.value, {}) == "表单中有一项不符合要求（Extra inputs are not permitted）。"
    finally:
        i18n.current.reset(token)
