"""The civility office's records: volunteering and honours of residents, honours of organisations."""

from __future__ import annotations

from typing import Any

from creditgov.demo.context import COUNTY_NAME, _Ctx
from creditgov.demo.draw import GOOD, _count, _pick, _slash
from creditgov.demo.population import _Orgs, _People
from creditgov.demo.records import _unknown


def _civility(ctx: _Ctx, orgs: _Orgs, people: _People) -> None:
    rng = ctx.rng("civility")
    pop = range(len(people.rid))
    good = [GOOD[t] for t in people.tier]
    events: list[list[Any]] = []
    for i in _pick(rng, pop, good, _count(rng, 0.12 * len(pop), 5)):
        for _ in range(rng.randint(1, 4)):
            events.append([ctx.when(rng, 0), i, "志愿服务", rng.choice((1, 1.5, 2, 2, 3, 4, 6, 8)),
                           rng.choice(("社区环境整治", "敬老助残", "文明交通劝导", "垃圾分类宣传", "防疫志愿服务"))])
    for i in _pick(rng, pop, good, _count(rng, 0.004 * len(pop), 2)):
        events.append([ctx.when(rng, 0), i, "表彰奖励", "",
                       rng.choice(("优秀志愿者", "见义勇为先进个人", "道德模范提名奖", "优秀共产党员"))])
    events.sort(key=lambda e: (e[0], e[1]))
    file = "civility_persons.csv"
    sink = ctx.sink("civility_persons", file, "csv", ["姓名", "身份证号", "类别", "服务时长(小时)", "记录日期", "说明"],
                    encoding="utf-8-sig", newline="\r\n")
    _unknown(rng, events, 2, ("无偿献血", "捐赠物资"), sink)
    for d, i, cat, hours, text in events:
        sink.row([people.name[i], sink.rid(people.rid[i]), cat, str(hours), _slash(d), text])
    sink.close()
    ctx.spec("civility_persons", title="文明办 志愿服务与个人表彰", department="civility", kind="records",
             file=file, fmt="csv", encoding="utf-8-sig",
             columns={"name": "姓名", "resident_id": "身份证号", "item": "类别", "value": "服务时长(小时)",
                      "occurred_on": "记录日期", "text": "说明"},
             ids=["resident_id"], maps={"item": {"志愿服务": "civility.volunteer", "表彰奖励": "civility.honour"}},
             dates=["occurred_on"], numbers={"value": None}, items=["civility.volunteer", "civility.honour"])

    all_orgs = range(len(orgs.uscc))
    w = [GOOD[t] for t in orgs.tier]
    titles = ("县级文明单位", "守合同重信用企业", "优秀民营企业", "最美志愿服务组织", "劳动关系和谐企业")
    firm_events: list[list[Any]] = sorted(([ctx.when(rng, orgs.est[i]), i, rng.choice(titles)]
                                           for i in _pick(rng, all_orgs, w, _count(rng, 0.015 * len(all_orgs), 3))),
                                          key=lambda e: (e[0], e[1]))
    file = "civility_honours_firms.xlsx"
    sink = ctx.sink("civility_honours_firms", file, "xlsx", ["单位名称", "组织机构信用代码", "荣誉名称", "授予机关", "授予日期"],
                    sheet="表彰名单")
    for d, i, title in firm_events:
        sink.row([orgs.name[i], sink.uscc(orgs.uscc[i]), title, f"{COUNTY_NAME}精神文明建设委员会", _slash(d)])
    sink.close()
    ctx.spec("civility_honours_firms", title="文明办 单位表彰名单", department="civility", kind="records",
             file=file, fmt="xlsx", sheet="表彰名单",
             columns={"name": "单位名称", "uscc": "组织机构信用代码", "text": "荣誉名称", "occurred_on": "授予日期"},
             ids=["uscc"], dates=["occurred_on"], item="civility.honour", items=["civility.honour"])
