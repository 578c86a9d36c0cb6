"""The social insurance bureau's records: insured staff per employer."""

from __future__ import annotations

import datetime as dt

from creditgov.demo.context import _Ctx
from creditgov.demo.draw import _dot
from creditgov.demo.population import _Orgs


def _social_insured(ctx: _Ctx, orgs: _Orgs) -> None:
    rng = ctx.rng("social")
    under = (0.95, 0.8, 0.55, 0.3)  # share of staff actually insured, by risk tier
    file = "social_insured_staff.csv"
    sink = ctx.sink("social_insured_staff", file, "csv", ["单位统一信用代码", "单位名称", "统计年度", "截止日期", "参保人数"],
                    encoding="gb18030", newline="\r\n")
    years = [y for y in range(ctx.start.year, ctx.as_of.year) if ctx.start <= dt.date(y, 12, 31) < ctx.as_of]
    for i, kind in enumerate(orgs.kind):
        emp = orgs.emp[i]
        if emp == 0 or (kind == "merchant" and rng.random() < 0.5):
            continue
        share = under[orgs.tier[i]]
        for y in years:
            end = dt.date(y, 12, 31)
            if orgs.est[i] > end.toordinal():
                continue
            n = max(0, round(emp * share * rng.uniform(0.8, 1.1)))
            sink.row([sink.uscc(orgs.uscc[i]), orgs.name[i], y, _dot(end), sink.amount(str(n))])
    sink.close()
    ctx.spec("social_insured_staff", title="人力社保局 单位参保人数", department="social", kind="records",
             file=file, fmt="csv", encoding="gb18030",
             columns={"uscc": "单位统一信用代码", "name": "单位名称", "occurred_on": "截止日期", "value": "参保人数"},
             ids=["uscc"], dates=["occurred_on"], numbers={"value": None}, item="social.insured_staff",
             items=["social.insured_staff"])
