"""The exchange's periodic job: one cycle for every peer (package, read folders, take
acknowledgements, send what is due with back-off). Safe to run twice."""

from __future__ import annotations

from typing import Any

from creditgov.core import settings
from creditgov.security import keys


def exchange(url: str) -> dict[str, Any]:
    from creditgov.exchange import service

    ring = keys.open_ring(url, keys.source_for(settings.resolve(url)))
    return service.run(url, ring, actor="worker:exchange")
