"""Ratings other bodies issue (docs/ratings.md): the environment bureau's enterprise
environmental credit ratings, the emergency management bureau's work-safety integrity
ratings, the agriculture bureau's farm-produce quality ratings and the city platform's
credit score (城市信用分) — each for a plausible share of the firms it concerns, each
in its own file shape, most firms rated more than once so the latest must win, and
some ratings already out of their validity on the demo's today."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from creditgov.demo.context import COUNTY_SHORT, _Ctx
from creditgov.demo.draw import _dot, _iso, _slash, _weighted
from creditgov.demo.population import _Orgs

# Level shares by the firm's hidden tier (0 best .. 3 worst), best level first.
_ENV_BY_TIER = ((45, 45, 9, 1), (20, 55, 20, 5), (8, 47, 35, 10), (2, 30, 43, 25))
_SAFETY_BY_TIER = ((50, 42, 7, 1), (25, 55, 17, 3), (10, 50, 32, 8), (3, 37, 40, 20))
_FARM_BY_TIER = ((70, 28, 2), (45, 48, 7), (25, 60, 15), (10, 55, 35))
_CITY_BASE = (830, 730, 630, 520)

_ENV_WORDS = {"G": "环保诚信企业", "B": "环保良好企业", "Y": "环保警示企业", "R": "环保不良企业"}
_SAFETY_WORDS = {"A": "诚信", "B": "基本诚信", "C": "失信", "D": "严重失信"}
_FARM_WORDS = {"A": "A级(守信)", "B": "B级(基本守信)", "C": "C级(失信)"}
_CITY_WORDS = (("优秀", 800), ("良好", 650), ("中等", 500), ("较差", 0))


def _level(rng: random.Random, codes: tuple[str, ...], shares: tuple[int, ...]) -> str:
    return _weighted(rng, tuple(zip(codes, shares, strict=True)))


def _years(ctx: _Ctx) -> list[int]:
    """The rating years whose results came out (in spring of the next year) by today."""
    return [y for y in (ctx.as_of.year - 2, ctx.as_of.year - 1) if dt.date(y + 1, 3, 1) < ctx.as_of]


def _annual(ctx: _Ctx, rng: random.Random, orgs: _Orgs, pop: list[int], share: dict[str, float],
            codes: tuple[str, ...], table: tuple[tuple[int, ...], ...], month: int) -> list[list[Any]]:
    """(published, firm, year, level, rated) for each firm rated in each year: a firm is
    in the rated population with its industry's share, and one in eight misses a year."""
    out: list[list[Any]] = []
    for i in pop:
        if rng.random() >= share.get(orgs.industry[i], 0.0):
            continue
        for y in _years(ctx):
            if orgs.est[i] > dt.date(y, 6, 30).toordinal() or rng.random() < 0.125:
                continue
            rated = dt.date(y + 1, month, 1) + dt.timedelta(days=rng.randrange(20))
            published = rated + dt.timedelta(days=rng.randint(5, 25))
            if published < ctx.as_of:
                out.append([published, i, y, _level(rng, codes, table[orgs.tier[i]]), rated])
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def _ratings(ctx: _Ctx, orgs: _Orgs) -> None:
    _environment_ratings(ctx, orgs)
    _safety_ratings(ctx, orgs)
    _farm_ratings(ctx, orgs)
    _city_scores(ctx, orgs)


def _environment_ratings(ctx: _Ctx, orgs: _Orgs) -> None:
    rng = ctx.rng("environment_ratings")
    rows = _annual(ctx, rng, orgs, orgs.of("enterprise"),
                   {"manufacturing": 0.7, "childrenswear": 0.6, "construction": 0.4, "agriculture": 0.4,
                    "logistics": 0.3}, tuple(_ENV_WORDS), _ENV_BY_TIER, 4)
    file = "environment_credit_ratings.csv"
    sink = ctx.sink("environment_credit_ratings", file, "csv",
                    ["序号", "企业名称", "统一社会信用代码", "评价年度", "评价结果", "评定日期", "公布日期", "公告文号"])
    for n, (published, i, y, level, rated) in enumerate(rows, 1):
        sink.row([n, orgs.name[i], sink.uscc(orgs.uscc[i]), f"{y}年度", _ENV_WORDS[level], _dot(rated),
                  _dot(published), f"{COUNTY_SHORT}环信评〔{y + 1}〕1号"])
    sink.close()
    ctx.spec("environment_credit_ratings", title="生态环境分局 企业环境信用评价结果", department="environment",
             kind="records", file=file, fmt="csv",
             columns={"name": "企业名称", "uscc": "统一社会信用代码", "text": "评价年度", "grade": "评价结果",
                      "occurred_on": "评定日期", "decided_on": "公布日期", "document_no": "公告文号"},
             ids=["uscc"], maps={"grade": {w: c for c, w in _ENV_WORDS.items()}},
             dates=["occurred_on", "decided_on"], item="environment.credit_rating",
             items=["environment.credit_rating"])


