"""This installation's exchange identity and the envelope's signature.

A package travels as JSON; its signature is Ed25519 (the `cryptography` package) over
the canonical form: the envelope without `signature`, keys sorted, no spaces, UTF-8.
Every value in an envelope is a string, an integer, a list or an object, so the
canonical form survives any JSON store. At rest the envelope is encrypted with the
store's key (`seal`), since it carries identifiers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import ConfigError, InvalidInput
from creditgov.exchange.models import ExchangeIdentity
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing

FORMAT = "creditgov.exchange/1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("not base64url") from exc


def canonical(envelope: dict[str, Any]) -> bytes:
    body = {k: v for k, v in envelope.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(envelope: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(envelope)).hexdigest()


def public_key_of(text: str) -> Ed25519PublicKey:
    raw = unb64(text)
    if len(raw) != 32:
        raise InvalidInput("an Ed25519 public key is 32 bytes (43 characters of base64url)")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidInput("not an Ed25519 public key") from exc


def identity(session: Session) -> ExchangeIdentity:
    row = session.execute(select(ExchangeIdentity).order_by(ExchangeIdentity.id).limit(1)).scalar_one_or_none()
    if row is None:
        raise ConfigError("this installation has no exchange identity: run `creditgov exchange init --node NAME`")
    return row


def create_identity(session: Session, keyring: KeyRing, *, node: str, actor: str) -> ExchangeIdentity:
    """Name this installation on the exchange and make its key pair (once)."""
    row = session.execute(select(ExchangeIdentity).limit(1)).scalar_one_or_none()
    if row is not None:
        if row.node != node:
            raise InvalidInput(f"this installation is already {row.node!r} on the exchange")
        return row
    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    row = ExchangeIdentity(node=node, public_key=b64(pub), private_key=keyring.encrypt(b64(priv)),
                           created_at=clock.now())
    session.add(row)
    session.flush()
    audit.append(session, action="exchange.identity", actor=actor, detail={"node": node, "public_key": row.public_key})
    return row


def sign(session: Session, keyring: KeyRing, envelope: dict[str, Any]) -> dict[str, Any]:
    me = identity(session)
    key = Ed25519PrivateKey.from_private_bytes(unb64(keyring.decrypt(me.private_key)))
    return {**envelope, "signature": b64(key.sign(canonical(envelope)))}


def verify(public_key: str, envelope: dict[str, Any]) -> bool:
    sig = envelope.get("signature")
    if not isinstance(sig, str):
        return False
    try:
        public_key_of(public_key).verify(unb64(sig), canonical(envelope))
    except (InvalidSignature, InvalidInput):
        return False
    return True


def seal(keyring: KeyRing, envelope: dict[str, Any]) -> str:
    return keyring.encrypt(json.dumps(envelope, ensure_ascii=False, sort_keys=True))


def unseal(keyring: KeyRing, sealed: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(keyring.decrypt(sealed))
    return out


FEED_SKEW_SECONDS = 300  # how far a feed request's time may be from ours


def feed_message(node: str, after: int, at: str) -> bytes:
    return f"creditgov.exchange/feed\n{node}\n{after}\n{at}".encode()


def feed_headers(session: Session, keyring: KeyRing, after: int) -> dict[str, str]:
    """A pull request signed by this installation (its node, the time, the signature)."""
    me = identity(session)
    key = Ed25519PrivateKey.from_private_bytes(unb64(keyring.decrypt(me.private_key)))
    at = clock.now().isoformat(timespec="seconds")
    return {"x-exchange-node": me.node, "x-exchange-time": at,
            "x-exchange-signature": b64(key.sign(feed_message(me.node, after, at)))}


def verify_feed(public_key: str, node: str, after: int, at: str, signature: str) -> bool:
    try:
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is not None:  # a peer may send its offset; our clock is naive UTC
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
        if abs((clock.now() - when).total_seconds()) > FEED_SKEW_SECONDS:
            return False
        public_key_of(public_key).verify(unb64(signature), feed_message(node, after, at))
    except (InvalidSignature, InvalidInput, ValueError):
        return False
    return True
