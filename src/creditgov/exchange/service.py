"""One exchange cycle for every peer: package what is owed, read what a drop folder
holds, take acknowledgements, send what is due — network and files outside any
transaction, each package's state change in its own short one, so a process killed at
any point loses nothing (the package stays pending and is sent again) and duplicates
nothing (the receiver applies a (channel, seq) once)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core import clock, db
from creditgov.core.errors import CreditGovError, InvalidInput
from creditgov.exchange import apply, collect
from creditgov.exchange.channels import backoff, peer_by_node, peers
from creditgov.exchange.models import ExchangePackage, ExchangePeer
from creditgov.exchange.signing import feed_headers, identity, unseal, verify, verify_feed
from creditgov.exchange.transport import (
    FolderTransport,
    HttpPullTransport,
    TransportError,
    fetch_feed,
    post_ack,
    transport_for,
)
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing

OPEN = ("pending", "delivered")


def take_ack(session: Session, peer: ExchangePeer, ack: dict[str, Any]) -> int:
    """Mark what a signed acknowledgement confirms; answers how many became acknowledged."""
    if not verify(peer.public_key, ack) or ack.get("from") != peer.node or not ack.get("ack"):
        raise apply.BadSignature(f"acknowledgement not signed by {peer.node}")
    through = ack.get("applied_through")
    if not isinstance(through, int):
        return 0
    rows = list(session.execute(select(ExchangePackage).where(
        ExchangePackage.channel == peer.channel, ExchangePackage.direction == "out",
        ExchangePackage.seq <= through, ExchangePackage.status.in_(OPEN))).scalars())
    for p in rows:
        p.status, p.done_at, p.last_error, p.next_attempt_at = "acknowledged", clock.now(), None, None
    seq = ack.get("seq")
    if isinstance(seq, int) and seq > through:
        held = session.execute(select(ExchangePackage).where(
            ExchangePackage.channel == peer.channel, ExchangePackage.direction == "out",
            ExchangePackage.seq == seq, ExchangePackage.status == "pending")).scalar_one_or_none()
        if held is not None:
            held.status = "delivered"
    session.flush()
    return len(rows)


def _fail(url: str, pkg_id: int, error: str) -> None:
    with db.session_scope(url) as s:
        p = s.get(ExchangePackage, pkg_id)
        if p is not None:
            p.attempts += 1
            p.last_error = error[:500]
            p.next_attempt_at = clock.now() + backoff(p.attempts)


def send_due(url: str, keyring: KeyRing, peer_id: int, *, force: bool = False) -> dict[str, int]:
    """Send the channel's due packages in order; stop at the first failure (retried
    with back-off)."""
    out = {"sent": 0, "acknowledged": 0, "failed": 0}
    with db.session_scope(url) as s:
        peer = s.get(ExchangePeer, peer_id)
        assert peer is not None
        q = select(ExchangePackage.id).where(ExchangePackage.channel == peer.channel,
                                             ExchangePackage.direction == "out", ExchangePackage.status.in_(OPEN))
        if not force:
            q = q.where(ExchangePackage.next_attempt_at <= clock.now())
        due = list(s.execute(q.order_by(ExchangePackage.seq).limit(1000)).scalars())
        t = transport_for(peer.transport, peer.address)
    if isinstance(t, HttpPullTransport):  # the peer fetches; nothing to push
        return out
    for pid in due:
        with db.session_scope(url) as s:
            pkg = s.get(ExchangePackage, pid)
            if pkg is None or pkg.status not in OPEN:
                continue
            envelope = unseal(keyring, pkg.sealed)
        try:
            ack = t.send(envelope)
        except TransportError as exc:
            _fail(url, pid, str(exc))
            out["failed"] += 1
            break
        with db.session_scope(url) as s:
            pkg = s.get(ExchangePackage, pid)
            peer = s.get(ExchangePeer, peer_id)
            assert pkg is not None and peer is not None
            pkg.sent_at = clock.now()
            pkg.attempts += 1
            if ack is None:  # a folder: the answer comes later
                pkg.status = "delivered" if pkg.status == "pending" else pkg.status
                pkg.next_attempt_at = clock.now() + backoff(pkg.attempts)
            else:
                try:
                    out["acknowledged"] += take_ack(s, peer, ack)
                except CreditGovError as exc:
                    pkg.last_error = str(exc)[:500]
                if pkg.status in OPEN:
                    pkg.next_attempt_at = clock.now() + backoff(pkg.attempts)
            out["sent"] += 1
    return out


def read_folder(url: str, keyring: KeyRing, peer_id: int) -> dict[str, int]:
    """Packages the peer left in a drop folder: each received in its own transaction,
    then moved to done/; the latest acknowledgement is left for the peer."""
    out = {"received": 0, "rejected": 0, "acknowledged": 0}
    with db.session_scope(url) as s:
        peer = s.get(ExchangePeer, peer_id)
        assert peer is not None
        me, node, t = identity(s).node, peer.node, transport_for(peer.transport, peer.address)
    if not isinstance(t, FolderTransport):
        return out
    last: dict[str, Any] | None = None
    for path, envelope in t.incoming(node):
        try:
            with db.session_scope(url) as s:
                if envelope is None:
                    raise apply.BadSignature("unreadable package file")
                last = apply.receive(s, keyring, envelope)
            out["received"] += 1
        except CreditGovError:
            out["rejected"] += 1
            (path.parent / "rejected").mkdir(exist_ok=True, mode=0o700)
            path.replace(path.parent / "rejected" / path.name)
            continue
        t.done(path)
    if last is not None:
        t.leave_ack(me, node, last)
    for ack in t.acks(me, node):
        with db.session_scope(url) as s:
            peer = s.get(ExchangePeer, peer_id)
            assert peer is not None
            try:
                out["acknowledged"] += take_ack(s, peer, ack)
            except CreditGovError:
                out["rejected"] += 1
    return out


def feed(session: Session, keyring: KeyRing, *, node: str, after: int, at: str, signature: str,
         limit: int = 50) -> list[dict[str, Any]]:
    """What the peer `node` may fetch: its channel's packages after `after`, in order,
    for a request it signed within the allowed skew."""
    if not (node and at and signature):
        raise InvalidInput("a feed request carries x-exchange-node, x-exchange-time and x-exchange-signature")
    peer = peer_by_node(session, node)
    if not verify_feed(peer.public_key, node, after, at, signature):
        raise apply.BadSignature(f"feed request not signed by {node} (or its time is off)")
    rows = session.execute(select(ExchangePackage).where(
        ExchangePackage.channel == peer.channel, ExchangePackage.direction == "out", ExchangePackage.seq > after,
        ExchangePackage.status.in_(OPEN)).order_by(ExchangePackage.seq).limit(limit)).scalars()
    out = []
    for p in rows:
        p.attempts += 1
        p.sent_at = clock.now()
        out.append(unseal(keyring, p.sealed))
    return out


def ack_http(session: Session, ack: dict[str, Any]) -> int:
    """A pulling peer's acknowledgement, authenticated by its signature."""
    if not ack.get("ack") or not ack.get("from"):
        raise InvalidInput("not an exchange acknowledgement")
    return take_ack(session, peer_by_node(session, str(ack.get("from", ""))), ack)


