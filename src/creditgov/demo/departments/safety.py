"""The emergency management bureau's records: work-safety penalties."""

from __future__ import annotations

from typing import Any

from creditgov.demo.context import COUNTY_SHORT, _Ctx
from creditgov.demo.draw import _count, _pick, _slash, _weighted
from creditgov.demo.population import _Orgs
from creditgov.demo.records import _ind_weights, _numbered, _unknown


def _safety(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> None:
    rng = ctx.rng("safety")
    w = _ind_weights(orgs, firms, {"construction": 3.0, "manufacturing": 2.0, "logistics": 2.0,
                                   "childrenswear": 1.5, "catering": 0.8, "homestay": 0.5}, default=0.3)
    acts = ("未对从业人员进行安全生产教育培训", "消防通道堵塞", "特种作业人员无证上岗", "未按规定配备安全管理人员",
            "未及时消除事故隐患", "电气线路私拉乱接")
    events: list[list[Any]] = []
    for i in _pick(rng, firms, w, _count(rng, 0.02 * len(firms), 4)):
        occ = ctx.when(rng, orgs.est[i])
        cat = _weighted(rng, (("罚款", 70), ("警告", 20), ("责令停产停业整顿", 10)))
        amount = 0 if cat == "警告" else int(round(rng.lognormvariate(9.5, 0.9), -3))
        events.append([ctx.after(rng, occ, 7, 60), i, occ, cat, amount, rng.choice(acts)])
    events.sort(key=lambda e: (e[0], e[1]))
    file = "safety_penalties.csv"
    sink = ctx.sink("safety_penalties", file, "csv",
                    ["文书号", "单位名称", "单位信用代码", "处罚种类", "违法行为", "检查日期", "处罚日期", "罚款金额"],
                    encoding="gbk", newline="\r\n")
    _unknown(rng, events, 3, ("责令限期改正", "暂扣许可证"), sink)
    _numbered(events, 0, lambda y, n: f"（{COUNTY_SHORT}）应急罚〔{y}〕{n}号")
    for dec, i, occ, cat, amount, act, doc in events:
        sink.row([doc, orgs.name[i], sink.uscc(orgs.uscc[i]), cat, act, _slash(occ), _slash(dec),
                  sink.amount(f"{amount:,}元")])
    sink.close()
    ctx.spec("safety_penalties", title="应急管理局 安全生产行政处罚", department="safety", kind="records",
             file=file, fmt="csv", encoding="gbk",
             columns={"document_no": "文书号", "name": "单位名称", "uscc": "单位信用代码", "item": "处罚种类",
                      "text": "违法行为", "occurred_on": "检查日期", "decided_on": "处罚日期", "value": "罚款金额"},
             ids=["uscc"], maps={"item": {"罚款": "safety.penalty", "警告": "safety.penalty",
                                          "责令停产停业整顿": "safety.penalty"}},
             dates=["occurred_on", "decided_on"], numbers={"value": None}, items=["safety.penalty"],
             natural_key=["document_no"])
