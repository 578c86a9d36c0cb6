"""Labels of the service-hall codes for the one label catalogue (`core.labels`)."""

from __future__ import annotations

from creditgov.core.labels import Names

END_REASON: Names = {"ended": ("已结束", "Ended"), "timeout": ("超时结束", "Timed out")}

# The refusals the counter clerk meets when opening a visitor's session.
REFUSALS: Names = {
    "hall.no_account": ("该主体还没有账号：请访客先注册账号。", "This subject has no account: the visitor registers one first."),
    "hall.several_accounts": ("该主体有多个账号：请询问访客的用户名并填写。",
                              "The subject has several accounts: ask the visitor for its user name."),
    "hall.no_identifier": ("所填号码不是有效的居民身份证号码或统一社会信用代码，请核对。",
                           "What was given is not a valid resident ID number or unified social credit code; check "
                           "it."),
}

LABELS = {"counter_end_reason": END_REASON, "refusal": REFUSALS}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "hall.open": ("窗口开始办理", "Counter session opened"),
    "hall.query": ("窗口查询信用档案", "Credit file read at the counter"),
    "hall.objection": ("窗口提交异议", "Objection filed at the counter"),
    "hall.end": ("窗口结束办理", "Counter session ended"),
    "hall.timeout": ("窗口办理超时结束", "Counter session timed out"),
}
