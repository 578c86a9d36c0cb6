"""Labels of commitment codes: templates (data/templates.yaml) and statuses.
Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.commitments.service import TEMPLATES
from creditgov.core.labels import Names


def _templates() -> Names:
    return {t.code: (t.name_zh, t.name_en) for t in TEMPLATES.shipped().templates}


# The refusals met when signing or verifying a commitment, by the code the service gives them.
REFUSALS: Names = {
    "commitments.repair_template": ("信用修复承诺随信用修复申请一并签署，请在“我的信用”中对相应记录办理。",
                                    "The credit-repair commitment is signed with a repair: open the record in "
                                    "My credit."),
    "commitments.not_agreed": ("请阅读承诺书全文并勾选同意后再签署。",
                               "Read the commitment's text and agree to it before signing."),
    "commitments.no_signer": ("窗口代签的承诺须填写签署人姓名。", "A commitment signed at the window names who signed it."),
    "commitments.verified": ("承诺 #{id} 已于 {on} 核查为“{status:commitment_status}”。",
                             "Commitment #{id} was already verified: “{status:commitment_status}” on {on}."),
    "commitments.other_department": ("承诺 #{id} 须由{department:department}核查，本单位不能核查。",
                                     "Commitment #{id} is verified by {department:department}, not by this unit."),
    "commitments.breach_note": ("认定违背承诺须写明未履行的内容。", "A breach needs a note saying what was not kept."),
}

LABELS = {
    "refusal": REFUSALS,
    "commitment_template": _templates,
    "commitment_status": {"signed": ("已签署待核查", "Signed, awaiting verification"), "fulfilled": ("已履行", "Fulfilled"),
                          "breached": ("违背承诺", "Breached"), "withdrawn": ("已撤回", "Withdrawn")},
}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "commitments.load": ("载入承诺模板", "Commitment templates loaded"),
    "commitment.sign": ("签署信用承诺", "Commitment signed"),
    "commitment.fulfilled": ("核实承诺已履行", "Commitment fulfilled"),
    "commitment.breached": ("核实承诺未履行", "Commitment breached"),
}
