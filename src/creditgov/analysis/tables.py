"""The regional analysis pages' tables as export rows (issue 19): the distribution,
the trend of a model's published runs, the risk per grid and the clusters around listed
subjects, each with headers and codes named in the reader's language (`zh` or `en`).
The rows come from the same scoped reads as the pages and the API (`analysis.service`
with `Grant.subject_clause()`, `analysis.access`), so an export holds exactly what the
page shows to that reader, residents' names masked as the page masks them. Plain values
in, plain rows out: the pages stream them (`web/exports.py`), the commands write them
to a file (`core.tables`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from creditgov.analysis import service
from creditgov.core import labels

Pair = tuple[str, str]
WHAT: dict[str, Pair] = {"grade": ("信用等级", "Credit grade"), "colour": ("三色码", "Colour code"),
                         "alerts": ("预警", "Alerts"), "inspections": ("检查结果", "Inspection results")}
BY: dict[str, Pair] = {"street": ("街道(乡镇)", "Street (town)"), "grid": ("网格", "Grid"),
                       "industry": ("行业", "Industry"), "kind": ("主体类型", "Subject kind")}
CATEGORY: dict[str, Pair] = {
    "green": ("绿码", "Green"), "yellow": ("黄码", "Yellow"), "red": ("红码", "Red"),
    "info": ("提示", "Info"), "low": ("低", "Low"), "medium": ("中", "Medium"), "high": ("高", "High"),
    "critical": ("严重", "Critical"), "passed": ("未发现问题", "No problems found"),
    "problems": ("发现问题", "Problems found"), "penalty": ("行政处罚", "Administrative penalty"),
    "pending": ("待检查", "Assigned")}
TOTAL: Pair = ("合计", "Total")
UNKNOWN: Pair = ("(未知)", "(unknown)")
RISK_HEADER: dict[str, list[str]] = {
    "zh": ["网格编码", "网格", "街道(乡镇)", "主体数", "水电欠费主体", "逾期缴费账单", "缴费账单", "贷款逾期主体",
           "红码主体", "未办结预警", "风险指数"],
    "en": ["Grid code", "Grid", "Street (town)", "Subjects", "Subjects in utility arrears", "Late utility bills",
           "Utility bills", "Subjects with overdue loans", "Subjects with a red code", "Open alerts", "Risk index"]}
CLUSTER_HEADER: dict[str, list[str]] = {
    "zh": ["群组", "群组主体数", "群组名单主体数", "主体编号", "主体", "主体类型", "统一社会信用代码", "区域", "名单"],
    "en": ["Cluster", "Cluster size", "Listed in cluster", "Subject", "Name", "Subject kind", "USCC", "Region",
           "Lists"]}
TREND_HEAD: dict[str, list[str]] = {"zh": ["评价批次", "评价日期", "主体数", "平均分"],
                                    "en": ["Run", "As of", "Subjects", "Mean score"]}


def pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def group_name(row: dict[str, Any], by: str, lang: str) -> str:
    """A distribution group's name as the page shows it: a street's or grid's own name,
    an industry or kind by its label, the unknown group in the reader's language."""
    if row["group"] == service.UNKNOWN or row["name"] == service.UNKNOWN:
        return pick(UNKNOWN, lang)
    kind = {"industry": "industry", "kind": "subject_kind"}.get(by)
    return labels.label(kind, row["group"], lang) if kind else str(row["name"])


def distribution_table(dist: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """The distribution's table: one row per group, a count per category, the group's
    total, and the totals row last — as on the page."""
    cats: Sequence[str] = dist["categories"]
    header = [pick(BY[dist["by"]], lang),
              *(pick(CATEGORY[c], lang) if c in CATEGORY else labels.label("grade", c, lang) for c in cats),
              pick(TOTAL, lang)]
    rows: list[list[Any]] = [[group_name(r, dist["by"], lang), *(r["counts"].get(c, 0) for c in cats), r["total"]]
                             for r in dist["rows"]]
    rows.append([pick(TOTAL, lang), *(dist["totals"].get(c, 0) for c in cats), dist["total"]])
    return header, rows


def trend_table(trend: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """One row per published run, oldest first: subjects, mean score, then the count of
    each grade."""
    grades: Sequence[str] = trend["grades"]
    header = [*TREND_HEAD[lang], *(labels.label("grade", g, lang) for g in grades)]
    rows = [[p["run_id"], p["as_of"], p["subjects"], p["mean_score"], *(p["grades"].get(g, 0) for g in grades)]
            for p in trend["runs"]]
    return header, rows


def risk_rows(risk: dict[str, Any], lang: str) -> Iterator[list[Any]]:
    for r in risk["rows"]:
        unknown = r["grid"] == service.UNKNOWN
        yield [None if unknown else r["grid"], pick(UNKNOWN, lang) if unknown else r["name"],
               pick(UNKNOWN, lang) if r["street"] == service.UNKNOWN else r["street"], r["subjects"],
               r["arrears_subjects"], r["late_bills"], r["bills"], r["overdue_subjects"], r["red"], r["open_alerts"],
               r["risk_index"]]


def cluster_rows(data: dict[str, Any], lang: str) -> Iterator[list[Any]]:
    """One row per member of each cluster shown (`access.scoped_clusters`, names already
    masked for this reader), clusters numbered as on the page."""
    sep = "、" if lang == "zh" else "; "
    for n, c in enumerate(data["clusters"], start=1):
        for m in c["members"]:
            yield [n, c["size"], c["listed_count"], m["id"], m["name"], labels.label("subject_kind", m["kind"], lang),
                   m["uscc"] or "", m["region"] or "", sep.join(labels.label("list", x, lang) for x in m["lists"])]
