"""The scoring domain's periodic job: keep the columnar copy of the records current
(scoring/segments.py), so that a run after a large ingestion does not
pay for copying it. The scheduled evaluations are the worker's (they follow its
schedule): `worker/jobs.py`."""

from __future__ import annotations

from typing import Any


def record_segments(url: str) -> dict[str, Any]:
    from creditgov.scoring import segments

    return segments.refresh(url)