def pull(url: str, keyring: KeyRing, peer_id: int) -> dict[str, int]:
    """Fetch and apply what an HTTP peer holds for us, then acknowledge it there (a
    peer that pushes holds nothing: the feed is empty)."""
    out = {"pulled": 0, "pull_errors": 0}
    with db.session_scope(url) as s:
        peer = s.get(ExchangePeer, peer_id)
        assert peer is not None
        if not peer.transport.startswith("http"):
            return out
        base = peer.address
        after = apply.applied_through(s, peer.channel)
        headers = feed_headers(s, keyring, after)
    try:
        envelopes = fetch_feed(base, headers, after)
    except TransportError:
        out["pull_errors"] += 1
        return out
    last = None
    for env in envelopes:
        try:
            with db.session_scope(url) as s:
                last = apply.receive(s, keyring, env)
            out["pulled"] += 1
        except CreditGovError:
            out["pull_errors"] += 1
    if last is not None:
        try:
            post_ack(base, last)
        except TransportError:
            out["pull_errors"] += 1
    return out


def run(url: str, keyring: KeyRing, *, actor: str, channel: str | None = None, force: bool = False) -> dict[str, Any]:
    """One cycle for every active peer (or one channel)."""
    with db.session_scope(url) as s:
        todo = [(p.id, p.channel) for p in peers(s) if p.active and (channel is None or p.channel == channel)]
    report: dict[str, Any] = {}
    for pid, ch in todo:
        with db.session_scope(url) as s:
            peer = s.get(ExchangePeer, pid)
            assert peer is not None
            made = collect.collect(s, keyring, peer, actor=actor)
        r: dict[str, Any] = {"packaged": len(made)}
        r.update(read_folder(url, keyring, pid))
        r.update(pull(url, keyring, pid))
        sent = send_due(url, keyring, pid, force=force)
        r["sent"], r["failed"] = sent["sent"], sent["failed"]
        r["acknowledged"] = r["acknowledged"] + sent["acknowledged"]
        report[ch] = r
    return report


