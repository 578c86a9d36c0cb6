"""What domains above reports add to a credit report's local section (地方补充内容):
the composition root registers each provider here at start-up (`bootstrap.wire`), so
the report shows e.g. the subject's credit code without importing the domain that
makes it. A provider returns ReportLab flowables or lines of text, in the report's
language (`lang`: "zh" or "en")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from creditgov.security.crypto import KeyRing

Provider = Callable[..., list[Any]]
PROVIDERS: list[Provider] = []


def register(fn: Provider) -> None:
    if fn not in PROVIDERS:
        PROVIDERS.append(fn)


def local_section(session: Session, keyring: KeyRing, *, subject_id: int, actor: str,
                  lang: str = "zh") -> list[Any]:
    out: list[Any] = []
    for fn in PROVIDERS:
        out.extend(fn(session, keyring, subject_id=subject_id, actor=actor, lang=lang))
    return out
