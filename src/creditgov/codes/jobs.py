"""The credit code's periodic job: revoke outstanding codes whose subject's grade
dropped, who entered a list or was repaired since they were issued (safe to run
twice: a revoked code is not looked at again)."""

from __future__ import annotations

from typing import Any

from creditgov.core import db


def code_revocations(url: str) -> dict[str, Any]:
    from creditgov.codes import revocation

    with db.session_scope(url) as s:
        return revocation.sweep(s, actor="worker:codes")
