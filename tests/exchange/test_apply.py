"""Receiving packages on both databases: applied once and in order (a re-sent package
changes nothing, one that arrives early is held until the gap fills), refused when not
signed by the peer's key or when a number comes back with other content; and the
collector packaging a store's changes once, signed with its key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, db
from creditgov.core.errors import Conflict
from creditgov.exchange import apply, channels, collect, signing
from creditgov.exchange import queue as exchange_queue
from creditgov.exchange.models import ExchangePackage, PackageSubject, QueuedChange, ReceivedFact
from creditgov.exchange.schemas import PeerIn
from creditgov.lists.models import ListEntry, ListEntryEvent
from creditgov.security.crypto import KeyRing
from tests.lists.helpers import add_record, make_subject, publish_manual_entry

UPPER = Ed25519PrivateKey.generate()
# Markup, quotes, a right-to-left mark, an emoji family and a control character.
HOSTILE = '"><img src=x onerror=alert(2)> O\'Brien \u202e右到左\u202c 👩\u200d👩\u200d👧 控制\x1b[31m 公司'


def _pub(key: Ed25519PrivateKey) -> str:
    return signing.b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def _package(seq: int, items: list[dict[str, Any]], *, key: Ed25519PrivateKey = UPPER) -> dict[str, Any]:
    env = {"format": signing.FORMAT, "from": "province", "to": "anlan", "seq": seq,
           "created_at": "2026-11-01T08:00:00", "items": items}
    return {**env, "signature": signing.b64(key.sign(signing.canonical(env)))}


@pytest.fixture
def receiver(county: str, keyring: KeyRing) -> tuple[str, KeyRing, int, str]:
    """A county store that knows the province as its upper platform."""
    with db.session_scope(county) as s:
        signing.create_identity(s, keyring, node="anlan", actor="test")
        channels.add_peer(s, PeerIn(channel="upper", node="province", public_key=_pub(UPPER), transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
        subj = make_subject(s, name=HOSTILE)
        return county, keyring, subj.id, str(subj.uscc)


def _receive(url: str, ring: KeyRing, env: dict[str, Any]) -> dict[str, Any]:
    with db.session_scope(url) as s:
        return apply.receive(s, ring, env)


def test_packages_apply_once_and_in_order(receiver: tuple[str, KeyRing, int, str]) -> None:
    url, ring, sid, uscc = receiver
    subject = {"kind": "enterprise", "name": HOSTILE, "uscc": uscc}
    entered = {"kind": "list.entered", "list": "serious-dishonesty", "ref": "province:77", "decision_no": HOSTILE,
               "basis": HOSTILE, "published_on": "2026-10-20", "expires_on": "2029-10-20", "subject": subject}
    p1 = _package(1, [entered])
    p2 = _package(2, [{"kind": "evaluation.result", "model": "province-model", "grade": "B", "score": "71.50",
                       "as_of": "2026-10-31", "subject": subject},
                      {"kind": "evaluation.result", "grade": "A", "subject": {"uscc": "91330100MA0000000X"}}])
    p3 = _package(3, [{**entered, "kind": "list.exited", "exited_on": "2026-10-30", "exit_reason": "修复"}])

    ack = _receive(url, ring, p3)  # early: held
    assert (ack["status"], ack["applied_through"], ack["held"]) == ("held", 0, 1)
    ack = _receive(url, ring, p1)
    assert (ack["status"], ack["applied_through"], ack["duplicate"]) == ("applied", 1, False)
    ack = _receive(url, ring, p1)  # re-sent: nothing changes
    assert (ack["applied_through"], ack["duplicate"]) == (1, True)
    ack = _receive(url, ring, p2)  # fills the gap: 2 and then 3 are applied
    assert (ack["applied_through"], ack["held"]) == (3, 0)
    for env in (p3, p2, p1):
        assert _receive(url, ring, env)["duplicate"] is True

    with db.session_scope(url) as s:
        entries = list(s.execute(select(ListEntry).where(ListEntry.subject_id == sid)).scalars())
        assert [(e.origin, e.status, e.decision_no, e.basis) for e in entries] == [("upper", "exited", HOSTILE, HOSTILE)]
        steps = list(s.execute(select(ListEntryEvent.step).where(ListEntryEvent.entry_id == entries[0].id)
                               .order_by(ListEntryEvent.id)).scalars())
        assert steps == ["import", "exit"]
        facts = list(s.execute(select(ReceivedFact).order_by(ReceivedFact.id)).scalars())
        assert [(f.kind, f.outcome, f.subject_id) for f in facts] == [
            ("evaluation.result", "stored", sid), ("evaluation.result", "unmatched", None)]
        pk = {p.seq: p for p in s.execute(select(ExchangePackage).where(ExchangePackage.direction == "in")).scalars()}
        assert {k: p.status for k, p in pk.items()} == {1: "applied", 2: "applied", 3: "applied"}
        assert pk[1].result == {"applied": 1}
        assert "unmatched" in pk[2].result and HOSTILE not in pk[2].sealed  # encrypted at rest
        assert s.execute(select(func.count()).select_from(PackageSubject)
                         .where(PackageSubject.subject_id == sid)).scalar_one() == 3


def test_forged_and_conflicting_packages_are_refused(receiver: tuple[str, KeyRing, int, str]) -> None:
    url, ring, _sid, uscc = receiver
    item = {"kind": "evaluation.result", "grade": "A", "subject": {"uscc": uscc}}
    with pytest.raises(apply.BadSignature):
        _receive(url, ring, _package(1, [item], key=Ed25519PrivateKey.generate()))
    tampered = {**_package(1, [item]), "seq": 2}
    with pytest.raises(apply.BadSignature):
        _receive(url, ring, tampered)
    _receive(url, ring, _package(1, [item]))
    with pytest.raises(Conflict):
        _receive(url, ring, _package(1, [{**item, "grade": "D"}]))
    # An item the channel does not take, or one its owning service refuses, is kept as a
    # refused fact; the rest of the package applies and the channel goes on.
    entered = {"kind": "list.entered", "ref": "p:1", "published_on": "2026-10-01", "subject": {"uscc": uscc}}
    refused = _receive(url, ring, _package(2, [{"kind": "record.new", "subject": {"uscc": uscc}},
                                               {**entered, "list": "no-such-list"}, {**entered, "list": "red"}]))
    assert refused["applied_through"] == 2
    with db.session_scope(url) as s:
        facts = list(s.execute(select(ReceivedFact).order_by(ReceivedFact.id)).scalars())[1:]
        assert [(f.kind, f.outcome) for f in facts] == [("record.new", "refused"), ("list.entered", "refused")]
        assert "does not accept" in facts[0].body["reason"] and "no-such-list" in facts[1].body["reason"]
        assert [e.list_code for e in s.execute(select(ListEntry)).scalars()] == ["red"]


def test_the_collector_packages_each_change_once(county: str, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    url = county
    with db.session_scope(url) as s:
        me = signing.create_identity(s, keyring, node="anlan", actor="test")
        channels.add_peer(s, PeerIn(channel="upper", node="province", public_key=_pub(UPPER), transport="http",
                                    address="http://127.0.0.1:9"), actor="test")
        subj = make_subject(s, name=HOSTILE)
        shared = s.execute(select(CatalogItem.code).where(CatalogItem.data_class == "shared",
                                                          CatalogItem.polarity == "negative").limit(1)).scalar_one()
        rec = add_record(s, subj, shared, occurred_on=dt.date(2026, 9, 1))
        exchange_queue.enqueue(s, rec=rec, recipients=["upper-platform", "elsewhere"], kind="record.repaired",
                               cause="repair:1")
        sid, pub = subj.id, me.public_key
    publish_manual_entry(url, monkeypatch, "red", sid)
    with db.session_scope(url) as s:
        peer = channels.peer_by_node(s, "province")
        made = collect.collect(s, keyring, peer, actor="test")
        again = collect.collect(s, keyring, peer, actor="test")
        assert again == [] and len(made) == 1
        env = signing.unseal(keyring, made[0].sealed)
        assert signing.verify(pub, env) and env["seq"] == 1 and env["to"] == "province"
        kinds = sorted(i["kind"] for i in env["items"])
        assert kinds == ["list.entered", "record.new", "record.repaired"]
        assert all(i["subject"]["name"] == HOSTILE for i in env["items"])
        queued = {q.recipient: q.status for q in s.execute(select(QueuedChange)).scalars()}
        assert queued == {"upper-platform": "packaged", "elsewhere": "queued"}


def test_received_facts_keep_no_resident_id_in_clear(receiver: tuple[str, KeyRing, int, str]) -> None:
    """A resident the county does not know (an unmatched fact) and a related person in
    an item: their ID numbers are kept encrypted and masked, never as sent."""
    url, ring, _sid, _uscc = receiver
    rid, other = "33012719740101001X", "330127198812120021"
    item = {"kind": "evaluation.result", "grade": "AA", "model": "province-resident", "as_of": "2026-10-31",
            "subject": {"kind": "individual", "name": "李某", "resident_id": rid.lower()},
            "related": [{"role": "spouse", "resident_id": other}]}
    assert _receive(url, ring, _package(1, [item]))["status"] == "applied"
    with db.session_scope(url) as s:
        raw = s.execute(select(func.cast(ReceivedFact.body, sa.Text))).scalars().all()
        fact = s.execute(select(ReceivedFact)).scalar_one()
    assert raw and not any(rid in text or rid.lower() in text or other in text for text in raw)
    kept = fact.body["item"]
    assert fact.outcome == "unmatched" and "resident_id" not in kept["subject"]
    assert ring.decrypt(kept["subject"]["resident_id_enc"]) == rid
    assert kept["subject"]["resident_id_masked"] not in (rid, "") and kept["subject"]["resident_id_masked"][:3] == rid[:3]
    assert ring.decrypt(kept["related"][0]["resident_id_enc"]) == other
    assert kept["grade"] == "AA" and kept["subject"]["name"] == "李某"


def test_what_arrives_for_a_merged_duplicate_goes_to_its_survivor(receiver: tuple[str, KeyRing, int, str]) -> None:
    from creditgov.subjects import changes

    url, ring, keep, _uscc = receiver
    with db.session_scope(url) as s:
        dup = make_subject(s)
        dup_id, dup_uscc = dup.id, str(dup.uscc)
        cid = changes.propose_merge(s, survivor_id=keep, duplicate_id=dup_id, reason="重复登记", actor="a").id
        changes.decide(s, ring, cid, approve=True, actor="b")
    item = {"kind": "evaluation.result", "grade": "B", "model": "province-model", "as_of": "2026-10-31",
            "subject": {"kind": "enterprise", "uscc": dup_uscc}}
    assert _receive(url, ring, _package(1, [item]))["status"] == "applied"
    with db.session_scope(url) as s:
        fact = s.execute(select(ReceivedFact)).scalar_one()
        assert (fact.outcome, fact.subject_id) == ("stored", keep)


def test_facts_stored_before_the_upgrade_are_protected_once(receiver: tuple[str, KeyRing, int, str]) -> None:
    """A fact an earlier version stored with the number in clear: the upgrade step encrypts
    and masks it; run again, it finds nothing."""
    url, ring, _sid, _uscc = receiver
    rid = "33012719740101001X"
    assert _receive(url, ring, _package(1, [{"kind": "evaluation.result", "grade": "A",
                                             "subject": {"kind": "enterprise", "uscc": "91330100MA0000000X"}}]))
    with db.session_scope(url) as s:
        pkg = s.execute(select(ExchangePackage.id)).scalar_one()
        s.add(ReceivedFact(package_id=pkg, kind="evaluation.result", outcome="unmatched", created_at=dt.datetime(2026, 11, 1),
                           body={"n": 0, "item": {"kind": "evaluation.result", "subject": {"resident_id": rid}}}))
    with db.session_scope(url) as s:
        assert apply.protect_stored(s, ring, actor="test") == 1
    with db.session_scope(url) as s:
        raw = " ".join(s.execute(select(func.cast(ReceivedFact.body, sa.Text))).scalars())
        assert rid not in raw and raw.count("resident_id_enc") == 1
        assert apply.protect_stored(s, ring, actor="test") == 0


def test_an_item_of_the_wrong_shape_is_refused_and_the_package_applies(
        receiver: tuple[str, KeyRing, int, str]) -> None:
    """A signed package whose items have the wrong shapes — a subject that is not an
    object, a date that is a number, an item that is not an object — keeps each as a
    refused fact with its reason; the valid item beside them applies, and the channel
    goes on with the next number."""
    url, ring, sid, uscc = receiver
    good = {"kind": "list.entered", "list": "red", "ref": "p:2", "published_on": "2026-10-01",
            "subject": {"uscc": uscc}}
    ack = _receive(url, ring, _package(1, [
        {"kind": "list.entered", "list": "red", "ref": "p:1", "subject": "x"},
        {**good, "ref": "p:3", "published_on": 20261001},
        "not an item", good]))
    assert (ack["status"], ack["applied_through"]) == ("applied", 1)
    ack = _receive(url, ring, _package(2, [{"kind": "evaluation.result", "grade": "A", "subject": {"uscc": uscc}}]))
    assert ack["applied_through"] == 2
    with db.session_scope(url) as s:
        facts = list(s.execute(select(ReceivedFact).order_by(ReceivedFact.id)).scalars())
        assert [(f.kind, f.outcome) for f in facts] == [
            ("list.entered", "refused"), ("list.entered", "refused"), ("None", "refused"),
            ("evaluation.result", "stored")]
        assert "malformed item" in facts[0].body["reason"] and facts[2].body["item"] == "not an item"
        assert facts[1].subject_id == sid
        assert [(e.list_code, e.subject_id) for e in s.execute(select(ListEntry)).scalars()] == [("red", sid)]


def test_a_feed_request_timed_with_an_offset_is_checked_not_crashed() -> None:
    """A peer that writes its time with an offset (+08:00) is checked against our clock
    (naive UTC) like one that writes UTC: a good signature within the skew passes, a bad
    one or a stale time fails — never an error."""
    key = Ed25519PrivateKey.generate()
    now = clock.now().replace(tzinfo=dt.UTC)
    at = now.astimezone(clock.CST).isoformat(timespec="seconds")
    good = signing.b64(key.sign(signing.feed_message("province", 0, at)))
    assert signing.verify_feed(_pub(key), "province", 0, at, good)
    assert not signing.verify_feed(_pub(key), "province", 0, at, "AAAA")
    stale = (now - dt.timedelta(hours=1)).astimezone(clock.CST).isoformat(timespec="seconds")
    assert not signing.verify_feed(_pub(key), "province", 0, stale,
                                   signing.b64(key.sign(signing.feed_message("province", 0, stale))))
