"""The supervision domain's periodic job: one draw per policy and period (a unique plan
key makes a second run a no-op)."""

from __future__ import annotations

from typing import Any


def supervision_plans(url: str) -> dict[str, Any]:
    from creditgov.supervision import draws

    return draws.run_plans(url, actor="worker:supervision-plans")
