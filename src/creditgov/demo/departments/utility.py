"""The water and power company's records: monthly bills and arrears, for firms and households."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from creditgov.core.clock import add_months
from creditgov.demo.context import _Ctx
from creditgov.demo.draw import _compact
from creditgov.demo.ids import _RIC_ALPHABET, _USCC_ALPHABET
from creditgov.demo.population import _Orgs, _People


def _utility(ctx: _Ctx, orgs: _Orgs, people: _People) -> None:
    """Monthly bills for every firm and household (the biggest files) and the ≥30-day arrears."""
    rng = ctx.rng("utility")
    first = ctx.as_of.replace(day=1)
    months = []
    for k in range(12, 0, -1):
        bill = add_months(first, -k)
        due = bill + dt.timedelta(days=14)
        months.append((_compact(bill), max(0, (ctx.as_of - due).days - 1), _compact(due + dt.timedelta(days=30))))
    p_late = (0.03, 0.10, 0.25, 0.5)
    rand, randint = rng.random, rng.randint

    def run(prefix: str, who: str, ids: list[str], names: list[str], tiers: list[int],
            base: Callable[[int], float]) -> None:
        bills = ctx.sink(f"utility_bills_{who}", f"utility_bills_{who}.csv", "csv",
                         ["户号", "证件号码", "户名", "账单日期", "应缴金额(元)", "逾期天数"])
        arrears = ctx.sink(f"utility_arrears_{who}", f"utility_arrears_{who}.csv", "csv",
                           ["户号", "证件号码", "户名", "账单日期", "欠费金额(元)", "催缴日期"])
        alphabet = _USCC_ALPHABET if who == "firms" else _RIC_ALPHABET
        a_ident = arrears.uscc if who == "firms" else arrears.rid
        a_row = arrears.row
        # The biggest files: Sink.row/_ident/amount are inlined (same draws, same counters).
        emit, drand, dirty, fullwidth = bills._emit, bills.rng.random, bills.dirty, bills.fullwidth
        cut, fw_rate, dup_rate = bills.id_cut, bills.fw_rate, bills.dup_rate
        for i, code in enumerate(ids):
            acct = f"{prefix}{(7919 * i + 104729) % 10**9:09d}"
            name, p, b = names[i], p_late[tiers[i]], base(i)
            n = 0
            for bill_s, cap, chase_s in months:
                late = 0
                if rand() < p:
                    late = min(cap, randint(1, 29) if rand() < 0.7 else randint(30, 120))
                amt = f"{b * (0.75 + 0.5 * rand()):.2f}"
                u = drand()
                row = [acct, code if u >= cut else dirty(code, u, alphabet), name, bill_s,
                       amt if drand() >= fw_rate else fullwidth(amt), late]
                emit(row)
                n += 1
                if drand() < dup_rate:
                    emit(row)
                    n += 1
                    bills.dups += 1
                if late >= 30:
                    a_row([acct, a_ident(code), name, bill_s, amt, chase_s])
            bills.tick(n)
        bills.close()
        arrears.close()

    emp = orgs.emp
    run("1", "firms", orgs.uscc, orgs.name, orgs.tier, lambda i: 200.0 + 150.0 * emp[i] * rng.uniform(0.7, 1.3))
    run("2", "households", people.rid, people.name, people.tier, lambda i: rng.uniform(60.0, 300.0))
    for who, kind in (("firms", "uscc"), ("households", "resident_id")):
        ctx.spec(f"utility_bills_{who}", title=f"供水供电公司 水电缴费记录({'单位' if who == 'firms' else '居民'})",
                 department="utility", kind="records", file=f"utility_bills_{who}.csv", fmt="csv",
                 columns={kind: "证件号码", "name": "户名", "occurred_on": "账单日期", "value": "逾期天数"},
                 ids=[kind], dates=["occurred_on"], numbers={"value": None}, item="utility.bill",
                 items=["utility.bill"])
        ctx.spec(f"utility_arrears_{who}", title=f"供水供电公司 水电费逾期({'单位' if who == 'firms' else '居民'})",
                 department="utility", kind="records", file=f"utility_arrears_{who}.csv", fmt="csv",
                 columns={kind: "证件号码", "name": "户名", "occurred_on": "账单日期", "value": "欠费金额(元)",
                          "decided_on": "催缴日期"},
                 ids=[kind], dates=["occurred_on", "decided_on"], numbers={"value": None},
                 item="utility.arrears", items=["utility.arrears"])
