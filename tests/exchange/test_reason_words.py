"""What another platform changes by the exchange reads in the page's language (SQLite
and PostgreSQL): a record repaired or revoked by a package keeps its reason as written
(`apply.REASON`: the kind, the sending node, the sender's cause) in the record's status
history and on the list entries resting on it, and the credit file and the entry's page
say it in words — the change, the platform, the cause — in Chinese and in English; an
upper platform's entry sent and taken off by the exchange reads so too. A cause of no
known shape is the sender's, shown as sent (hostile text escaped)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from creditgov.core import db
from creditgov.exchange import apply, channels, signing
from creditgov.exchange.schemas import PeerIn
from creditgov.lists import service as lists
from creditgov.lists.models import ListEntry
from creditgov.records.models import RecordStatusChange
from creditgov.security.crypto import KeyRing
from tests.lists.helpers import add_record, make_subject
from tests.lists.pages import escaped, part, seen, site

UPPER = Ed25519PrivateKey.generate()
HOSTILE = '"><img src=x onerror=alert(2)> O\'Brien \u202e右到左 😀 {0}'


def _package(seq: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    env = {"format": signing.FORMAT, "from": "province", "to": "anlan", "seq": seq,
           "created_at": "2026-11-01T08:00:00", "items": items}
    return {**env, "signature": signing.b64(UPPER.sign(signing.canonical(env)))}


def _entry(url: str, monkeypatch: pytest.MonkeyPatch, subject_id: int, record_id: int, *, publish: bool) -> int:
    """A market-serious-violation entry resting on the record: published, or only proposed."""
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-08")
    with db.session_scope(url) as s:
        e = lists.propose(s, list_code="serious-dishonesty", subject_id=subject_id,
                          criterion="market-serious-violation", record_id=record_id, decision_no=f"T-{record_id}")
        entry_id = e.id
        if publish:
            lists.notify(s, entry_id=entry_id)
    if publish:
        monkeypatch.setenv("CREDITGOV_TODAY", "2026-10-20")
        with db.session_scope(url) as s:
            lists.approve(s, entry_id=entry_id, unit="market")
            lists.publish(s, entry_id=entry_id)
    monkeypatch.setenv("CREDITGOV_TODAY", "2026-11-01")
    return entry_id


def test_changes_by_the_exchange_read_in_the_pages_language(county: str, keyring: KeyRing, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(county) as s:
        signing.create_identity(s, keyring, node="anlan", actor="test")
        pub = signing.b64(UPPER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        channels.add_peer(s, PeerIn(channel="upper", node="province", public_key=pub, transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
        firm, other_firm = make_subject(s), make_subject(s)  # one open entry per list and subject
        repaired, revoked, other = (add_record(s, f, "market.penalty_serious", occurred_on=dt.date(2026, 9, d))
                                    for f, d in ((firm, 1), (other_firm, 2), (firm, 3)))
        sid, other_sid, uscc = firm.id, other_firm.id, str(firm.uscc)
        keys = {r.id: r.natural_key for r in (repaired, revoked, other)}
        ids = (repaired.id, revoked.id, other.id)
    published = _entry(county, monkeypatch, sid, ids[0], publish=True)
    pending = _entry(county, monkeypatch, other_sid, ids[1], publish=False)
    subject = {"kind": "enterprise", "uscc": uscc}
    upper = {"kind": "list.entered", "list": "key-attention", "ref": "province:9", "published_on": "2026-10-01",
             "subject": subject}
    with db.session_scope(county) as s:
        ack = apply.receive(s, keyring, _package(1, [
            {"kind": "record.repaired", "natural_key": keys[ids[0]], "cause": "repair:5", "subject": subject},
            {"kind": "record.revoked", "natural_key": keys[ids[1]], "subject": subject},
            {"kind": "record.repaired", "natural_key": keys[ids[2]], "cause": HOSTILE, "subject": subject},
            upper, {**upper, "kind": "list.exited", "exited_on": "2026-10-30"}]))
    assert ack["applied_through"] == 1
    written = [apply.REASON.format(kind="record.repaired", node="province", cause="repair:5"),
               apply.REASON.format(kind="record.revoked", node="province", cause=apply.NO_CAUSE),
               apply.REASON.format(kind="record.repaired", node="province", cause=HOSTILE)]
    with db.session_scope(county) as s:
        reasons = {rid: reason for rid, reason in s.execute(
            select(RecordStatusChange.record_id, RecordStatusChange.reason)
            .where(RecordStatusChange.record_id.in_(ids)))}
        entries = {e.id: e for e in s.execute(select(ListEntry).where(ListEntry.subject_id.in_((sid, other_sid))))
                   .scalars()}
        assert [reasons[i] for i in ids] == written  # kept as written
        assert (entries[published].status, entries[published].exit_reason) == ("exited", written[0])
        assert (entries[pending].status, entries[pending].exit_reason) == ("withdrawn", written[1])
        from_upper = next(e.id for e in entries.values() if e.origin == "upper")
        assert entries[from_upper].exit_reason == "removed by province"

    words = {"zh": ["记录已修复（平台 province 经数据交换通知；对方平台的信用修复申请 #5）",
                    "记录已撤销（平台 province 经数据交换通知）", f"记录已修复（平台 province 经数据交换通知；{HOSTILE}）",
                    "由 province 经数据交换下发", "已由 province 移出"],
             "en": ["Record repaired (sent by platform province through the exchange; the sending platform's credit "
                    "repair application #5)", "Record revoked (sent by platform province through the exchange)",
                    f"Record repaired (sent by platform province through the exchange; {HOSTILE})",
                    "Sent by province through the exchange", "Removed by province"]}
    pages = site(county, tmp_path)
    for lang, said in words.items():
        credit_file = pages.get(f"/subjects/{sid}", lang)
        shown = seen(credit_file) + " " + seen(pages.get(f"/subjects/{other_sid}", lang))
        assert said[0] in shown and said[1] in shown and said[2] in shown, (lang, shown)
        assert "record.repaired by" not in shown and "record.revoked by" not in shown
        assert HOSTILE not in credit_file and escaped(HOSTILE) in credit_file
        assert part(pages.get(f"/lists/entries/{published}", lang), "note-exit") == said[0]
        assert part(pages.get(f"/lists/entries/{pending}", lang), "note-withdraw") == said[1]
        upper_page = pages.get(f"/lists/entries/{from_upper}", lang)
        assert (part(upper_page, "note-import"), part(upper_page, "note-exit")) == (said[3], said[4])
