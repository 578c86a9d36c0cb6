"""The trust list: the public keys a verifier accepts, and the province root that
vouches for other regions' keys.

The province holds the root's private key (`code root-create` makes one, outside any
store). A region hands the province its own public keys (`code trust export` without
a root key: an unsigned key submission); the province signs one list of every
region's keys (`code trust export --root-key … --add …`); each region imports it
(`code trust import`), which pins the root's public key the first time and from then
on refuses a list not signed by it, or older than the last one imported. Own keys are
trusted from the moment they are made; imported keys replace the previously imported
set, since the province's newest list is the whole truth about other regions.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from creditgov.codes import documents
from creditgov.codes.keys import b64, kid_of, public_from_b64, raw_public
from creditgov.codes.models import TrustedKey, TrustRoot
from creditgov.core import clock
from creditgov.core.errors import ConfigError, Conflict, InvalidInput
from creditgov.security import service as audit


@dataclass(frozen=True)
class Trusted:
    kid: str
    issuer: str
    issuer_name: str
    key: Ed25519PublicKey
    public_key: str
    trust_until: dt.datetime | None
    origin: str


# ----------------------------------------------------------------------------- the root


def root_create(path: Path) -> str:
    """A new province root key written to `path` (0600, never over a file), and its
    public key in base64."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} already exists: a root key is never replaced") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return b64(raw_public(key.public_key()))


def root_load(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the root key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return key


def pinned_root(session: Session) -> TrustRoot | None:
    return session.execute(select(TrustRoot).order_by(TrustRoot.id).limit(1)).scalar_one_or_none()


# ----------------------------------------------------------------------------- reading


def trusted(session: Session, *, at: dt.datetime | None = None) -> dict[str, Trusted]:
    """Every key trusted at `at` (now), by kid."""
    at = at or clock.now()
    out: dict[str, Trusted] = {}
    for r in session.execute(select(TrustedKey)).scalars():
        if r.trust_until is not None and r.trust_until < at:
            continue
        out[r.kid] = Trusted(kid=r.kid, issuer=r.issuer, issuer_name=r.issuer_name,
                             key=public_from_b64(r.public_key), public_key=r.public_key,
                             trust_until=r.trust_until, origin=r.origin)
    return out


def epoch(at: dt.datetime) -> int:
    """A stored (naive UTC) time as seconds since the epoch, as codes carry it."""
    return int(at.replace(tzinfo=dt.UTC).timestamp())


def _epoch(at: dt.datetime | None) -> int | None:
    return None if at is None else epoch(at)


def _from_epoch(n: int | None) -> dt.datetime | None:
    return None if n is None else dt.datetime.fromtimestamp(n, dt.UTC).replace(tzinfo=None)


def entries(session: Session) -> list[dict[str, Any]]:
    """The trust list as plain rows (what export signs and the page embeds)."""
    return [{"kid": t.kid, "issuer": t.issuer, "issuer_name": t.issuer_name, "public_key": t.public_key,
             "trust_until": _epoch(t.trust_until), "origin": t.origin}
            for t in sorted(trusted(session).values(), key=lambda t: (t.issuer, t.kid))]


# ----------------------------------------------------------------------------- export / import


def export(session: Session, *, root_key: Ed25519PrivateKey | None = None,
           add: list[str] | None = None, actor: str) -> dict[str, Any]:
    """Without a root key: this region's own keys, unsigned, for the province. With
    one: the province's signed list of this store's trusted keys plus the key
    submissions in `add`."""
    own = [{k: v for k, v in e.items() if k != "origin"} for e in entries(session)
           if root_key is not None or e["origin"] == "own"]
    if root_key is None:
        if add:
            raise InvalidInput("--add needs --root-key: only the province signs a list of other regions' keys")
        return documents.sign(documents.KEY_SUBMISSION, {"keys": own, "issued_at": _epoch(clock.now())}, None)
    keys = {e["kid"]: e for e in own}
    for text in add or []:
        _doc, _raw, _sig, payload = documents.parse(text, documents.KEY_SUBMISSION)
        for e in _key_rows(payload):
            keys[e["kid"]] = e
    payload = {"issued_at": _epoch(clock.now()), "root": b64(raw_public(root_key.public_key())),
               "keys": sorted(keys.values(), key=lambda e: (e["issuer"], e["kid"]))}
    audit.append(session, action="code.trust.export", actor=actor,
                 detail={"keys": len(keys), "root": payload["root"]})
    return documents.sign(documents.TRUST_LIST, payload, root_key)


def _key_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    rows = payload.get("keys")
    if not isinstance(rows, list):
        raise InvalidInput("the list names no keys")
    out = []
    for n, e in enumerate(rows):
        try:
            kid, issuer, name, pub = str(e["kid"]), str(e["issuer"]), str(e["issuer_name"]), str(e["public_key"])
            until = e.get("trust_until")
            if until is not None and not isinstance(until, int):
                raise ValueError("trust_until is not a number")
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"keys[{n}]: {exc}") from None
        public_from_b64(pub)
        if kid_of(pub) != kid:
            raise InvalidInput(f"keys[{n}]: kid {kid!r} is not the key's")
        if not issuer or len(issuer) > 40 or not name or len(name) > 200:
            raise InvalidInput(f"keys[{n}]: issuer code or name missing or too long")
        out.append({"kid": kid, "issuer": issuer, "issuer_name": name, "public_key": pub, "trust_until": until})
    return out


def import_list(session: Session, text: str, *, root: str | None = None, actor: str) -> dict[str, Any]:
    """Verify a province-signed trust list against the pinned root (pinning `root` on
    the first import) and put its keys in force in place of those imported before."""
    _doc, raw, sig, payload = documents.parse(text, documents.TRUST_LIST)
    pinned = pinned_root(session)
    if pinned is None:
        if root is None:
            raise InvalidInput("the first import needs the province root's public key (--root)")
        public_from_b64(root)
        pinned = TrustRoot(public_key=root, pinned_at=clock.now())
        session.add(pinned)
    elif root is not None and root != pinned.public_key:
        raise Conflict("this store trusts another province root; its key is never replaced by an import")
    documents.check(raw, sig, public_from_b64(pinned.public_key), "the trust list")
    issued = payload.get("issued_at")
    if not isinstance(issued, int):
        raise InvalidInput("the trust list has no issue time")
    if pinned.list_issued_at is not None and issued < pinned.list_issued_at:
        raise Conflict("this trust list is older than the one in force")
    rows = _key_rows(payload)
    own = set(session.execute(select(TrustedKey.kid).where(TrustedKey.origin == "own")).scalars())
    session.execute(delete(TrustedKey).where(TrustedKey.origin == "imported"))
    now = clock.now()
    added = 0
    for e in rows:
        if e["kid"] in own:
            continue
        session.add(TrustedKey(kid=e["kid"], issuer=e["issuer"], issuer_name=e["issuer_name"],
                               public_key=e["public_key"], origin="imported",
                               trust_until=_from_epoch(e["trust_until"]), added_at=now))
        added += 1
    pinned.list_issued_at, pinned.list_text = issued, text
    session.flush()
    out = {"keys": len(rows), "imported": added, "issuers": sorted({e["issuer"] for e in rows}),
           "issued_at": issued}
    audit.append(session, action="code.trust.import", actor=actor, detail=out)
    return out
