"""The operator's commands of the alerts, exchange, bureaus, credit code and audit chain
(SQLite and PostgreSQL), through the real `creditgov` command: a filter value that does
not exist is refused naming the known ones (never an empty table), and so is a channel
`exchange retry` would otherwise audit; a folder or a key file that cannot be written is
refused before a run is numbered, a key made or anything audited; and the tables speak
words and China Standard Time — the audit log names each action in words beside its
code, `keys status` its rotations' states and times, an alert its severity, status,
rule, history and deliveries, the inbox a message's topic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditgov.alerts import service as alerts_service
from creditgov.bureaus.models import BureauRun
from creditgov.core import db
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.security import keys, rotation
from creditgov.security.crypto import create_key_file
from creditgov.security.models import AuditEntry

HOSTILE = "[bold]粗体[/bold] <b>标记</b>"
RULE = "court-dishonest-debtor"   # a shipped rule: 新增失信被执行人


def _cells(output: str) -> str:
    return re.sub(r"[│┃\s]+", " ", output)


def _acts(url: str) -> tuple[int, int]:
    """Audit entries (the store's key recorded at its first use aside) and bureau runs."""
    with db.session_scope(url) as s:
        return (s.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action != "store.key_recorded")) or 0,
                s.scalar(select(func.count()).select_from(BureauRun)) or 0)


def test_the_operators_commands_refuse_what_is_not_there_and_speak_words(
        store: str, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "words.key"
    create_key_file(key)
    monkeypatch.setenv("CREDITGOV_KEY_FILE", str(key))
    monkeypatch.setenv("CREDITGOV_NOW", "2026-11-01T12:05:35")        # UTC: 20:05 in China
    with db.session_scope(store) as s:
        alerts_service.ensure_inbox_channel(s)
        alert_id = alerts_service.raise_alert(
            s, rule_code=RULE, title=HOSTILE, severity="high", actor=f"rule:{RULE}",
            recipients=[{"who": "principal_id", "code": "department:credit", "channels": ["inbox"]}]).alert.id
    db_ = ("--db", store)
    assert cli(*db_, "alerts", "deliver").exit_code == 0
    assert cli(*db_, "alerts", "ack", str(alert_id), "--note", "已核实", "--actor", "cli:officer").exit_code == 0

    # Unknown filter values, named among the known ones; nothing acted on or audited.
    before = _acts(store)
    for args, option, named in (
            (["alerts", "list", "--status", "bogus"], "--status", "unresolved (未办结)"),
            (["alerts", "list", "--severity", "urgent"], "--severity", "critical (严重)"),
            (["alerts", "list", "--rule", "nosuch"], "--rule", f"{RULE} (新增失信被执行人)"),
            (["alerts", "outbox", "--status", "lost"], "--status", "dead (投递失败)"),
            (["exchange", "packages", "--status", "lost"], "--status", "applied (已应用)"),
            (["exchange", "packages", "--direction", "up"], "--direction", "in (收到)"),
            (["exchange", "packages", "--channel", "nosuch"], "--channel", "upper"),
            (["exchange", "retry", "nosuch"], "CHANNEL", "lower"),           # audited a retry before
            (["bureau", "runs", "nosuch"], "BUREAU", "pbc-crc (中国人民银行征信中心)"),
            (["code", "revoke", "0123456789abcdef", "--reason", "whim"], "--reason", "manual (人工撤销)"),
            (["audit", "log", "--action", "nosuch"], "--action", "alert.raise (发出预警)")):
        with pytest.raises(InvalidInput) as got:
            cli(*db_, *args)
        said = str(got.value)
        assert said.startswith(f"{option} ") and "is not known" in said and named in said, (args, said)
    # Paths that cannot be written: refused before a run is numbered or a key is made.
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    for args, option, why in ((["bureau", "export", "pbc-crc", "--to", str(a_file)], "--to", "not a folder"),
                              (["bureau", "export", "pbc-crc", "--to", str(a_file / "sub")], "--to",
                               "is not a folder"),
                              (["code", "root-create", str(tmp_path)], "PATH", "that is a folder"),
                              (["code", "root-create", str(tmp_path / "no" / "root.key")], "PATH", "does not exist")):
        with pytest.raises(InvalidInput) as got:
            cli(*db_, *args)
        assert str(got.value).startswith(f"{option} ") and why in str(got.value), (args, str(got.value))
    assert _acts(store) == before and not (tmp_path / "no").exists()
    with pytest.raises(ConfigError, match="never replaced"):                 # an existing key: kept
        cli("code", "root-create", str(a_file))
    assert a_file.read_text(encoding="utf-8") == "x"
    # Known values still list.
    listed = json.loads(cli(*db_, "alerts", "list", "--status", "unresolved", "--severity", "high", "--rule", RULE,
                            "--json").output)
    assert [a["id"] for a in listed] == [alert_id]
    for args in (["exchange", "packages", "--status", "pending", "--direction", "out", "--channel", "upper"],
                 ["bureau", "runs", "pbc-crc"], ["alerts", "outbox", "--status", "sent"],
                 ["audit", "log", "--action", "alert.acknowledge"]):
        assert cli(*db_, *args).exit_code == 0, args

    # Words and China Standard Time.
    shown = cli(*db_, "alerts", "show", str(alert_id)).output
    assert HOSTILE in shown and "2026-11-01 20:05 北京时间" in shown              # a title as written
    for words in ("高", "已签收", "新增失信被执行人", "触发", "签收", "站内消息", "已送达", "命令行（officer）"):
        assert words in shown, words
    assert not re.search(r"\b(high|acknowledged|raised|inbox|sent)\b", shown) and "T12:05" not in shown, shown
    inbox = cli(*db_, "alerts", "inbox", "department:credit").output
    assert "2026-11-01 20:05 北京时间" in inbox and "预警 · 新增失信被执行人" in inbox and f"alert.{RULE}" not in inbox
    outbox = _cells(cli(*db_, "alerts", "outbox").output)
    assert "已送达" in outbox and "站内消息" in outbox and " sent " not in outbox
    log = _cells(cli(*db_, "audit", "log", "--limit", "5").output)
    assert "发出预警 alert.raise" in log and "签收预警 alert.acknowledge" in log and "2026-11-01 20:05:35 北京时间" in log
    logged = json.loads(cli(*db_, "audit", "log", "--action", "alert.raise", "--json").output)
    assert [(e["action"], e["labels"]["action"]) for e in logged] == [
        ("alert.raise", {"zh": "发出预警", "en": "Alert raised"})]
    rotation.rotate(store, keys.FileKeySource(key), settle=0, actor="test")   # without the processes' wait
    status = _cells(cli(*db_, "keys", "status").output)
    assert "已完成" in status and "2026-11-01 20:05 北京时间" in status and "UTC" not in status
    monkeypatch.setenv("CREDITGOV_LANG", "en")
    assert "Alert raised alert.raise" in _cells(cli(*db_, "audit", "log", "--limit", "5").output)
    status = _cells(cli(*db_, "keys", "status").output)
    assert " Done " in status and "2026-11-01 20:05 CST" in status and "done" not in status
    shown = cli(*db_, "alerts", "show", str(alert_id)).output
    assert "High" in shown and "Acknowledged" in shown and "Raised" in shown and "高" not in shown
