"""The refusals of the documents page in the reader's language, from the label
catalogue: a list nobody has (what the officer chose repeated unchanged), an empty
batch, and inspection notices asked for without a draw or for a draw nobody made."""

from __future__ import annotations

import pytest

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.documents import casework, inspections, service
from creditgov.web import i18n
from tests import store_template

HOSTILE = '<b>x</b> "O\'Brien" “引号”'
VERIFY = "https://credit.example/verify"


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def test_a_list_nobody_has_and_an_empty_batch(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(NotFound, match="not found") as no_list:
            service.print_batch(s, list_code=HOSTILE, kind="notice", verify_base=VERIFY, actor="test")
        with pytest.raises(NotFound, match="no documents in this batch") as empty:
            casework.print_cases(s, kind="objection", verify_base=VERIFY, actor="test")
    assert i18n.refusal(no_list.value, "zh") == f"找不到信用名单“{HOSTILE}”，请从列表中选择名单。"
    assert i18n.refusal(no_list.value, "en") == f"There is no credit list “{HOSTILE}”; choose one from the list."
    assert i18n.refusal(empty.value, "zh") == "所选范围内没有可打印的文书。"
    assert i18n.refusal(empty.value, "en") == "There are no documents to print for what you chose."


def test_inspection_notices_without_a_draw(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(InvalidInput, match="name a draw") as unnamed:
            inspections.tasks_for(s)
        with pytest.raises(NotFound, match="draw 77 not found") as no_draw:
            inspections.tasks_for(s, draw_id=77)
        with pytest.raises(NotFound, match=r"inspection task\(s\) 5, 9 not found$") as no_tasks:
            inspections.tasks_for(s, task_ids=[9, 5])
    assert i18n.refusal(unnamed.value, "zh") == "请选择一次抽查，或指定要打印通知书的检查任务。"
    assert i18n.refusal(unnamed.value, "en") == "Choose a draw, or name the inspection tasks to print notices for."
    assert (i18n.refusal(no_draw.value, "zh"), i18n.refusal(no_draw.value, "en")) == ("找不到抽查 #77。",
                                                                                       "Draw #77 was not found.")
    assert i18n.refusal(no_tasks.value, "zh") == "找不到检查任务 5, 9。"
    assert i18n.refusal(no_tasks.value, "en") == "Inspection task(s) 5, 9 were not found."
