"""The refusal of the public recommendation list page in the reader's language, from
the label catalogue: the list asked for repeated unchanged (escaping is the template's
job), whatever it holds."""

from __future__ import annotations

import pytest

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import NotFound
from creditgov.reports import recommend
from creditgov.web import i18n
from tests import store_template

HOSTILE = '<b>x</b> "O\'Brien" “引号”'


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def test_a_recommendation_list_that_does_not_exist(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(NotFound, match="no recommendation list") as hostile:
            recommend.recommended(s, HOSTILE)
        with pytest.raises(NotFound, match="no recommendation list 'nope'") as plain:
            recommend.recommended(s, "nope")
    assert i18n.refusal(hostile.value, "zh") == f"没有名为“{HOSTILE}”的推荐名单。"
    assert i18n.refusal(hostile.value, "en") == f"There is no recommendation list “{HOSTILE}”."
    assert (i18n.refusal(plain.value, "zh"), i18n.refusal(plain.value, "en")) == (
        "没有名为“nope”的推荐名单。", "There is no recommendation list “nope”.")
    # the error page says the same
    assert i18n.error_text(404, str(plain.value), "zh", code=plain.value.code, params=plain.value.params) == (
        "未找到", "没有名为“nope”的推荐名单。", None)
