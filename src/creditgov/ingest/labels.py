"""Labels of the ingest domain's codes: a batch's kind, a manual entry's status and fields,
a source spec's fields, a quarantined row's status, and the refusals of the ingestion and manual entry pages.
Registered by `bootstrap.wire()`. Also the words of a quarantined row's reason
(`REASON_DETAIL`, `IDENTIFIER_PROBLEM`: sentences, said by `reasons.reason_detail`)."""

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

# The refusals an officer meets entering a record by hand, the credit office approving
# it, or a department sending its file, by the code the services give them.
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
    "ingest.manual.bad_identifier": ("填写的号码不是有效的统一社会信用代码或身份证号（{detail_zh}），请核对后重新填写。",
                                     "The identifier is not a valid credit code or resident ID number: "
                                     "{detail_en}. Check it and enter it again."),
    "ingest.manual.no_item": ("请选择信息目录项。", "Choose the catalogue item."),
    "ingest.manual.unknown_item": ("数据目录中没有名称或编码为“{item}”的信息目录项，请从列表中选择。",
                                   "The data catalogue has no item named or coded “{item}”; choose one from the "
                                   "list."),
    "ingest.manual.ambiguous_item": ("数据目录中有多个名为“{item}”的信息目录项，请改填该项的编码。",
                                     "Several catalogue items are named “{item}”; give the item's code instead."),
    "ingest.manual.no_occurred_on": ("请填写发生日期。", "Give the date it occurred on."),
    "ingest.manual.invalid": ("这条录入未通过归集检查：{detail_zh}。请改正后重新提交。",
                              "The entry does not pass ingestion's checks: {detail_en}. Correct it and submit it "
                              "again."),
    "ingest.manual.unregistered": ("该主体尚未登记。请先登记该主体（人工登记，或由部门报送登记信息）后再录入。",
                                   "The subject is not registered. Register it first (by a manual registration, or "
                                   "from its department's registration file), then enter the record."),
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
    "ingest.manual.refused": ("这条录入未能通过归集检查：{reason:quarantine_reason}（{detail_zh}）。它仍待审核，"
                              "请驳回并在审核意见中写明原因。",
                              "The entry could not go through ingestion: {detail_en}. It stays awaiting approval: "
                              "reject it, saying why in the note."),
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
    # A department's file sent through the page or the API (uploads.py), and a file the
    # readers cannot take (readers.py: the command line says these too).
    "ingest.upload.no_spec": ("请选择文件所属的数据源。", "Choose the source the file is of."),
    "ingest.upload.no_file": ("请选择要上传的文件。", "Choose the file to upload."),
    "ingest.upload.unknown_spec": ("没有名为“{source}”的数据源，请从列表中选择。",
                                   "There is no source “{source}”; choose one from the list."),
    "ingest.upload.other_department": ("该数据源由{department:department}报送，您只能上传本部门数据源的文件。",
                                       "That source is sent by {department:department}; you send the files of "
                                       "your own department's sources only."),
    "ingest.upload.wrong_format": ("该数据源只接收 {format} 文件（扩展名 {suffixes}），“{file}”不是。",
                                   "This source takes {format} files ({suffixes}); “{file}” is not one."),
    "ingest.upload.empty": ("文件“{file}”是空的，没有可归集的内容。", "The file “{file}” is empty: there is nothing to ingest."),
    "ingest.upload.too_large": ("文件“{file}”超过 {mb} MB，一次上传最多 {mb} MB。请按月份或区域拆分后分别上传。",
                                "The file “{file}” is larger than {mb} MB, the most one upload may be. Split it, "
                                "by month or by area, and send the parts one by one."),
    "ingest.upload.rotating": ("系统正在更换数据加密密钥，暂时不能归集文件，请稍后再上传。",
                               "The store's encryption key is being changed; send the file again once that has "
                               "finished."),
    "ingest.file.missing_columns": ("文件“{file}”缺少数据源规格要求的列：{columns}。请核对表头后重新上传。",
                                    "The file “{file}” lacks columns the source's spec names: {columns}. Check its "
                                    "header row and send it again."),
    "ingest.file.undecodable": ("文件“{file}”无法按 {encoding} 编码读取。请另存为 {encoding} 编码后重新上传。",
                                "The file “{file}” cannot be read as {encoding}. Save it in that encoding and send "
                                "it again."),
    "ingest.file.not_csv": ("文件“{file}”不是可读取的 CSV 文件，请检查后重新上传。",
                            "The file “{file}” is not a readable CSV file; check it and send it again."),
    "ingest.file.not_xlsx": ("文件“{file}”不是可读取的 Excel（XLSX）工作簿，请检查后重新上传。",
                             "The file “{file}” is not a readable Excel (XLSX) workbook; check it and send it again."),
}

