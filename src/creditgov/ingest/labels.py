"""Labels of the ingest domain's codes: a batch's kind, a manual entry's status and fields,
and the refusals of the ingestion and manual entry pages. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

MANUAL_STATUS: Names = {"proposed": ("待审核", "Awaiting approval"), "approved": ("已通过", "Approved"),
                        "rejected": ("已驳回", "Rejected")}
# The fields of a manual entry (`manual.RECORD_FIELDS`, `REGISTRATION_FIELDS`, and its
# reason) as a refusal names them: "manual.<field>".
MANUAL_FIELD: Names = {
    "manual.identifier": ("统一社会信用代码或身份证号", "Credit code or resident ID number"),
    "manual.name": ("名称", "Name"), "manual.item": ("信息目录项", "Catalogue item"),
    "manual.occurred_on": ("发生日期", "Occurred on"), "manual.decided_on": ("决定日期", "Decided on"),
    "manual.value": ("金额", "Amount"), "manual.text": ("文字内容", "Text"),
    "manual.document_no": ("文书号", "Document no."), "manual.kind": ("主体类型", "Subject kind"),
    "manual.region": ("所属区域", "Region"), "manual.industry": ("行业", "Industry"),
    "manual.established_on": ("成立日期", "Established on"), "manual.address": ("地址", "Address"),
    "manual.reason": ("录入理由", "Reason"),
}

# The refusals an officer meets entering a record by hand, or the credit office
# approving it, by the code the services give them.
REFUSALS: Names = {
    "ingest.batch.not_found": ("找不到批次 #{id}。", "Batch #{id} was not found."),
    "ingest.account.no_department": ("您的账号没有设置所属部门，请联系管理员。",
                                     "Your account has no department; ask the administrator to set it."),
    "ingest.manual.other_department": ("您只能为本部门录入，不能为{department:department}录入。",
                                       "You enter records for your own department only, not for "
                                       "{department:department}."),
    "ingest.manual.no_reason": ("请填写录入理由。", "Give the reason for the entry."),
    "ingest.manual.field_nul": ("“{field:manual_field}”中含有无法保存的空字符（U+0000），请删除后重新填写。",
                                "“{field:manual_field}” holds a NUL character (U+0000), which cannot be kept; "
                                "remove it and try again."),
    "ingest.manual.field_long": ("“{field:manual_field}”不能超过 {max} 个字。",
                                 "“{field:manual_field}” may be at most {max} characters long."),
    "ingest.manual.no_identifier": ("请填写主体的统一社会信用代码或身份证号。",
                                    "Give the subject's credit code or resident ID number."),
    "ingest.manual.bad_identifier": ("填写的号码不是有效的统一社会信用代码或身份证号，请核对后重新填写。",
                                     "The identifier is not a valid credit code or resident ID number ({detail}); "
                                     "check it and enter it again."),
    "ingest.manual.no_item": ("请选择信息目录项。", "Choose the catalogue item."),
    "ingest.manual.unknown_item": ("数据目录中没有名称或编码为“{item}”的信息目录项，请从列表中选择。",
                                   "The data catalogue has no item named or coded “{item}”; choose one from the "
                                   "list."),
    "ingest.manual.ambiguous_item": ("数据目录中有多个名为“{item}”的信息目录项，请改填该项的编码。",
                                     "Several catalogue items are named “{item}”; give the item's code instead."),
    "ingest.manual.no_occurred_on": ("请填写发生日期。", "Give the date it occurred on."),
    "ingest.manual.evidence_count": ("证明材料最多上传 {max} 个文件。", "At most {max} evidence files."),
    "ingest.manual.evidence_large": ("证明材料“{file}”超过 {mb} MB。", "Evidence “{file}” is larger than {mb} MB."),
    "ingest.manual.no_files_folder": ("系统尚未配置证明材料的存放位置，暂时不能上传证明材料，请联系管理员。",
                                      "No folder for evidence files is configured, so evidence cannot be kept; "
                                      "ask the administrator."),
    "ingest.manual.not_found": ("找不到人工录入 #{id}。", "Manual entry #{id} was not found."),
    "ingest.manual.decided": ("人工录入 #{id} 已是“{status:manual_status}”状态，不能再审核。",
                              "Manual entry #{id} is already “{status:manual_status}”; it cannot be decided again."),
    "ingest.manual.own_entry": ("人工录入 #{id} 是您本人录入的，须由另一位工作人员审核。",
                                "You entered manual entry #{id}; another person approves or rejects it."),
    "ingest.manual.refused": ("这条录入未能通过归集检查：{reason:quarantine_reason}。它仍待审核，请驳回并在审核意见中写明原因。",
                              "The entry could not go through ingestion: {why}. It stays awaiting approval: reject "
                              "it, saying why in the note."),
    "ingest.manual.duplicate": ("与已归集的信息完全相同，无需再次录入。它仍待审核，请驳回。",
                                "It is the same as what is already collected. It stays awaiting approval: reject it."),
    "ingest.manual.merged": ("该主体已合并到主体 #{subject}，这条登记不再生效。它仍待审核，请驳回。",
                             "The subject was merged into subject #{subject}: the registration changes nothing. It "
                             "stays awaiting approval: reject it."),
    "ingest.manual.ambiguous_identifier": ("该号码同时符合统一社会信用代码和身份证号的校验规则，无法判断是企业还是个人，"
                                           "请联系信用办处理。",
                                           "The number is valid both as a credit code and as an ID number, so the "
                                           "subject's kind cannot be told; ask the credit office."),
    "ingest.manual.no_rejection_reason": ("驳回时请在审核意见中写明理由。", "A rejection gives its reason in the note."),
}

# How a batch came in (`models.Batch.kind`): a department's file, a retry of quarantined
# rows, a manual entry, an inspection's result (supervision/tasks.py).
BATCH_KIND: Names = {"file": ("文件", "File"), "retry": ("隔离区重试", "Quarantine retry"),
                     "manual": ("人工录入", "Manual entry"), "inspection": ("检查结果", "Inspection result")}

LABELS = {"refusal": REFUSALS, "manual_status": MANUAL_STATUS, "manual_field": MANUAL_FIELD, "batch_kind": BATCH_KIND}
