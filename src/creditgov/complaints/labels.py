"""Labels of the complaints domain's codes for the one label catalogue (`core.labels`)."""

from __future__ import annotations

from creditgov.complaints.access import (
          CHANNEL_LABELS,
          OUTCOME_LABELS,
          STATUS_LABELS,
          category_labels,
)
from creditgov.core.labels import Names

# The refusals a complainant or the office meets, by the code the service gives them.
REFUSALS: Names = {
    "complaints.contact.invalid": ("联系方式须为 11 位手机号码或电子邮箱地址。",
                                   "The contact must be a mobile number (11 digits) or an e-mail address."),
    "complaints.category.unknown": ("请从所列的投诉类别中选择一项。", "Choose one of the listed categories."),
    "complaints.respondent.uscc": ("被投诉方的代码须为 18 位统一社会信用代码。",
                                   "The respondent's code must be an 18-character unified social credit code."),
    "complaints.lookup.no_match": ("没有与该投诉编号和查询码相符的投诉，请核对后重新输入。",
                                   "No complaint has this number and query code; check them and try again."),
    "complaints.answered": ("投诉 {number} 已经答复。", "Complaint {number} was already answered."),
    "complaints.extension.no_reason": ("延期须写明理由。", "An extension needs a reason."),
    "complaints.extended": ("投诉 {number} 已延期过一次。", "Complaint {number} was already extended."),
    "complaints.no_extension": ("现行投诉办理规定不允许延期。", "The complaints policy allows no extension."),
    "complaints.unassigned": ("请先将投诉分派给部门，再作答复。", "Assign the complaint to a department before answering it."),
    "complaints.reply.empty": ("请填写答复内容。", "The reply needs a text."),
}

LABELS = {"refusal": REFUSALS, "complaint_status": STATUS_LABELS, "complaint_outcome": OUTCOME_LABELS,
          "complaint_channel": CHANNEL_LABELS, "complaint_category": category_labels(),
          # the inbox's categories of the steps complaints/service.py tells
          "message_topic": {"complaint.received": ("收到投诉", "Complaint received"),
                            "complaint.assigned": ("投诉已分派", "Complaint assigned")}}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "complaints.file": ("受理投诉", "Complaint filed"),
    "complaints.observation": ("受理特约监督意见", "Supervisor's observation filed"),
    "complaints.assign": ("分派投诉", "Complaint assigned"),
    "complaints.extend": ("延长投诉办理期限", "Complaint deadline extended"),
    "complaints.reply": ("答复投诉", "Complaint answered"),
    "complaints.code_reissued": ("重新发放投诉查询码", "Complaint query code reissued"),
    "complaints.read": ("查阅投诉人信息", "Complainant's details read"),
    "complaints.export": ("导出投诉", "Complaints exported"),
}
