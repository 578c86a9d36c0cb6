"""The workflows domain's periodic jobs: publication periods that have ended, and
objection and repair deadlines that have passed. Each acts only on what is still due."""

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
