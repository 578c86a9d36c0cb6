"""The lists domain's periodic job: entries whose period has ended leave their list
(acts only on what is still due, so running it twice changes nothing)."""

from __future__ import annotations

from typing import Any

from creditgov.core import db


def list_expiry(url: str) -> dict[str, Any]:
    from creditgov.lists import exits

    with db.session_scope(url) as s:
        return {"exited": exits.expire(s, actor="worker:list-expiry")}
