"""Labels of the points domain's codes for the one label catalogue (`core.labels`):
ledger entry kinds and causes, redemption statuses, and the credit-merchant
selection's statuses, origins and objection outcomes; the refusals of the shop. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names
from creditgov.points.access import CAUSE_LABELS, KIND_LABELS, STATUS_LABELS
from creditgov.points.merchants import STATUS_LABELS as SELECTION_LABELS

SELECTION_STATUS: Names = {k: SELECTION_LABELS[k] for k in ("open", "decided")}
CANDIDATE_STATUS: Names = {k: SELECTION_LABELS[k] for k in ("candidate", "awarded", "rejected")}
CANDIDATE_ORIGIN: Names = {k: SELECTION_LABELS[k] for k in ("criteria", "nomination")}
SELECTION_OBJECTION_OUTCOME: Names = {k: SELECTION_LABELS[k] for k in ("upheld", "dismissed")}

# The refusals a resident, a counter clerk or a shop meets, by the code the services
# give them (the services speak English; pages and API clients say them from here).
REFUSALS: Names = {
    "points.key.invalid": ("这次兑换请求无效，请刷新页面后重试。",
                           "The request's key must be 1–100 characters; reload the page and try again."),
    "points.key.reused": ("这次兑换请求已用于另一件商品，请刷新页面后重试。",
                          "This request was already used for another offer; reload the page and try again."),
    "points.offer.refused": ("{zh}。", "{en}."),
    "points.offer.limit": ("该商品每位限兑 {limit} 件，已达上限。",
                           "The offer allows {limit} per subject, and that many are taken."),
    "points.balance.short": ("积分不足：现有 {have} 分，需要 {price} 分。", "Not enough points: {have} held, {price} needed."),
    "points.offer.sold_out": ("该商品已兑完。", "The offer is sold out."),
    "points.redemption.no_code": ("没有这个兑换码，请核对后重新输入。", "No redemption has this code; check it and enter it again."),
    "points.redemption.closed": ("该兑换已是“{status:redemption_status}”状态，不能核销。",
                                 "The redemption is already “{status:redemption_status}”; it cannot be settled."),
    "points.selection.period_over": ("提名和异议期已于 {until} 结束。", "Nominations and objections closed on {until}."),
    "points.selection.no_reason": ("提名须写明理由。", "A nomination says why."),
    "points.selection.candidate": ("主体 #{id} 已是本次评选的候选对象。", "Subject #{id} is already a candidate."),
    "points.selection.criteria": ("主体 #{id} 不符合评选条件：{zh}。", "Subject #{id} does not meet the criteria: {en}."),
    "points.selection.no_candidate": ("主体 #{id} 不是本次评选的候选对象。", "Subject #{id} is no candidate of this selection."),
    "points.selection.no_objection_text": ("异议须写明问题所在。", "An objection says what is wrong."),
    "points.selection.no_decision_no": ("请填写评选决定的文号。", "A decision has a document number."),
    "points.selection.decided": ("本次评选已于 {on} 作出决定。", "The selection was decided on {on}."),
    "points.selection.in_period": ("公示期至 {until}，期满后才能作出决定。",
                                   "The public period runs until {until}; the decision comes after it."),
    "points.selection.no_rejection_reason": ("不予入选须写明理由。", "A rejection gives its reason."),
    "points.redemption.expired": ("兑换码已过期。", "The redemption code has expired."),
    "points.redemption.settled": ("该兑换已是“{status:redemption_status}”状态，不能改为“{to:redemption_status}”。",
                                  "The redemption is already “{status:redemption_status}”; it cannot become "
                                  "“{to:redemption_status}”."),
}

LABELS = {"points_entry_kind": KIND_LABELS, "points_cause": CAUSE_LABELS, "redemption_status": STATUS_LABELS,
          "selection_status": SELECTION_STATUS, "candidate_status": CANDIDATE_STATUS,
          "candidate_origin": CANDIDATE_ORIGIN, "selection_objection_outcome": SELECTION_OBJECTION_OUTCOME,
          "refusal": REFUSALS}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "points.rules.load": ("载入积分规则", "Points rules loaded"),
    "points.run": ("计算积分", "Points computed"),
    "points.read": ("查阅积分", "Points read"),
    "points.award.propose": ("提议奖励积分", "Points award proposed"),
    "points.award.approved": ("批准奖励积分", "Points award approved"),
    "points.award.rejected": ("驳回奖励积分", "Points award rejected"),
    "points.board.opt_in": ("同意上公示牌", "Opted in to the boards"),
    "points.board.opt_out": ("退出公示牌", "Opted out of the boards"),
    "points.shop.add": ("添加积分兑换商户", "Points shop added"),
    "points.offer.add": ("添加兑换商品", "Points offer added"),
    "points.redeem": ("兑换积分", "Points redeemed"),
    "points.redemption.settle": ("结算兑换", "Redemption settled"),
    "points.redemption.cancelled": ("取消兑换", "Redemption cancelled"),
    "points.redemption.expired": ("兑换过期", "Redemption expired"),
    "points.counter.challenge": ("柜台兑换发送验证码", "Counter redemption code sent"),
    "points.counter.no_factor": ("柜台兑换无法验证身份", "Counter redemption: no second factor"),
    "points.counter.verified": ("柜台兑换身份已验证", "Counter redemption verified"),
    "points.counter.redeem": ("柜台兑换积分", "Points redeemed at the counter"),
    "points.settlement.export": ("导出兑换结算", "Settlement exported"),
    "points.selection.open": ("发起诚信商户评选", "Merchant selection opened"),
    "points.selection.nominate": ("提名诚信商户", "Merchant nominated"),
    "points.selection.object": ("对候选商户提出异议", "Objection to a candidate"),
    "points.selection.decide": ("作出评选决定", "Selection decided"),
}
