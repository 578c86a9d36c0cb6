"""Labels of the lists' codes: the lists themselves (data/lists.yaml, and the store's
copy), an entry's status, origin and exit. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.catalog.labels import stored
from creditgov.core.labels import Names, Table
from creditgov.lists.service import LISTS


def _lists() -> Names:
    return {d.code: (d.name_zh, d.name_en) for d in LISTS.shipped().lists}


LIST_STATUS: Names = {"proposed": ("拟列入", "Proposed"), "notified": ("已告知", "Subject notified"),
                      "approved": ("已决定", "Decided"), "published": ("已公示", "Published"),
                      "exited": ("已移出", "Removed"), "rejected": ("不予列入", "Not listed"),
                      "withdrawn": ("已撤回", "Withdrawn")}
LIST_KIND: Names = {"red": ("红名单", "Red list"), "black": ("黑名单", "Black list"),
                    "attention": ("重点关注名单", "Key-attention list"), "other": ("其他名单", "Other list")}
LIST_ORIGIN: Names = {"local": ("本级认定", "Identified locally"), "upper": ("上级平台下发", "From the upper platform")}
EXIT_KIND: Names = {"expiry": ("期满移出", "Period ended"), "repair": ("信用修复", "Credit repair"),
                    "upper": ("上级平台移出", "Removed by the upper platform"), "manual": ("人工移出", "Removed by decision")}

LIST_STEP: Names = {"propose": ("拟列入", "Proposed"), "notify": ("告知", "Notified"),
                    "represent": ("陈述申辩", "Representation"), "approve": ("认定", "Decided"),
                    "publish": ("公示", "Published"), "exit": ("移出", "Removed"), "reject": ("不予列入", "Not listed"),
                    "withdraw": ("撤回", "Withdrawn"), "import": ("上级平台导入", "Imported from the upper platform")}

# The refusals a page can meet, by the code the services give them (an entry page's
# number; a repair or an objection decision that takes an entry off its list).
REFUSALS: Names = {
    "lists.entry.not_found": ("找不到名单条目 #{id}。", "List entry #{id} was not found."),
    "lists.exit.not_allowed": ("名单条目 #{entry} 所在的“{list:list}”不能以“{kind:exit_kind}”方式移出。",
                               "“{list:list}” does not allow the exit “{kind:exit_kind}” (entry #{entry})."),
    # Approving or publishing an entry whose criterion no longer holds (lists/recheck.py).
    "lists.entry.criterion_lapsed": ("名单条目 #{entry}（“{list:list}”）不能{step:list_step}：拟列入的依据已不成立——"
                                     "{facts_zh}。可撤回该拟列入，或由认定单位决定不予列入。",
                                     "Entry #{entry} (“{list:list}”) cannot go ahead: what it was proposed on no "
                                     "longer holds — {facts_en}. Withdraw the proposal, or the identifying unit "
                                     "decides not to list it."),
    "lists.entry.criterion_holds": ("名单条目 #{entry} 的拟列入依据仍然成立，不能撤回：是否列入由认定单位决定。",
                                    "What entry #{entry} was proposed on still holds, so it is not withdrawn: "
                                    "whether to list it is the identifying unit's decision."),
    "lists.entry.not_pending": ("名单条目 #{entry} 已是“{status:list_status}”状态，只有尚未公示的拟列入可以撤回。",
                                "Entry #{entry} is already “{status:list_status}”: only a proposal not yet "
                                "published can be withdrawn."),
}

LABELS = {"refusal": REFUSALS, "list_step": LIST_STEP, "list": (_lists, Table(stored("credit_lists"))),
          "list_status": LIST_STATUS, "list_kind": LIST_KIND,
          "list_origin": LIST_ORIGIN, "exit_kind": EXIT_KIND}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "lists.load": ("载入名单定义", "List definitions loaded"),
    "lists.import_upper": ("导入上级平台名单", "Upper platform's lists imported"),
    "lists.propose": ("拟列入名单", "List entry proposed"),
    "lists.notify": ("告知拟列入", "Listing notice sent"),
    "lists.represent": ("记录陈述申辩", "Representation recorded"),
    "lists.approve": ("认定列入名单", "Listing decided"),
    "lists.reject": ("决定不予列入", "Listing declined"),
    "lists.publish": ("公示名单", "List entry published"),
    "lists.exit": ("移出名单", "Removed from a list"),
    "lists.withdraw": ("撤回拟列入", "List entry withdrawn"),
    "lists.import": ("导入上级平台名单条目", "List entry imported from the upper platform"),
    "lists.export": ("导出信用名单", "Lists exported"),
}
