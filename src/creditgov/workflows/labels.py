"""Labels of objection and repair codes (workflows/models.py). Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

# The refusals a subject (or the window on its behalf) meets when it contests or asks
# to repair a record, by the code the services give them.
REFUSALS: Names = {
    "workflows.date.malformed": ("“{value}”不是有效的日期，请按 2026-12-05 的格式填写。",
                                 "“{value}” is not a date: write it like 2026-12-05."),
    "workflows.upload.too_many": ("一次最多上传 {n} 个文件。", "At most {n} files per upload."),
    "workflows.upload.too_large": ("文件“{name}”超过 {mb} MB。", "“{name}” is larger than {mb} MB."),
    "workflows.upload.empty": ("文件“{name}”是空的。", "“{name}” is empty."),
    "workflows.account.no_subject": ("此账号没有关联信用主体。", "This account is not linked to a subject."),
    "workflows.objection.no_reason": ("请写明异议理由。", "An objection needs its reasons."),
    "workflows.objection.no_record": ("请至少选择一条记录。", "Name at least one record."),
    "workflows.record.other_file": ("记录 #{record} 不在该主体的信用档案中。", "Record #{record} is not in this subject's file."),
    "workflows.objection.old_version": ("记录 #{record} 是旧版本，请对当前版本提出异议。",
                                        "Record #{record} is an old version; object to the current one."),
    "workflows.record.disputed": ("记录 #{record} 已在异议处理中。", "Record #{record} is already under objection."),
    "workflows.objection.not_in_force": ("记录 #{record} 的状态是“{status:record_status}”，只有有效的记录可以提出异议。",
                                         "Record #{record} is “{status:record_status}”; only a record in force can be "
                                         "contested."),
    "workflows.record.unnamed": ("请填写记录编号或决定文号。",
                                 "Name the record: its number or the document number of the decision."),
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
    "workflows.commitment.signed": ("信用修复承诺书已于 {on} 签署（承诺 #{id}），无需再签。",
                                    "A credit-repair commitment is already signed (commitment #{id}, {on})."),
    "workflows.condition.not_yours": ("记录 #{record} 的这项修复条件由认定单位{department:department}或信用办登记，"
                                      "不能由本人登记。",
                                      "This repair condition of record #{record} is recorded by "
                                      "{department:department} (who supplied it) or the credit office, not by the "
                                      "subject."),
    "workflows.condition.other_unit": ("记录 #{record} 由{department:department}认定：这项修复条件须由该单位或信用办登记。",
                                       "Record #{record} was supplied by {department:department}: this condition is "
                                       "recorded by it or the credit office."),
    "workflows.condition.ahead": ("满足日期 {on} 晚于今天：条件满足后才能登记。",
                                  "{on} is after today: a condition is recorded once it is met."),
    "workflows.condition.no_course": ("登记培训须在“说明”中写明培训名称。", "A training is recorded with its name (the note)."),
    "workflows.condition.recorded": ("记录 #{record} 的履行义务已于 {on} 登记。",
                                     "The obligations of record #{record} are already recorded as fulfilled on {on}."),
    "workflows.reason.missing": ("请填写理由。", "Give the reason."),
    "workflows.objection.other_department": ("异议 #{id} 由提供该记录的{department:department}处理。",
                                             "Objection #{id} is handled by {department:department}, who supplied "
                                             "the record."),
    "workflows.objection.not_open": ("异议 #{id} 已是“{status:objection_status}”状态，只有待处理的异议可以延期。",
                                     "Objection #{id} is “{status:objection_status}”; only an open objection can be "
                                     "extended."),
    "workflows.objection.extended": ("异议 #{id} 已经延期过：规定只允许延期 {count} 次。",
                                     "Objection #{id} was already extended: the rules allow {count} extension."),
    "workflows.objection.no_extension": ("现行规定不允许延期。", "The rules in force allow no extension."),
    "workflows.objection.extend_late": ("异议 #{id} 的处理期限为 {due}，延期须在期限届满前申请。",
                                        "Objection #{id} was due on {due}; an extension must come before that."),
    "workflows.review.none": ("现行规定不设复核。", "The rules in force allow no review."),
    "workflows.review.not_decided": ("异议 #{id} 为“{status:objection_status}”状态：复核只能在作出处理决定后申请一次。",
                                     "Objection #{id} is “{status:objection_status}”; a review follows a decision, "
                                     "once."),
    "workflows.review.in_favour": ("异议 #{id} 已按申请人的主张作出处理（删除记录），无需复核。",
                                   "Objection #{id} was decided in the subject's favour (the record deleted)."),
    "workflows.review.other_unit": ("异议 #{id} 的复核由{department:department}负责。",
                                    "The review of objection #{id} is for {department:department}."),
    "workflows.repair.other_unit": ("信用修复申请 #{id} 为“{status:repair_status}”状态，现由{department:department}办理。",
                                    "Repair application #{id} is “{status:repair_status}”; {department:department} "
                                    "answers it now."),
    "workflows.repair.other_department": ("信用修复申请 #{id} 由认定单位{department:department}决定（谁认定、谁修复）。",
                                          "Repair application #{id} is decided by {department:department}, who "
                                          "supplied the record."),
    "workflows.repair.not_forwarded": ("信用修复申请 #{id} 尚未由受理单位转送。",
                                       "Repair application #{id} has not been forwarded by the intake yet."),
    "workflows.repair.intake_only": ("信用修复申请由受理单位{department:department}转送。",
                                     "Applications are forwarded by the intake, {department:department}."),
    # A decision that corrects the record (workflows/outcomes.parse_corrections).
    "workflows.correction.empty": ("处理结果为“更正”时，请在“更正内容”中填写需要改变的字段，如事实描述或金额。",
                                   "A correction names what changes: fill in at least one field under “Correction”, "
                                   "such as the facts or the amount."),
    "workflows.correction.unknown": ("不能更正这些字段：{fields}。", "These fields cannot be corrected: {fields}."),
    "workflows.correction.not_number": ("金额“{value}”不是数字，请只填写数字，如 2000 或 2000.50。",
                                        "The amount “{value}” is not a number: write digits only, like 2000 or "
                                        "2000.50."),
    "workflows.correction.value_range": ("金额“{value}”超出了可以记录的范围。",
                                         "The amount “{value}” is beyond what a record can hold."),
    "workflows.correction.not_date": ("“{field:correction_field}”填写的“{value}”不是有效的日期，请按 2026-12-05 的格式填写。",
                                      "“{field:correction_field}”: “{value}” is not a date; write it like 2026-12-05."),
    "workflows.correction.no_occurred_on": ("更正后的记录必须有发生日期。", "A corrected record keeps a date it occurred on."),
    # A corrected grade or value the record's catalogue item cannot carry (outcomes._fits_item).
    "workflows.correction.grade_level": ("等级“{value}”不是“{item:item}”的等级，请从 {levels} 中选择。",
                                         "“{value}” is not a level of “{item:item}”: choose one of {levels}."),
    "workflows.correction.no_grade": ("“{item:item}”不记录等级，请不要填写“等级”。",
                                      "“{item:item}” carries no grade: leave “Grade” empty."),
    "workflows.correction.grade_malformed": ("等级“{value}”的写法不对：等级只由字母和数字组成，如 A 或 B+。",
                                             "The grade “{value}” is not written as a grade: letters and digits only, "
                                             "like A or B+."),
    "workflows.correction.no_value": ("“{item:item}”不记录金额或分值，请不要填写“金额”。",
                                      "“{item:item}” carries no amount or score: leave “Amount” empty."),
    "workflows.correction.negative": ("“{item:item}”的金额不能小于零（填写的是“{value}”）。",
                                      "The amount of “{item:item}” is never below zero (“{value}” was given)."),
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
    # The fields a correction may change (outcomes.CORRECTABLE), as the decision form names them.
    "correction_field": {"text": ("事实描述", "Facts"), "value": ("金额", "Amount"), "document_no": ("文号", "Document no."),
                         "occurred_on": ("发生日期", "Occurred on"), "decided_on": ("决定日期", "Decided on"),
                         "grade": ("等级", "Grade")},
    "objection_outcome": {"upheld": ("维持", "Upheld"), "corrected": ("更正", "Corrected"), "deleted": ("删除", "Deleted")},
    # The inbox's categories of the steps workflows/notifications.py tells and of the overdue
    # alerts (overdue.py), as the inbox shows them (`alerts.access.category`).
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
        "objection.materials": ("异议补充材料", "Objection materials added"),
        "repair.materials": ("信用修复申请补充材料", "Repair application materials added"),
        "objection.overdue": ("异议超期未办结", "Objection overdue"),
        "repair.overdue": ("信用修复申请超期未办结", "Repair application overdue"),
    },
}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "calendar.override": ("调整工作日历", "Working calendar changed"),
    "calendar.override.remove": ("撤销工作日历调整", "Working calendar change removed"),
    "record.correct": ("更正信用记录", "Credit record corrected"),
    "workflows.rules.load": ("载入异议与修复规则", "Objection and repair rules loaded"),
    "objection.file": ("提出异议", "Objection filed"),
    "objection.extend": ("延长异议办理期限", "Objection deadline extended"),
    "objection.decide": ("作出异议决定", "Objection decided"),
    "objection.withdraw": ("撤回异议", "Objection withdrawn"),
    "objection.review": ("申请复核", "Review requested"),
    "objection.review.decide": ("作出复核决定", "Review decided"),
    "objection.overdue": ("异议办理超期", "Objection overdue"),
    "objection.materials": ("补充异议材料", "Objection materials added"),
    "repair.apply": ("申请信用修复", "Repair applied for"),
    "repair.forward": ("转送信用修复申请", "Repair application forwarded"),
    "repair.approve": ("批准信用修复", "Repair approved"),
    "repair.reject": ("驳回信用修复", "Repair rejected"),
    "repair.overdue": ("信用修复办理超期", "Repair overdue"),
    "repair.materials": ("补充修复材料", "Repair materials added"),
    "repair.condition.obligations-fulfilled": ("确认已履行义务", "Obligations fulfilled confirmed"),
    "repair.condition.training": ("确认已参加信用培训", "Credit training attended confirmed"),
    "material.read": ("查阅申请材料", "Case material read"),
}
