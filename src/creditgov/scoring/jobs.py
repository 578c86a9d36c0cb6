"""The scoring domain's periodic job: keep the columnar copy of the records current
(scoring/segments.py) and the published runs' score copies whole (score_copies.py), so that a run after a large ingestion does not
pay for copying it. The scheduled evaluations are the worker's (they follow its
schedule): `worker/jobs.py`."""

from __future__ import annotations

from typing import Any


def record_segments(url: str) -> dict[str, Any]:
    """Refresh the record segments, write the score copies the latest published runs
    lack and remove those no analysis reads (score_copies.py)."""
    from creditgov.core import db
    from creditgov.scoring import score_copies, segments

    out = segments.refresh(url)
    with db.session_scope(url) as s:
        out["score_copies"] = score_copies.backfill(s, url)
        out["score_copies_removed"] = score_copies.prune(s, url)
    return out
