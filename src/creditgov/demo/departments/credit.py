"""The credit office's records: the public credit grades of enterprises."""

from __future__ import annotations

import datetime as dt
from itertools import accumulate

from creditgov.demo.context import _Ctx
from creditgov.demo.draw import _iso
from creditgov.demo.population import _Orgs

_PUBLIC_GRADES = ("A", "B", "C", "D")
_PUBLIC_BY_TIER = ((34, 53, 11, 2), (12, 45, 30, 13), (2, 25, 43, 30), (0, 10, 40, 50))


def _credit_grades(ctx: _Ctx, orgs: _Orgs) -> None:
    rng = ctx.rng("credit")
    cum = [list(accumulate(t)) for t in _PUBLIC_BY_TIER]
    file = "credit_public_grades.jsonl"
    sink = ctx.sink("credit_public_grades", file, "jsonl", ["统一社会信用代码", "主体名称", "评价年度", "评价等级", "发布日期"])
    years = [y for y in range(ctx.start.year - 1, ctx.as_of.year) if ctx.start <= dt.date(y + 1, 2, 28)
             and dt.date(y + 1, 2, 1) < ctx.as_of]
    for i in orgs.by_kind["enterprise"]:
        for y in years:
            if orgs.est[i] > dt.date(y, 12, 31).toordinal():
                continue
            day = dt.date(y + 1, 2, 1) + dt.timedelta(days=rng.randrange(28))
            grade = rng.choices(_PUBLIC_GRADES, cum_weights=cum[orgs.tier[i]])[0]
            if ctx.start <= day < ctx.as_of:
                sink.row([sink.uscc(orgs.uscc[i]), orgs.name[i], y, grade, _iso(day)])
    sink.close()
    ctx.spec("credit_public_grades", title="信用办 公共信用综合评价结果", department="credit", kind="records",
             file=file, fmt="jsonl",
             columns={"uscc": "统一社会信用代码", "name": "主体名称", "grade": "评价等级", "occurred_on": "发布日期"},
             ids=["uscc", "grade"], dates=["occurred_on"], item="credit.public_grade",
             items=["credit.public_grade"])