def _safety_ratings(ctx: _Ctx, orgs: _Orgs) -> None:
    rng = ctx.rng("safety_ratings")
    rows = _annual(ctx, rng, orgs, orgs.of("enterprise", "merchant"),
                   {"construction": 0.7, "manufacturing": 0.5, "logistics": 0.5, "childrenswear": 0.35,
                    "catering": 0.2}, tuple(_SAFETY_WORDS), _SAFETY_BY_TIER, 3)
    file = "safety_integrity_ratings.xlsx"
    sink = ctx.sink("safety_integrity_ratings", file, "xlsx",
                    ["单位名称", "社会信用代码", "年度", "诚信等级", "评定时间", "生效日期"], sheet="安全生产诚信等级")
    for published, i, y, level, rated in rows:
        sink.row([orgs.name[i], sink.uscc(orgs.uscc[i]), y, _SAFETY_WORDS[level], _slash(rated), _slash(published)])
    sink.close()
    ctx.spec("safety_integrity_ratings", title="应急管理局 企业安全生产诚信等级", department="safety",
             kind="records", file=file, fmt="xlsx", sheet="安全生产诚信等级",
             columns={"name": "单位名称", "uscc": "社会信用代码", "grade": "诚信等级", "occurred_on": "评定时间",
                      "decided_on": "生效日期"},
             ids=["uscc"], maps={"grade": {w: c for c, w in _SAFETY_WORDS.items()}},
             dates=["occurred_on", "decided_on"], item="safety.credit_rating", items=["safety.credit_rating"])


def _farm_ratings(ctx: _Ctx, orgs: _Orgs) -> None:
    rng = ctx.rng("farm_ratings")
    rows = _annual(ctx, rng, orgs, orgs.of("enterprise", "merchant"), {"agriculture": 0.8},
                   tuple(_FARM_WORDS), _FARM_BY_TIER, 5)
    file = "farm_produce_ratings.jsonl"
    sink = ctx.sink("farm_produce_ratings", file, "jsonl", ["主体名称", "信用代码", "信用等级", "评定日期", "发布日期"])
    for published, i, _y, level, rated in rows:
        sink.row([orgs.name[i], sink.uscc(orgs.uscc[i]), _FARM_WORDS[level], _iso(rated), _iso(published)])
    sink.close()
    ctx.spec("farm_produce_ratings", title="农业农村局 农产品质量安全信用等级", department="agriculture",
             kind="records", file=file, fmt="jsonl",
             columns={"name": "主体名称", "uscc": "信用代码", "grade": "信用等级", "occurred_on": "评定日期",
                      "decided_on": "发布日期"},
             ids=["uscc"], maps={"grade": {w: c for c, w in _FARM_WORDS.items()}},
             dates=["occurred_on", "decided_on"], item="agriculture.quality_rating",
             items=["agriculture.quality_rating"])


def _city_scores(ctx: _Ctx, orgs: _Orgs) -> None:
    """The city platform refreshes its score each quarter; the county receives the last
    four quarters' scores of the enterprises the platform scores (about seven in ten)."""
    rng = ctx.rng("city_scores")
    quarters = [d for d in (dt.date(ctx.as_of.year - 1, m, 1) for m in (1, 4, 7, 10))] + [
        dt.date(ctx.as_of.year, m, 1) for m in (1, 4, 7, 10)]
    quarters = [q for q in quarters if q < ctx.as_of][-4:]
    rows: list[tuple[dt.date, int, int]] = []
    for i in orgs.of("enterprise"):
        if rng.random() >= 0.7:
            continue
        level = _CITY_BASE[orgs.tier[i]] + rng.gauss(0, 50)
        for q in quarters:
            if orgs.est[i] > q.toordinal():
                continue
            level += rng.gauss(0, 20)
            rows.append((q + dt.timedelta(days=rng.randrange(10)), i, max(300, min(1000, round(level)))))
    rows.sort()
    file = "city_credit_scores.csv"
    sink = ctx.sink("city_credit_scores", file, "csv", ["统一社会信用代码", "企业名称", "城市信用分", "分级", "更新日期"],
                    encoding="gbk", newline="\r\n")
    for day, i, score in rows:
        word = next(w for w, lo in _CITY_WORDS if score >= lo)
        sink.row([sink.uscc(orgs.uscc[i]), orgs.name[i], score, word, _iso(day)])
    sink.close()
    ctx.spec("city_credit_scores", title="市公共信用信息中心 城市信用分(企业)", department="city_credit",
             kind="records", file=file, fmt="csv", encoding="gbk",
             columns={"uscc": "统一社会信用代码", "name": "企业名称", "value": "城市信用分", "grade": "分级",
                      "occurred_on": "更新日期"},
             ids=["uscc"], maps={"grade": {"优秀": "A", "良好": "B", "中等": "C", "较差": "D"}},
             dates=["occurred_on"], numbers={"value": None}, item="city_credit.score", items=["city_credit.score"])
