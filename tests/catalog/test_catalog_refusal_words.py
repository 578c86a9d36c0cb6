"""The refusals of the data request pages in the reader's language, from the label
catalogue: departments and catalogue items said by their names, a status by its label,
and the text a person typed repeated unchanged (escaping is the template's job)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests import store_template

from creditgov import bootstrap
from creditgov.catalog import requests as wf
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.web import i18n

HOSTILE = '<b>x</b> "O\'Brien" “引号”'


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def _file(s: Session, *, items: tuple[str, ...] = ("market.complaint",), legal_basis: str = "依据") -> None:
    wf.file_request(s, department="market", items=list(items), legal_basis=legal_basis, purpose="用途",
                    frequency="monthly", actor="office")


def test_a_form_without_its_texts_or_items(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(InvalidInput, match="legal basis is required") as missing:
            _file(s, legal_basis=" ")
        with pytest.raises(InvalidInput, match="at least one catalogue item") as none:
            _file(s, items=(" ",))
        with pytest.raises(InvalidInput, match="unknown catalogue item") as unknown:
            _file(s, items=(HOSTILE,))
    assert (i18n.refusal(missing.value, "zh"), i18n.refusal(missing.value, "en")) == ("请填写法律依据。",
                                                                                     "Fill in “Legal basis”.")
    assert (i18n.refusal(none.value, "zh"), i18n.refusal(none.value, "en")) == ("请至少选择一个信息目录项。",
                                                                               "Choose at least one catalogue item.")
    assert i18n.refusal(unknown.value, "zh") == f"数据目录中没有“{HOSTILE}”这一项，请刷新页面后重新选择。"
    assert i18n.refusal(unknown.value, "en") == f"The data catalogue has no item “{HOSTILE}”; reload the page and choose again."


def test_an_item_asked_for_twice_and_a_request_decided_twice(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        _file(s)
        with pytest.raises(Conflict, match="already requested") as pending:
            _file(s)
        [r] = wf.forms(s)[0].items
        wf.decide(s, r.id, decision="rejected", reason=HOSTILE, unit="market", actor="market-officer")
        with pytest.raises(Conflict, match="was already rejected") as decided:
            wf.decide(s, r.id, decision="approved", reason="ok", unit="market", actor="market-officer")
        n = r.id
    assert i18n.refusal(pending.value, "zh") == "已向市场监督管理局申请“消费投诉”，正在等待审批。"
    assert i18n.refusal(pending.value, "en") == ("“Consumer complaint” is already requested from Market Supervision "
                                                 "Administration and awaits a decision.")
    assert i18n.refusal(decided.value, "zh") == f"数据申请事项 #{n} 已是“已驳回”状态，不能再审批。"
    assert i18n.refusal(decided.value, "en") == f"Data request #{n} is already “Rejected”; it cannot be decided again."
