"""The notes an alert's delivery leaves (a channel not configured, a plug-in missing, a
recipient without an address, nobody to notify) are stored as written — the event's
record — and said in Chinese and in English by their shape: every note
`resolve_targets` writes has a known shape, and a note of no known shape is shown as
stored (hostile text included, for the page to escape)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from creditgov import bootstrap
from creditgov.alerts import contacts as alert_contacts
from creditgov.alerts import service as alerts_service
from creditgov.alerts.models import ChannelConfig
from creditgov.alerts.recipients import NOTE_SHAPES, notes_said, resolve_targets, say_note
from creditgov.alerts.schemas import Recipient
from creditgov.core import db
from tests.alerts.helpers import write_yaml

HOSTILE = "<b>O'Brien</b> “引号” \u202e😀"


def _notes(url: str, tmp: Path) -> list[str]:
    """Every kind of note, from the real resolution on a real store."""
    with db.session_scope(url) as s:
        alerts_service.ensure_inbox_channel(s)
        alert_contacts.load_channels(s, path=write_yaml(tmp / "channels.yaml", {"channels": [
            {"name": "email", "plugin": "smtp",
             "settings": {"host": "127.0.0.1", "port": 2525, "sender": "alerts@anlan.gov.test"}}]}), actor="test")
        s.add(ChannelConfig(name="pigeon", plugin="carrier-pigeon", settings={}, enabled=True, max_attempts=1,
                            backoff_seconds=1.0, backoff_cap_seconds=1.0, loaded_at=dt.datetime(2026, 11, 1)))
        alert_contacts.load_contacts(s, path=write_yaml(tmp / "contacts.yaml", {"contacts": [
            {"kind": "department", "key": "credit", "name": "信用办"}]}), actor="test")
        s.flush()
        recipients = [Recipient(who="department", code="credit", channels=["inbox", "email", "fax", "pigeon"]),
                      Recipient(who="bank", channels=["inbox"]),
                      Recipient(who="grid_worker", code="CX-S01", channels=["inbox"])]
        _targets, notes = resolve_targets(s, recipients, subject_id=None)
    return notes


def test_every_note_the_resolution_writes_is_said_in_both_languages(sqlite_store: str, tmp_path: Path) -> None:
    bootstrap.wire()
    notes = _notes(sqlite_store, tmp_path)
    assert len(notes) == 5, notes
    for n in notes:
        assert any(rx.match(n) for rx, _zh, _en in NOTE_SHAPES), f"a note of no known shape: {n!r}"
        zh = say_note(n, "zh")
        # no English words left: only the deployment's own codes (a channel, a plug-in)
        assert zh != n and not re.search(r"[A-Za-z]{4,}", re.sub(r"carrier-pigeon|pigeon|fax", "", zh)), zh
        assert say_note(n, "en") != n
    zh = {say_note(n, "zh") for n in notes}
    assert zh == {"通知渠道“fax”未配置或未启用", "通知渠道“pigeon”的发送插件 carrier-pigeon 未安装",
                  "信用办没有登记“电子邮件”渠道的电子邮箱", "没有可通知的银行", "没有可通知的网格员（CX-S01）"}
    en = {say_note(n, "en") for n in notes}
    assert en == {"Channel “fax” is not configured or not enabled",
                  "The plug-in carrier-pigeon of channel “pigeon” is not installed",
                  "Credit Office has no e-mail address for channel “E-mail”", "No bank to notify",
                  "No grid worker to notify (CX-S01)"}
    both = notes_said(notes)
    assert both["zh"] == [say_note(n, "zh") for n in notes] and both["en"] == [say_note(n, "en") for n in notes]


def test_a_note_of_no_known_shape_is_shown_as_stored() -> None:
    bootstrap.wire()
    for lang in ("zh", "en"):
        assert say_note(HOSTILE, lang) == HOSTILE
        assert say_note("channel 'email' is now configured", lang) == "channel 'email' is now configured"
    # a hostile channel name is kept as it was written, for the page to escape
    said = say_note(f"channel '{HOSTILE.replace(chr(39), '')}' is not configured", "zh")
    assert said == f"通知渠道“{HOSTILE.replace(chr(39), '')}”未配置或未启用"
    assert notes_said([]) == {"zh": [], "en": []}
