"""Alerts, the transactional outbox and the channel plugins, against real peers: an
SMTP server process and an HTTP gateway process on loopback."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from creditgov.alerts import inbox as alert_inbox
from creditgov.alerts import outbox
from creditgov.alerts import queries as alert_queries
from creditgov.alerts import service as alerts
from creditgov.alerts.channels import Channel, plugins
from creditgov.alerts.models import Alert, AlertEvent, InboxMessage, Notification
from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.measures import service as measures_service
from creditgov.security import service as audit
from tests.alerts.conftest import ALIYUN_SECRET, HOOK_SECRET
from tests.alerts.helpers import GRID, MICRO, make_regions, make_subject, setup_alerting
from tests.alerts.peers.running import HttpPeer, SmtpPeer

RECIPIENTS = [
    {"who": "grid_worker", "channels": ["inbox", "sms"]},
    {"who": "department", "code": "credit", "channels": ["inbox", "email"]},
    {"who": "bank", "channels": ["webhook"]},
    {"who": "principal", "channels": ["cloud-sms"]},
]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ALIYUN_SECRET", ALIYUN_SECRET)
    monkeypatch.setenv("TEST_HOOK_SECRET", HOOK_SECRET)


def _world(url: str, tmp: Path, smtp: SmtpPeer | None, http: HttpPeer | None, *,
           phone: str = "13800000001") -> int:
    """A firm in a micro-grid with a principal; contacts for its grid worker, the
    credit office, a bank watching it and the principal. Returns (firm id, principal id)."""
    with db.session_scope(url) as s:
        regions = make_regions(s)
        firm = make_subject(s, region=regions[MICRO], name="安澜鑫达机械有限公司")
        boss = make_subject(s, region=regions[MICRO], kind="individual", name="王建国")
        from tests.alerts.helpers import link

        link(s, firm, boss)
        setup_alerting(s, tmp, smtp_port=smtp.port if smtp else None, http_url=http.url if http else None,
                       contacts=[
                           {"kind": "grid_worker", "key": GRID, "name": "李网格", "phone": phone},
                           {"kind": "department", "key": "credit", "name": "信用办", "email": "credit@anlan.gov.test"},
                           {"kind": "bank", "key": "nongshang", "name": "农商银行",
                            "webhook_url": (http.url + "/hook") if http else None, "watch": [firm.uscc]},
                           {"kind": "subject", "key": str(boss.id), "name": "王建国", "phone": "13900000002"},
                       ])
        return firm.id, boss.id


def test_channel_plugins_are_registered_by_entry_point() -> None:
    found = plugins()
    assert set(found) >= {"inbox", "smtp", "http_sms", "aliyun_sms", "webhook"}
    assert all(issubclass(c, Channel) for c in found.values())


def test_alert_and_notifications_commit_together_or_not_at_all(store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(store, tmp_path, None, None)
    with pytest.raises(RuntimeError), db.session_scope(store) as s:
        r = alerts.raise_alert(s, rule_code="manual", subject_id=firm_id, title="t", recipients=RECIPIENTS[:1])
        assert r.created and r.notifications
        raise RuntimeError("the caller fails after raising")
    with db.session_scope(store) as s:
        assert s.execute(select(func.count(Alert.id))).scalar_one() == 0
        assert s.execute(select(func.count(Notification.id))).scalar_one() == 0
    with db.session_scope(store) as s:
        r = alerts.raise_alert(s, rule_code="manual", subject_id=firm_id, title="t", recipients=RECIPIENTS[:1])
    with db.session_scope(store) as s:
        assert s.execute(select(func.count(Notification.id)).where(
            Notification.alert_id == r.alert.id)).scalar_one() == 1  # the inbox; no SMS channel configured


def test_delivery_to_real_smtp_and_http_peers(store: str, tmp_path: Path, smtp_peer: SmtpPeer,
                                              http_peer: HttpPeer) -> None:
    firm_id, boss_id = _world(store, tmp_path, smtp_peer, http_peer)
    with db.session_scope(store) as s:
        r = alerts.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=firm_id, severity="high",
                               title="新增失信被执行人：安澜鑫达机械有限公司", body="（2026）浙0127执1号",
                               recipients=RECIPIENTS, evidence_key="record:abc")
        assert r.notes == []
        alert_id = r.alert.id
        assert sorted((n.channel, n.recipient) for n in r.notifications) == sorted([
            ("inbox", f"grid:{GRID}"), ("sms", f"grid:{GRID}"), ("inbox", "department:credit"),
            ("email", "department:credit"), ("webhook", "bank:nongshang"),
            ("cloud-sms", f"subject:{boss_id}")])
    d = outbox.drain(store)
    assert (d.sent, d.retried, d.dead) == (6, 0, 0)

    mails = smtp_peer.messages()
    assert len(mails) == 1
    m = mails[0]
    assert m["To"] == "credit@anlan.gov.test"
    assert m["Subject"] == "[信用预警] 新增失信被执行人：安澜鑫达机械有限公司"
    assert m.get_content().strip() == "（2026）浙0127执1号"
    with db.session_scope(store) as s:
        email = s.execute(select(Notification).where(Notification.alert_id == alert_id,
                                                     Notification.channel == "email")).scalar_one()
        assert m["Message-ID"] == f"<{email.idempotency_key}@creditgov.local>"
        assert email.status == "sent" and email.provider_ref == m["Message-ID"]

    got = http_peer.received()
    kinds = sorted(x["kind"] for x in got["messages"])
    assert kinds == ["aliyun", "hook", "sms"]  # the cloud SMS passed the gateway's signature check
    assert got["rejected"] == 0 and got["duplicates"] == 0
    sms = http_peer.messages("sms")[0]
    assert sms["to"] == "13800000001" and "新增失信被执行人" in sms["text"]
    cloud = http_peer.messages("aliyun")[0]
    assert cloud["to"] == "13900000002" and cloud["template"] == "SMS_0001"
    assert cloud["params"]["title"].startswith("新增失信被执行人")
    hook = http_peer.messages("hook")[0]["body"]
    assert hook["alert_id"] == alert_id and hook["subject_id"] == firm_id

    with db.session_scope(store) as s:
        inbox = alert_inbox.inbox(s, f"grid:{GRID}")
        assert len(inbox) == 1 and "新增失信被执行人" in inbox[0].body
        assert len(alert_inbox.inbox(s, "department:credit")) == 1
        assert {n.status for n in alert_queries.notifications_of(s, alert_id)} == {"sent"}


def test_temporary_failures_retry_with_backoff_and_deliver_once(sqlite_store: str, tmp_path: Path) -> None:
    peer = HttpPeer(tmp_path / "flaky.json", ["--fail-first", "2"]).start()
    try:
        firm_id, boss_id = _world(sqlite_store, tmp_path, None, peer)
        with db.session_scope(sqlite_store) as s:
            alerts.raise_alert(s, rule_code="manual", subject_id=firm_id, title="欠费预警",
                               recipients=[{"who": "grid_worker", "channels": ["sms"]}])
        first = outbox.deliver_due(sqlite_store)
        assert (first.claimed, first.retried, first.sent) == (1, 1, 0)
        with db.session_scope(sqlite_store) as s:
            n = s.execute(select(Notification)).scalar_one()
            assert n.status == "pending" and n.attempts == 1 and "503" in (n.last_error or "")
            assert n.next_attempt_at > dt.datetime.now(dt.UTC).replace(tzinfo=None)  # backoff, not at once
        from tests.alerts.peers.running import wait_for

        assert wait_for(lambda: outbox.deliver_due(sqlite_store).sent == 1, timeout=10)
        with db.session_scope(sqlite_store) as s:
            n = s.execute(select(Notification)).scalar_one()
            assert n.status == "sent" and n.attempts == 3
        got = peer.received()
        assert got["requests"] == 3 and len(got["messages"]) == 1
    finally:
        peer.stop()


def test_permanent_failure_is_dead_at_once_and_noted_on_the_alert(sqlite_store: str, tmp_path: Path,
                                                                  http_peer: HttpPeer) -> None:
    firm_id, boss_id = _world(sqlite_store, tmp_path, None, http_peer, phone="0001234")  # the gateway refuses 000… numbers
    with db.session_scope(sqlite_store) as s:
        r = alerts.raise_alert(s, rule_code="manual", subject_id=firm_id, title="x",
                               recipients=[{"who": "grid_worker", "channels": ["sms"]}])
        alert_id = r.alert.id
    d = outbox.drain(sqlite_store)
    assert (d.dead, d.sent) == (1, 0)
    with db.session_scope(sqlite_store) as s:
        n = s.execute(select(Notification)).scalar_one()
        assert n.status == "dead" and n.attempts == 1 and "400" in (n.last_error or "")
        actions = [e.action for e in alert_queries.events_of(s, alert_id)]
        assert actions == ["raised", "delivery_failed"]
        outbox.requeue(s, notification_id=n.id)
    assert outbox.drain(sqlite_store).dead == 1  # still refused: requeue really tried again


def test_smtp_down_then_up_delivers(sqlite_store: str, tmp_path: Path) -> None:
    peer = SmtpPeer(tmp_path / "maildir")
    peer.start()
    port = peer.port
    peer.stop()
    firm_id, boss_id = _world(sqlite_store, tmp_path, peer, None)
    with db.session_scope(sqlite_store) as s:
        alerts.raise_alert(s, rule_code="manual", subject_id=firm_id, title="邮件测试",
                           recipients=[{"who": "department", "code": "credit", "channels": ["email"]}])
    assert outbox.deliver_due(sqlite_store).retried == 1
    # The server comes back on the configured port.
    import subprocess
    import sys

    from tests.alerts.peers.running import HERE, stop, wait_for

    proc = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
                             "aiosmtpd.handlers.Mailbox", str(tmp_path / "maildir")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
    try:
        assert wait_for(lambda: outbox.deliver_due(sqlite_store).sent == 1, timeout=15)
        assert wait_for(lambda: len(peer.messages()) == 1)
    finally:
        stop(proc)


def test_dedup_window_and_evidence_keys(store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(store, tmp_path, None, None)
    rec = [{"who": "grid_worker", "channels": ["inbox"]}]
    with db.session_scope(store) as s:
        a = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t", recipients=rec,
                               evidence_key="record:1")
        again = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t", recipients=rec,
                                   evidence_key="record:1")
        assert again.alert.id == a.alert.id and not again.created and not again.repeated
        second = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t", recipients=rec,
                                    evidence_key="record:2")
        assert second.repeated and second.alert.id == a.alert.id and second.notifications == []
        assert second.alert.occurrences == 2
        alerts.resolve(s, alert_id=a.alert.id, resolution="核实处理完毕")
        third = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t", recipients=rec,
                                   evidence_key="record:3")
        assert third.created and third.alert.id != a.alert.id  # a resolved alert does not absorb news
        assert s.execute(select(func.count(Notification.id))).scalar_one() == 2


def test_lifecycle_with_comments_and_audit(sqlite_store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(sqlite_store, tmp_path, None, None)
    with db.session_scope(sqlite_store) as s:
        a = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t").alert
        alerts.comment(s, alert_id=a.id, note="已电话联系企业负责人", actor="grid:li")
        alerts.acknowledge(s, alert_id=a.id, actor="grid:li")
        with pytest.raises(InvalidInput):
            alerts.acknowledge(s, alert_id=a.id, actor="grid:li")
        alerts.resolve(s, alert_id=a.id, resolution="企业已履行", actor="grid:li")
        with pytest.raises(InvalidInput):
            alerts.resolve(s, alert_id=a.id, resolution="again")
        with pytest.raises(InvalidInput):
            alerts.comment(s, alert_id=a.id, note="  ")
        events = [(e.action, e.actor) for e in alert_queries.events_of(s, a.id)]
        assert events == [("raised", "system:alerts"), ("commented", "grid:li"), ("acknowledged", "grid:li"),
                          ("resolved", "grid:li")]
        actions = [e.action for e in audit.entries_for_subject(s, firm_id)]
        assert {"alert.raise", "alert.comment", "alert.acknowledge", "alert.resolve"} <= set(actions)
        assert audit.verify(s).ok


def test_escalation_when_nobody_acknowledges(sqlite_store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(sqlite_store, tmp_path, None, None)
    steps = [{"after_hours": 1, "to": [{"who": "department", "code": "market"}]},
             {"after_hours": 5, "to": [{"who": "user", "code": "head"}]}]
    with db.session_scope(sqlite_store) as s:
        a = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t", escalation=steps).alert
        b = alerts.raise_alert(s, rule_code="r2", subject_id=firm_id, title="t", escalation=steps).alert
        assert alerts.escalate_due(s) == []  # not due yet
        # Two hours pass for both; b is acknowledged in time.
        for x in (a, b):
            x.raised_at -= dt.timedelta(hours=2)
            x.ack_due_at -= dt.timedelta(hours=2)
        s.flush()
        alerts.acknowledge(s, alert_id=b.id)
        s.expire_all()
        assert alerts.escalate_due(s) == [(a.id, 1)]
        assert alerts.escalate_due(s) == []  # twice is once
        notes = alert_queries.notifications_of(s, a.id)
        assert [n.recipient for n in notes] == ["department:market"]
        assert alert_queries.notifications_of(s, b.id) == []
        assert s.get(Alert, a.id).ack_due_at is not None  # the next step is pending
        assert s.execute(select(AlertEvent.action).where(AlertEvent.alert_id == a.id)
                         .order_by(AlertEvent.id)).scalars().all() == ["raised", "escalated"]


def test_two_workers_never_claim_the_same_row(store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(store, tmp_path, None, None)
    with db.session_scope(store) as s:
        for i in range(40):
            alerts.notify(s, recipients=[f"department:d{i}"], title=f"通知{i}", body="b", subject_id=firm_id)
    got: list[list[int]] = [[], []]

    def take(k: int) -> None:
        while True:
            batch = outbox.claim(store, limit=3)
            if not batch:
                return
            got[k].extend(c.id for c in batch)

    threads = [threading.Thread(target=take, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got[0]) + len(got[1]) == 40
    assert not set(got[0]) & set(got[1])


def test_notify_with_a_key_is_idempotent_and_lands_in_the_shared_inbox(sqlite_store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(sqlite_store, tmp_path, None, None)
    with db.session_scope(sqlite_store) as s:
        first = alerts.notify(s, recipients=[{"who": "subject"}], title="异议已受理", body="您的异议已受理",
                              subject_id=firm_id, key="objection:1:received")
        again = alerts.notify(s, recipients=[{"who": "subject"}], title="异议已受理", body="您的异议已受理",
                              subject_id=firm_id, key="objection:1:received")
        assert len(first) == 1 and again == []
    assert outbox.drain(sqlite_store).sent == 1
    # Delivering the same notification again (a retry after a crash) adds no second message.
    with db.session_scope(sqlite_store) as s:
        s.execute(update(Notification).values(status="pending", next_attempt_at=dt.datetime(2000, 1, 1)))
    assert outbox.drain(sqlite_store).sent == 1
    with db.session_scope(sqlite_store) as s:
        rows = s.execute(select(InboxMessage).where(InboxMessage.recipient_kind == "subject")).scalars().all()
        assert len(rows) == 1 and rows[0].recipient == str(firm_id) and rows[0].body.startswith("异议已受理")


def test_open_alerts_appear_in_the_credit_check(sqlite_store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(sqlite_store, tmp_path, None, None)
    with db.session_scope(sqlite_store) as s:
        a = alerts.raise_alert(s, rule_code="court-dishonest-debtor", subject_id=firm_id, title="新增失信",
                               severity="high").alert
        warnings = measures_service.open_warnings(s, firm_id)
        assert [w["alert_id"] for w in warnings] == [a.id]
        alerts.resolve(s, alert_id=a.id, resolution="done")
        assert measures_service.open_warnings(s, firm_id) == []


def test_unconfigured_channels_are_noted_not_queued(sqlite_store: str, tmp_path: Path) -> None:
    firm_id, boss_id = _world(sqlite_store, tmp_path, None, None)
    with db.session_scope(sqlite_store) as s:
        r = alerts.raise_alert(s, rule_code="r", subject_id=firm_id, title="t", recipients=RECIPIENTS)
        assert [n.channel for n in r.notifications] == ["inbox", "inbox"]
        assert "channel 'sms' is not configured" in r.notes
        ev = alert_queries.events_of(s, r.alert.id)[0]
        assert json.dumps(ev.detail, ensure_ascii=False).count("not configured") >= 3
