"""The alerts domain's periodic jobs (run by the worker, listed in the composition
root). Each is safe to run twice: an escalation step is applied once (the alert's level
is the bookmark); scanners move cursors and alerts are keyed by their cause; colour
history is written only where a colour changed."""

from __future__ import annotations

from typing import Any

from creditgov.core import db


def escalations(url: str) -> dict[str, Any]:
    from creditgov.alerts import service as alerts

    with db.session_scope(url) as s:
        done = alerts.escalate_due(s)
    return {"escalated": len(done)}


def rules_sweep(url: str) -> dict[str, Any]:
    from creditgov.alerts import rules

    return rules.evaluate(url, thorough=True).as_dict()


def colour_codes(url: str) -> dict[str, Any]:
    from creditgov.alerts import colours

    with db.session_scope(url) as s:
        return colours.regenerate(s, actor="worker:colour-codes")
