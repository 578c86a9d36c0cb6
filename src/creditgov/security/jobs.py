"""The security domain's periodic job: request keys older than 24 hours are purged
(deletes only what has expired, so running it twice changes nothing). Claims purge now
and then too (`request_keys.claim`), so the table stays small without the job."""

from __future__ import annotations

from typing import Any

from creditgov.core import db


def request_keys(url: str) -> dict[str, Any]:
    from creditgov.security import request_keys as keys

    with db.session_scope(url) as s:
        return {"purged": keys.purge(s)}