# How a batch came in (`models.Batch.kind`): a department's file, a retry of quarantined
# rows, a manual entry, an inspection's result (supervision/tasks.py).
BATCH_KIND: Names = {"file": ("文件", "File"), "retry": ("隔离区重试", "Quarantine retry"),
                     "manual": ("人工录入", "Manual entry"), "inspection": ("检查结果", "Inspection result")}

# A source spec's fields (`schemas.RECORD_FIELDS`, `REGISTRATION_FIELDS`, `LINK_FIELDS`), as
# a quarantined row's reason names them.
SPEC_FIELD: Names = {
    "uscc": ("统一社会信用代码", "Credit code"), "resident_id": ("身份证号", "ID number"),
    "identifier": ("统一社会信用代码或身份证号", "Credit code or ID number"), "name": ("名称", "Name"),
    "item": ("信息目录项", "Catalogue item"), "occurred_on": ("发生日期", "Occurred on"),
    "decided_on": ("决定日期", "Decided on"), "value": ("金额或数值", "Amount or value"), "grade": ("等级", "Grade"),
    "text": ("文字内容", "Text"), "document_no": ("文书号", "Document no."), "kind": ("主体类型", "Subject kind"),
    "region": ("所属区域", "Region"), "industry": ("行业", "Industry"), "established_on": ("成立日期", "Established on"),
    "address": ("地址", "Address"), "firm_uscc": ("企业统一社会信用代码", "Firm's credit code"),
    "person_id": ("人员身份证号", "Person's ID number"), "person_name": ("人员姓名", "Person's name"),
    "role": ("角色", "Role"), "since": ("任职开始日期", "Role since"), "until": ("任职结束日期", "Role until"),
}

# What is wrong with an identifier (`reasons.reason_detail`): python-stdnum's exception
# classes (its messages are English), and the faults of a resident ID number's parts
# `subjects.identifiers.validate_resident_id` names itself ({value}: the part).
IDENTIFIER_PROBLEM: Names = {
    "InvalidChecksum": ("校验位不正确", "has a wrong check digit"),
    "InvalidLength": ("位数不正确", "has the wrong number of characters"),
    "InvalidFormat": ("格式不正确", "is not in the right format"),
    "InvalidComponent": ("含有无效或无法识别的部分", "has a part that is invalid or unknown"),
    "birth_date": ("中的出生日期 {value} 不存在", "holds the birth date {value}, which is not a real date"),
    "birth_place_unknown": ("中的出生地代码 {value} 不是已知的县级行政区划",
                            "holds the birth place code {value}, which is no known county"),
    "birth_place_retired": ("中的出生地代码 {value} 在 {year} 年前已撤销",
                            "holds the birth place code {value}, retired before {year}"),
}

