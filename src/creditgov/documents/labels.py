"""Labels of the documents domain: the refusals an officer meets printing list
notices and decisions, case decisions and inspection notices, or sending a draw's
notices to the firms, by the code the services give them. Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

REFUSALS: Names = {
    "documents.account.no_department": ("您的账号没有设置所属部门，不能出具检查通知书，请联系管理员。",
                                        "Your account has no department to act for; ask the administrator to set it."),
    "documents.inspections.other_draw": ("抽查 #{id} 是{owner:department}的检查，您代表{department:department}，"
                                         "不能为其出具检查通知书。",
                                         "Draw #{id} is an inspection of {owner:department}; you act for "
                                         "{department:department}."),
    "documents.inspections.other_task": ("检查任务 #{id} 属于{owner:department}，您代表{department:department}，"
                                         "不能为其出具检查通知书。",
                                         "Task #{id} is an inspection of {owner:department}; you act for "
                                         "{department:department}."),
    "documents.batch.empty": ("所选范围内没有可打印的文书。", "There are no documents to print for what you chose."),
    "documents.batch.too_many": ("一次最多打印 {max} 份文书，请选择日期缩小范围。",
                                 "At most {max} documents print at once; choose a day to narrow it."),
    "documents.list.not_found": ("找不到信用名单“{list:list}”，请从列表中选择名单。",
                                 "There is no credit list “{list:list}”; choose one from the list."),
    "documents.inspections.nothing_named": ("请选择一次抽查，或指定要打印通知书的检查任务。",
                                            "Choose a draw, or name the inspection tasks to print notices for."),
    "documents.inspections.no_draw": ("找不到抽查 #{id}。", "Draw #{id} was not found."),
    "documents.inspections.too_many": ("一次最多出具 {max} 份检查通知书，请指定具体的检查任务。",
                                       "At most {max} inspection notices at once; name the tasks."),
    "documents.inspections.no_tasks": ("找不到检查任务 {ids}。", "Inspection task(s) {ids} were not found."),
    "documents.inspections.not_in_draw": ("抽查 #{draw} 中没有检查任务 {ids}。",
                                          "Draw #{draw} has no inspection task(s) {ids}."),
    "documents.inspections.cancelled": ("检查任务 #{id} 已取消，不出具检查通知书。",
                                        "Task #{id} was cancelled, so it gets no inspection notice."),
    "documents.inspections.no_policy": ("检查任务 #{id}（{kind:task_kind}）不属于任何监管方案，不出具检查通知书。",
                                        "Task #{id} ({kind:task_kind}) has no supervision policy, so it gets no "
                                        "inspection notice."),
    "documents.inspections.draw_empty": ("抽查 #{id} 没有需要出具检查通知书的检查任务。",
                                         "Draw #{id} has no inspection tasks to notify."),
    "documents.send.too_many": ("一次最多送达 {max} 份文书，请分批送达。",
                                "At most {max} documents are sent at once; send them in smaller batches."),
}

LABELS = {"refusal": REFUSALS,
          # the inbox's category of a document sent to its addressee (sending.py)
          "message_topic": {"document.served": ("文书送达", "Document served")}}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "documents.print": ("打印文书", "Document printed"),
    "documents.send": ("送达文书", "Document sent"),
}
