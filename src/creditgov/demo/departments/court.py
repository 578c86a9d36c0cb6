"""The court's records: the enforcement list (with its overlapping supplement) and civil lawsuits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditgov.demo.context import COUNTY_CODE, PROVINCE_SHORT, _Ctx
from creditgov.demo.draw import RISK, _cn, _count, _pick
from creditgov.demo.population import _Orgs, _People
from creditgov.demo.records import _numbered, _unknown


def _court(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> None:
    """Enforcement list, plus a later 'supplement' export that repeats part of it verbatim."""
    rng = ctx.rng("court")
    w = [RISK[orgs.tier[i]] for i in firms]
    events: list[list[Any]] = []
    for cat, rate in (("失信被执行人", 0.006), ("未履行生效判决", 0.015)):
        for i in _pick(rng, firms, w, _count(rng, rate * len(firms), 3)):
            filed = ctx.when(rng, orgs.est[i], pad=180)
            events.append([filed, i, orgs.uscc[i], orgs.name[i], cat, round(rng.lognormvariate(11, 1.2), 2)])
    strangers = 3 + min(12, ctx.n // 50_000)
    for _ in range(strangers):
        code, name = ctx.stranger(rng)
        events.append([ctx.when(rng, 0), -1, code, name, "失信被执行人", round(rng.lognormvariate(11, 1), 2)])
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    file = "court_enforcement_2022_2026.csv"
    sink = ctx.sink("court_enforcement", file, "csv",
                    ["案号", "被执行人名称", "证件号码", "类别", "执行标的(元)", "立案日期", "发布日期", "失信情形"])
    sink.count("unregistered_subjects", strangers)
    _unknown(rng, events, 4, ("限制消费令", "终结本次执行"), sink)
    _numbered(events, 0, lambda y, n: f"（{y}）{PROVINCE_SHORT}{COUNTY_CODE[2:]}执{n}号")
    situations = ("有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "以虚假诉讼等方法规避执行", "")
    rows = []
    for filed, _i, code, name, cat, amount, case in events:
        published = ctx.after(rng, filed, 15, 60)
        row = [case, name, sink.uscc(code), cat, sink.amount(f"{amount:.2f}"), _cn(filed), _cn(published),
               rng.choice(situations) if cat == "失信被执行人" else ""]
        rows.append(row)
        sink.row(row)
    sink.close()
    # The supplement: ~20% of the main file again (same case numbers) and a few new cases.
    file2 = "court_enforcement_supplement.csv"
    sup = ctx.sink("court_enforcement", file2, "csv",
                   ["案号", "被执行人名称", "证件号码", "类别", "执行标的(元)", "立案日期", "发布日期", "失信情形"],
                   bad=False, fullwidth=False, dup=False)
    repeat = sorted(rng.sample(range(len(rows)), max(1, len(rows) // 5)))
    for j in repeat:
        sup.row(rows[j])
    sup.count("overlap_rows", len(repeat))
    sup.count("unknown_codes", sum(rows[j][3] not in ("失信被执行人", "未履行生效判决") for j in repeat))
    per_year: dict[int, int] = {}
    for e in events:
        per_year[e[0].year] = per_year.get(e[0].year, 0) + 1
    for i in _pick(rng, firms, w, 3):
        filed = ctx.as_of - dt.timedelta(days=rng.randint(20, 40))
        per_year[filed.year] = per_year.get(filed.year, 0) + 1
        sup.row([f"（{filed.year}）{PROVINCE_SHORT}{COUNTY_CODE[2:]}执{per_year[filed.year]}号", orgs.name[i], orgs.uscc[i],
                 "失信被执行人", f"{rng.lognormvariate(11, 1):.2f}", _cn(filed),
                 _cn(ctx.after(rng, filed, 5, 15)), situations[0]])
    sup.close()
    ctx.spec("court_enforcement", title="人民法院 执行信息(失信被执行人/未履行生效判决)", department="court",
             kind="records", file="court_enforcement_*.csv", fmt="csv",
             columns={"document_no": "案号", "name": "被执行人名称", "uscc": "证件号码", "item": "类别",
                      "value": "执行标的(元)", "occurred_on": "立案日期", "decided_on": "发布日期",
                      "text": "失信情形"},
             ids=["uscc"], maps={"item": {"失信被执行人": "court.dishonest_debtor",
                                          "未履行生效判决": "court.judgement"}},
             dates=["occurred_on", "decided_on"], numbers={"value": None},
             items=["court.dishonest_debtor", "court.judgement"], subject_kind="enterprise",
             unknown_subject="provisional", natural_key=["document_no"])


def _court_lawsuits(ctx: _Ctx, orgs: _Orgs, firms: list[int], people: _People,
                    overdue: list[list[Any]]) -> None:
    """Civil cases with a registered firm or resident as defendant (立案信息).

    One file for both: firms carry a credit code, residents an ID number, each in its own
    column. A third or so of the overdue loans end up in court, sued by the bank.
    """
    rng = ctx.rng("court_lawsuits")
    hi = ctx.as_of.toordinal()
    events: list[list[Any]] = []  # [filed, kind (0 firm / 1 person), index, plaintiff, cause, amount]
    firm_causes = ("买卖合同纠纷", "买卖合同纠纷", "劳动争议", "建设工程施工合同纠纷", "承揽合同纠纷", "租赁合同纠纷",
                   "服务合同纠纷")
    person_causes = ("民间借贷纠纷", "民间借贷纠纷", "买卖合同纠纷", "劳务合同纠纷", "机动车交通事故责任纠纷",
                     "房屋租赁合同纠纷")
    for late, i, _contract, lender, _cls, left in overdue:
        if rng.random() < 0.35:
            filed = late.toordinal() + rng.randint(60, 240)
            if filed < hi:
                events.append([dt.date.fromordinal(filed), 0, i, lender, "金融借款合同纠纷", left])
    w = [RISK[orgs.tier[i]] for i in firms]
    for i in _pick(rng, firms, w, _count(rng, 0.03 * len(firms), 3)):
        other = rng.choice(firms)
        plaintiff = orgs.name[other] if other != i and rng.random() < 0.5 else rng.choice(people.name)
        events.append([ctx.when(rng, orgs.est[i]), 0, i, plaintiff, rng.choice(firm_causes),
                       round(rng.lognormvariate(11, 1.3), 2)])
    pop = range(len(people.rid))
    w = [RISK[t] for t in people.tier]
    for i in _pick(rng, pop, w, _count(rng, 0.005 * len(pop), 3)):
        events.append([ctx.when(rng, 0), 1, i, rng.choice(people.name), rng.choice(person_causes),
                       round(rng.lognormvariate(10, 1.0), 2)])
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    _numbered(events, 0, lambda y, n: f"（{y}）{PROVINCE_SHORT}{COUNTY_CODE[2:]}民初{n}号")
    file = "court_lawsuits.csv"
    sink = ctx.sink("court_lawsuits", file, "csv",
                    ["案号", "案由", "原告", "被告", "被告统一社会信用代码", "被告公民身份号码", "诉讼标的额(元)",
                     "立案日期", "结案日期"])
    for filed, who, i, plaintiff, cause, amount, case in events:
        closed = filed.toordinal() + rng.randint(30, 360)
        closed_text = _cn(dt.date.fromordinal(closed)) if closed < hi else ""  # still pending
        if who == 0:
            name, code, rid = orgs.name[i], sink.uscc(orgs.uscc[i]), ""
        else:
            name, code, rid = people.name[i], "", sink.rid(people.rid[i])
        sink.row([case, cause, plaintiff, name, code, rid, sink.amount(f"{amount:.2f}"), _cn(filed), closed_text])
    sink.close()
    ctx.spec("court_lawsuits", title="人民法院 涉诉信息(被告)", department="court", kind="records", file=file,
             fmt="csv",
             columns={"document_no": "案号", "text": "案由", "name": "被告", "uscc": "被告统一社会信用代码",
                      "resident_id": "被告公民身份号码", "value": "诉讼标的额(元)", "occurred_on": "立案日期",
                      "decided_on": "结案日期"},
             ids=["uscc", "resident_id"], dates=["occurred_on", "decided_on"], numbers={"value": None},
             item="court.lawsuit", items=["court.lawsuit"], natural_key=["document_no"])
