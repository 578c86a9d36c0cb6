"""The tourism bureau's records: quarterly homestay inspections."""

from __future__ import annotations

import datetime as dt

from creditgov.core.clock import add_months
from creditgov.demo.context import _Ctx
from creditgov.demo.draw import _cn
from creditgov.demo.population import _Orgs


def _tourism(ctx: _Ctx, orgs: _Orgs) -> None:
    """Quarterly homestay inspections for the four complete quarters before as_of."""
    rng = ctx.rng("tourism")
    q_start = dt.date(ctx.as_of.year, 3 * ((ctx.as_of.month - 1) // 3) + 1, 1)
    quarters = []
    for k in range(4, 0, -1):
        qs = add_months(q_start, -3 * k)
        quarters.append((qs, (add_months(qs, 3) - qs).days, f"{qs.year}Q{(qs.month - 1) // 3 + 1}"))
    ranges = ((85, 98), (75, 93), (62, 88), (50, 80))
    file = "tourism_homestay_checks.csv"
    sink = ctx.sink("tourism_homestay_checks", file, "csv", ["民宿名称", "社会信用代码", "检查季度", "检查日期", "检查得分"],
                    encoding="gbk", newline="\r\n")
    for i in orgs.by_kind["homestay"]:
        lo, hi = ranges[orgs.tier[i]]
        if orgs.tier[i] == 0 and rng.random() < 0.08:
            lo, hi = 78, 86
        for qs, days, label in quarters:
            day = qs + dt.timedelta(days=rng.randrange(days))
            if orgs.est[i] >= day.toordinal():
                continue
            score = rng.uniform(lo, hi)
            text = f"{score:.1f}" if rng.random() < 0.3 else str(round(score))
            sink.row([orgs.name[i], sink.uscc(orgs.uscc[i]), label, _cn(day), sink.amount(text)])
    sink.close()
    ctx.spec("tourism_homestay_checks", title="文化和旅游局 民宿季度检查评分", department="tourism",
             kind="records", file=file, fmt="csv", encoding="gbk",
             columns={"name": "民宿名称", "uscc": "社会信用代码", "occurred_on": "检查日期", "value": "检查得分"},
             ids=["uscc"], dates=["occurred_on"], numbers={"value": None}, item="tourism.homestay_check",
             items=["tourism.homestay_check"])
