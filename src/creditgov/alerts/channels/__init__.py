"""Notification channels: a small abstract class and plugins found by entry point.

Why plugins: each county reaches people differently (its SMTP relay, its SMS
operator, a bank's webhook), so a channel is configured per deployment and a new one
is a package that registers an entry point in the `creditgov.channels` group; the
outbox never knows more than this interface.

Contract: `send` hands one message to the outside world and returns the provider's
reference. It raises `TemporaryFailure` when trying again later may succeed (network,
5xx, throttling) and `PermanentFailure` when it cannot (bad address, 4xx). Every
message carries an idempotency key that stays the same across retries; channels pass
it on where the receiver honours one (HTTP `Idempotency-Key`, the cloud SMS `OutId`,
the e-mail `Message-ID`), so a retry after a crash is recognisable as the same message.
"""

from __future__ import annotations

import os
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from creditgov.core.errors import ConfigError

GROUP = "creditgov.channels"


class TemporaryFailure(Exception):
    """Delivery failed; the outbox retries with backoff."""


class PermanentFailure(Exception):
    """Delivery can never succeed as addressed; the outbox gives up at once."""


@dataclass(frozen=True)
class Message:
    idempotency_key: str
    recipient: str
    address: str | None
    title: str
    body: str
    subject_id: int | None = None
    alert_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    notification_id: int | None = None


class ChannelSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(ABC):
    """One configured channel. `address_field` names the contact field it sends to
    (None: the recipient principal itself, as the inbox does)."""

    address_field: ClassVar[str | None] = None
    Settings: ClassVar[type[ChannelSettings]] = ChannelSettings

    def __init__(self, name: str, settings: dict[str, Any], *, db_url: str) -> None:
        self.name = name
        self.db_url = db_url
        try:
            self.settings = self.Settings.model_validate(settings)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(settings)"
            raise ConfigError(f"channel {name!r} ({type(self).__name__}): settings.{where}: {err['msg']}") from None

    @abstractmethod
    def send(self, message: Message) -> str | None:
        """Hand the message over; return the provider's reference."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called when the worker stops or settings change)."""


def one_line(text: str) -> str:
    """Data for a one-line field (an e-mail subject, an SMS template variable): line
    breaks and other control characters become spaces, so a name or title can neither
    start a new header nor break the receiver's format. Everything else (quotes,
    markup, emoji, combining marks, bidi marks) is passed on as written: every channel
    sends plain text or JSON, never markup."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).strip()


def plain(text: str) -> str:
    """Data for a plain-text body: line breaks and tabs kept, other control
    characters (escape sequences a terminal or gateway might act on) as spaces."""
    return "".join(" " if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch for ch in text)


def secret(env_name: str | None, what: str) -> str | None:
    """A secret named by an environment variable, never stored in the database."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise TemporaryFailure(f"{what}: environment variable {env_name} is not set")
    return value


@lru_cache(maxsize=1)
def plugins() -> dict[str, type[Channel]]:
    """The channel plugins installed: every entry point in the `creditgov.channels` group."""
    found: dict[str, type[Channel]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Channel)):
            raise ConfigError(f"entry point {ep.name} = {ep.value} is not a Channel class")
        found[ep.name] = cls
    return found


def plugin(name: str) -> type[Channel]:
    found = plugins()
    if name not in found:
        raise ConfigError(f"no channel plugin {name!r} is installed (installed: {', '.join(sorted(found)) or 'none'}; "
                          f"plugins register an entry point in the {GROUP!r} group)")
    return found[name]
