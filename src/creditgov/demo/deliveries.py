"""Earlier deliveries (往期报送): files three departments sent around the county's load,
each a small ingestion folder of its own, `deliveries/<day>/`, to be ingested on the
day it came (`make demo`: `CREDITGOV_TODAY=<day> creditgov ingest deliveries/<day>`,
after the load, whose register the rows name).

Why: the data-quality view and its warning rules judge a source by its history — how
long since its last file, how a file's rows and rejections compare with the source's
earlier files — and a county loaded in one go has none. Three stories, all deterministic:

- the water and power company sent its firms' bills one month per file (August to
  October of the year before); the load's file holds twelve months at once, so on
  the county's today its batch is a volume spike against those three. The monthly
  files repeat the load's first month's bills under their own month (older than any
  model's twelve-month window, so no score moves);
- the grid office's monthly dispute-mediation report (矛盾纠纷调解月报, item
  `grid.dispute`, used for risk research only) came for July and August and then
  stopped: on the county's today the source is late;
- the court's monthly report of new civil cases against the county's firms (涉诉立案月报,
  item `court.lawsuit`, risk warning only) came for July and August with one defendant
  from outside the county each (not registered here: quarantined), then for September,
  from the court's new case system, with about three rows in ten dirty — defendants from
  outside the county and credit codes typed by hand with a wrong check character: on
  the county's today that file (received in October) is a rejection spike against the
  source's own recent rate.

Nothing here reads the clock; the rows are drawn from the seed's own stream.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creditgov.core.clock import add_months
from creditgov.demo.context import COUNTY_CODE, COUNTY_NAME, PROVINCE_SHORT, _Ctx, _spec
from creditgov.demo.draw import _break, _cn, _compact, _dot
from creditgov.demo.ids import _USCC_ALPHABET
from creditgov.demo.population import _Orgs, _People
from creditgov.ingest.schemas import Manifest

BILLS = "utility_bills_firms"
DISPUTES = "grid_disputes_monthly"
LAWSUITS = "court_lawsuits_monthly"
_CAUSES = ("买卖合同纠纷", "服务合同纠纷", "租赁合同纠纷", "承揽合同纠纷", "劳动争议", "建设工程施工合同纠纷")
_LAWSUIT_HEADER = ["案号", "案由", "原告", "被告", "被告统一社会信用代码", "诉讼标的额(元)", "立案日期"]
_DISPUTE_TEXTS = ("相邻通行纠纷, 经网格员调解达成协议", "噪音扰民纠纷, 经网格员调解", "楼上漏水纠纷, 经村调委会调解",
                  "宅基地界址纠纷, 经村调委会调解", "饲养宠物扰邻纠纷, 经网格员调解")


def _folder(ctx: _Ctx, day: dt.date, dump: Callable[[Path, Any], None], written: list[str]) -> Path:
    root = ctx.out / "deliveries" / day.isoformat()
    (root / "specs").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(parents=True, exist_ok=True)
    manifest = {"county": COUNTY_NAME, "specs": ["specs/*.yaml"], "data_dir": "data"}
    Manifest.model_validate(manifest)
    dump(root / "manifest.yaml", manifest)
    written.append(f"deliveries/{day.isoformat()}/manifest.yaml")
    return root


def _bills(ctx: _Ctx, dump: Callable[[Path, Any], None], written: list[str]) -> dict[str, dict[str, int]]:
    """Three monthly bill files before the load's twelve months, under the load's own spec."""
    first = add_months(ctx.as_of.replace(day=1), -12)  # the load file's first bill month
    spec = ctx.specs[BILLS]
    with open(ctx.data / spec["file"], encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        at = header.index("账单日期")
        month_rows = [r for r in reader if r[at] == _compact(first)]
    out: dict[str, dict[str, int]] = {}
    for k in (3, 2, 1):
        month = add_months(first, -k)
        day = add_months(month, 1) + dt.timedelta(days=3 + k)
        root = _folder(ctx, day, dump, written)
        shutil.copyfile(ctx.out / "specs" / f"{BILLS}.yaml", root / "specs" / f"{BILLS}.yaml")
        with open(root / "data" / spec["file"], "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            for r in month_rows:
                w.writerow([*r[:at], _compact(month), *r[at + 1:]])
        written += [f"deliveries/{day.isoformat()}/specs/{BILLS}.yaml", f"deliveries/{day.isoformat()}/data/{spec['file']}"]
        out[day.isoformat()] = {BILLS: len(month_rows)}
    return out


def _disputes(ctx: _Ctx, people: _People, dump: Callable[[Path, Any], None],
              written: list[str]) -> dict[str, dict[str, int]]:
    """The dispute-mediation report for the fourth and third months before as_of, then nothing."""
    rng = ctx.rng("deliveries:disputes")
    file = f"{DISPUTES}.csv"
    spec = _spec(DISPUTES, title="社区网格办 矛盾纠纷调解月报", department="grid", kind="records", file=file,
                 fmt="csv", columns={"document_no": "调解编号", "resident_id": "公民身份号码", "name": "姓名",
                                     "occurred_on": "调解日期", "text": "纠纷摘要"},
                 ids=["resident_id"], dates=["occurred_on"], item="grid.dispute", items=["grid.dispute"],
                 natural_key=["document_no"])
    n = min(max(3, round(len(people.rid) * 0.002)), len(people.rid))
    out: dict[str, dict[str, int]] = {}
    for k in (4, 3):
        month = add_months(ctx.as_of.replace(day=1), -k)
        days = (add_months(month, 1) - month).days
        day = add_months(month, 1) + dt.timedelta(days=3)
        root = _folder(ctx, day, dump, written)
        dump(root / "specs" / f"{DISPUTES}.yaml", spec)
        with open(root / "data" / file, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["调解编号", "公民身份号码", "姓名", "调解日期", "纠纷摘要"])
            for j, i in enumerate(sorted(rng.sample(range(len(people.rid)), n)), start=1):
                when = month + dt.timedelta(days=rng.randrange(days))
                w.writerow([f"TJ{month:%Y%m}{j:04d}", people.rid[i], people.name[i], _dot(when),
                            rng.choice(_DISPUTE_TEXTS)])
        written += [f"deliveries/{day.isoformat()}/specs/{DISPUTES}.yaml", f"deliveries/{day.isoformat()}/data/{file}"]
        out[day.isoformat()] = {DISPUTES: n}
    return out


def _lawsuits(ctx: _Ctx, orgs: _Orgs, people: _People, dump: Callable[[Path, Any], None],
              written: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The court's new civil cases for the fourth, third and second months before as_of,
    each delivered on the 7th of the next month: one stranger in each of the first two,
    about three rows in ten dirty in the last. Returns the rows per day and the dirty rows
    per day."""
    rng = ctx.rng("deliveries:lawsuits")
    file = f"{LAWSUITS}.csv"
    spec = _spec(LAWSUITS, title="人民法院 涉诉立案月报", department="court", kind="records", file=file, fmt="csv",
                 columns={"document_no": "案号", "text": "案由", "name": "被告", "uscc": "被告统一社会信用代码",
                          "value": "诉讼标的额(元)", "occurred_on": "立案日期"},
                 ids=["uscc"], dates=["occurred_on"], numbers={"value": None}, item="court.lawsuit",
                 items=["court.lawsuit"], natural_key=["document_no"])
    firms = orgs.of("enterprise")
    n = min(max(24, round(len(firms) * 0.01)), len(firms))
    out: dict[str, dict[str, int]] = {}
    dirty: dict[str, int] = {}
    case = 0
    for k in (4, 3, 2):
        month = add_months(ctx.as_of.replace(day=1), -k)
        days = (add_months(month, 1) - month).days
        day = add_months(month, 1) + dt.timedelta(days=6)
        bad = 1 if k > 2 else round(n * 0.3)
        root = _folder(ctx, day, dump, written)
        dump(root / "specs" / f"{LAWSUITS}.yaml", spec)
        rows: list[tuple[dt.date, str, str, str, str, str]] = []
        for j, i in enumerate(sorted(rng.sample(firms, n))):
            code, name = orgs.uscc[i], orgs.name[i]
            if j < bad:                       # the dirty rows, spread through the file below
                if j % 2 == 0:
                    code, name = ctx.stranger(rng)
                else:
                    code = _break(code, _USCC_ALPHABET, rng)
            filed = month + dt.timedelta(days=rng.randrange(days))
            plaintiff = rng.choice(people.name) if rng.random() < 0.6 else orgs.name[rng.choice(firms)]
            rows.append((filed, rng.choice(_CAUSES), plaintiff, name, code, f"{rng.lognormvariate(10.5, 1.2):.2f}"))
        rng.shuffle(rows)
        with open(root / "data" / file, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(_LAWSUIT_HEADER)
            for filed, cause, plaintiff, name, code, amount in rows:
                case += 1
                w.writerow([f"（{month.year}）{PROVINCE_SHORT}{COUNTY_CODE[2:]}民初{8000 + case}号", cause, plaintiff,
                            name, code, amount, _cn(filed)])
        written += [f"deliveries/{day.isoformat()}/specs/{LAWSUITS}.yaml", f"deliveries/{day.isoformat()}/data/{file}"]
        out[day.isoformat()] = {LAWSUITS: n}
        dirty[day.isoformat()] = bad
    return out, dirty


def _deliveries(ctx: _Ctx, orgs: _Orgs, people: _People,
                dump: Callable[[Path, Any], None]) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Write the earlier deliveries; (rows per day and source, files written, the rows
    written dirty on purpose per day and source)."""
    written: list[str] = []
    days: dict[str, dict[str, int]] = {}
    lawsuits, dirty = _lawsuits(ctx, orgs, people, dump, written)
    for part in (_bills(ctx, dump, written), _disputes(ctx, people, dump, written), lawsuits):
        for day, rows in part.items():
            days.setdefault(day, {}).update(rows)
    return dict(sorted(days.items())), sorted(written), {day: {LAWSUITS: n} for day, n in sorted(dirty.items())}
