"""The county's population: regions (streets, grids, micro-grids), residents (the household
roll), organisations (the market register: firms, merchants, homestays, social orgs) and the
people linked to each firm.

Every department's records are drawn over what this module builds.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from itertools import accumulate

from stdnum.cn import ric

from creditgov.demo.context import COUNTY_CODE, COUNTY_NAME, COUNTY_SHORT, _Ctx
from creditgov.demo.draw import _cn, _compact, _iso, _slash, _tier, _weighted
from creditgov.demo.names import (
    _ASSOC_TOPICS,
    _ENT_IND,
    _ENT_WORDS,
    _HOMESTAY_SUFFIX,
    _HOMESTAY_WORDS,
    _MERCH_IND,
    _PARK_IND,
    _PLACES,
    _SHOP_WORDS,
    _WORD_CHARS,
    INDUSTRIES,
    _Pools,
)


@dataclass
class _Street:
    code: str
    name: str
    short: str
    role: str  # street / park / homestay / town / xiang
    micros: list[str]


@dataclass
class _Regions:
    streets: list[_Street]
    rows: list[dict[str, str]]
    park: int
    homestay: int
    town: int  # the street that is also the information port town (钱江分, S01)


def _make_regions(ctx: _Ctx) -> _Regions:
    """County -> streets/towns -> grids -> micro-grids, scaled with the county's size."""
    rng = ctx.rng("regions")
    n = ctx.n
    n_streets = max(6, min(40, round(6 + 34 * math.log10(max(n, 1000) / 1000) / 3)))
    places = list(_PLACES)
    rng.shuffle(places)
    # (short name used inside firm names, suffix, role): the industrial park and the
    # homestay town are always S02 and S03, whatever the size.
    named = [("城东", "街道", "street"), ("园区", "", "park"), ("竹溪", "镇", "homestay")]
    rest = n_streets - len(named)
    for k in range(rest):
        suffix, role = (("街道", "street") if k < rest * 0.2 else ("镇", "town") if k < rest * 0.8
                        else ("乡", "xiang"))
        named.append((places[k], suffix, role))
    county = COUNTY_CODE
    rows = [{"code": county, "name": COUNTY_NAME, "level": "county"}]
    streets = []
    g_base = n / n_streets / 1500
    for s, (short, suffix, role) in enumerate(named, start=1):
        code = f"{county}-S{s:02d}"
        name = "工业园区" if role == "park" else short + suffix
        rows.append({"code": code, "name": name, "level": "street", "parent": county})
        street = _Street(code, name, short, role, [])
        n_grids = max(2, min(24, round(g_base * rng.uniform(0.7, 1.3))))
        m_base = n / (n_streets * n_grids * 150)
        for g in range(1, n_grids + 1):
            gcode = f"{code}-G{g:02d}"
            gname = f"园区第{g}网格" if role == "park" else f"{short}第{g}网格"
            rows.append({"code": gcode, "name": gname, "level": "grid", "parent": code})
            for m in range(1, max(3, min(12, round(m_base * rng.uniform(0.8, 1.2)))) + 1):
                mcode = f"{gcode}-M{m:02d}"
                rows.append({"code": mcode, "name": f"{gname}第{m}微网格", "level": "micro_grid",
                             "parent": gcode})
                street.micros.append(mcode)
        streets.append(street)
    return _Regions(streets, rows, park=1, homestay=2, town=0)


def _address(rng: random.Random, pools: _Pools, street: _Street) -> str:
    return f"浙江省{COUNTY_NAME}{street.name}{rng.choice(pools.roads)}{rng.randint(1, 999)}号"


@dataclass
class _People:
    rid: list[str]
    name: list[str]
    street: list[int]
    tier: list[int]
    by_street: list[list[int]]


