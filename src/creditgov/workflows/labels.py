"""Labels of objection and repair codes (workflows/models.py). Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

LABELS: dict[str, Names] = {
    "objection_status": {"open": ("待处理", "Open"), "decided": ("已处理", "Decided"), "reviewing": ("复核中", "Under review"),
                         "reviewed": ("已复核", "Reviewed"), "withdrawn": ("已撤回", "Withdrawn")},
    "repair_status": {"refused": ("不符合条件", "Refused (conditions not met)"), "submitted": ("待转送", "Awaiting intake"),
                      "forwarded": ("待认定单位决定", "Awaiting the department's decision"),
                      "approved": ("已修复", "Repaired"), "rejected": ("不予修复", "Rejected"),
                      "withdrawn": ("已撤回", "Withdrawn")},
    "objection_outcome": {"upheld": ("维持", "Upheld"), "corrected": ("更正", "Corrected"), "deleted": ("删除", "Deleted")},
    # The inbox's categories of the steps workflows/notifications.py tells (web/templates/inbox.html).
    "message_topic": {
        "objection.received": ("异议已受理", "Objection received"),
        "objection.assigned": ("异议待核查", "Objection to check"),
        "objection.extended": ("异议处理期限延长", "Objection deadline extended"),
        "objection.upheld": ("异议处理结果：维持", "Objection decided: upheld"),
        "objection.corrected": ("异议处理结果：更正", "Objection decided: corrected"),
        "objection.deleted": ("异议处理结果：删除", "Objection decided: deleted"),
        "objection.review": ("异议复核", "Objection review"),
        "objection.review.upheld": ("异议复核结果：维持", "Objection review: upheld"),
        "objection.review.corrected": ("异议复核结果：更正", "Objection review: corrected"),
        "objection.review.deleted": ("异议复核结果：删除", "Objection review: deleted"),
        "repair.received": ("信用修复申请已收到", "Repair application received"),
        "repair.refused": ("信用修复申请不符合条件", "Repair application refused"),
        "repair.intake": ("信用修复申请待受理", "Repair application to take in"),
        "repair.decide": ("信用修复申请待决定", "Repair application to decide"),
        "repair.forwarded": ("信用修复申请已转送", "Repair application forwarded"),
        "repair.approved": ("信用修复已完成", "Credit repaired"),
        "repair.rejected": ("信用修复不予通过", "Repair rejected"),
        "repair.commitment": ("信用修复承诺", "Repair commitment"),
        "repair.condition.obligations-fulfilled": ("修复条件：履行义务", "Repair condition: obligations fulfilled"),
        "repair.condition.training": ("修复条件：信用修复培训", "Repair condition: training"),
        "repair.condition.commitment": ("修复条件：信用修复承诺", "Repair condition: commitment"),
    },
}
