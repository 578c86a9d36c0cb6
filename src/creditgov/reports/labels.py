"""The refusals of the public report pages (the recommendation lists), by the code the
service gives them. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

REFUSALS: Names = {
    "reports.recommendation.not_found": ("没有名为“{code}”的推荐名单。",
                                         "There is no recommendation list “{code}”."),
}

LABELS = {"refusal": REFUSALS}
