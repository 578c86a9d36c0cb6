"""Personal identifiers at rest: AES-GCM ciphertext plus a keyed blind index.

The key file holds two independent 256-bit keys: one for AES-GCM, one for the HMAC
blind index that allows exact lookup without decrypting. It is created by
`creditgov init`, lives outside the database, and is readable by its owner only.
Callers reach it through a key source (`security/keys.py`), which also holds a store
to the one key it was initialised with; this module knows only the file's format.

While the key is being rotated (`security/rotation.py`) the file holds the new key and,
under `previous`, the old one: values carry the id of the key that wrote them, so a
reader decrypts either, and a lookup by ID number asks for both blind indexes. A ring
loaded from a file notices when the file changes (at most `REFRESH` seconds late) and
takes the new contents if they continue its own key, so a running server keeps reading
while another process rotates; a file holding an unrelated key is never taken.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from creditgov.core.errors import ConfigError

_NONCE = 12
REFRESH = 1.0  # seconds: how stale a loaded ring may be about its file


@dataclass(frozen=True)
class KeyRing:
    enc_key: bytes
    index_key: bytes
    key_id: str
    previous: KeyRing | None = None  # the key being rotated away from, until it is retired
    path: Path | None = field(default=None, compare=False)  # the file it was loaded from
    _state: list[Any] = field(default_factory=list, compare=False, repr=False)  # see `_live`

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.enc_key)

    def live(self) -> KeyRing:
        """This ring, or the newer contents of its file when they continue this key."""
        return self if self.path is None else _live(self)

    def encrypt(self, plaintext: str) -> str:
        ring = self.live()
        nonce = os.urandom(_NONCE)
        ct = ring._aead.encrypt(nonce, plaintext.encode("utf-8"), ring.key_id.encode())
        return ring.key_id + ":" + base64.b64encode(nonce + ct).decode("ascii")

    def decrypt(self, token: str) -> str:
        key_id, _, body = token.partition(":")
        ring = self.live()
        own = ring if key_id == ring.key_id else ring.previous
        if own is None or key_id != own.key_id:
            raise ConfigError(f"value was encrypted with key {key_id}, this key file is {ring.key_id}")
        raw = base64.b64decode(body)
        return own._aead.decrypt(raw[:_NONCE], raw[_NONCE:], key_id.encode()).decode("utf-8")

    def key_ids(self) -> tuple[str, ...]:
        return (self.key_id,) + ((self.previous.key_id,) if self.previous else ())

    def blind_index(self, value: str) -> str:
        """The index a value is stored under from now on (the current key's)."""
        return _blind_index(self.live().index_key, value)

    def lookup_indexes(self, value: str) -> list[str]:
        """Every index a stored value may carry: during a rotation, the old key's too."""
        ring = self.live()
        out = [_blind_index(ring.index_key, value)]
        if ring.previous is not None:
            out.append(_blind_index(ring.previous.index_key, value))
        return out

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the two keys, hex: names the key without revealing it. Its first
        eight digits are the key id a new key file gets, which every ciphertext
        carries, so a value's prefix tells which key wrote it."""
        return _fingerprint(self.enc_key, self.index_key)


_LIVE_LOCK = threading.Lock()


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def _live(ring: KeyRing) -> KeyRing:
    """The newest ring read from `ring`'s file that continues its key: each new
    contents must hold the key the ring last followed (as its own or as `previous`)."""
    assert ring.path is not None
    state = ring._state  # [checked at, file stamp, the ring followed]
    now = time.monotonic()
    if state and now - state[0] < REFRESH:
        return state[2]
    with _LIVE_LOCK:
        best: KeyRing = state[2] if state else ring
        seen = state[1] if state else None
        stamp: tuple[int, int] | None
        try:
            stamp = _stamp(ring.path)
            if stamp != seen:
                newer = load_key_file(ring.path)
                if best.key_id in newer.key_ids():
                    best = newer
        except (OSError, ConfigError):
            stamp = seen  # a file being replaced: keep what we have
        state[:] = [now, stamp, best]
    return best


def _fingerprint(enc: bytes, idx: bytes) -> str:
    return hashlib.sha256(enc + idx).hexdigest()


@lru_cache(maxsize=1 << 18)
def _blind_index(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def new_ring() -> KeyRing:
    """Two fresh random keys, named by the first eight digits of their fingerprint."""
    enc, idx = os.urandom(32), os.urandom(32)
    return KeyRing(enc, idx, _fingerprint(enc, idx)[:8])


def _doc(ring: KeyRing) -> dict[str, object]:
    doc: dict[str, object] = {
        "key_id": ring.key_id,
        "enc_key": base64.b64encode(ring.enc_key).decode(),
        "index_key": base64.b64encode(ring.index_key).decode(),
    }
    if ring.previous is not None:
        doc["previous"] = _doc(ring.previous)
    return doc


def key_file_bytes(ring: KeyRing) -> bytes:
    return json.dumps(_doc(ring)).encode()


def create_key_file(path: Path) -> KeyRing:
    if path.exists():
        return load_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = new_ring()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_file_bytes(ring))
    return KeyRing(ring.enc_key, ring.index_key, ring.key_id, path=path)


def replace_key_file(path: Path, ring: KeyRing) -> None:
    """Write `ring` over the key file at once (a new file 0600, synced, renamed over
    the old): a crash leaves the old contents or the new, never a mixture."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_file_bytes(ring))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def ring_from_bytes(data: bytes, path: Path | None = None) -> KeyRing:
    def one(doc: dict[str, object], prev: KeyRing | None) -> KeyRing:
        return KeyRing(base64.b64decode(str(doc["enc_key"])), base64.b64decode(str(doc["index_key"])),
                       str(doc["key_id"]), prev, path)

    doc = json.loads(data)
    prev = doc.get("previous")
    return one(doc, one(prev, None) if isinstance(prev, dict) else None)


def load_key_file(path: Path) -> KeyRing:
    try:
        return ring_from_bytes(path.read_bytes(), path)
    except FileNotFoundError:
        raise ConfigError(f"key file {path} not found: run `creditgov init` first") from None
    except (KeyError, ValueError, TypeError) as exc:
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