def _make_people(ctx: _Ctx, regions: _Regions, pools: _Pools, count: int) -> _People:
    """The grid offices' household roll (xlsx: personal data), one row per resident."""
    rng = ctx.rng("people")
    streets = regions.streets
    weights = [0.15 if st.role == "park" else rng.uniform(0.6, 1.4) for st in streets]
    where = rng.choices(range(len(streets)), weights=weights, k=count)
    seqs: dict[int, int] = {}
    file = "grid_households.xlsx"
    sink = ctx.sink("grid_households", file, "xlsx",
                    ["公民身份号码", "姓名", "性别", "出生年份", "家庭人口", "所属微网格", "现住址", "信息港小镇居民"],
                    sheet="户籍人口", bad=False, dup=False)
    people = _People([], [], [], [], [[] for _ in streets])
    sur, male_names, female_names = pools.surnames, pools.male, pools.female
    hh_sizes, hh_cum = (1, 2, 3, 4, 5, 6), (12, 36, 64, 84, 95, 100)
    year0 = ctx.as_of.year
    for i in range(count):
        s = where[i]
        street = streets[s]
        male = rng.random() < 0.5
        age = int(rng.triangular(18, 90, 40))
        birth = dt.date(year0 - age - 1, 1, 1) + dt.timedelta(days=rng.randrange(365))
        key = birth.toordinal() * 2 + male
        c = seqs.get(key, 0)
        seqs[key] = c + 1
        seq = 2 * c + 1 if male else 2 * c + 2
        if seq > 999:  # never at these sizes; keeps the ID well formed regardless
            seq = rng.randrange(1, 999)
        body = f"{COUNTY_CODE}{_compact(birth)}{seq:03d}"
        rid = body + ric.calc_check_digit(body + "0")
        name = rng.choice(sur) + rng.choice(male_names if male else female_names)
        people.rid.append(rid)
        people.name.append(name)
        people.street.append(s)
        people.tier.append(_tier(rng))
        people.by_street[s].append(i)
        sink.row([sink.rid(rid), name, "男" if male else "女", birth.year,
                  rng.choices(hh_sizes, cum_weights=hh_cum)[0], rng.choice(street.micros),
                  f"{street.name}{rng.choice(pools.roads)}{rng.randint(1, 400)}号", "1" if s == regions.town else "0"])
    sink.close()
    ctx.spec("grid_households", title="社区网格办 网格户籍人口花名册", department="grid",
             kind="registration", file=file, fmt="xlsx", sheet="户籍人口",
             columns={"resident_id": "公民身份号码", "name": "姓名", "region": "所属微网格",
                      "address": "现住址"},
             attributes={"gender": "性别", "birth_year": "出生年份", "household_size": "家庭人口",
                         "hzbay_town": "信息港小镇居民"},
             ids=["resident_id"], maps={"attr.gender": {"男": "male", "女": "female"}},
             numbers={"attr.household_size": None}, subject_kind="individual", order=10)
    return people


@dataclass
class _Orgs:
    uscc: list[str]
    name: list[str]
    kind: list[str]
    industry: list[str]
    street: list[int]
    est: list[int]  # date ordinals
    emp: list[int]
    tier: list[int]
    by_kind: dict[str, list[int]]

    def of(self, *kinds: str) -> list[int]:
        """Indices of the given kinds, in register order."""
        return [i for i, k in enumerate(self.kind) if k in kinds]


def _org_name(rng: random.Random, pools: _Pools, kind: str, label: str, ind: str, street: _Street) -> str:
    word = rng.choice(_WORD_CHARS) + rng.choice(_WORD_CHARS)
    if kind == "enterprise":
        trade = rng.choice(_ENT_WORDS[ind])
        if label == "个人独资企业":
            return f"{COUNTY_NAME}{word}{trade}厂"
        return f"{COUNTY_SHORT}{word}{trade}{'有限公司' if label == '有限责任公司' else '股份有限公司'}"
    if kind == "merchant":
        owner = rng.choice(pools.surnames) + rng.choice(("记", "氏", "家", ""))
        return f"{COUNTY_NAME}{street.short}{owner}{rng.choice(_SHOP_WORDS[ind])}"
    if kind == "homestay":
        return f"{COUNTY_NAME}{street.short}{rng.choice(_HOMESTAY_WORDS)}{rng.choice(_HOMESTAY_SUFFIX)}"
    if label == "社会团体":
        return f"{COUNTY_NAME}{street.short}{rng.choice(_ASSOC_TOPICS)}{rng.choice(('协会', '商会', '联合会'))}"
    return f"{COUNTY_NAME}{word}{rng.choice(('幼儿园', '养老服务中心', '社会工作服务中心', '培训学校'))}"