# A quarantined row's reason in words, by the shape of its stored (English) text
# (`reasons.DETAIL_PATTERNS`): `{name}` is a value the text gives, `{name:kind}` the
# label of a code it gives; {why} an identifier's fault (IDENTIFIER_PROBLEM).
REASON_DETAIL: Names = {
    "uscc": ("统一社会信用代码 {value} {why}", "the credit code {value} {why}"),
    "uscc_hidden": ("不是有效的统一社会信用代码", "not a valid credit code"),
    "resident_id": ("身份证号 {value} {why}", "the ID number {value} {why}"),
    "neither": ("既不是有效的统一社会信用代码，也不是有效的身份证号（{first}；{second}）",
                "neither a valid credit code nor a valid ID number ({first}; {second})"),
    "no_identifier": ("本行没有统一社会信用代码或身份证号", "the row has no credit code or ID number"),
    "both_identifiers": ("该号码同时符合统一社会信用代码和身份证号的校验规则，无法判断主体类型；请在规格中把该列对应到"
                         "“统一社会信用代码”或“身份证号”",
                         "the number is valid both as a credit code and as an ID number, so the subject's kind "
                         "cannot be told: map the column to “Credit code” or “ID number” in the spec"),
    "wrong_identifier": ("“{kind:subject_kind}”应以“{expected:spec_field}”标识，本行给出的是“{given:spec_field}”",
                         "a subject of the kind “{kind:subject_kind}” is identified by its “{expected:spec_field}”; "
                         "the row gives its “{given:spec_field}”"),
    "unregistered_firm": ("统一社会信用代码为 {value} 的主体尚未登记", "no subject is registered with the credit code {value}"),
    "unregistered_person": ("该身份证号（索引 {value}）的主体尚未登记",
                            "no subject is registered with this ID number (index {value})"),
    "unregistered_no_name": ("主体尚未登记，且本行没有名称，无法建立临时主体",
                             "the subject is not registered, and the row has no name to register it provisionally"),
    "firm_not_registered": ("统一社会信用代码为 {value} 的企业尚未登记", "no firm is registered with the credit code {value}"),
    "person_not_registered": ("该身份证号不在户籍名册中", "the ID number is not on the household roll"),
    "item_missing": ("本行没有信息目录项", "the row names no catalogue item"),
    "item_not_in_spec": ("“{item:item}”不在该数据源可报送的信息目录项之内",
                         "“{item:item}” is not among the catalogue items this source may send"),
    "item_not_in_catalogue": ("数据目录中没有“{item}”这一信息目录项", "the data catalogue has no item “{item}”"),
    "item_rejected": ("向{department:department}申请“{item:item}”的数据申请已被驳回",
                      "the data request for “{item:item}” from {department:department} was rejected"),
    "item_not_requested": ("尚未向{department:department}申请“{item:item}”",
                           "“{item:item}” was never requested from {department:department}"),
    "missing": ("缺少“{field:spec_field}”", "“{field:spec_field}” is missing"),
    "future": ("“{field:spec_field}”为 {value}，晚于今天", "“{field:spec_field}” is {value}, after today"),
    "not_a_date": ("“{field:spec_field}”的值“{value}”不是日期", "“{field:spec_field}” holds “{value}”, which is not a date"),
    "impossible_date": ("日期“{value}”不存在", "the date “{value}” does not exist"),
    "unrecognised_date": ("无法识别日期“{value}”", "“{value}” is not a date in a known form"),
    "not_a_number": ("“{value}”不是数字", "“{value}” is not a number"),
    "out_of_range": ("数值“{value}”超出范围", "the value “{value}” is out of range"),
    "negative": ("“{item:item}”的数值不能小于零，本行为 {value}", "a value of “{item:item}” is never below zero; "
                 "the row gives {value}"),
    "unknown_code": ("“{field:spec_field}”中的代码“{value}”不在规格的代码对照表中",
                     "the code “{value}” in “{field:spec_field}” is not in the spec's code map"),
    "unknown_region": ("没有代码为“{value}”的区域", "there is no region with the code “{value}”"),
    "unknown_role": ("未知的角色“{value}”", "the role “{value}” is unknown"),
    "unknown_kind": ("未知的主体类型“{value}”", "the subject kind “{value}” is unknown"),
    "role_ends_early": ("任职结束日期 {until} 早于开始日期 {since}", "the role ends ({until}) before it begins ({since})"),
    "conflict_key": ("与本文件中业务主键相同的前一行内容不同（{value}）",
                     "differs from an earlier row of this file with the same natural key ({value})"),
    "conflict_subject": ("与本文件中同一主体的前一行内容不同", "differs from an earlier row of this file for the same subject"),
    "malformed_json": ("该行不是有效的 JSON", "the line is not valid JSON"),
    "nul": ("“{field:spec_field}”中含有无法保存的空字符（U+0000）",
            "“{field:spec_field}” holds a NUL character (U+0000), which cannot be kept"),
}

# How a reason names the file's column a value came from (`reasons.reason_detail`): in
# place of the field its words name ("field"), or before its words ("prefix"; "named"
# where the column is named as the field is said).
COLUMN_WORDS: Names = {
    "field": ("{column}（{field}）", "{column} ({field})"),
    "prefix": ("“{column}”（{field}）：{detail}", "“{column}” ({field}): {detail}"),
    "named": ("“{column}”：{detail}", "“{column}”: {detail}"),
}

# A quarantined row's status (`models.QuarantinedRow.status`): still to correct, taken in
# (by a retry, or by a later file that sent it again and it passed), or sent again in a
# later file and refused again there (that file's entry is the one to correct).
QUARANTINE_STATUS: Names = {"open": ("待处理", "Open"), "resolved": ("已处理", "Resolved"),
                            "resent": ("已重新报送", "Sent again")}

LABELS = {"refusal": REFUSALS, "manual_status": MANUAL_STATUS, "manual_field": MANUAL_FIELD, "batch_kind": BATCH_KIND,
          "spec_field": SPEC_FIELD, "quarantine_status": QUARANTINE_STATUS}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "ingest.file": ("导入数据文件", "Data file ingested"),
    "ingest.retry": ("重试隔离区数据", "Quarantined rows retried"),
    "ingest.manual": ("写入人工录入数据", "Manual entries written"),
    "ingest.inspection": ("写入检查结果", "Inspection results written"),
    "ingest.manual.propose": ("提交人工录入", "Manual entry proposed"),
    "ingest.manual.approved": ("通过人工录入", "Manual entry approved"),
    "ingest.manual.rejected": ("驳回人工录入", "Manual entry rejected"),
    "ingest.trace": ("查阅原始数据行", "Raw row read"),
}
