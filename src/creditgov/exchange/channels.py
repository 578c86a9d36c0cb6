"""The channels file in force (`data/channels.yaml`, or a deployment's own copy named
by `CREDITGOV_EXCHANGE_CHANNELS`), and the peers bound to its channels."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.errors import Conflict, InvalidInput, NotFound
from creditgov.exchange.models import ExchangeCursor, ExchangePeer
from creditgov.exchange.schemas import Channel, ChannelsFile, PeerIn
from creditgov.exchange.signing import public_key_of
from creditgov.exchange.transport import known
from creditgov.security import service as audit

CHANNELS = PolicyFile(ChannelsFile, "creditgov.exchange", "data/channels.yaml")
ENV = "CREDITGOV_EXCHANGE_CHANNELS"
# The collector's sources, each read from its cursor on.
SOURCES = ("records", "lists", "evaluations", "inspections")


def policy() -> ChannelsFile:
    path = os.environ.get(ENV)
    return CHANNELS.load(Path(path)) if path else CHANNELS.shipped()


def describe() -> dict[str, Any]:
    """The channels file in force, validated (`creditgov exchange channels`)."""
    doc = policy()
    return {"version": doc.version, "source": os.environ.get(ENV) or CHANNELS.source,
            "share_classes": list(doc.share_classes), "package_items": doc.package_items,
            "retry": doc.retry.model_dump(), "citation": doc.citation,
            "channels": {k: v.model_dump() for k, v in doc.channels.items()}}


def channel(name: str) -> Channel:
    doc = policy()
    if name not in doc.channels:
        raise InvalidInput(f"no channel {name!r} in the channels file; one of {sorted(doc.channels)}")
    return doc.channels[name]


def backoff(attempts: int) -> dt.timedelta:
    r = policy().retry
    return dt.timedelta(seconds=min(r.max_seconds, r.first_seconds * r.factor ** max(0, attempts - 1)))


def _max_ids(session: Session) -> dict[str, int]:
    from creditgov.lists.models import ListEntryEvent
    from creditgov.records.models import CreditRecord
    from creditgov.scoring.models import EvaluationRun
    from creditgov.supervision.models import InspectionTask

    tables = {"records": CreditRecord.id, "lists": ListEntryEvent.id, "evaluations": EvaluationRun.id,
              "inspections": InspectionTask.id}
    return {k: int(session.execute(select(func.coalesce(func.max(c), 0))).scalar_one()) for k, c in tables.items()}


def check_address(transport: str, address: str) -> None:
    """A transport that exists, and an address it can use: an http peer's base URL, a
    drop folder's absolute path (a relative one would follow the server's working
    directory), no control characters in either."""
    if not known(transport):
        raise InvalidInput(f"no exchange transport {transport!r} (http, http-pull, folder or an installed plugin)")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
        raise InvalidInput("a peer's address holds no control characters")
    if transport.startswith("http"):
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput("an http peer's address is its base URL (http://… or https://…)")
    if transport == "folder" and not PurePosixPath(address).is_absolute():
        raise InvalidInput("a drop folder's address is an absolute path (e.g. /srv/exchange/city)")


def add_peer(session: Session, data: PeerIn, *, actor: str) -> ExchangePeer:
    """Bind the installation at the other end of a channel, with its public key. The
    collector starts from now (what was collected before by batch 归集 is not resent)
    unless `backlog` asks for the history too."""
    channel(data.channel)
    public_key_of(data.public_key)
    check_address(data.transport, data.address)
    for col, v in ((ExchangePeer.channel, data.channel), (ExchangePeer.node, data.node)):
        if session.execute(select(ExchangePeer.id).where(col == v)).scalar() is not None:
            raise Conflict(f"a peer is already bound to {v!r}")
    peer = ExchangePeer(channel=data.channel, node=data.node, public_key=data.public_key, transport=data.transport,
                        address=data.address, active=True, next_seq=1, created_at=clock.now(), actor=actor)
    session.add(peer)
    start = {s: 0 for s in SOURCES} if data.backlog else _max_ids(session)
    for source, last in start.items():
        session.add(ExchangeCursor(channel=data.channel, source=source, last_id=last))
    session.flush()
    audit.append(session, action="exchange.peer.add", actor=actor,
                 detail={"channel": data.channel, "node": data.node, "transport": data.transport,
                         "address": data.address, "public_key": data.public_key, "backlog": data.backlog})
    return peer


def set_transport(session: Session, *, channel_name: str, transport: str, address: str,
                  actor: str) -> ExchangePeer:
    """Change how a channel's peer is reached (its key and numbering stay)."""
    peer = session.execute(select(ExchangePeer).where(ExchangePeer.channel == channel_name)).scalar_one_or_none()
    if peer is None:
        raise NotFound(f"no peer on channel {channel_name!r}")
    data = PeerIn(channel=peer.channel, node=peer.node, public_key=peer.public_key, transport=transport,
                  address=address)
    check_address(data.transport, data.address)
    old = (peer.transport, peer.address)
    peer.transport, peer.address = data.transport, data.address
    session.flush()
    audit.append(session, action="exchange.peer.set", actor=actor,
                 detail={"channel": peer.channel, "from": list(old), "to": [peer.transport, peer.address]})
    return peer


def peer_by_node(session: Session, node: str) -> ExchangePeer:
    peer = session.execute(select(ExchangePeer).where(ExchangePeer.node == node)).scalar_one_or_none()
    if peer is None or not peer.active:
        raise NotFound(f"no active peer {node!r}")
    return peer


def peers(session: Session) -> list[ExchangePeer]:
    return list(session.execute(select(ExchangePeer).order_by(ExchangePeer.channel)).scalars())


def peer_dict(p: ExchangePeer) -> dict[str, Any]:
    return {"channel": p.channel, "node": p.node, "public_key": p.public_key, "transport": p.transport,
            "address": p.address, "active": p.active, "next_seq": p.next_seq,
            "created_at": clock.iso(p.created_at)}
