"""Labels of the finance domain's codes for the one label catalogue (`core.labels`):
the statuses of products, needs, applications, loans and fund claims, the shared
bands as a lender reads them, the decline reasons named in `data/fund.yaml`, and the
post-loan warning `loans.monitor` raises (a warning rule no rules file names), and the
refusals a bank officer meets.
Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names
from creditgov.finance.access import BAND_LABELS, STATUS_LABELS
from creditgov.finance.loans import RULE
from creditgov.finance.policy import POLICY

FUND_CLAIM_STATUS: Names = {"submitted": ("待审核", "submitted"), "approved": ("已审核", "approved"),
                            "rejected": ("已驳回", "rejected"), "paid": ("已赔付", "paid")}


def _decline_reasons() -> Names:
    return {r.code: (r.name_zh, r.name_en) for r in POLICY.shipped().decline_reasons}


# The refusals a bank officer meets, by the code the service gives them (the services
# speak English; a page or an API client says them in the reader's language from here,
# so rewording a service's message never changes what a reader sees).
REFUSALS: Names = {
    "finance.application.not_found": ("未找到申请 #{id}。", "Application #{id} was not found."),
    "finance.loan.not_found": ("未找到贷款 #{id}。", "Loan #{id} was not found."),
    "finance.application.decided": ("申请 #{id} 已是“{status:finance_status}”状态，不能再作决定。",
                                    "Application #{id} is already “{status:finance_status}”; it cannot be decided again."),
    "finance.need.closed": ("融资需求 #{id} 已是“{status:finance_status}”状态，不能放款。",
                            "Financing need #{id} is already “{status:finance_status}”; no loan can be granted on it."),
    "finance.amount.out_of_range": ("批准金额 {value} 元不在产品的金额范围 {low}–{high} 元内。",
                                    "The approved amount of {value} yuan is outside the product's range of "
                                    "{low}–{high} yuan."),
    "finance.rate.out_of_range": ("年利率 {value}% 不在产品的利率范围 {low}%–{high}% 内。",
                                  "The rate of {value}% a year is outside the product's range of {low}%–{high}%."),
    "finance.decline_code.unknown": ("请从所列的拒绝原因中选择一项。", "Choose one of the listed reasons for declining."),
    "finance.loan.repaid": ("贷款 #{id} 已结清。", "Loan #{id} is repaid."),
    "finance.repayment.above_outstanding": ("还款金额 {value} 元超过贷款余额 {outstanding} 元。",
                                            "The repayment of {value} yuan is more than the outstanding {outstanding} yuan."),
    "finance.repayment.other_figures": ("贷款 #{id} 的还款流水号 {ref} 已按其他金额或日期登记过。",
                                        "Repayment reference {ref} of loan #{id} was already recorded with another "
                                        "amount or date."),
    "finance.outstanding.above_principal": ("余额不能高于本金。", "The outstanding amount cannot be above the principal."),
}

LABELS = {"finance_status": STATUS_LABELS, "finance_band": BAND_LABELS, "fund_claim_status": FUND_CLAIM_STATUS,
          "decline_reason": _decline_reasons, "warning_rule": {RULE: ("贷后预警", "Post-loan warning")},
          "refusal": REFUSALS}
