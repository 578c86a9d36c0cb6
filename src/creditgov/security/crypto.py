"""Personal identifiers at rest: AES-GCM ciphertext plus a keyed blind index.

The key file holds two independent 256-bit keys: one for AES-GCM, one for the HMAC
blind index that allows exact lookup without decrypting. It is created by
`creditgov init`, lives outside the database, and is readable by its owner only.
Callers reach it through a key source (`security/keys.py`), which also holds a store
to the one key it was initialised with; this module knows only the file's format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from creditgov.core.errors import ConfigError

_NONCE = 12


@dataclass(frozen=True)
class KeyRing:
    enc_key: bytes
    index_key: bytes
    key_id: str

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.enc_key)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE)
        ct = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self.key_id.encode())
        return self.key_id + ":" + base64.b64encode(nonce + ct).decode("ascii")

    def decrypt(self, token: str) -> str:
        key_id, _, body = token.partition(":")
        if key_id != self.key_id:
            raise ConfigError(f"value was encrypted with key {key_id}, this key file is {self.key_id}")
        raw = base64.b64decode(body)
        return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], key_id.encode()).decode("utf-8")

    def blind_index(self, value: str) -> str:
        return _blind_index(self.index_key, value)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the two keys, hex: names the key without revealing it. Its first
        eight digits are the key id a new key file gets, which every ciphertext
        carries, so a value's prefix tells which key wrote it."""
        return _fingerprint(self.enc_key, self.index_key)


def _fingerprint(enc: bytes, idx: bytes) -> str:
    return hashlib.sha256(enc + idx).hexdigest()


@lru_cache(maxsize=1 << 18)
def _blind_index(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def create_key_file(path: Path) -> KeyRing:
    if path.exists():
        return load_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    enc, idx = os.urandom(32), os.urandom(32)
    key_id = _fingerprint(enc, idx)[:8]
    doc = {
        "key_id": key_id,
        "enc_key": base64.b64encode(enc).decode(),
        "index_key": base64.b64encode(idx).decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
    return KeyRing(enc, idx, key_id)


def load_key_file(path: Path) -> KeyRing:
    try:
        doc = json.loads(path.read_text())
        return KeyRing(base64.b64decode(doc["enc_key"]), base64.b64decode(doc["index_key"]), doc["key_id"])
    except FileNotFoundError:
        raise ConfigError(f"key file {path} not found: run `creditgov init` first") from None
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"key file {path} is malformed: {exc}") from None


def mask_id(value: str | None) -> str:
    """330***********123X: the region prefix and the last four stay visible."""
    if not value:
        return ""
    if len(value) <= 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(name: str | None) -> str:
    """张*三 / 张*: a resident's name on any public or broad view."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
