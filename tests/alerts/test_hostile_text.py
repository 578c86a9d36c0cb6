"""Hostile firm names (tests/hostile.py), ingested through the real pipeline, in every
kind of notification — each warning-rule kind and a procedure notice — delivered
through every channel to real peers (an SMTP server, an SMS gateway, the cloud SMS
API, a webhook receiver) and into the inbox: every message is sent, and each carries
the text as the channel can: e-mail subjects and SMS variables on one line, bodies
with their line breaks, JSON exactly as written, markup never interpreted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts import outbox, rules
from creditgov.alerts import service as alerts
from creditgov.alerts.channels import one_line, plain
from creditgov.alerts.models import Alert, InboxMessage, Notification
from creditgov.core import db
from creditgov.core.errors import ConfigError
from creditgov.ingest import service as ingest_service
from creditgov.lists import service as lists_service
from creditgov.security.crypto import create_key_file
from creditgov.subjects.models import Subject
from tests.alerts.conftest import ALIYUN_SECRET, HOOK_SECRET
from tests.alerts.helpers import add_record, add_run, channels_file, write_yaml
from tests.alerts.peers.running import HttpPeer, SmtpPeer
from tests.hostile import Listener, names, write_folder

TODAY = dt.date(2026, 11, 1)
EVERYWHERE = [{"who": "department", "code": "credit", "channels": ["inbox", "email", "sms", "cloud-sms", "webhook"]}]
KINDS = {"new_record": "court.dishonest_debtor", "record_count": "court.judgement",
         "consecutive_months": "utility.arrears", "score_drop": None, "grade_change": None, "list_entry": None}


def _rules_file(tmp: Path) -> Path:
    base = {"severity": "high", "citation": "tests only", "recipients": EVERYWHERE}
    return write_yaml(tmp / "rules.yaml", {"version": "t", "citation": "tests only", "rules": [
        {**base, "code": "t-new", "kind": "new_record", "name_zh": "新记录", "items": ["court.dishonest_debtor"]},
        {**base, "code": "t-count", "kind": "record_count", "name_zh": "多条记录", "items": ["court.judgement"],
         "threshold": 3, "window_days": 365, "max_age_days": 365},
        {**base, "code": "t-months", "kind": "consecutive_months", "name_zh": "连续欠费", "items": ["utility.arrears"],
         "months": 3, "max_age_days": 120},
        {**base, "code": "t-drop", "kind": "score_drop", "name_zh": "得分骤降", "model": "public-credit-enterprise",
         "min_drop": 10},
        {**base, "code": "t-grade", "kind": "grade_change", "name_zh": "等级下降", "to_grades": ["D"]},
        {**base, "code": "t-list", "kind": "list_entry", "name_zh": "列入名单", "lists": ["serious-dishonesty"],
         "title": "{rule_name}【{subject_name}】{list_name}"},
    ]})


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ALIYUN_SECRET", ALIYUN_SECRET)
    monkeypatch.setenv("TEST_HOOK_SECRET", HOOK_SECRET)


def test_every_notification_kind_carries_hostile_names_through_every_channel(
        sqlite_store: str, tmp_path: Path, smtp_peer: SmtpPeer, http_peer: HttpPeer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_store
    listener = Listener()
    hostile = names(listener.port)
    ring = create_key_file(tmp_path / "store.key")
    with db.session_scope(url) as s:
        lists_service.load_lists(s, actor="test")
        alerts.load_rules(s, path=_rules_file(tmp_path), actor="test")
        alert_contacts.load_channels(s, path=channels_file(tmp_path, smtp_port=smtp_peer.port, http_url=http_peer.url),
                                     actor="test")
        alert_contacts.load_contacts(s, path=write_yaml(tmp_path / "contacts.yaml", {"contacts": [
            {"kind": "department", "key": "credit", "name": '信用办 "<b>"', "email": "credit@anlan.gov.test",
             "phone": "13800000001", "webhook_url": http_peer.url + "/hook"}]}), actor="test")
    codes = write_folder(tmp_path / "in", hostile)
    ingest_service.ingest_paths(url, ring, [tmp_path / "in"], actor="test")
    with db.session_scope(url) as s:
        firms = {k: s.execute(select(Subject).where(Subject.uscc == c)).scalar_one() for k, c in codes.items()}
        assert {k: f.name for k, f in firms.items()} == hostile
        for f in firms.values():  # the record rules' causes
            add_record(s, f, "court.dishonest_debtor", on=TODAY - dt.timedelta(days=2))
            for days in (30, 20, 10):
                add_record(s, f, "court.judgement", on=TODAY - dt.timedelta(days=days))
            for month in (8, 9, 10):
                add_record(s, f, "utility.arrears", on=dt.date(2026, month, 1), department="utility")
        add_run(s, "public-credit-enterprise", dt.date(2026, 9, 30), [(f, "90", "A", "green") for f in firms.values()])
    rules.evaluate(url)
    with db.session_scope(url) as s:
        firms = {k: s.get(Subject, f.id) for k, f in firms.items()}
        add_run(s, "public-credit-enterprise", dt.date(2026, 10, 31), [(f, "40", "D", "red") for f in firms.values()])
    rules.evaluate(url)
    from tests.lists.helpers import publish_manual_entry

    for f in firms.values():
        publish_manual_entry(url, monkeypatch, "serious-dishonesty", f.id)
    rules.evaluate(url)
    with db.session_scope(url) as s:  # a procedure's notice (objection, repair) through the same outbox
        for k, f in firms.items():
            alerts.notify(s, recipients=EVERYWHERE, title=f"异议已受理：{hostile[k]}",
                          body=f"{hostile[k]}\n材料：{hostile['markup']}.pdf\r\n第三行\t制表", subject_id=f.id,
                          key=f"objection:{k}:received")
    d = outbox.drain(url)
    assert d.dead == 0 and d.retried == 0, d.as_dict()

    with db.session_scope(url) as s:
        fired = {(a.rule_code, a.subject_id) for a in s.execute(select(Alert)).scalars()}
        assert fired == {(r, f.id) for r in ("t-new", "t-count", "t-months", "t-drop", "t-grade", "t-list")
                         for f in firms.values()}
        notes = list(s.execute(select(Notification)).scalars())
        inbox = {m.ref_id: m.body for m in s.execute(select(InboxMessage)).scalars()}
    assert len(notes) == (6 * len(firms) + len(firms)) * 5 and {n.status for n in notes} == {"sent"}
    by_kind = {c: {n.idempotency_key: n for n in notes if n.channel == c} for c in
               ("inbox", "email", "sms", "cloud-sms", "webhook")}
    for k, name in hostile.items():  # every kind's title names the firm (long names are cut at 300)
        titled = [n for n in by_kind["email"].values() if n.subject_id == firms[k].id]
        assert len(titled) == 7 and all(name[:40] in n.title for n in titled), k

    for n in by_kind["inbox"].values():
        assert inbox[n.id] == f"{n.title}\n{n.body}"
    mails = {m["X-CreditGov-Idempotency-Key"]: m for m in smtp_peer.messages()}
    assert set(mails) == set(by_kind["email"])
    for key, n in by_kind["email"].items():
        m = mails[key]
        assert m["Subject"] == one_line("[信用预警] " + n.title)
        assert m.get_content().rstrip("\n") == plain(n.body).rstrip("\n")
    sms = {m["key"]: m for m in http_peer.messages("sms")}
    for key, n in by_kind["sms"].items():
        assert sms[key]["text"] == f"【信用办】{one_line(n.title)}：{plain(n.body)}"[:300]
    cloud = {m["key"]: m for m in http_peer.messages("aliyun")}
    for key, n in by_kind["cloud-sms"].items():
        assert cloud[key]["params"] == {"title": one_line(n.title)[:60], "content": one_line(n.body)[:60]}
    hooks = {m["key"]: m["body"] for m in http_peer.messages("hook")}
    for key, n in by_kind["webhook"].items():
        assert (hooks[key]["title"], hooks[key]["body"]) == (n.title, n.body)  # JSON carries it exactly
    assert http_peer.received()["rejected"] == 0
    assert not listener.contacted()
    listener.close()


def test_one_line_and_plain_keep_everything_but_control_characters() -> None:
    hostile = names(9)
    assert one_line("a\r\nBcc: x@y\x1b[1m") == "a  Bcc: x@y [1m"
    assert plain("a\r\nb\tc\x00d") == "a \nb\tc d"
    for name in hostile.values():
        if not any(ord(c) < 32 or c == "\x7f" for c in name):
            assert one_line(name) == name.strip() and plain(name) == name


def test_templates_reach_no_further_than_plain_names(sqlite_store: str, tmp_path: Path) -> None:
    """A rule's template is filled with data, never read from it; a placeholder that
    reaches into a value is refused when the rules are loaded, and left as written
    if one ever reaches `render`."""
    assert rules.render("{subject_name}：{x}", {"subject_name": "{x} {0} %s {subject_name.__class__}"}) \
        == "{x} {0} %s {subject_name.__class__}：{x}"
    assert rules.render("{subject_name.__class__}|{a[0]}", {"subject_name": "s", "a": "b"}) \
        == "{subject_name.__class__}|{a[0]}"
    doc = yaml.safe_load(_rules_file(tmp_path).read_text(encoding="utf-8"))
    doc["rules"][0]["title"] = "{subject_name.__init__.__globals__}"
    with pytest.raises(ConfigError, match="plain name"), db.session_scope(sqlite_store) as s:
        alerts.load_rules(s, path=write_yaml(tmp_path / "bad.yaml", doc), actor="test")
    bad = {"channels": [{"name": "cloud-sms", "plugin": "aliyun_sms", "settings": {
        "endpoint": "http://127.0.0.1:9/", "access_key_id": "k", "access_key_secret_env": "TEST_ALIYUN_SECRET",
        "sign_name": "s", "template_code": "t", "template_params": {"content": "{body.__class__}"}}}]}
    with pytest.raises(ConfigError, match="unknown placeholder"), db.session_scope(sqlite_store) as s:
        alert_contacts.load_channels(s, path=write_yaml(tmp_path / "ch.yaml", bad), actor="test")
