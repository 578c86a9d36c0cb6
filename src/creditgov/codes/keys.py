"""The region's signing keys: made, rotated, and opened for signing.

A private key is kept only as AES-GCM ciphertext under the store's data key
(`security/crypto.py`), like every personal identifier; its key id (`kid`) is the
first eight bytes of the SHA-256 of the raw public key, in hex, and goes in each
code's protected header. Rotation retires the active key without deleting it: its
public half stays in the trust list until the last code it signed has expired
(`trust_until` = retirement + the longest validity), so no valid code breaks.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.codes.models import CodeSigningKey, TrustedKey
from creditgov.codes.schemas import POLICY
from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Region

_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(*_RAW)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def public_from_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidInput(f"not an Ed25519 public key: {exc}") from None


def kid_of(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """The active key, opened: what `service.issue` signs with."""

    kid: str
    issuer: str
    issuer_name: str
    key: Ed25519PrivateKey


# Opened keys by kid: decrypting per code would cost more than signing it.
_OPENED: dict[str, Ed25519PrivateKey] = {}


def _default_issuer(session: Session) -> tuple[str, str]:
    """The store's top region (the county), or a refusal naming what to pass."""
    row = session.execute(select(Region.code, Region.name).order_by(Region.depth, Region.id).limit(1)).first()
    if row is None:
        raise InvalidInput("no region to issue codes for: load the regions, or pass --issuer and --issuer-name",
                           code="codes.key.no_region")
    return row[0], row[1]


def active(session: Session) -> CodeSigningKey | None:
    return session.execute(select(CodeSigningKey).where(CodeSigningKey.status == "active")
                           .order_by(CodeSigningKey.id.desc()).limit(1)).scalar_one_or_none()


def create(session: Session, ring: KeyRing, *, actor: str, issuer: str | None = None,
           issuer_name: str | None = None) -> CodeSigningKey:
    """A new active signing key (refused while one is active: rotate instead)."""
    if active(session) is not None:
        raise Conflict("this region already has an active signing key: rotate it instead")
    if issuer is None or issuer_name is None:
        code, name = _default_issuer(session)
        issuer, issuer_name = issuer or code, issuer_name or name
    return _make(session, ring, issuer=issuer.strip()[:40], issuer_name=issuer_name.strip()[:200], actor=actor)


def _make(session: Session, ring: KeyRing, *, issuer: str, issuer_name: str, actor: str) -> CodeSigningKey:
    if not issuer or not issuer_name:
        raise InvalidInput("an issuer needs a code and a name")
    key = Ed25519PrivateKey.generate()
    public = b64(raw_public(key.public_key()))
    kid = kid_of(public)
    now = clock.now()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    row = CodeSigningKey(kid=kid, issuer=issuer, issuer_name=issuer_name, public_key=public,
                         private_key=ring.encrypt(b64(raw)), status="active", created_at=now)
    session.add(row)
    session.add(TrustedKey(kid=kid, issuer=issuer, issuer_name=issuer_name, public_key=public, origin="own",
                           added_at=now))
    session.flush()
    _OPENED[kid] = key
    audit.append(session, action="code.key.create", actor=actor,
                 detail={"kid": kid, "issuer": issuer, "public_key": public})
    return row


def rotate(session: Session, ring: KeyRing, *, actor: str) -> CodeSigningKey:
    """Retire the active key and make its successor for the same issuer. The retired
    key's public half is trusted until every code it signed has expired."""
    old = active(session)
    if old is None:
        raise Conflict("no active signing key to rotate: create one first")
    now = clock.now()
    old.status, old.retired_at = "retired", now
    until = now + dt.timedelta(hours=POLICY.shipped().validity_hours, seconds=POLICY.shipped().clock_skew_seconds)
    trusted = session.execute(select(TrustedKey).where(TrustedKey.kid == old.kid)).scalar_one_or_none()
    if trusted is not None:
        trusted.trust_until = until
    session.flush()
    new = _make(session, ring, issuer=old.issuer, issuer_name=old.issuer_name, actor=actor)
    audit.append(session, action="code.key.rotate", actor=actor,
                 detail={"retired": old.kid, "trusted_until": until.isoformat(), "active": new.kid})
    return new


def signer(session: Session, ring: KeyRing, *, actor: str) -> Signer:
    """The active key, opened (made on first use for the store's top region)."""
    row = active(session) or create(session, ring, actor=actor)
    key = _OPENED.get(row.kid)
    if key is None:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(ring.decrypt(row.private_key)))
        if b64(raw_public(key.public_key())) != row.public_key:
            raise Conflict(f"signing key {row.kid} does not match its public key", code="codes.key.mismatch",
                           params={"kid": row.kid})
        _OPENED[row.kid] = key
    return Signer(kid=row.kid, issuer=row.issuer, issuer_name=row.issuer_name, key=key)


def listing(session: Session) -> list[dict[str, object]]:
    rows = session.execute(select(CodeSigningKey).order_by(CodeSigningKey.id)).scalars()
    return [{"kid": r.kid, "issuer": r.issuer, "issuer_name": r.issuer_name, "status": r.status,
             "public_key": r.public_key, "created_at": r.created_at.isoformat(),
             "retired_at": r.retired_at.isoformat() if r.retired_at else None} for r in rows]
