"""The refusal of a record's status change in the reader's language, from the label
catalogue: the record's status and the status asked for by their labels (an officer
approving a repair of a record under objection meets it on the repair's page)."""

from __future__ import annotations

import datetime as dt

import pytest

from creditgov import bootstrap
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.records import service
from creditgov.web import i18n
from tests import store_template
from tests.lists.helpers import add_record, make_subject


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def test_a_status_the_record_cannot_take(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        rec = add_record(s, make_subject(s), "market.penalty", occurred_on=dt.date(2026, 1, 20))
        n = rec.id
        service.change_status(s, record_id=n, to_status="disputed", reason="异议受理", actor="test")
        with pytest.raises(InvalidInput, match="cannot become repaired") as disputed:
            service.change_status(s, record_id=n, to_status="repaired", reason="修复", actor="test")
        service.change_status(s, record_id=n, to_status="revoked", reason="异议成立", actor="test")
        with pytest.raises(InvalidInput, match="cannot become active") as revoked:
            service.change_status(s, record_id=n, to_status="active", reason="恢复", actor="test")
    assert str(disputed.value) == f"record {n} is disputed; it cannot become repaired"
    assert i18n.refusal(disputed.value, "zh") == f"信用记录 #{n} 当前是“异议中”状态，不能改为“已修复”。"
    assert i18n.refusal(disputed.value, "en") == f"Credit record #{n} is “Disputed”; it cannot become “Repaired”."
    assert i18n.refusal(revoked.value, "zh") == f"信用记录 #{n} 当前是“已撤销”状态，不能改为“有效”。"
    assert i18n.refusal(revoked.value, "en") == f"Credit record #{n} is “Revoked”; it cannot become “In force”."
