"""The refusals of the public report pages (the recommendation lists), by the code the
service gives them. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

REFUSALS: Names = {
    "reports.recommendation.not_found": ("没有名为“{code}”的推荐名单。",
                                         "There is no recommendation list “{code}”."),
}

LABELS = {"refusal": REFUSALS}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "report.download": ("下载信用报告", "Credit report downloaded"),
}
