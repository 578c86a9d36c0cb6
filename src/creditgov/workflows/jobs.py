"""The workflows domain's periodic jobs: publication periods that have ended,
objection and repair deadlines that have passed, and retention (adverse records
archived, query logs purged). Each acts only on what is still due."""

from __future__ import annotations

from typing import Any

from creditgov.core import db


def publication_expiry(url: str) -> dict[str, Any]:
    from creditgov.workflows import flows

    with db.session_scope(url) as s:
        return {"ended": flows.end_publication(s, actor="worker:publication-expiry")}


def workflow_deadlines(url: str) -> dict[str, Any]:
    from creditgov.workflows import overdue as workflows

    with db.session_scope(url) as s:
        return workflows.flag_overdue(s, actor="worker:deadlines")


def retention(url: str) -> dict[str, Any]:
    """Archive adverse records past their 5 years; purge query logs past their 10."""
    from creditgov.workflows import retention as retention_rules

    with db.session_scope(url) as s:
        return retention_rules.run(s, actor="worker:retention")
