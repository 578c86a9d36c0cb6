"""The grid office's records: grid events (garbage rectification, model families, disputes).

(The household roll is the population: see `creditgov.demo.population`.)
"""

from __future__ import annotations

from typing import Any

from creditgov.demo.context import _Ctx
from creditgov.demo.draw import GOOD, RISK, _count, _dot, _pick
from creditgov.demo.population import _People
from creditgov.demo.records import _unknown


def _grid_events(ctx: _Ctx, people: _People) -> None:
    rng = ctx.rng("grid_events")
    pop = range(len(people.rid))
    events: list[list[Any]] = []
    bad = [RISK[t] for t in people.tier]
    good = [GOOD[t] for t in people.tier]
    for cat, w, rate, text in (("垃圾分类整改", bad, 0.06, ("未按规定分类投放生活垃圾", "混投厨余垃圾")),
                               ("最美家庭", good, 0.01, ("县级最美家庭",)),
                               ("文明家庭", good, 0.005, ("镇级文明家庭",)),
                               ("邻里纠纷", bad, 0.01, ("相邻通行纠纷, 经网格员调解", "噪音扰民纠纷, 经网格员调解",
                                                      "宅基地界址纠纷, 经村调委会调解", "楼上漏水纠纷, 经网格员调解",
                                                      "饲养宠物扰邻纠纷, 经网格员调解"))):
        for i in _pick(rng, pop, w, _count(rng, rate * len(pop), 3)):
            d = ctx.when(rng, 0)
            events.append([d, i, cat, rng.choice(text)])
    events.sort(key=lambda e: (e[0], e[1]))
    file = "grid_events.xlsx"
    sink = ctx.sink("grid_events", file, "xlsx",
                    ["事件编号", "公民身份号码", "姓名", "事件类型", "发生日期", "办结日期", "事件描述"], sheet="网格事件")
    _unknown(rng, events, 2, ("占道经营", "矛盾调解", "违章搭建"), sink)
    for n, (d, i, cat, text) in enumerate(events, start=1):
        sink.row([f"WG{d.year}{n:06d}", sink.rid(people.rid[i]), people.name[i], cat, _dot(d),
                  _dot(ctx.after(rng, d, 1, 20)), text])
    sink.close()
    ctx.spec("grid_events", title="社区网格办 网格事件(垃圾分类整改/最美家庭/邻里纠纷)", department="grid",
             kind="records", file=file, fmt="xlsx", sheet="网格事件",
             columns={"resident_id": "公民身份号码", "name": "姓名", "item": "事件类型", "occurred_on": "发生日期",
                      "decided_on": "办结日期", "text": "事件描述"},
             ids=["resident_id"], maps={"item": {"垃圾分类整改": "grid.garbage_rectification",
                                                 "最美家庭": "grid.family_virtue",
                                                 "文明家庭": "grid.family_virtue",
                                                 "邻里纠纷": "grid.dispute"}},
             dates=["occurred_on", "decided_on"],
             items=["grid.garbage_rectification", "grid.family_virtue", "grid.dispute"])