def receive_http(session: Session, keyring: KeyRing, envelope: dict[str, Any]) -> dict[str, Any]:
    """The HTTP inbox: the peer is authenticated by the package's signature alone."""
    return apply.receive(session, keyring, envelope)


def status(session: Session) -> list[dict[str, Any]]:
    """Per channel: its peer, packages by direction and status, the last numbers."""
    out = []
    for p in peers(session):
        counts: dict[str, dict[str, int]] = {"out": {}, "in": {}}
        for d, st, n in session.execute(select(ExchangePackage.direction, ExchangePackage.status, func.count())
                                        .where(ExchangePackage.channel == p.channel)
                                        .group_by(ExchangePackage.direction, ExchangePackage.status)).tuples():
            counts[d][st] = int(n)
        failing = session.execute(select(ExchangePackage.last_error).where(
            ExchangePackage.channel == p.channel, ExchangePackage.direction == "out",
            ExchangePackage.status.in_(OPEN), ExchangePackage.last_error.is_not(None))
            .order_by(ExchangePackage.seq).limit(1)).scalar()
        out.append({"channel": p.channel, "peer": p.node, "transport": p.transport, "address": p.address,
                    "next_seq": p.next_seq, "out": counts["out"], "in": counts["in"],
                    "applied_through": apply.applied_through(session, p.channel), "last_error": failing})
    return out


def packages(session: Session, *, channel: str | None = None, direction: str | None = None,
             status: str | None = None, limit: int = 100) -> list[ExchangePackage]:
    q = select(ExchangePackage).order_by(ExchangePackage.id.desc()).limit(limit)
    if channel:
        q = q.where(ExchangePackage.channel == channel)
    if direction:
        q = q.where(ExchangePackage.direction == direction)
    if status:
        q = q.where(ExchangePackage.status == status)
    return list(session.execute(q).scalars())


def package_dict(p: ExchangePackage) -> dict[str, Any]:
    return {"id": p.id, "channel": p.channel, "direction": p.direction, "peer": p.peer, "seq": p.seq,
            "kinds": p.kinds, "items": p.items, "status": p.status, "attempts": p.attempts,
            "next_attempt_at": clock.iso(p.next_attempt_at), "last_error": p.last_error, "result": p.result,
            "created_at": clock.iso(p.created_at), "sent_at": clock.iso(p.sent_at), "done_at": clock.iso(p.done_at),
            "digest": p.digest}


def retry_now(session: Session, *, channel: str, actor: str) -> int:
    """Make every open package of a channel due now (after fixing the peer)."""
    rows = list(session.execute(select(ExchangePackage).where(
        ExchangePackage.channel == channel, ExchangePackage.direction == "out",
        ExchangePackage.status.in_(OPEN))).scalars())
    for p in rows:
        p.next_attempt_at = clock.now()
    audit.append(session, action="exchange.retry", actor=actor, detail={"channel": channel, "packages": len(rows)})
    return len(rows)


__all__ = ["peer_by_node", "run", "status"]
