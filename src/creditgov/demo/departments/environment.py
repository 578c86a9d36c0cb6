"""The environment bureau's records: environmental penalties."""

from __future__ import annotations

from typing import Any

from creditgov.demo.context import COUNTY_SHORT, _Ctx
from creditgov.demo.draw import _count, _dot, _pick
from creditgov.demo.population import _Orgs
from creditgov.demo.records import _ind_weights, _numbered, _unknown


def _environment(ctx: _Ctx, orgs: _Orgs, pop: list[int], park: int) -> None:
    rng = ctx.rng("environment")
    w = _ind_weights(orgs, pop, {"manufacturing": 3.0, "childrenswear": 2.5, "construction": 2.0,
                                 "agriculture": 1.5, "logistics": 1.0}, default=0.2,
                     kind_factors={"merchant": 0.2}, park=2.0, park_street=park)
    facts = ("超标排放水污染物", "未批先建", "未按规定设置危险废物识别标志", "印染废水私设暗管排放",
             "扬尘污染防治措施不到位", "畜禽养殖废弃物未经处理直排")
    events: list[list[Any]] = []
    for i in _pick(rng, pop, w, _count(rng, 0.02 * len(pop), 4)):
        occ = ctx.when(rng, orgs.est[i])
        serious = rng.random() < 0.12
        amount = round(rng.uniform(20, 100) if serious else rng.uniform(0.5, 20), 1)
        events.append([ctx.after(rng, occ, 20, 90), i, occ, "严重违法" if serious else "一般违法", amount,
                       rng.choice(facts)])
    events.sort(key=lambda e: (e[0], e[1]))
    file = "environment_penalties.xlsx"
    sink = ctx.sink("environment_penalties", file, "xlsx",
                    ["处罚决定书文号", "行政相对人名称", "信用代码", "违法类型", "违法事实", "违法发生日期",
                     "处罚日期", "罚款金额(万元)"], sheet="环境行政处罚")
    _unknown(rng, events, 3, ("按日连续处罚", "查封扣押"), sink)
    _numbered(events, 0, lambda y, n: f"{COUNTY_SHORT}环罚〔{y}〕{n}号")
    for dec, i, occ, cat, amount, fact, doc in events:
        sink.row([doc, orgs.name[i], sink.uscc(orgs.uscc[i]), cat, fact, _dot(occ), _dot(dec),
                  sink.amount(f"{amount:g}")])
    sink.close()
    ctx.spec("environment_penalties", title="生态环境分局 环境行政处罚", department="environment",
             kind="records", file=file, fmt="xlsx", sheet="环境行政处罚",
             columns={"document_no": "处罚决定书文号", "name": "行政相对人名称", "uscc": "信用代码",
                      "item": "违法类型", "text": "违法事实", "occurred_on": "违法发生日期",
                      "decided_on": "处罚日期", "value": "罚款金额(万元)"},
             ids=["uscc"], maps={"item": {"一般违法": "environment.penalty",
                                          "严重违法": "environment.penalty_serious"}},
             dates=["occurred_on", "decided_on"], numbers={"value": 10000},
             items=["environment.penalty", "environment.penalty_serious"], natural_key=["document_no"])
