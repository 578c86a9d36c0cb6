"""Tables of the exchange.

`exchange_outbox` and `exchange_shares` were the workflows domain's (migration 0005)
and are this domain's since 0014: the repair and objection procedures still decide
*that* a change is owed and to whom (their rules), and hand it to `exchange.queue`,
which alone writes these tables. Rows queued before 0014 keep their status
(`queued` / `sent`) and stay readable; the collector packages `queued` ones.

A package is one signed envelope for one channel with a sequence number; outgoing and
incoming packages share `exchange_packages` (`direction` out / in). The receiver's
unique (channel, direction, seq) row is what makes applying a package happen once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class RecordShare(Base):
    """A place a record was shared with (the upper platform, another county, a
    department's system). The exchange writes these as packages carry records; repair
    and objection outcomes read them to reach every place the record went."""

    __tablename__ = "exchange_shares"
    __table_args__ = (UniqueConstraint("record_id", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), nullable=False, index=True)
    recipient: Mapped[str] = mapped_column(String(80), nullable=False)
    shared_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    ref: Mapped[str | None] = mapped_column(String(120))


class QueuedChange(Base):
    """One change owed to one recipient (a record repaired, revoked, corrected, its
    publication ended, archived). The unique key queues a change once per place; the
    collector puts it in a package (`status` packaged, `package_id`)."""

    __tablename__ = "exchange_outbox"
    __table_args__ = (UniqueConstraint("record_id", "recipient", "kind", "cause"),
                      Index("ix_exchange_outbox_status", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    natural_key: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)  # record.repaired / .revoked / …
    cause: Mapped[str] = mapped_column(String(40), nullable=False)  # repair:12, objection:3, …
    payload: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    package_id: Mapped[int | None] = mapped_column(Integer)


class ExchangeIdentity(Base):
    """This installation's name on the exchange and its Ed25519 key pair (the private
    key encrypted with the store's key)."""

    __tablename__ = "exchange_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    public_key: Mapped[str] = mapped_column(String(80), nullable=False)
    private_key: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class ExchangePeer(Base):
    """The installation at the other end of one channel (channels.yaml), its public
    key and how to reach it. `next_seq` numbers this side's outgoing packages."""

    __tablename__ = "exchange_peers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    node: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    public_key: Mapped[str] = mapped_column(String(80), nullable=False)
    transport: Mapped[str] = mapped_column(String(20), nullable=False)  # http / folder
    address: Mapped[str] = mapped_column(String(500), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    next_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)


class ExchangePackage(Base):
    """One signed package (上级平台 / 数据回流 package) of a channel, sent or received.

    Outgoing: pending → delivered (the peer holds it, waiting for a gap) → acknowledged.
    Incoming: held (an earlier one is missing) → applied. `sealed` is the signed JSON
    exactly as it travels, encrypted at rest (it carries identifiers)."""

    __tablename__ = "exchange_packages"
    __table_args__ = (UniqueConstraint("channel", "direction", "seq"),
                      Index("ix_exchange_packages_status", "direction", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), nullable=False)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)  # out / in
    peer: Mapped[str] = mapped_column(String(60), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kinds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sealed: Mapped[str] = mapped_column(Text, nullable=False)  # the envelope, encrypted with the store's key
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(14), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PackageSubject(Base):
    """Which subjects' data a package carried: the subject's own view lists them."""

    __tablename__ = "exchange_package_subjects"
    __table_args__ = (UniqueConstraint("package_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("exchange_packages.id"), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)


class ExchangeCursor(Base):
    """How far the collector has read one source for one channel (the last id seen)."""

    __tablename__ = "exchange_cursors"
    __table_args__ = (UniqueConstraint("channel", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), nullable=False)
    source: Mapped[str] = mapped_column(String(40), nullable=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class SentResult(Base):
    """An evaluation run or an inspection sent on a channel, by id: what a cursor cannot
    say when results do not become sendable in id order (a run published after a later
    one was sent; an inspection finished after later ones)."""

    __tablename__ = "exchange_sent"
    __table_args__ = (UniqueConstraint("channel", "kind", "ref_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # evaluation / inspection
    ref_id: Mapped[int] = mapped_column(Integer, nullable=False)
    package_seq: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class ReceivedFact(Base):
    """A received item no domain of this installation owns (another platform's
    evaluation result, an inspection result), or one that could not be matched to a
    subject here: kept as received, with the package it came in."""

    __tablename__ = "exchange_facts"
    __table_args__ = (Index("ix_exchange_facts_subject", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("exchange_packages.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)  # stored / unmatched
    body: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
