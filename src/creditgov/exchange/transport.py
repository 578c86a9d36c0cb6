"""Transports: how a package reaches a peer. Plugins behind one small class, chosen by
the peer's `transport`: the three shipped here (HTTP push to another creditgov, HTTP
pull by it, a drop folder), and any a deployment installs under the entry point group
`creditgov.exchange_transports` (a class taking the peer's address).

`send` answers the peer's signed acknowledgement when the transport has one at once
(HTTP), or None when the answer comes later (a folder: `acks` reads it)."""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from creditgov.core.errors import ConfigError, CreditGovError

INBOX_PATH = "/api/v1/exchange/inbox"
FEED_PATH = "/api/v1/exchange/feed"
ACKS_PATH = "/api/v1/exchange/acks"
# A peer that dies mid-answer raises http.client.IncompleteRead, which is no OSError.
NETWORK_ERRORS = (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException)


class TransportError(CreditGovError):
    """The package did not reach the peer (retried later)."""


class Transport(ABC):
    """A way to a peer platform (a plugin: the entry-point group names the installed ones)."""

    name = "base"

    def __init__(self, address: str) -> None:
        self.address = address

    @abstractmethod
    def send(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """Deliver one signed package; the peer's acknowledgement when it answers at once."""

    def acks(self, me: str, peer: str) -> list[dict[str, Any]]:
        """Acknowledgements the peer left since (folder transports); none by default."""
        return []


class HttpTransport(Transport):
    """POST to the peer installation's inbox; its answer is the acknowledgement."""

    name = "http"
    timeout = 30.0

    def send(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(self.address.rstrip("/") + INBOX_PATH, data=body, method="POST",
                                     headers={"content-type": "application/json", "accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the configured peer
                out: dict[str, Any] = json.loads(resp.read().decode("utf-8"))
                return out
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise TransportError(f"peer answered {exc.code}: {detail}") from exc
        except (*NETWORK_ERRORS, ValueError) as exc:
            raise TransportError(f"peer unreachable: {exc!r}") from exc


class HttpPullTransport(Transport):
    """The peer fetches (`GET /api/v1/exchange/feed`) and acknowledges
    (`POST /api/v1/exchange/acks`): for a peer that can reach this installation while
    this one cannot reach it. Sending is leaving the package pending for the fetch."""

    name = "http-pull"

    def send(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        return None


def fetch_feed(base: str, headers: dict[str, str], after: int, limit: int = 50) -> list[dict[str, Any]]:
    """The packages a peer holds for us after `after` (the pull side of HTTP)."""
    req = urllib.request.Request(f"{base.rstrip('/')}{FEED_PATH}?after={after}&limit={limit}",
                                 headers={**headers, "accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=HttpTransport.timeout) as resp:  # noqa: S310 - the configured peer
            out: list[dict[str, Any]] = json.loads(resp.read().decode("utf-8"))["packages"]
            return out
    except urllib.error.HTTPError as exc:
        raise TransportError(f"peer answered {exc.code}: {exc.read().decode('utf-8', 'replace')[:300]}") from exc
    except (*NETWORK_ERRORS, ValueError, KeyError) as exc:
        raise TransportError(f"peer unreachable: {exc!r}") from exc


def post_ack(base: str, ack: dict[str, Any]) -> None:
    req = urllib.request.Request(base.rstrip("/") + ACKS_PATH, data=json.dumps(ack).encode("utf-8"), method="POST",
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=HttpTransport.timeout) as resp:  # noqa: S310 - the configured peer
            resp.read()
    except NETWORK_ERRORS as exc:
        raise TransportError(f"acknowledgement not delivered: {exc}") from exc


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """A temporary file in the same folder, then a rename: a reader sees the whole file
    or none."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FolderTransport(Transport):
    """A drop folder shared by the two platforms: packages go to `inbox/`, named
    `<from>-<seq>.json`; the receiver moves each to `inbox/done/` once applied and
    leaves its latest acknowledgement as `acks/<receiver>-<sender>.json`."""

    name = "folder"

    @property
    def root(self) -> Path:
        return Path(self.address)

    def send(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        try:
            write_atomically(self.root / "inbox" / f"{envelope['from']}-{int(envelope['seq']):012d}.json", envelope)
        except (OSError, ValueError) as exc:
            raise TransportError(f"drop folder not writable: {exc}") from exc
        return None

    def incoming(self, peer: str) -> Iterator[tuple[Path, dict[str, Any] | None]]:
        """The peer's packages waiting in the folder, oldest first (None: unreadable)."""
        folder = self.root / "inbox"
        if not folder.is_dir():
            return
        for f in sorted(folder.glob(f"{peer}-*.json")):
            try:
                yield f, json.loads(f.read_text("utf-8"))
            except (OSError, ValueError):
                yield f, None

    def done(self, path: Path) -> None:
        (path.parent / "done").mkdir(exist_ok=True, mode=0o700)
        os.replace(path, path.parent / "done" / path.name)

    def leave_ack(self, me: str, peer: str, ack: dict[str, Any]) -> None:
        write_atomically(self.root / "acks" / f"{me}-{peer}.json", ack)

    def acks(self, me: str, peer: str) -> list[dict[str, Any]]:
        f = self.root / "acks" / f"{peer}-{me}.json"
        try:
            return [json.loads(f.read_text("utf-8"))]
        except (OSError, ValueError):
            return []


BUILT_IN: dict[str, type[Transport]] = {"http": HttpTransport, "http-pull": HttpPullTransport,
                                         "folder": FolderTransport}


def known(kind: str) -> bool:
    return kind in BUILT_IN or any(ep.name == kind for ep in entry_points(group="creditgov.exchange_transports"))


def transport_for(kind: str, address: str) -> Transport:
    cls = BUILT_IN.get(kind)
    if cls is None:
        for ep in entry_points(group="creditgov.exchange_transports"):
            if ep.name == kind:
                cls = ep.load()
                break
    if cls is None:
        raise ConfigError(f"no exchange transport {kind!r}")
    return cls(address)
