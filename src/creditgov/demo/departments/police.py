"""The police's records: traffic violations, the item the county was refused."""

from __future__ import annotations

from typing import Any

from creditgov.demo.context import _Ctx
from creditgov.demo.draw import _compact
from creditgov.demo.population import _People


def _police(ctx: _Ctx, people: _People) -> None:
    """The item the county was refused: ingestion must turn every row away as not approved."""
    rng = ctx.rng("police")
    n = len(people.rid)
    k = max(20, min(3000, round(0.004 * n)))
    acts = (("机动车违反禁止标线指示", 100), ("驾驶机动车不按规定使用安全带", 50), ("超速行驶(未达20%)", 200),
            ("违反规定停放", 150))
    events: list[list[Any]] = sorted(([ctx.when(rng, 0), i, *rng.choice(acts)] for i in rng.choices(range(n), k=k)),
                                       key=lambda e: (e[0], e[1]))
    file = "police_traffic_violations.csv"
    sink = ctx.sink("police_traffic_violations", file, "csv",
                    ["决定书编号", "当事人", "身份证号", "违法行为", "违法时间", "罚款金额"],
                    bad=False, fullwidth=False, dup=False)
    for n_, (d, i, act, fine) in enumerate(events, start=1):
        sink.row([f"330127{d.year}{n_:07d}", people.name[i], people.rid[i], act, _compact(d), fine])
    sink.count("unapproved_rows", len(events))
    sink.close()
    ctx.spec("police_traffic_violations", title="公安局 交通违法处罚(未获批准)", department="police",
             kind="records", file=file, fmt="csv",
             columns={"document_no": "决定书编号", "name": "当事人", "resident_id": "身份证号", "text": "违法行为",
                      "occurred_on": "违法时间", "value": "罚款金额"},
             ids=["resident_id"], dates=["occurred_on"], numbers={"value": None},
             item="police.traffic_violation", items=["police.traffic_violation"], natural_key=["document_no"])
