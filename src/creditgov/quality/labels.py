"""Labels of the data-quality view's codes: the categories quarantine reasons fall in
(`ingest.reasons.reason_code` sorts a reason text into one) and the kinds of source a spec
declares. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

QUARANTINE_REASON: Names = {
    "malformed": ("文件行无法解析", "Unreadable line"),
    "missing_value": ("缺少必填项", "Required value missing"),
    "bad_date": ("日期无法识别", "Unrecognised date"),
    "future_date": ("日期晚于今天", "Date in the future"),
    "bad_number": ("数值无法识别或越界", "Invalid or out-of-range number"),
    "unknown_code": ("代码不在对照表中", "Code not in the code map"),
    "bad_identifier": ("主体标识无效", "Invalid subject identifier"),
    "unregistered": ("主体未登记", "Subject not registered"),
    "item_not_allowed": ("信息项未获准报送", "Item not allowed from this source"),
    "conflict": ("与同文件前一行冲突", "Conflicts with an earlier row"),
    "other": ("其他原因", "Other reason"),
}

SOURCE_KIND: Names = {
    "registration": ("主体登记", "subject registrations"),
    "links": ("主体关联人员", "linked persons"),
    "records": ("信用信息记录", "credit records"),
}

LABELS = {"quarantine_reason": QUARANTINE_REASON, "source_kind": SOURCE_KIND}
