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
}
