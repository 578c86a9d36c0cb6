"""Sealing a backup: the store's key encrypted under a key derived from the operator's
passphrase (scrypt, then AES-256-GCM), and a MAC over the backup's manifest under a
second key from the same derivation, so a changed manifest, a changed file and a
wrong passphrase are all refused before anything is restored.

Why scrypt with these costs: RFC 7914's interactive parameters raised to N = 2^17
(128 MiB, about half a second here), memory-hard, and in `cryptography` already;
a backup is sealed and opened rarely, so the cost falls on a guesser, not on us.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from creditgov.core.errors import ConfigError, InvalidInput

N, R, P = 1 << 17, 8, 1
SHORTEST_PASSPHRASE = 12


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


@dataclass(frozen=True)
class Seal:
    """The two keys one passphrase and salt give: one seals the key, one signs the manifest."""

    salt: bytes
    n: int
    seal_key: bytes
    mac_key: bytes

    @classmethod
    def derive(cls, passphrase: str, salt: bytes | None = None, n: int = N) -> Seal:
        if len(passphrase) < SHORTEST_PASSPHRASE:
            raise InvalidInput(f"the backup passphrase must be at least {SHORTEST_PASSPHRASE} characters")
        salt = salt if salt is not None else os.urandom(16)
        out = Scrypt(salt=salt, length=64, n=n, r=R, p=P).derive(passphrase.encode("utf-8"))
        return cls(salt, n, out[:32], out[32:])

    def params(self) -> dict[str, Any]:
        return {"kdf": "scrypt", "n": self.n, "r": R, "p": P, "salt": _b64(self.salt), "cipher": "AES-256-GCM"}

    def seal(self, data: bytes, label: str) -> bytes:
        nonce = os.urandom(12)
        ct = AESGCM(self.seal_key).encrypt(nonce, data, label.encode())
        return json.dumps({"label": label, "nonce": _b64(nonce), "ciphertext": _b64(ct)}).encode()

    def open(self, sealed: bytes, label: str) -> bytes:
        try:
            doc = json.loads(sealed)
            return AESGCM(self.seal_key).decrypt(base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"]),
                                                 label.encode())
        except (InvalidTag, KeyError, ValueError, TypeError):
            raise ConfigError("the sealed key does not open with this passphrase (wrong passphrase or a "
                              "damaged backup)") from None

    def mac(self, body: dict[str, Any]) -> str:
        return hmac.new(self.mac_key, canonical(body), hashlib.sha256).hexdigest()


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def from_params(passphrase: str, params: dict[str, Any]) -> Seal:
    if params.get("kdf") != "scrypt" or params.get("r") != R or params.get("p") != P:
        raise ConfigError("the backup names a key derivation this version does not use")
    n = int(params.get("n", 0))
    if n < 1 << 14 or n > 1 << 20 or n & (n - 1):
        raise ConfigError("the backup's key derivation cost is out of range")
    return Seal.derive(passphrase, base64.b64decode(str(params["salt"])), n)
