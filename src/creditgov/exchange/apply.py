"""Receiving a package: verified, stored, applied exactly once and in order.

The receiver keeps one row per (channel, seq). A package already there changes
nothing (a re-send); one that arrives before its predecessor is held; each time the
next expected package is present it is applied, in the same transaction that marks it
applied, so a crash leaves it either applied and marked or neither. Items go through
the owning domains' services: record status through `records.service.change_status`,
list exits through `lists.exits`, upper-platform entries through `lists.upper`,
copies of records through `records.service.add_copy`. An item that cannot be applied
here (subject unknown, a transition the record cannot make) is kept as a received
fact with the reason, and never blocks the channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.codes import revocation as code_revocations
from creditgov.core import clock
from creditgov.core.errors import Conflict, CreditGovError, InvalidInput
from creditgov.exchange import queue
from creditgov.exchange.channels import channel, peer_by_node
from creditgov.exchange.models import (
    ExchangeCursor,
    ExchangePackage,
    ExchangePeer,
    PackageSubject,
    ReceivedFact,
)
from creditgov.exchange.signing import FORMAT, digest, identity, seal, sign, unseal, verify
from creditgov.ingest.transforms import RowError
from creditgov.lists import exits as list_exits
from creditgov.lists import upper as upper_lists
from creditgov.records import service as records
from creditgov.records.models import CreditRecord
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_id
from creditgov.security.scopes import Unauthenticated
from creditgov.subjects import changes as subject_changes
from creditgov.subjects.models import Subject


class BadSignature(Unauthenticated):
    """The package is not signed by the peer it names (answered 401)."""


STATUS_OF = {"record.repaired": "repaired", "record.revoked": "revoked",
             "record.publication-ended": "expired", "record.archived": "archived"}
# The reason a status change sent by another platform is written with (the record's
# status history and the exits of the list entries resting on it): the item's kind, the
# sending node and the cause the sender gave ("repair:5", "objection:3", "expiry:<day>",
# "retention:<day>"), or "exchange". Said in a page's language by the workflows'
# `say_reason`, whose shape is made from this very format.
REASON = "{kind} by {node} ({cause})"
NO_CAUSE = "exchange"


def _date(v: Any) -> dt.date | None:
    return dt.date.fromisoformat(v) if v else None


def find_subject(session: Session, keyring: KeyRing, ref: dict[str, Any]) -> int | None:
    if ref.get("uscc"):
        sid = session.execute(select(Subject.id).where(Subject.uscc == str(ref["uscc"]).upper())).scalar()
    elif ref.get("resident_id"):
        sid = session.execute(select(Subject.id).where(
            Subject.resident_id_index.in_(keyring.lookup_indexes(str(ref["resident_id"]).upper())))).scalar()
    else:
        return None
    if sid is None:
        return None
    # A duplicate merged into its survivor: what arrives for it belongs to the survivor's file.
    return subject_changes.merged_into(session).get(int(sid), int(sid))


def protected(keyring: KeyRing, value: Any) -> Any:
    """A received item as it is kept: every resident ID number in it (a subject ref, a
    related person) encrypted with the store's key beside its masked form, as the
    subjects table keeps them; nothing else changes. The signed package itself is kept
    sealed (encrypted) in `exchange_packages`."""
    if isinstance(value, list):
        return [protected(keyring, v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        if k == "resident_id" and isinstance(v, str) and v:
            out["resident_id_enc"] = keyring.encrypt(v.upper())
            out["resident_id_masked"] = mask_id(v.upper())
        else:
            out[k] = protected(keyring, v)
    return out


def _holds_clear_id(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_clear_id(v) for v in value)
    if isinstance(value, dict):
        return any((k == "resident_id" and v) or _holds_clear_id(v) for k, v in value.items())
    return False


def protect_stored(session: Session, keyring: KeyRing, *, actor: str) -> int:
    """Encrypt and mask the resident ID numbers that facts received before `protected`
    existed still hold in clear (a one-time step after upgrading; running it again finds
    nothing). Returns the facts rewritten; audited."""
    n = 0
    for fact in session.execute(select(ReceivedFact).order_by(ReceivedFact.id)).scalars():
        body = fact.body or {}
        if _holds_clear_id(body.get("item")):
            fact.body = {**body, "item": protected(keyring, body["item"])}
            n += 1
    session.flush()
    audit.append(session, action="exchange.facts.protect", actor=actor, detail={"rewritten": n})
    return n


def _record(session: Session, natural_key: Any) -> CreditRecord | None:
    return session.execute(select(CreditRecord).where(CreditRecord.natural_key == str(natural_key),
                                                      CreditRecord.is_current.is_(True))).scalar_one_or_none()


def _code_revocations(session: Session, peer: ExchangePeer, item: dict[str, Any],
                      actor: str) -> tuple[str, str | None]:
    """Another region's signed revocation list, kept through the codes domain (its
    signature checked against this region's trust list): the credit check refuses the
    codes it names from now on. The list held already, an older one, or this region's
    own list come back change nothing. The channel's cursor for that issuer moves too,
    so the list is passed on to the other channels but never sent back."""
    try:
        got = code_revocations.import_list(session, str(item.get("document") or ""), actor=actor)
    except Conflict:
        return "already", None
    source = f"revocations:{got['issuer']}"[:40]
    cur = session.execute(select(ExchangeCursor).where(ExchangeCursor.channel == peer.channel,
                                                       ExchangeCursor.source == source)).scalar_one_or_none()
    if cur is None:
        session.add(ExchangeCursor(channel=peer.channel, source=source, last_id=int(got["issued_at"])))
    else:
        cur.last_id = max(cur.last_id, int(got["issued_at"]))
    return ("already" if got.get("unchanged") else "applied"), None


def _apply_item(session: Session, keyring: KeyRing, peer: ExchangePeer, item: dict[str, Any],
                sid: int | None, actor: str, copies: list[int]) -> tuple[str, str | None]:
    """(outcome, reason): applied / already / stored / unmatched / refused."""
    kind = item.get("kind")
    direction = channel(peer.channel).direction
    source = f"exchange:{peer.node}"
    if kind in STATUS_OF or kind == "record.corrected":
        rec = _record(session, item.get("natural_key"))
        if rec is None:
            return "unmatched", "no record with this natural key"
        if kind == "record.corrected":
            return "stored", "the corrected version arrives as record.changed"
        target = STATUS_OF[str(kind)]
        if rec.status == target:
            return "already", None
        reason = REASON.format(kind=kind, node=peer.node, cause=item.get("cause") or NO_CAUSE)
        records.change_status(session, record_id=rec.id, to_status=target, reason=reason, actor=actor)
        if target in ("repaired", "revoked"):
            list_exits.exit_for_record(session, record_id=rec.id, reason=reason,
                                       kind="repair" if target == "repaired" else "manual", actor=actor)
        return "applied", None
    if kind == "code.revocations":
        return _code_revocations(session, peer, item, actor)
    if sid is None:
        return "unmatched", "subject not registered here"
    if kind in ("record.new", "record.changed") and direction == "down":
        fields = {k: item.get(k) for k in ("decided_on", "published_from", "published_until")}
        fields = {k: _date(v) for k, v in fields.items()}
        fields.update({k: item.get(k) for k in ("value", "grade", "text", "document_no", "status")})
        rec, added = records.add_copy(session, subject_id=sid, natural_key=str(item["natural_key"]),
                                      version=int(item["version"]), item_code=str(item["item"]),
                                      department_code=str(item["department"]),
                                      occurred_on=_date(item["occurred_on"]) or clock.today(), source=source,
                                      fields=fields, actor=actor)
        copies.append(rec.id)
        return ("applied" if added else "already"), None
    if kind in ("list.entered", "list.exited") and direction == "up":
        _entry, outcome = upper_lists.apply_upper_entry(
            session, list_code=str(item["list"]), subject_id=sid, source=peer.node[:80], ref=str(item["ref"]),
            published_on=_date(item.get("published_on")) or clock.today(), expires_on=_date(item.get("expires_on")),
            exited_on=_date(item.get("exited_on")), decision_no=item.get("decision_no"), basis=item.get("basis"),
            identifying_unit=None, exit_reason=item.get("exit_reason"), actor=actor)
        return ("applied" if outcome != "unchanged" else "already"), None
    return "stored", None


def _apply(session: Session, keyring: KeyRing, peer: ExchangePeer, pkg: ExchangePackage, actor: str) -> None:
    envelope = unseal(keyring, pkg.sealed)
    accepts = set(channel(peer.channel).accepts)
    direction = channel(peer.channel).direction
    tally: dict[str, int] = {}
    sids: set[int] = set()
    copies: list[int] = []  # records kept as copies: a change made here goes back to the sender
    for n, item in enumerate(envelope.get("items", [])):
        kind = item.get("kind") if isinstance(item, dict) else None
        sid: int | None = None
        outcome: str
        reason: str | None
        try:
            # A signed package can still hold an item of the wrong shape (a null version,
            # a subject that is not an object): that item is refused and kept with its
            # reason, and the rest of the package applies — the channel is never blocked.
            with session.begin_nested():
                sid = find_subject(session, keyring, item.get("subject") or {}) if isinstance(item, dict) else None
                if kind not in accepts:
                    outcome, reason = "refused", f"channel {peer.channel} does not accept {kind!r}"
                else:
                    outcome, reason = _apply_item(session, keyring, peer, item, sid, actor, copies)
        except (CreditGovError, RowError, KeyError, ValueError) as exc:
            outcome, reason = "refused", str(exc)[:300]
        except (TypeError, AttributeError) as exc:  # a field of the wrong type
            outcome, reason = "refused", f"malformed item: {exc}"[:300]
        tally[outcome] = tally.get(outcome, 0) + 1
        if sid is not None:
            sids.add(sid)
        if outcome in ("stored", "unmatched", "refused"):
            body = {"n": n, "item": protected(keyring, item),
                    "from": {"node": peer.node, "channel": peer.channel, "direction": direction}}
            if reason:
                body["reason"] = reason
            session.add(ReceivedFact(package_id=pkg.id, kind=str(kind)[:40], subject_id=sid, outcome=outcome,
                                     body=body, created_at=clock.now()))
    queue.record_shares(session, record_ids=copies, recipient=channel(peer.channel).recipient, ref=peer.channel)
    for sid in sorted(sids):
        session.add(PackageSubject(package_id=pkg.id, subject_id=sid))
    pkg.status, pkg.done_at, pkg.result = "applied", clock.now(), tally
    session.flush()
    audit.append(session, action="exchange.apply", actor=actor,
                 detail={"channel": pkg.channel, "peer": pkg.peer, "seq": pkg.seq, "outcomes": tally})


def applied_through(session: Session, channel_name: str) -> int:
    """The highest n such that packages 1..n of the channel are all applied."""
    seqs = session.execute(select(ExchangePackage.seq).where(
        ExchangePackage.channel == channel_name, ExchangePackage.direction == "in",
        ExchangePackage.status == "applied").order_by(ExchangePackage.seq)).scalars()
    n = 0
    for s in seqs:
        if s != n + 1:
            break
        n = s
    return n


def receive(session: Session, keyring: KeyRing, envelope: dict[str, Any], *, actor: str | None = None) -> dict[str, Any]:
    """Take one package from a peer; answers a signed acknowledgement."""
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise InvalidInput(f"not an exchange package (format {FORMAT})")
    sender = str(envelope.get("from", ""))
    peer = peer_by_node(session, sender)
    if not verify(peer.public_key, envelope):
        raise BadSignature(f"package not signed by {sender}'s key")
    me = identity(session)
    if envelope.get("to") != me.node:
        raise InvalidInput(f"package addressed to {envelope.get('to')!r}, not to {me.node!r}")
    seq = envelope.get("seq")
    if not isinstance(seq, int) or not 1 <= seq < 2**31 or not isinstance(envelope.get("items"), list):
        raise InvalidInput("a package needs a positive seq and a list of items")
    actor = actor or f"exchange:{peer.node}"
    session.refresh(peer, with_for_update=True)  # one package of a channel at a time
    d = digest(envelope)
    pkg = session.execute(select(ExchangePackage).where(
        ExchangePackage.channel == peer.channel, ExchangePackage.direction == "in",
        ExchangePackage.seq == seq)).scalar_one_or_none()
    duplicate = pkg is not None
    if pkg is not None and pkg.digest != d:
        raise Conflict(f"package {seq} of {sender} already received with other content")
    if pkg is None:
        items = envelope["items"]
        pkg = ExchangePackage(channel=peer.channel, direction="in", peer=peer.node, seq=seq,
                              kinds=sorted({str(i.get("kind")) for i in items if isinstance(i, dict)}),
                              items=len(items), sealed=seal(keyring, envelope), digest=d, status="held",
                              attempts=0, created_at=clock.now())
        session.add(pkg)
        session.flush()
        audit.append(session, action="exchange.receive", actor=actor,
                     detail={"channel": peer.channel, "peer": peer.node, "seq": seq, "items": len(items)})
    through = applied_through(session, peer.channel)
    while True:
        nxt = session.execute(select(ExchangePackage).where(
            ExchangePackage.channel == peer.channel, ExchangePackage.direction == "in",
            ExchangePackage.seq == through + 1, ExchangePackage.status == "held")).scalar_one_or_none()
        if nxt is None:
            break
        _apply(session, keyring, peer, nxt, actor)
        through += 1
    held = session.execute(select(func.count()).select_from(ExchangePackage).where(
        ExchangePackage.channel == peer.channel, ExchangePackage.direction == "in",
        ExchangePackage.status == "held")).scalar_one()
    return sign(session, keyring, {"format": FORMAT, "ack": True, "from": me.node, "to": peer.node, "seq": seq,
                                   "status": pkg.status, "duplicate": duplicate, "applied_through": through,
                                   "held": int(held)})

