"""The bureau export's periodic job: once a day, each bureau of the bureaus file in
force gets its next run (any run left unwritten is written first). A bureau that
already has a run made today only has its unwritten runs written, so the job is safe
to run twice."""

from __future__ import annotations

from typing import Any

from creditgov.core import settings
from creditgov.security import keys


def bureau_exports(url: str) -> dict[str, Any]:
    from creditgov.bureaus import service

    ring = keys.open_ring(url, keys.source_for(settings.resolve(url)))
    return service.scheduled(url, ring, actor="worker:bureau_exports")
