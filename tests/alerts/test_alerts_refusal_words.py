"""The refusals of an alert's page in the reader's language, from the label
catalogue: an alert's status by its label, a comment or a resolution without words,
an alert already resolved, and an alert or a message nobody has."""

from __future__ import annotations

import pytest

from creditgov import bootstrap
from creditgov.alerts import inbox
from creditgov.alerts import service as alerts_service
from creditgov.core import db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.web import i18n
from tests import store_template

HOSTILE = '<b>x</b> "O\'Brien" “引号”'


@pytest.fixture
def store(sqlite_url: str) -> str:
    return store_template.fill(sqlite_url)


def test_handling_an_alert_out_of_turn(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        a = alerts_service.raise_alert(s, rule_code="court-dishonest-debtor", title=HOSTILE, actor="test").alert
        alerts_service.acknowledge(s, alert_id=a.id, actor="office")
        with pytest.raises(InvalidInput, match="only an open alert") as again:
            alerts_service.acknowledge(s, alert_id=a.id, actor="office")
        with pytest.raises(InvalidInput, match="a comment needs text") as blank:
            alerts_service.comment(s, alert_id=a.id, note="  ", actor="office")
        with pytest.raises(InvalidInput, match="needs a resolution") as unsaid:
            alerts_service.resolve(s, alert_id=a.id, resolution=" ", actor="office")
        alerts_service.resolve(s, alert_id=a.id, resolution=HOSTILE, actor="office")
        with pytest.raises(InvalidInput, match="already resolved") as resolved:
            alerts_service.resolve(s, alert_id=a.id, resolution="再次办结", actor="office")
        n = a.id
    assert i18n.refusal(again.value, "zh") == f"预警 #{n} 已是“已签收”状态，只有待签收的预警才能签收。"
    assert i18n.refusal(again.value, "en") == f"Alert #{n} is already “Acknowledged”; only an open alert can be acknowledged."
    assert (i18n.refusal(blank.value, "zh"), i18n.refusal(blank.value, "en")) == ("请填写批注内容。", "A comment needs text.")
    assert i18n.refusal(unsaid.value, "zh") == "办结预警须写明处理情况。"
    assert i18n.refusal(unsaid.value, "en") == "Resolving an alert needs what was done."
    assert (i18n.refusal(resolved.value, "zh"), i18n.refusal(resolved.value, "en")) == (
        f"预警 #{n} 已办结。", f"Alert #{n} is already resolved.")


def test_an_alert_or_a_message_nobody_has(store: str) -> None:
    bootstrap.wire()
    with db.session_scope(store) as s:
        with pytest.raises(NotFound, match="alert 404 not found") as alert:
            alerts_service.get(s, 404)
        with pytest.raises(NotFound, match="inbox") as message:
            inbox.mark_read(s, message_id=12, principal="user:alice", actor="user:alice")
    assert i18n.refusal(alert.value, "zh") == "找不到预警 #404，或它不在您的数据范围内。"
    assert i18n.refusal(alert.value, "en") == "Alert #404 was not found, or is outside your data scope."
    # the message names the inboxes it looked in; the words do not
    assert (i18n.refusal(message.value, "zh"), i18n.refusal(message.value, "en")) == (
        "您的消息中没有消息 #12。", "Message #12 is not in your inbox.")
