"""The finance domain's worker jobs: matching recomputed when an input changed (a run
published, a product approved, a list entry moved), and post-loan monitoring."""

from __future__ import annotations

from typing import Any

from creditgov.core import db
from creditgov.finance import loans, matching


def finance_matching(url: str) -> dict[str, Any]:
    with db.session_scope(url) as s:
        return matching.refresh(s)


def finance_monitoring(url: str) -> dict[str, Any]:
    with db.session_scope(url) as s:
        return loans.monitor(s)
