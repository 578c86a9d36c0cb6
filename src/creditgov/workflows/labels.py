"""Labels of objection and repair codes (workflows/models.py). Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

# The refusals a subject (or the window on its behalf) meets when it contests or asks
# to repair a record, by the code the services give them.
REFUSALS: Names = {
    "workflows.objection.no_reason": ("请写明异议理由。", "An objection needs its reasons."),
    "workflows.objection.no_record": ("请至少选择一条记录。", "Name at least one record."),
    "workflows.record.other_file": ("记录 #{record} 不在该主体的信用档案中。", "Record #{record} is not in this subject's file."),
    "workflows.objection.old_version": ("记录 #{record} 是旧版本，请对当前版本提出异议。",
                                        "Record #{record} is an old version; object to the current one."),
    "workflows.record.disputed": ("记录 #{record} 已在异议处理中。", "Record #{record} is already under objection."),
    "workflows.objection.not_in_force": ("记录 #{record} 的状态是“{status:record_status}”，只有有效的记录可以提出异议。",
                                         "Record #{record} is “{status:record_status}”; only a record in force can be "
                                         "contested."),
    "workflows.record.unnamed": ("请填写记录编号或决定文号。", "Name the record: its number or its document number (文号)."),
    "workflows.record.no_such": ("该主体的档案中没有当前有效的记录“{ref}”，请核对编号或文号。",
                                 "No current record “{ref}” in this subject's file; check the number."),
    "workflows.repair.pending": ("记录 #{record} 已有一份在办的信用修复申请（#{application}）。",
                                 "Record #{record} already has an open repair application (#{application})."),
    "workflows.repair.not_negative": ("记录 #{record} 不是失信记录，无需修复。",
                                      "Record #{record} is not a negative record; there is nothing to repair."),
    "workflows.repair.old_version": ("记录 #{record} 是旧版本，请对当前版本申请修复。",
                                     "Record #{record} is an old version; apply for the current one."),
    "workflows.repair.done": ("记录 #{record} 已是“{status:record_status}”状态。",
                              "Record #{record} is already “{status:record_status}”."),
    "workflows.repair.disputed": ("记录 #{record} 正在异议处理中，信用修复须等异议处理完毕。",
                                  "Record #{record} is under objection; repair waits for the decision."),
    "workflows.materials.none": ("没有收到材料文件，请选择要上传的文件。", "No material files were given."),
    "workflows.materials.objection_closed": ("异议 #{id} 已是“{status:objection_status}”状态，不能再补充证据。",
                                             "Objection #{id} is “{status:objection_status}”; no more evidence can be "
                                             "added."),
    "workflows.materials.repair_closed": ("信用修复申请 #{id} 已是“{status:repair_status}”状态，不能再补充材料。",
                                          "Repair application #{id} is “{status:repair_status}”; no more materials "
                                          "can be added."),
}

LABELS: dict[str, Names] = {
    "refusal": REFUSALS,
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
