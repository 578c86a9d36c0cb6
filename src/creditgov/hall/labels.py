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
