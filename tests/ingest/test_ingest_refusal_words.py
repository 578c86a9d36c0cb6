"""The refusals of the manual entry pages in the reader's language, from the label
catalogue: an entry's status by its label, a field by the name the form gives it, what
the officer typed repeated unchanged (escaping is the template's job), and what is wrong
with an identifier or a refused row in plain words — never the developer's English."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from tests import store_template

from creditgov import bootstrap
from creditgov.catalog.models import DataRequest
from creditgov.core import db, labels
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.ingest import manual
from creditgov.ingest import service as ingest_service
from creditgov.security.crypto import KeyRing
from creditgov.web import i18n

FIRM = "91330522MA2B00010N"
HOSTILE = '<b>x</b> "O\'Brien" “引号”'


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def _fields(**extra: str) -> dict[str, str | None]:
    return {"identifier": FIRM, "name": "长兴织造有限公司", "item": "market.penalty", "occurred_on": "2026-05-03",
            **extra}


def test_what_an_officer_typed_wrong(store: str, keyring: KeyRing) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(InvalidInput, match="unknown catalogue item") as item:
            manual.propose(s, keyring, kind="record", department="market", fields=_fields(item=HOSTILE),
                           reason="核对", actor="a")
        with pytest.raises(InvalidInput, match="needs a reason") as reason:
            manual.propose(s, keyring, kind="record", department="market", fields=_fields(), reason=" ", actor="a")
        with pytest.raises(InvalidInput, match="name holds a NUL") as nul:
            manual.propose(s, keyring, kind="record", department="market", fields=_fields(name="长兴\x00"),
                           reason="核对", actor="a")
        with pytest.raises(InvalidInput, match="checksum") as ident:
            manual.propose(s, keyring, kind="record", department="market",
                           fields=_fields(identifier=FIRM[:17] + "0"), reason="核对", actor="a")
    assert i18n.refusal(item.value, "zh") == f"数据目录中没有名称或编码为“{HOSTILE}”的信息目录项，请从列表中选择。"
    assert i18n.refusal(item.value, "en") == (f"The data catalogue has no item named or coded “{HOSTILE}”; choose one "
                                              "from the list.")
    assert (i18n.refusal(reason.value, "zh"), i18n.refusal(reason.value, "en")) == ("请填写录入理由。",
                                                                                   "Give the reason for the entry.")
    assert i18n.refusal(nul.value, "zh") == "“名称”中含有无法保存的空字符（U+0000），请删除后重新填写。"
    assert i18n.refusal(nul.value, "en") == "“Name” holds a NUL character (U+0000), which cannot be kept; remove it and try again."
    assert i18n.refusal(ident.value, "zh") == ("填写的号码不是有效的统一社会信用代码或身份证号（统一社会信用代码 "
                                               f"{FIRM[:17]}0 校验位不正确；身份证号 {FIRM[:3]}***********{FIRM[14:17]}0 "
                                               "格式不正确），请核对后重新填写。")
    assert i18n.refusal(ident.value, "en") == (f"The identifier is not a valid credit code or resident ID number: "
                                               f"the credit code {FIRM[:17]}0 has a wrong check digit; the ID number "
                                               f"{FIRM[:3]}***********{FIRM[14:17]}0 is not in the right format. "
                                               "Check it and enter it again.")
    assert "checksum" not in i18n.refusal(ident.value, "en") and "(" not in i18n.refusal(ident.value, "en")


def test_the_second_person_and_a_decided_entry(store: str, keyring: KeyRing, mini: Path) -> None:
    bootstrap.wire()
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")  # the firm, the market's items granted
    with db.session_scope(store) as s:
        e = manual.propose(s, keyring, kind="record", department="market", fields=_fields(), reason="核对", actor="a")
        n = e.id
        with pytest.raises(Conflict, match="second person") as own:
            manual.decide(s, keyring, n, approve=True, actor="a")
        manual.decide(s, keyring, n, approve=False, note=HOSTILE, actor="b")
        with pytest.raises(Conflict, match="already rejected") as decided:
            manual.decide(s, keyring, n, approve=True, actor="c")
    assert i18n.refusal(own.value, "zh") == f"人工录入 #{n} 是您本人录入的，须由另一位工作人员审核。"
    assert i18n.refusal(own.value, "en") == f"You entered manual entry #{n}; another person approves or rejects it."
    assert i18n.refusal(decided.value, "zh") == f"人工录入 #{n} 已是“已驳回”状态，不能再审核。"
    assert i18n.refusal(decided.value, "en") == f"Manual entry #{n} is already “Rejected”; it cannot be decided again."


def test_an_entry_ingestion_refuses_says_why_by_its_category(store: str, keyring: KeyRing, mini: Path) -> None:
    """Approving runs the entry through ingestion; a refusal there (the request withdrawn
    since it was entered) is said by the quarantine's category and its detail in words."""
    bootstrap.wire()
    ingest_service.ingest_paths(store, keyring, [mini], actor="test")
    with db.session_scope(store) as s:
        e = manual.propose(s, keyring, kind="record", department="market", fields=_fields(), reason="核对", actor="a")
        s.execute(update(DataRequest).where(DataRequest.item_code == "market.penalty",
                                            DataRequest.department_code == "market").values(status="requested"))
        with pytest.raises(InvalidInput, match="could not go through ingestion") as refused:
            manual.decide(s, keyring, e.id, approve=True, actor="b")
    assert refused.value.params["reason"] == "item_not_allowed", refused.value.params
    item = {lang: labels.label("item", "market.penalty", lang) for lang in ("zh", "en")}
    dept = {lang: labels.label("department", "market", lang) for lang in ("zh", "en")}
    assert i18n.refusal(refused.value, "zh") == (f"这条录入未能通过归集检查：信息项未获准报送（尚未向{dept['zh']}申请“{item['zh']}”）。"
                                                 "它仍待审核，请驳回并在审核意见中写明原因。")
    assert i18n.refusal(refused.value, "en") == (
        f"The entry could not go through ingestion: “{item['en']}” was never requested from {dept['en']}. It stays "
        "awaiting approval: reject it, saying why in the note.")
