"""The cyberspace office's records: public-opinion mentions of firms."""

from __future__ import annotations

from typing import Any

from creditgov.demo.context import _Ctx
from creditgov.demo.draw import GOOD, _compact, _count, _iso, _pick
from creditgov.demo.population import _Orgs
from creditgov.demo.records import _ind_weights, _unknown


def _opinion(ctx: _Ctx, orgs: _Orgs, firms: list[int]) -> None:
    rng = ctx.rng("opinion")
    neg = _ind_weights(orgs, firms, {"ecommerce": 3.0, "catering": 2.0, "homestay": 1.5})
    pos = [GOOD[orgs.tier[i]] for i in firms]
    channels = ("微信公众号", "抖音", "本地论坛", "新闻网站", "微博")
    events: list[list[Any]] = []
    for tone, w, rate, titles in (("负面", neg, 0.03, ("消费者投诉发货慢", "员工讨薪", "食品卫生问题曝光", "虚假宣传被举报")),
                                  ("正面", pos, 0.02, ("带动村民就业", "助农直播", "抗洪捐赠", "获评优秀民宿"))):
        for i in _pick(rng, firms, w, _count(rng, rate * len(firms), 3)):
            events.append([ctx.when(rng, orgs.est[i]), i, orgs.uscc[i], orgs.name[i], tone, rng.choice(titles)])
    strangers = 3 + min(12, ctx.n // 50_000)
    for _ in range(strangers):
        code, name = ctx.stranger(rng)
        events.append([ctx.when(rng, 0), -1, code, name, "负面", "网传欠薪跑路"])
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    file = "opinion_mentions.jsonl"
    sink = ctx.sink("opinion_mentions", file, "jsonl",
                    ["id", "subject_code", "subject_name", "sentiment", "published_at", "channel", "title"])
    sink.count("unregistered_subjects", strangers)
    _unknown(rng, events, 4, ("中性", "待研判"), sink)
    for n, (d, _i, code, name, tone, title) in enumerate(events, start=1):
        sink.row([f"YQ{_compact(d)}{n:05d}", sink.uscc(code), name, tone, _iso(d), rng.choice(channels), title])
    sink.close()
    ctx.spec("opinion_mentions", title="网信办 涉企舆情监测", department="opinion", kind="records", file=file,
             fmt="jsonl",
             columns={"uscc": "subject_code", "name": "subject_name", "item": "sentiment", "occurred_on": "published_at",
                      "text": "title"},
             ids=["uscc"], maps={"item": {"负面": "opinion.negative", "正面": "opinion.positive"}},
             dates=["occurred_on"], items=["opinion.negative", "opinion.positive"], subject_kind="enterprise",
             unknown_subject="provisional")
