"""The refusal of the analysis page's distribution in the reader's language, from the
label catalogue: grades asked for without a model (no model has a published run)."""

from __future__ import annotations

import pytest

from creditgov import bootstrap
from creditgov.analysis import service
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.web import i18n
from tests import store_template


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def test_grades_without_a_model(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        assert service.published_models(s) == []
        for by in ("street", "industry"):
            with pytest.raises(InvalidInput, match="grades are per model") as no_model:
                service.distribution(s, what="grade", by=by, model=None)
            assert i18n.refusal(no_model.value, "zh") == "信用等级分布要按评价模型查看，请选择一个已发布评价结果的模型。"
            assert i18n.refusal(no_model.value, "en") == ("Grades are shown per evaluation model; choose a model "
                                                          "with a published evaluation.")
