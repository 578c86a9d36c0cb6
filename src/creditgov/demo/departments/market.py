"""Market regulation's records: penalties, annual reports and the abnormal list, 12315 complaints,
quality-check failures and the credit-model merchants.

(The market register and its links are the population: see `creditgov.demo.population`.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditgov.demo.context import COUNTY_NAME, COUNTY_SHORT, _Ctx
from creditgov.demo.draw import (
    GOOD,
    RISK,
    _cn,
    _compact,
    _count,
    _dot,
    _iso,
    _pick,
    _slash,
    _weighted,
)
from creditgov.demo.population import _Orgs
from creditgov.demo.records import _ind_weights, _numbered, _unknown


def _market_penalties(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> None:
    rng = ctx.rng("market_penalties")
    cats = (("警告", 25), ("通报批评", 5), ("罚款", 55), ("没收违法所得", 8), ("吊销营业执照", 5), ("责令关闭", 2))
    acts = ("虚假宣传", "销售不合格产品", "未明码标价", "无照经营", "侵犯注册商标专用权", "食品安全违法",
            "未按规定公示信息", "价格违法")
    w = _ind_weights(orgs, firms, {"ecommerce": 1.5, "catering": 1.5, "childrenswear": 1.3},
                     kind_factors={"merchant": 1.2})
    events: list[list[Any]] = []
    for i in _pick(rng, firms, w, _count(rng, 0.08 * len(firms), 8)):
        occ = ctx.when(rng, orgs.est[i])
        dec = ctx.after(rng, occ, 10, 90)
        cat = _weighted(rng, cats)
        if cat in ("警告", "通报批评"):
            amount = 0.0
        elif cat in ("吊销营业执照", "责令关闭"):
            amount = round(rng.lognormvariate(10.5, 0.8), -2)
        else:
            amount = round(rng.lognormvariate(8.3, 1.0), -2)
        events.append([dec, i, occ, cat, amount, rng.choice(acts)])
    events.sort(key=lambda e: (e[0], e[1]))
    file = "market_penalties.csv"
    sink = ctx.sink("market_penalties", file, "csv",
                    ["行政相对人名称", "统一社会信用代码", "处罚类别", "违法行为类型", "处罚决定书文号",
                     "违法行为发生日期", "处罚决定日期", "罚没款金额(元)"], encoding="gbk", newline="\r\n")
    _unknown(rng, events, 3, ("责令停产停业", "限制开展生产经营活动", "其他行政处罚"), sink)
    _numbered(events, 0, lambda y, n: f"{COUNTY_SHORT}市监处罚〔{y}〕{n}号")
    for dec, i, occ, cat, amount, act, doc in events:
        sink.row([orgs.name[i], sink.uscc(orgs.uscc[i]), cat, act, doc, _cn(occ), _cn(dec),
                  sink.amount(f"{amount:.2f}")])
    sink.close()
    ctx.spec("market_penalties", title="市场监管局 行政处罚信息", department="market", kind="records",
             file=file, fmt="csv", encoding="gbk",
             columns={"name": "行政相对人名称", "uscc": "统一社会信用代码", "item": "处罚类别",
                      "text": "违法行为类型", "document_no": "处罚决定书文号",
                      "occurred_on": "违法行为发生日期", "decided_on": "处罚决定日期", "value": "罚没款金额(元)"},
             ids=["uscc"],
             maps={"item": {"警告": "market.penalty_minor", "通报批评": "market.penalty_minor",
                            "罚款": "market.penalty", "没收违法所得": "market.penalty",
                            "吊销营业执照": "market.penalty_serious", "责令关闭": "market.penalty_serious"}},
             dates=["occurred_on", "decided_on"], numbers={"value": None},
             items=["market.penalty_minor", "market.penalty", "market.penalty_serious"],
             natural_key=["document_no"])


def _market_annual_and_abnormal(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> None:
    """Annual reports (most firms, yearly); a missed report puts the firm on the abnormal list."""
    rng = ctx.rng("market_annual")
    p_miss = (0.03, 0.12, 0.35, 0.6)
    start, end = ctx.start, ctx.as_of
    years = [y for y in range(start.year - 1, end.year) if dt.date(y + 1, 6, 30) >= start
             and dt.date(y + 1, 1, 1) < end]
    file = "market_annual_reports.csv"
    sink = ctx.sink("market_annual_reports", file, "csv", ["统一社会信用代码", "企业名称", "报告年度", "公示日期"])
    missed: list[list[Any]] = []
    jan1 = {y: dt.date(y + 1, 1, 1).toordinal() for y in years}
    for i in firms:
        est, code, name, miss = orgs.est[i], orgs.uscc[i], orgs.name[i], p_miss[orgs.tier[i]]
        for y in years:
            if est > jan1[y] - 1:
                continue
            if rng.random() < miss:
                listed = dt.date(y + 1, 7, 1) + dt.timedelta(days=rng.randrange(20))
                if start <= listed < end:
                    missed.append([listed, i, "未依照《企业信息公示暂行条例》规定的期限公示年度报告"])
                continue
            filed = dt.date.fromordinal(jan1[y] + rng.randrange(181))
            if not start <= filed < end:
                continue
            sink.row([sink.uscc(code), name, y, _iso(filed)])
    sink.close()
    ctx.spec("market_annual_reports", title="市场监管局 年度报告公示", department="market", kind="records",
             file=file, fmt="csv",
             columns={"uscc": "统一社会信用代码", "name": "企业名称", "occurred_on": "公示日期"},
             ids=["uscc"], dates=["occurred_on"], item="market.annual_report", items=["market.annual_report"])

    w = [RISK[orgs.tier[i]] for i in firms]
    for i in _pick(rng, firms, w, _count(rng, 0.005 * len(firms), 2)):
        missed.append([ctx.when(rng, orgs.est[i]), i, "通过登记的住所或者经营场所无法联系"])
    missed.sort(key=lambda e: (e[0], e[1]))
    _numbered(missed, 0, lambda y, n: f"{COUNTY_SHORT}市监异列〔{y}〕{n}号")
    file = "market_abnormal.csv"
    sink = ctx.sink("market_abnormal", file, "csv",
                    ["统一社会信用代码", "企业名称", "列入经营异常名录原因", "列入日期", "作出决定机关", "决定书文号"])
    for listed, i, reason, doc in missed:
        sink.row([sink.uscc(orgs.uscc[i]), orgs.name[i], reason, _slash(listed),
                  f"{COUNTY_NAME}市场监督管理局", doc])
    sink.close()
    ctx.spec("market_abnormal", title="市场监管局 经营异常名录", department="market", kind="records",
             file=file, fmt="csv",
             columns={"uscc": "统一社会信用代码", "name": "企业名称", "text": "列入经营异常名录原因",
                      "occurred_on": "列入日期", "document_no": "决定书文号"},
             ids=["uscc"], dates=["occurred_on"], item="market.abnormal_operation",
             items=["market.abnormal_operation"], natural_key=["document_no"])


def _market_complaints(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> None:
    """12315 complaints: heavier on e-commerce, merchants and catering; a few about firms nobody registered."""
    rng = ctx.rng("market_complaints")
    w = _ind_weights(orgs, firms, {"ecommerce": 4.0, "catering": 2.0, "retail": 1.5},
                     kind_factors={"merchant": 2.0})
    topics = ("商品质量问题", "虚假宣传", "退换货纠纷", "价格欺诈", "服务态度", "食品安全", "发货延迟", "预付卡退费")
    events: list[list[Any]] = []
    for i in _pick(rng, firms, w, _count(rng, 0.12 * len(firms), 10)):
        d = ctx.when(rng, orgs.est[i])
        events.append([d, i, orgs.uscc[i], orgs.name[i]])
    strangers = 3 + min(12, ctx.n // 50_000)
    for _ in range(strangers):
        code, name = ctx.stranger(rng)
        events.append([ctx.when(rng, 0), -1, code, name])
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    file = "market_complaints.jsonl"
    sink = ctx.sink("market_complaints", file, "jsonl",
                    ["投诉编号", "被投诉主体", "主体信用代码", "投诉日期", "办结日期", "投诉内容", "处理结果"])
    sink.count("unregistered_subjects", strangers)
    daily: dict[dt.date, int] = {}
    for d, _i, code, name in events:
        daily[d] = daily.get(d, 0) + 1
        closed = ctx.after(rng, d, 3, 30)
        sink.row([f"12315-{_compact(d)}-{daily[d]:05d}", name, sink.uscc(code), _iso(d), _iso(closed),
                  rng.choice(topics), rng.choice(("调解成功", "调解成功", "调解不成功", "不予受理"))])
    sink.close()
    ctx.spec("market_complaints", title="市场监管局 12315 消费投诉", department="market", kind="records",
             file=file, fmt="jsonl",
             columns={"document_no": "投诉编号", "name": "被投诉主体", "uscc": "主体信用代码",
                      "occurred_on": "投诉日期", "decided_on": "办结日期", "text": "投诉内容"},
             ids=["uscc"], dates=["occurred_on", "decided_on"], item="market.complaint",
             items=["market.complaint"], natural_key=["document_no"])


def _market_quality(ctx: _Ctx, orgs: _Orgs, pop: list[int]) -> None:
    rng = ctx.rng("market_quality")
    w = _ind_weights(orgs, pop, {"childrenswear": 4.0, "manufacturing": 3.0, "ecommerce": 2.0,
                                 "retail": 1.5}, default=0.3)
    products = {"childrenswear": (("儿童连衣裙", "纤维含量"), ("婴幼儿棉服", "pH值"), ("儿童卫衣", "绳带要求"),
                                  ("儿童T恤", "甲醛含量")),
                "manufacturing": (("电线电缆", "导体电阻"), ("插座", "防触电保护"), ("五金工具", "硬度"))}
    other = (("日用品", "标签标识"), ("塑料制品", "迁移量"))
    events: list[list[Any]] = []
    for i in _pick(rng, pop, w, _count(rng, 0.03 * len(pop), 5)):
        sampled = ctx.when(rng, orgs.est[i])
        product, fault = rng.choice(products.get(orgs.industry[i], other))
        events.append([sampled, i, ctx.after(rng, sampled, 20, 60), product, fault])
    events.sort(key=lambda e: (e[0], e[1]))
    _numbered(events, 0, lambda y, n: f"JD{y}{n:05d}")
    file = "market_quality.xlsx"
    sink = ctx.sink("market_quality", file, "xlsx",
                    ["检验报告编号", "标称生产企业名称", "统一社会信用代码", "产品名称", "不合格项目", "抽样日期",
                     "结果公布日期"], sheet="抽检不合格")
    for sampled, i, published, product, fault, doc in events:
        sink.row([doc, orgs.name[i], sink.uscc(orgs.uscc[i]), product, fault, _dot(sampled), _dot(published)])
    sink.close()
    ctx.spec("market_quality", title="市场监管局 产品质量监督抽查不合格", department="market", kind="records",
             file=file, fmt="xlsx", sheet="抽检不合格",
             columns={"document_no": "检验报告编号", "name": "标称生产企业名称", "uscc": "统一社会信用代码",
                      "text": "不合格项目", "occurred_on": "抽样日期", "decided_on": "结果公布日期"},
             ids=["uscc"], dates=["occurred_on", "decided_on"], item="market.quality_fail",
             items=["market.quality_fail"], natural_key=["document_no"])


def _market_credit_merchants(ctx: _Ctx, orgs: _Orgs, pop: list[int]) -> None:
    rng = ctx.rng("market_credit_merchants")
    w = [GOOD[orgs.tier[i]] for i in pop]
    events: list[list[Any]] = []
    for y in range(ctx.start.year, ctx.as_of.year + 1):
        day = dt.date(y, 12, 18)
        if not ctx.start <= day < ctx.as_of:
            continue
        chosen = sorted(set(_pick(rng, pop, w, _count(rng, 0.015 * len(pop), 2))))
        events += [[day, i, y] for i in chosen if orgs.est[i] < day.toordinal()]
    file = "market_credit_merchants.xlsx"
    sink = ctx.sink("market_credit_merchants", file, "xlsx", ["年度", "商户名称", "统一社会信用代码", "授予日期"],
                    sheet="诚信示范商户")
    for day, i, y in events:
        sink.row([y, orgs.name[i], sink.uscc(orgs.uscc[i]), _cn(day)])
    sink.close()
    ctx.spec("market_credit_merchants", title="市场监管局 诚信示范商户名单", department="market",
             kind="records", file=file, fmt="xlsx", sheet="诚信示范商户",
             columns={"name": "商户名称", "uscc": "统一社会信用代码", "occurred_on": "授予日期"},
             ids=["uscc"], dates=["occurred_on"], item="market.credit_merchant", items=["market.credit_merchant"])
