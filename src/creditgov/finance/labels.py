"""Labels of the finance domain's codes for the one label catalogue (`core.labels`):
the statuses of products, needs, applications, loans and fund claims, the shared
bands as a lender reads them, the decline reasons named in `data/fund.yaml`, and the
post-loan warning `loans.monitor` raises (a warning rule no rules file names), the
refusals of its services, the categories of the inbox messages it sends, and, for a subject's list of its consents, the banks by
their names (a consent's organisation is the bank's code) and a need's consent purpose
in the reader's language (`CONSENT_PURPOSE@<need>`, and the older one-text purposes).
Registered by `bootstrap.wire()`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from creditgov.core.labels import Names, Table
from creditgov.finance.access import BAND_LABELS, STATUS_LABELS
from creditgov.finance.loans import RULE
from creditgov.finance.models import Bank, NeedConsent
from creditgov.finance.policy import POLICY
from creditgov.finance.service import CONSENT_PURPOSE, NEED_PURPOSE

FUND_CLAIM_STATUS: Names = {"submitted": ("待审核", "submitted"), "approved": ("已审核", "approved"),
                            "rejected": ("已驳回", "rejected"), "paid": ("已赔付", "paid")}


def _decline_reasons() -> Names:
    return {r.code: (r.name_zh, r.name_en) for r in POLICY.shipped().decline_reasons}


# The refusals a bank officer, a subject or the office meets, by the code the service gives them (the services
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
    "finance.term.out_of_range": ("期限 {value} 个月不在产品的期限范围 {low}–{high} 个月内。",
                                  "The term of {value} months is outside the product's range of {low}–{high} months."),
    "finance.status.before_grant": ("报告日期 {on} 早于贷款 #{id} 的放款日期 {granted_on}。",
                                    "The report's date {on} is before loan #{id} was granted on {granted_on}."),
    "finance.status.in_future": ("报告日期 {on} 晚于今天（{today}）。",
                                 "The report's date {on} is after today ({today})."),
    "finance.status.overdue_before_grant": ("截至 {on} 逾期 {days} 天，逾期开始日将早于贷款 #{id} 的放款日期 {granted_on}；"
                                            "该日最多逾期 {most} 天。",
                                            "{days} days overdue on {on} would begin before loan #{id} was granted on "
                                            "{granted_on}; on that date it can be at most {most} days overdue."),
    "finance.repayment.before_grant": ("还款日期 {paid_on} 早于贷款 #{id} 的放款日期 {granted_on}。",
                                       "The payment date {paid_on} is before loan #{id} was granted on {granted_on}."),
    "finance.repayment.in_future": ("还款日期 {paid_on} 晚于今天（{today}）。",
                                    "The payment date {paid_on} is after today ({today})."),
    "finance.claim.default_dates": ("贷款 #{id} 登记的违约日期 {defaulted_on} 或逾期开始日不在放款日期 {granted_on} 与今天之间，"
                                    "不能申请补偿；请先由银行重新报告贷款状态。",
                                    "Loan #{id}'s recorded default ({defaulted_on}) or first overdue day does not fall "
                                    "between its grant on {granted_on} and today, so it cannot be claimed on; the "
                                    "bank reports the loan's status again first."),
    "finance.deposit.no_ref": ("请填写注资的文号或流水号。",
                               "Give the deposit's reference (the allocation document's or the transfer's number)."),
    "finance.deposit.not_positive": ("注资金额须大于 0，而不是 {value} 元。",
                                     "A deposit must be more than 0 yuan, not {value} yuan."),
    "finance.deposit.fen": ("注资金额最多精确到分（两位小数），而不是 {value} 元。",
                            "A deposit is in yuan and fen (two decimals at most), not {value} yuan."),
    "finance.deposit.other_amount": ("文号/流水号 {ref} 的注资已按 {amount} 元登记，不能以其他金额再次登记。",
                                     "The deposit with reference {ref} was already recorded at {amount} yuan; it "
                                     "cannot be recorded again with another amount."),
    # a subject's need, consent and application
    "finance.need.not_found": ("未找到融资需求 #{id}。", "Financing need #{id} was not found."),
    "finance.need.kind": ("融资需求由企业、个体工商户/商户或民宿发布，该主体类型（{kind:subject_kind}）不能发布。",
                          "A financing need is posted by an enterprise, a merchant or a homestay, not by this kind "
                          "of subject ({kind:subject_kind})."),
    "finance.subject.not_found": ("未找到主体 #{id}。", "Subject #{id} was not found."),
    "finance.consent.need_closed": ("融资需求 #{id} 已是“{status:finance_status}”状态，不能再授权银行查询。",
                                    "Financing need #{id} is already “{status:finance_status}”; no bank can be "
                                    "authorised for it any more."),
    "finance.consent.days": ("对一项融资需求的授权有效期为 1 至 {limit} 天。",
                             "A consent for a financing need lasts 1 to {limit} days."),
    "finance.apply.need_closed": ("融资需求 #{id} 已是“{status:finance_status}”状态，不能再用它申请贷款。",
                                  "Financing need #{id} is already “{status:finance_status}”; no more applications "
                                  "can be made with it."),
    "finance.apply.no_consent": ("请先授权“{bank}”就融资需求 #{id} 查询您的信用档案，再向其申请贷款。",
                                 "Authorise {bank} to read your credit file for financing need #{id} first; then you "
                                 "can apply."),
    "finance.apply.already": ("您已用融资需求 #{id} 申请过“{product}”，不能重复申请；进度见“我的贷款申请”。",
                              "You have already applied for “{product}” with financing need #{id}; see “My loan "
                              "applications” for its progress."),
    "finance.apply.in_default": ("您的贷款 #{loan} 已违约且未结清；按信易贷政策，结清前不能申请新的贷款。",
                                 "Your loan #{loan} is in default and not repaid; under the lending policy no new "
                                 "application can be made until it is repaid."),
    "finance.product.not_found": ("未找到贷款产品 #{id}（或该产品已不再提供）。",
                                  "Loan product #{id} was not found (or is no longer offered)."),
    # banks and their products
    "finance.bank.exists": ("合作银行代码 {code} 已存在。", "A bank with the code {code} exists already."),
    "finance.bank.not_found": ("未找到合作银行 {code}。", "Bank {code} was not found."),
    "finance.bank.none": ("您的账户尚未关联信易贷合作银行，请联系信用办。",
                          "Your account does not belong to a registered lending bank; ask the credit office."),
    "finance.need.no_consent": ("未找到融资需求 #{id}，或主体对本行的授权已不在有效期内。",
                                "Financing need #{id} was not found, or the subject's consent to this bank is no "
                                "longer in force."),
    "finance.product.unknown_model": ("评价模型 {model} 不存在，不能据此设定最低信用档次。",
                                      "There is no evaluation model {model} to set a lowest band for."),
    "finance.product.unknown_list": ("名单 {list} 不存在。", "There is no list {list}."),
    "finance.product.exists": ("本行已有代码为 {code} 的产品。", "This bank has a product with the code {code} already."),
    "finance.product.not_submittable": ("产品 #{id} 为“{status:finance_status}”状态；只有草稿或已退回的产品可以提交审核。",
                                        "Product #{id} is “{status:finance_status}”; only a draft or returned "
                                        "product can be submitted."),
    "finance.product.not_submitted": ("产品 #{id} 为“{status:finance_status}”状态；只有待审核的产品可以审批。",
                                      "Product #{id} is “{status:finance_status}”; only a submitted product can be "
                                      "decided."),
    "finance.product.reject_note": ("退回产品时请写明理由。", "Say why when returning a product."),
    # the risk-compensation fund
    "finance.claim.no_step": ("补偿申请没有这一步骤。", "A claim has no such step."),
    "finance.claim.not_found": ("未找到补偿申请 #{id}。", "Claim #{id} was not found."),
    "finance.claim.not_default": ("贷款 #{id} 为“{status:finance_status}”状态；只有违约贷款可以申请补偿。",
                                  "Loan #{id} is “{status:finance_status}”; only a loan in default can be claimed on."),
    "finance.claim.not_eligible": ("贷款 #{id} 不在风险补偿范围内（借款人类型、是否免抵押或本金上限不符合政策）。",
                                   "Loan #{id} is not covered by the fund (the borrower's kind, the collateral or "
                                   "the principal is outside the policy)."),
    "finance.claim.window": ("贷款 #{id} 于 {defaulted_on} 认定违约，已超过 {days} 天的补偿申请期限。",
                             "Loan #{id} went into default on {defaulted_on}; the {days} days to claim have passed."),
    "finance.claim.exists": ("贷款 #{id} 已申请过补偿。", "Loan #{id} has a claim already."),
    "finance.claim.own": ("补偿申请 #{id} 须由提交人以外的人审核。",
                          "Claim #{id} is reviewed by someone other than who filed it."),
    "finance.claim.reject_note": ("驳回补偿申请时请写明理由。", "Say why when rejecting a claim."),
    "finance.claim.decided": ("补偿申请 #{id} 已是“{status:fund_claim_status}”状态，不能再审核。",
                              "Claim #{id} is already “{status:fund_claim_status}”; it cannot be reviewed again."),
    "finance.claim.not_approved": ("补偿申请 #{id} 为“{status:fund_claim_status}”状态；只有已审核的申请可以赔付。",
                                   "Claim #{id} is “{status:fund_claim_status}”; only an approved claim is paid."),
    "finance.claim.over_cap": ("赔付补偿申请 #{id} 将超过该银行 {cap} 元的补偿上限。",
                               "Paying claim #{id} would take the bank over its cap of {cap} yuan."),
    "finance.claim.balance": ("风险补偿资金池余额不足以赔付补偿申请 #{id}。", "The fund's balance does not cover claim #{id}."),
}

#: The inbox's categories of the messages this domain sends (`loans.tell_decision`).
MESSAGE_TOPICS: Names = {
    "finance.application.approved": ("贷款申请已获批准", "Loan application approved"),
    "finance.application.declined": ("贷款申请未获批准", "Loan application declined"),
}


def _banks(conn: Connection) -> Names:
    """A consent's organisation is the bank's code: its name (one name, as registered)."""
    return {code: (name, name) for code, name in conn.execute(select(Bank.code, Bank.name))}


def _older_purposes(conn: Connection) -> Names:
    """The purposes written before `CONSENT_PURPOSE` (one text in both languages per
    need): every need a consent was given for, in both of their old forms."""
    out: dict[str, tuple[str, str]] = {}
    for (n,) in conn.execute(select(NeedConsent.need_id).distinct()):
        pair = (f"{NEED_PURPOSE[0]} #{n}", f"{NEED_PURPOSE[1]} #{n}")
        out[f"信易贷 need {n} / credit-based lending, need {n}"] = pair  # a consent's
        out[f"信易贷 need {n} / credit-based lending"] = pair  # a bank's read of the file
    return out


def purpose_ref(title: str, need: str, lang: str) -> str:
    """`CONSENT_PURPOSE@<need>`: "信易贷融资需求 #12" / "Credit-based lending, need #12"."""
    return f"{title} #{need}"


LABELS = {"finance_status": STATUS_LABELS, "finance_band": BAND_LABELS, "fund_claim_status": FUND_CLAIM_STATUS,
          "decline_reason": _decline_reasons, "warning_rule": {RULE: ("贷后预警", "Post-loan warning")},
          "refusal": REFUSALS, "organisation": Table(_banks), "message_topic": MESSAGE_TOPICS,
          "purpose": ({CONSENT_PURPOSE: NEED_PURPOSE}, Table(_older_purposes))}
REFS = {"purpose": purpose_ref}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "finance.policy.load": ("载入信易贷政策", "Finance policy loaded"),
    "finance.bank.add": ("添加合作银行", "Bank added"),
    "finance.product.add": ("添加信贷产品", "Loan product added"),
    "finance.product.submit": ("提交信贷产品审核", "Loan product submitted"),
    "finance.product.approve": ("批准信贷产品", "Loan product approved"),
    "finance.product.reject": ("驳回信贷产品", "Loan product rejected"),
    "finance.product.withdraw": ("下架信贷产品", "Loan product withdrawn"),
    "finance.need.post": ("发布融资需求", "Financing need posted"),
    "finance.need.withdraw": ("撤回融资需求", "Financing need withdrawn"),
    "finance.consent.grant": ("授权银行查询", "Consent to a bank granted"),
    "finance.match": ("匹配信贷产品", "Products matched"),
    "finance.application.submit": ("提交贷款申请", "Loan application submitted"),
    "finance.application.approved": ("批准贷款申请", "Loan application approved"),
    "finance.application.declined": ("拒绝贷款申请", "Loan application declined"),
    "finance.loan.repay": ("记录还款", "Repayment recorded"),
    "finance.loan.status": ("报告贷款逾期状态", "Loan status reported"),
    "finance.book.export": ("导出贷款台账", "Loan book exported"),
    "finance.fund.deposit": ("风险补偿金入账", "Risk fund deposit"),
    "finance.fund.claim": ("申请风险补偿", "Risk fund claim filed"),
    "finance.fund.approve": ("批准风险补偿", "Risk fund claim approved"),
    "finance.fund.reject": ("驳回风险补偿", "Risk fund claim rejected"),
    "finance.fund.pay": ("支付风险补偿", "Risk fund claim paid"),
}
