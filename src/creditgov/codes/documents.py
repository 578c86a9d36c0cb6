"""Signed JSON documents: the trust list and the revocation lists.

A document is `{"format", "kid"?, "payload", "signature"}` where `payload` is the
base64 of the exact JSON bytes signed with Ed25519 — so a verifier checks the bytes
it received, with no canonical-JSON rules to agree on, and the browser page checks
it with WebCrypto the same way."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from creditgov.core.errors import InvalidInput

TRUST_LIST = "creditgov-trust-list/1"
KEY_SUBMISSION = "creditgov-keys/1"
REVOCATIONS = "creditgov-revocations/1"
MAX_DOCUMENT = 2_000_000


def sign(fmt: str, payload: dict[str, Any], key: Ed25519PrivateKey | None, kid: str | None = None) -> dict[str, Any]:
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    doc: dict[str, Any] = {"format": fmt, "payload": base64.b64encode(raw).decode("ascii")}
    if kid is not None:
        doc["kid"] = kid
    doc["signature"] = base64.b64encode(key.sign(raw)).decode("ascii") if key is not None else None
    return doc


def parse(text: str | bytes, fmt: str) -> tuple[dict[str, Any], bytes, bytes | None, dict[str, Any]]:
    """(the document, the signed bytes, the signature or None, the payload)."""
    if len(text) > MAX_DOCUMENT:
        raise InvalidInput("the document is too large")
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != fmt:
            raise InvalidInput(f"not a {fmt} document")
        raw = base64.b64decode(doc["payload"], validate=True)
        sig = base64.b64decode(doc["signature"], validate=True) if doc.get("signature") else None
        payload = json.loads(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"not a {fmt} document: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidInput(f"not a {fmt} document")
    return doc, raw, sig, payload


def check(raw: bytes, sig: bytes | None, key: Ed25519PublicKey, what: str) -> None:
    if sig is None:
        raise InvalidInput(f"{what} is not signed")
    try:
        key.verify(sig, raw)
    except InvalidSignature:
        raise InvalidInput(f"{what}: the signature does not verify") from None
