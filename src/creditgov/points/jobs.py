"""The points domain's daily job: credit published runs and qualifying records,
reverse what was revoked or replaced, expire old points and uncollected reservations
(every step acts only on what is new or due, so running it twice changes nothing)."""

from __future__ import annotations

from typing import Any

from creditgov.core import db


def points_daily(url: str) -> dict[str, Any]:
    from creditgov.points import service

    with db.session_scope(url) as s:
        return service.run_daily(s, actor="worker:points")