def _make_orgs(ctx: _Ctx, regions: _Regions, pools: _Pools, counts: dict[str, int]) -> _Orgs:
    """The market register (csv gb18030): enterprises, merchants, homestays, social orgs."""
    rng = ctx.rng("orgs")
    streets = regions.streets
    kinds = [k for k in ("enterprise", "merchant", "homestay", "social_org") for _ in range(counts[k])]
    rng.shuffle(kinds)
    general = [0.1 if st.role == "park" else rng.uniform(0.6, 1.4) for st in streets]
    non_park = [0.0 if st.role == "park" else w for st, w in zip(streets, general, strict=True)]
    rural = [i for i, st in enumerate(streets) if st.role in ("town", "xiang")] or [regions.homestay]
    idx = range(len(streets))
    cw_general, cw_non_park = list(accumulate(general)), list(accumulate(non_park))
    orgs = _Orgs([], [], [], [], [], [], [], [], {k: [] for k in ("enterprise", "merchant", "homestay", "social_org")})
    file = "market_registration.csv"
    sink = ctx.sink("market_registration", file, "csv",
                    ["统一社会信用代码", "名称", "主体类型", "行业门类", "所属网格", "成立日期", "住所",
                     "注册资本(万元)", "从业人数", "是否园区企业", "客房数", "信息港小镇企业"],
                    encoding="gb18030", newline="\r\n", bad=False, dup=False)
    start = ctx.start.toordinal()
    latest = ctx.as_of.toordinal() - 30
    d1998, d2005, d2012 = (dt.date(y, 1, 1).toordinal() for y in (1998, 2005, 2012))
    for i, kind in enumerate(kinds):
        rooms: int | str = ""
        if kind == "enterprise":
            label = _weighted(rng, (("有限责任公司", 88), ("股份有限公司", 4), ("个人独资企业", 8)))
            prefix = "91"
            if rng.random() < 0.35:
                s = regions.park
                ind = _weighted(rng, _PARK_IND)
            else:
                s = rng.choices(idx, cum_weights=cw_non_park)[0]
                ind = _weighted(rng, _ENT_IND)
            est = rng.randrange(d1998, start) if rng.random() < 0.75 else rng.randrange(start, latest)
            emp = min(2000, int(rng.lognormvariate(2.2, 1.0)) + 1) * (2 if s == regions.park else 1)
            capital = max(3, round(rng.lognormvariate(4.0, 1.2)))
        elif kind == "merchant":
            label, prefix = "个体工商户", "92"
            s = rng.choices(idx, cum_weights=cw_general)[0]
            ind = _weighted(rng, _MERCH_IND)
            est = rng.randrange(d2005, latest)
            emp = rng.choice((0, 0, 1, 1, 2, 3, 5))
            capital = rng.choice((1, 2, 3, 5, 10, 20, 30, 50))
        elif kind == "homestay":
            label, prefix, ind = "民宿经营户", "92", "民宿"
            s = regions.homestay if rng.random() < 0.55 else rng.choice(rural)
            est = rng.randrange(d2012, latest)
            emp = 1 + rng.randrange(6)
            capital = rng.randint(10, 300)
            rooms = rng.randint(4, 18)
        else:
            label = "社会团体" if rng.random() < 0.6 else "民办非企业单位"
            prefix, ind = ("51" if label == "社会团体" else "52"), "社会服务"
            s = rng.choices(idx, cum_weights=cw_general)[0]
            est = rng.randrange(d1998, latest)
            emp = rng.randrange(15)
            capital = rng.randint(3, 50)
        street = streets[s]
        code = ctx.uscc(i, prefix, est >= dt.date(2015, 10, 1).toordinal())
        name = _org_name(rng, pools, kind, label, ind, street)
        orgs.uscc.append(code)
        orgs.name.append(name)
        orgs.kind.append(kind)
        orgs.industry.append(INDUSTRIES[ind])
        orgs.street.append(s)
        orgs.est.append(est)
        orgs.emp.append(emp)
        orgs.tier.append(_tier(rng))
        orgs.by_kind[kind].append(i)
        d = dt.date.fromordinal(est)
        u = rng.random()
        est_text = _iso(d) if u < 0.95 else _slash(d) if u < 0.98 else _compact(d)
        cap_text = str(capital) if rng.random() < 0.98 else f"{capital}万元"
        sink.row([sink.uscc(code), name, label, ind, rng.choice(street.micros), est_text,
                  _address(rng, pools, street), sink.amount(cap_text), emp,
                  "1" if s == regions.park else "0", rooms, "1" if s == regions.town else "0"])
    sink.close()
    ctx.spec("market_registration", title="市场监管局 市场主体登记信息", department="market",
             kind="registration", file=file, fmt="csv", encoding="gb18030",
             columns={"uscc": "统一社会信用代码", "name": "名称", "kind": "主体类型", "industry": "行业门类",
                      "region": "所属网格", "established_on": "成立日期", "address": "住所"},
             attributes={"registered_capital": "注册资本(万元)", "employees": "从业人数",
                         "park": "是否园区企业", "rooms": "客房数", "hzbay_town": "信息港小镇企业"},
             ids=["uscc"],
             maps={"kind": {"有限责任公司": "enterprise", "股份有限公司": "enterprise",
                            "个人独资企业": "enterprise", "个体工商户": "merchant",
                            "民宿经营户": "homestay", "社会团体": "social_org",
                            "民办非企业单位": "social_org"},
                   "industry": dict(INDUSTRIES)},
             dates=["established_on"],
             numbers={"attr.registered_capital": None, "attr.employees": None, "attr.rooms": None},
             order=10)
    return orgs


