"""The refusals of the manual entry pages in the reader's language, from the label
catalogue: an entry's status by its label, a field by the name the form gives it, and
what the officer typed repeated unchanged (escaping is the template's job)."""

from __future__ import annotations

import pytest
from tests import store_template

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.ingest import manual
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
    assert i18n.refusal(ident.value, "zh") == "填写的号码不是有效的统一社会信用代码或身份证号，请核对后重新填写。"
    assert i18n.refusal(ident.value, "en") == (f"The identifier is not a valid credit code or resident ID number "
                                               f"({ident.value}); check it and enter it again.")


def test_the_second_person_and_a_decided_entry(store: str, keyring: KeyRing) -> None:
    bootstrap.wire()
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


def test_an_entry_ingestion_refuses_says_why_by_its_category(store: str, keyring: KeyRing) -> None:
    """Approving runs the entry through ingestion; a refusal there is said by the
    quarantine's category (`ingest.reasons.reason_code`), the row's English after it
    in English only."""
    bootstrap.wire()
    with db.session_scope(store) as s:  # the template's market department was never granted this item
        e = manual.propose(s, keyring, kind="record", department="market", fields=_fields(), reason="核对", actor="a")
        with pytest.raises(InvalidInput, match="could not go through ingestion") as refused:
            manual.decide(s, keyring, e.id, approve=True, actor="b")
    assert refused.value.params["reason"] == "item_not_allowed", refused.value.params
    assert i18n.refusal(refused.value, "zh") == ("这条录入未能通过归集检查：信息项未获准报送。"
                                                 "它仍待审核，请驳回并在审核意见中写明原因。")
    assert i18n.refusal(refused.value, "en") == ("The entry could not go through ingestion: "
                                                 f"{refused.value.params['why']}. It stays awaiting approval: reject it, saying why in the note.")
