"""The tax bureau's records: taxpayer credit grades and the arrears notices."""

from __future__ import annotations

import datetime as dt
from itertools import accumulate
from typing import Any

from creditgov.demo.context import COUNTY_SHORT, _Ctx
from creditgov.demo.draw import RISK, _compact, _count, _iso, _pick
from creditgov.demo.population import _Orgs
from creditgov.demo.records import _numbered

_TAX_GRADES = ("A", "B", "M", "C", "D")
# Established taxpayers by risk tier; with new taxpayers graded M the mix over all comes to
# about A 35 / B 40 / M 10 / C 10 / D 5.
_TAX_BY_TIER = ((44, 45, 2, 7, 2), (17, 45, 3, 25, 10), (3, 22, 2, 38, 35), (0, 10, 1, 37, 52))


def _tax(ctx: _Ctx, orgs: _Orgs) -> None:
    rng = ctx.rng("tax")
    ents = orgs.by_kind["enterprise"]
    years = [y for y in range(ctx.start.year - 1, ctx.as_of.year)
             if ctx.start <= dt.date(y + 1, 4, 30) and dt.date(y + 1, 4, 10) < ctx.as_of]
    cum = [list(accumulate(t)) for t in _TAX_BY_TIER]
    file = "tax_credit_grades.jsonl"
    sink = ctx.sink("tax_credit_grades", file, "jsonl", ["nsrsbh", "nsrmc", "pjnd", "xydj", "pdrq"])
    for i in ents:
        est = dt.date.fromordinal(orgs.est[i])
        prev = None
        for y in years:
            if est.year > y or rng.random() < 0.05:
                continue
            if est.year == y or (est.year == y - 1 and rng.random() < 0.3):
                grade = "M"  # new taxpayers are graded M
            elif prev and prev != "M" and rng.random() < 0.7:
                grade = prev
            else:
                grade = rng.choices(_TAX_GRADES, cum_weights=cum[orgs.tier[i]])[0]
            prev = grade
            day = dt.date(y + 1, 4, 10) + dt.timedelta(days=rng.randrange(21))
            if ctx.start <= day < ctx.as_of:
                sink.row([sink.uscc(orgs.uscc[i]), orgs.name[i], str(y), grade, _iso(day)])
    sink.close()
    ctx.spec("tax_credit_grades", title="税务局 纳税信用等级评价结果", department="tax", kind="records",
             file=file, fmt="jsonl",
             columns={"uscc": "nsrsbh", "name": "nsrmc", "grade": "xydj", "occurred_on": "pdrq"},
             ids=["uscc", "grade"], dates=["occurred_on"], item="tax.credit_grade", items=["tax.credit_grade"])

    pop = orgs.of("enterprise", "merchant")
    w = [RISK[orgs.tier[i]] for i in pop]
    events: list[list[Any]] = []
    for i in _pick(rng, pop, w, _count(rng, 0.03 * len(pop), 4)):
        since = ctx.when(rng, orgs.est[i])
        events.append([ctx.after(rng, since, 30, 120), i, since, rng.choice(("增值税", "企业所得税", "个人所得税",
                                                                              "城镇土地使用税", "房产税")),
                       round(rng.lognormvariate(9.0, 1.3), 2)])
    events.sort(key=lambda e: (e[0], e[1]))
    _numbered(events, 0, lambda y, n: f"{COUNTY_SHORT}税通〔{y}〕{n}号")
    file = "tax_arrears.csv"
    sink = ctx.sink("tax_arrears", file, "csv",
                    ["纳税人识别号", "纳税人名称", "欠税税种", "欠税余额(元)", "欠税发生日期", "公告日期", "文书编号"],
                    encoding="gbk", newline="\r\n")
    for announced, i, since, tax, amount, doc in events:
        sink.row([sink.uscc(orgs.uscc[i]), orgs.name[i], tax, sink.amount(f"{amount:,.2f}"), _compact(since),
                  _compact(announced), doc])
    sink.close()
    ctx.spec("tax_arrears", title="税务局 欠税公告", department="tax", kind="records", file=file, fmt="csv",
             encoding="gbk",
             columns={"uscc": "纳税人识别号", "name": "纳税人名称", "text": "欠税税种", "value": "欠税余额(元)",
                      "occurred_on": "欠税发生日期", "decided_on": "公告日期", "document_no": "文书编号"},
             ids=["uscc"], dates=["occurred_on", "decided_on"], numbers={"value": None},
             item="tax.arrears", items=["tax.arrears"], natural_key=["document_no"])
