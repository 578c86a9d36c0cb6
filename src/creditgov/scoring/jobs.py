"""The scoring domain's periodic job: keep the columnar copy of the records current
(SQLite stores; scoring/segments.py), so that a run after a large ingestion does not
pay for copying it. The scheduled evaluations are the worker's (they follow its
schedule): `worker/jobs.py`."""

from __future__ import annotations

from typing import Any


def record_segments(url: str) -> dict[str, Any]:
    if not url.startswith("sqlite"):
        return {"action": "none", "reason": "only SQLite stores keep record segments"}
    from creditgov.scoring import engines, segments

    return segments.refresh(engines.sqlite_path(url))
