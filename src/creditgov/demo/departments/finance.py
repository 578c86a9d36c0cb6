"""The finance service centre's records: bank loans and the loans gone overdue."""

from __future__ import annotations

import datetime as dt
from itertools import accumulate
from typing import Any

from creditgov.core.clock import add_months
from creditgov.demo.context import _Ctx
from creditgov.demo.draw import _compact, _iso, _weighted
from creditgov.demo.population import _Orgs
from creditgov.demo.records import _unknown

# The county's lenders: (name, contract prefix, weight for enterprises, for merchants and homestays).
_LENDERS = (("安澜农商银行", "ALNS", 30, 55), ("中国农业银行安澜县支行", "ABC", 20, 12),
            ("中国工商银行安澜县支行", "ICBC", 25, 5), ("中国邮政储蓄银行安澜县支行", "PSBC", 10, 18),
            ("浙江安澜联合村镇银行", "CZYH", 15, 10))
# Share of each kind with loans in the last three years (about 25% over all three kinds).
_LOAN_RATE = {"enterprise": 0.32, "merchant": 0.20, "homestay": 0.25}
# Contract amount in 万元: lognormal (mu, sigma), clipped to [lo, hi].
_LOAN_AMOUNT = {"enterprise": (5.3, 1.0, 10.0, 5000.0), "merchant": (3.0, 0.8, 1.0, 300.0),
                "homestay": (3.9, 0.7, 5.0, 500.0)}
_LOAN_PRODUCTS = {"enterprise": ("流动资金贷款", "流动资金贷款", "固定资产贷款", "信易贷", "科技贷"),
                  "merchant": ("个体经营贷", "个体经营贷", "信易贷", "创业担保贷款"),
                  "homestay": ("民宿贷", "民宿贷", "信易贷", "个体经营贷")}
_GUARANTEES = (("信用", 30), ("保证", 35), ("抵押", 30), ("质押", 5))
_OVERDUE_P = (0.03, 0.12, 0.35, 0.6)  # per loan, by risk tier; net of the not-yet-due, 3-4% of loans
_LOAN_CLASSES = (("关注", 55), ("次级", 25), ("可疑", 12), ("损失", 8))  # 五级分类 of an overdue loan


def _finance(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> list[list[Any]]:
    """Bank loans shared through the finance service centre, and the loans gone overdue.

    Restricted data the borrowers authorised: the loan ledger is a GB18030 CSV in 万元 (one
    row per loan, streamed in register order), the overdue list an xlsx in 元 whose numbers
    are the contract number + "-OD". Returns the overdue loans as [overdue date, org,
    contract, lender, 五级分类, amount outstanding], from which the banks' lawsuits are drawn.
    """
    rng = ctx.rng("finance")
    hi = ctx.as_of.toordinal()
    lo0 = add_months(ctx.as_of, -36).toordinal()
    lender_cum = {k: list(accumulate(t[2] if k == "enterprise" else t[3] for t in _LENDERS)) for k in _LOAN_RATE}
    lenders = range(len(_LENDERS))
    seqs: dict[tuple[str, int], int] = {}
    file = "finance_loans.csv"
    sink = ctx.sink("finance_loans", file, "csv",
                    ["借款人名称", "借款人统一社会信用代码", "贷款合同编号", "贷款机构", "贷款品种", "担保方式",
                     "放款日期", "到期日期", "期限(月)", "合同金额(万元)"],
                    encoding="gb18030", newline="\r\n")
    overdue: list[list[Any]] = []
    spare: list[list[Any]] = []
    for i in firms:
        kind = orgs.kind[i]
        if rng.random() >= _LOAN_RATE[kind]:
            continue
        lo = max(lo0, orgs.est[i] + 30)
        if lo >= hi - 1:
            continue
        mu, sigma, a_lo, a_hi = _LOAN_AMOUNT[kind]
        n = rng.choices((1, 2, 3), cum_weights=(55, 85, 100))[0]
        for day in sorted(rng.randrange(lo, hi) for _ in range(n)):
            d = dt.date.fromordinal(day)
            lender, prefix = _LENDERS[rng.choices(lenders, cum_weights=lender_cum[kind])[0]][:2]
            seq = seqs[(prefix, day)] = seqs.get((prefix, day), 0) + 1
            contract = f"{prefix}JK{_compact(d)}{seq:04d}"
            term = rng.choice((6, 12, 12, 12, 24, 36))
            due = add_months(d, term)
            wan = min(a_hi, max(a_lo, round(rng.lognormvariate(mu, sigma), 1)))
            sink.row([orgs.name[i], sink.uscc(orgs.uscc[i]), contract, lender, rng.choice(_LOAN_PRODUCTS[kind]),
                      _weighted(rng, _GUARANTEES), _compact(d), _compact(due), term, sink.amount(f"{wan:g}")])
            # Overdue on an instalment or at maturity (not yet if that day lies ahead).
            late = day + rng.randint(60, due.toordinal() - day + 30)
            if late < hi:
                event = [dt.date.fromordinal(late), i, contract, lender, _weighted(rng, _LOAN_CLASSES),
                         round(wan * 10000 * rng.uniform(0.15, 1.0), 2)]
                if rng.random() < _OVERDUE_P[orgs.tier[i]]:
                    overdue.append(event)
                elif len(spare) < 3:
                    spare.append(event)
    sink.close()
    overdue += spare[:max(0, 3 - len(overdue))]  # a tiny county still gets a few
    ctx.spec("finance_loans", title="金融服务中心 银行贷款信息(经主体授权)", department="finance", kind="records",
             file=file, fmt="csv", encoding="gb18030",
             columns={"name": "借款人名称", "uscc": "借款人统一社会信用代码", "document_no": "贷款合同编号",
                      "text": "贷款机构", "occurred_on": "放款日期", "value": "合同金额(万元)"},
             ids=["uscc"], dates=["occurred_on"], numbers={"value": 10000}, item="finance.loan",
             items=["finance.loan"], natural_key=["document_no"])

    overdue.sort(key=lambda e: (e[0], e[1], e[2]))
    file = "finance_overdue.xlsx"
    sink = ctx.sink("finance_overdue", file, "xlsx",
                    ["逾期编号", "借款人名称", "统一社会信用代码", "原贷款合同编号", "贷款机构", "五级分类", "逾期日期",
                     "逾期本金余额(元)", "报送日期"], sheet="逾期贷款清单")
    rows = [list(e) for e in overdue]
    _unknown(rng, rows, 4, ("展期", "核销"), sink)
    for late, i, contract, lender, cls, left in rows:
        reported = ctx.after(rng, late, 5, 40)
        sink.row([f"{contract}-OD", orgs.name[i], sink.uscc(orgs.uscc[i]), contract, lender, cls, _iso(late),
                  sink.amount(f"{left:,.2f}"), _iso(reported)])
    sink.close()
    ctx.spec("finance_overdue", title="金融服务中心 贷款逾期信息(经主体授权)", department="finance",
             kind="records", file=file, fmt="xlsx", sheet="逾期贷款清单",
             columns={"document_no": "逾期编号", "name": "借款人名称", "uscc": "统一社会信用代码",
                      "item": "五级分类", "text": "贷款机构", "occurred_on": "逾期日期",
                      "value": "逾期本金余额(元)", "decided_on": "报送日期"},
             ids=["uscc"], maps={"item": {c: "finance.overdue" for c, _w in _LOAN_CLASSES}},
             dates=["occurred_on", "decided_on"], numbers={"value": None}, items=["finance.overdue"],
             natural_key=["document_no"])
    return overdue
