"""The credit code's envelope: a CWT (RFC 8392) in a COSE_Sign1 (RFC 9052), in zlib
framing and written in base45 (RFC 9285) behind the prefix `CGV1:` — the layout of
the EU Digital COVID Certificate, so a QR of it stays in the alphanumeric mode.

The COSE_Sign1 structure is assembled here over `cbor2` and `cryptography`'s Ed25519
(docs/codes.md says why not `pycose`): the protected header names the algorithm
(EdDSA, -8) and the key id; the signature covers
["Signature1", protected, b"", payload] as RFC 9052 §4.4 prescribes. No I/O here.
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "CGV1:"
ALG_EDDSA = -8
COSE_SIGN1_TAG = 18
# CWT claims (RFC 8392 §3.1) and our private claim (a negative integer, §4: "private use").
ISS, EXP, IAT, CTI = 1, 4, 6, 7
CLAIM = -70017
MAX_TEXT = 4096  # a QR symbol holds at most 4,296 alphanumeric characters
MAX_INFLATED = 8192  # a zlib bomb stops here


class Malformed(ValueError):
    """The text is not a credit code (prefix, base45, zlib, CBOR or COSE shape)."""


@dataclass(frozen=True)
class Opened:
    """A decoded code whose signature is not yet checked."""

    kid: str
    alg: int
    claims: Mapping[Any, Any]
    signed: bytes  # the Sig_structure the signature covers
    signature: bytes

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(self.signature, self.signed)
        except InvalidSignature:
            return False
        return True


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def protected_header(kid: str) -> bytes:
    return cbor2.dumps({1: ALG_EDDSA, 4: bytes.fromhex(kid)})


def seal(claims: dict[Any, Any], key: Ed25519PrivateKey, protected: bytes) -> str:
    """Sign `claims` as a CWT in a COSE_Sign1 and write it as the code's text."""
    payload = cbor2.dumps(claims)
    signature = key.sign(_sig_structure(protected, payload))
    cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    return PREFIX + b45encode(_deflate(cose))


def _deflate(data: bytes) -> bytes:
    # Stored (level 0) zlib: the payload — a signature, a random code id, a few CJK
    # words — does not compress (levels 1 to 9 made 257 bytes of 256 when measured),
    # while compressing cost a third of the signature's time. The zlib framing stays,
    # as the EU DCC layout and every inflater expect, for 11 bytes.
    c = zlib.compressobj(0, zlib.DEFLATED, 9, 1)
    return c.compress(data) + c.flush()


_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# Every 16-bit pair as its three base45 characters (RFC 9285 §4): encoding becomes a
# table look-up per pair. `tests/codes` holds it to the `base45` package's output.
_PAIRS = [_B45[n % 45] + _B45[n // 45 % 45] + _B45[n // 2025] for n in range(65536)]


def b45encode(data: bytes) -> str:
    even = len(data) & ~1
    pairs = array("H", data[:even])
    if sys.byteorder == "little":
        pairs.byteswap()  # base45 reads each pair big-endian
    out = "".join(map(_PAIRS.__getitem__, pairs))
    if len(data) & 1:
        n = data[-1]
        out += _B45[n % 45] + _B45[n // 45]
    return out


_TRIPLET = re.compile(rb"...", re.S)
_DECODE: dict[bytes, bytes] = {}  # three base45 characters -> their two bytes, built on first use


def _decode_table() -> dict[bytes, bytes]:
    if not _DECODE:
        _DECODE.update({p.encode("ascii"): n.to_bytes(2, "big") for n, p in enumerate(_PAIRS)})
    return _DECODE


def b45decode(text: str) -> bytes:
    """RFC 9285 decoding by a table of every valid three-character group (the `base45`
    package, which the tests hold this to, takes longer than verifying the signature).
    A group outside the table — a stray character, a value over 65,535 — is refused."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not base45") from None
    whole = len(raw) - len(raw) % 3
    try:
        out = b"".join(map(_decode_table().__getitem__, _TRIPLET.findall(raw, 0, whole)))
    except KeyError:
        raise ValueError("not base45") from None
    rest = raw[whole:]
    if len(rest) == 1:
        raise ValueError("not base45")
    if rest:
        a, b = _B45.find(chr(rest[0])), _B45.find(chr(rest[1]))
        if a < 0 or b < 0 or a + 45 * b > 0xFF:
            raise ValueError("not base45")
        out += bytes((a + 45 * b,))
    return out


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(raw, MAX_INFLATED)
    if d.unconsumed_tail:
        raise Malformed("the code inflates beyond its limit")
    return out


def open_text(text: str) -> Opened:
    """Take a code's text apart; raises Malformed for anything that is not one."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise Malformed(f"a credit code begins with {PREFIX}")
    if len(text) > MAX_TEXT:
        raise Malformed("the text is longer than any credit code")
    try:
        raw = b45decode(text[len(PREFIX):])
        cose = cbor2.loads(_inflate(raw))
    except (ValueError, zlib.error, cbor2.CBORDecodeError) as exc:
        raise Malformed(f"not a credit code: {exc}") from None
    if isinstance(cose, cbor2.CBORTag):
        if cose.tag != COSE_SIGN1_TAG:
            raise Malformed("not a COSE_Sign1 structure")
        cose = cose.value
    if not (isinstance(cose, (list, tuple)) and len(cose) == 4 and isinstance(cose[0], bytes) and isinstance(cose[2], bytes)
            and isinstance(cose[3], bytes)):
        raise Malformed("not a COSE_Sign1 structure")
    protected, _unprotected, payload, signature = cose
    try:
        header = cbor2.loads(protected)
        claims = cbor2.loads(payload)
    except (ValueError, cbor2.CBORDecodeError) as exc:
        raise Malformed(f"not a credit code: {exc}") from None
    if not isinstance(header, Mapping) or not isinstance(header.get(4), bytes) or not isinstance(claims, Mapping):
        raise Malformed("the code names no key id")
    return Opened(kid=header[4].hex(), alg=header.get(1, 0), claims=claims,
                  signed=_sig_structure(protected, payload), signature=signature)