def _links(ctx: _Ctx, orgs: _Orgs, people: _People) -> None:
    """Who stands behind each firm: street -> park grid -> micro-grid -> firm -> employee,
    and since when (some employees have left: 离任日期). The dates come from a stream of
    their own, so the links drawn are the same with or without them."""
    rng = ctx.rng("links")
    when = ctx.rng("link_dates")
    last = ctx.as_of.toordinal() - 1
    file = "market_links.csv"
    sink = ctx.sink("market_links", file, "csv",
                    ["统一社会信用代码", "主体名称", "人员姓名", "证件号码", "人员类型", "任职日期", "离任日期"],
                    bad=False, dup=False)
    everyone = range(len(people.rid))
    # A few serial entrepreneurs front many firms each.
    bosses = rng.sample(everyone, max(5, len(people.rid) // 500))

    def person(s: int) -> int:
        local = people.by_street[s]
        return rng.choice(local) if local else rng.choice(everyone)

    taken: list[int] = []  # people already linked to the current firm: one role each

    def emit(i: int, p: int, role: str) -> None:
        if p not in taken:
            taken.append(p)
            est = min(orgs.est[i], last)
            first = role in ("法定代表人", "经营者") and when.random() < 0.7  # since the firm's founding
            since = est if first else est + when.randrange(last - est + 1)
            until = ""
            if role in ("从业人员", "员工") and since < last and when.random() < 0.15:
                until = _cn(dt.date.fromordinal(since + 1 + when.randrange(last - since)))
            sink.row([orgs.uscc[i], orgs.name[i], people.name[p], sink.rid(people.rid[p]), role,
                      _cn(dt.date.fromordinal(since)), until])

    for i, kind in enumerate(orgs.kind):
        s = orgs.street[i]
        taken.clear()
        rep = rng.choice(bosses) if rng.random() < 0.03 else person(s)
        emit(i, rep, "经营者" if kind in ("merchant", "homestay") else "法定代表人")
        p_principal = {"enterprise": 0.3, "homestay": 0.2, "social_org": 0.5}.get(kind, 0.0)
        if rng.random() < p_principal:
            emit(i, person(s), rng.choice(("负责人", "主要负责人")))
        if kind == "enterprise":
            staff = min(orgs.emp[i], rng.randrange(5))
        elif kind == "merchant":
            staff = 1 if orgs.emp[i] and rng.random() < 0.3 else 0
        else:
            staff = rng.randrange(3 if kind == "homestay" else 2)
        for _ in range(staff):
            emit(i, person(s), rng.choice(("从业人员", "员工")))
    sink.close()
    ctx.spec("market_links", title="市场监管局 主体关联人员", department="market", kind="links", file=file,
             fmt="csv", columns={"firm_uscc": "统一社会信用代码", "person_name": "人员姓名",
                                 "person_id": "证件号码", "role": "人员类型", "since": "任职日期",
                                 "until": "离任日期"},
             ids=["firm_uscc", "person_id"], dates=["since", "until"],
             maps={"role": {"法定代表人": "legal_representative", "经营者": "legal_representative",
                            "负责人": "principal", "主要负责人": "principal",
                            "从业人员": "employee", "员工": "employee"}},
             order=20)
