"""The explanation in plain words, for the people it is about and the grid workers who
answer their questions.

`explain.evaluate` says why in codes and exact numbers (the reference semantics, what
the API returns); this module adds, beside them, what a reader needs: one sentence per
indicator in the reader's language naming each record by its catalogue label,
department and document number, points rounded to one decimal (the exact value stays
in the data), a note when one record counts in two indicators and why, the reasons a
record was left out, and a waterfall of points lost and gained from the model's base.
The subject file page, the subject's own view and the PDF report all show this text.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem, Department
from creditgov.core.config import PolicyFile
from creditgov.lists.models import CreditList
from creditgov.records.labels import RECORD_STATUS
from creditgov.records.models import CreditRecord
from creditgov.scoring import ratings
from creditgov.scoring.model import (
    AttributeBand,
    EvaluationModel,
    GradeItem,
    Indicator,
    ListPresence,
    RecordFilter,
    Records,
    Window,
)

MINUS = "\u2212"
COLOURS = {"green": ("绿码", "green code"), "yellow": ("黄码", "yellow code"), "red": ("红码", "red code")}
SEVERITIES = {"minor": ("轻微", "minor"), "general": ("一般", "general"), "serious": ("严重", "serious")}
POLARITIES = {"negative": ("失信", "negative"), "positive": ("守信", "positive"), "neutral": ("中性", "neutral"),
              "basic": ("基础", "basic")}
AGGREGATES = {"latest": ("最近一次", "latest"), "mean": ("平均", "mean"), "min": ("最低", "lowest"),
              "max": ("最高", "highest")}
REASONS = {"superseded by a corrected version": ("已被更正后的版本取代", "superseded by a corrected version"),
           "occurred after the as-of date": ("发生在评价日之后", "occurred after the as-of date"),
           "not yet published on the as-of date": ("评价日尚未公示", "not yet published on the as-of date"),
           "publication period ended": ("公示期已满", "publication period ended"),
           "revoked": ("已撤销", "revoked")}
# A record's statuses are named once, by the records domain (every status of
# records.models.STATUSES); the explanation says them in those words.
STATUSES = RECORD_STATUS


class IndicatorNamesFile(BaseModel):
    """English names of indicators and overrides a shipped pack names in Chinese only."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    models: dict[str, dict[str, str]]


INDICATOR_NAMES = PolicyFile(IndicatorNamesFile, "creditgov.scoring", "data/indicator_names.yaml")


def english_names(model: str) -> dict[str, str]:
    return INDICATOR_NAMES.shipped().models.get(model, {})


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def shown(v: Decimal | str | float | int, *, sign: bool = False) -> str:
    """Points as shown: one decimal, half away from zero, a real minus sign; `sign`
    puts + before a gain."""
    d = Decimal(str(v)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if d == 0:
        return "0.0"
    text = f"{abs(d)}"
    if d < 0:
        return MINUS + text
    return ("+" if sign else "") + text


def reason_text(reason: str, lang: str) -> str:
    """Why a record was left out, in the reader's language."""
    if reason in REASONS:
        return _t(REASONS[reason], lang)
    if reason.endswith(" on the as-of date"):
        st = status_text(reason.removesuffix(" on the as-of date"), lang)
        return f"评价日状态为“{st}”" if lang != "en" else f"{st[:1].lower()}{st[1:]} on the as-of date"
    return reason


def status_text(status: str, lang: str) -> str:
    """A record's status by the records domain's own label."""
    return _t(STATUSES.get(status, (status, status)), lang)


# ----------------------------------------------------------------------------- names


class Names:
    """The labels a sentence needs, read once per explanation: catalogue items,
    departments, lists, and each cited record's department and document number."""

    def __init__(self, session: Session, record_ids: set[int], lang: str) -> None:
        self.lang = lang
        self.items = {c: (z, e) for c, z, e in session.execute(
            select(CatalogItem.code, CatalogItem.name_zh, CatalogItem.name_en)).tuples()}
        self.departments = {c: (z, e) for c, z, e in session.execute(
            select(Department.code, Department.name_zh, Department.name_en)).tuples()}
        self.lists = {c: (z, e) for c, z, e in session.execute(
            select(CreditList.code, CreditList.name_zh, CreditList.name_en)).tuples()}
        # items that are ratings -> their scheme (levels named), and each cited record's
        # validity (its publication period: a rating's is its validity)
        self.ratings: dict[str, dict[str, Any]] = {c: r for c, r in session.execute(
            select(CatalogItem.code, CatalogItem.rating).where(CatalogItem.rating.is_not(None))).tuples() if r}
        self.records: dict[int, tuple[str, str | None]] = {}
        self.validity: dict[int, tuple[str | None, str | None]] = {}
        ids = sorted(record_ids)
        for i in range(0, len(ids), 900):
            for rid, dept, doc, start, until in session.execute(
                    select(CreditRecord.id, CreditRecord.department_code, CreditRecord.document_no,
                           CreditRecord.published_from, CreditRecord.published_until)
                    .where(CreditRecord.id.in_(ids[i:i + 900]))).tuples():
                self.records[rid] = (dept, doc)
                self.validity[rid] = (None if start is None else start.isoformat(),
                                      None if until is None else until.isoformat())

    def item(self, code: str) -> str:
        return _t(self.items.get(code, (code, code)), self.lang)

    def department(self, code: str | None) -> str:
        return "" if code is None else _t(self.departments.get(code, (code, code)), self.lang)

    def list_name(self, code: str) -> str:
        return _t(self.lists.get(code, (code, code)), self.lang)


def _nodes(model: EvaluationModel) -> Iterator[tuple[Indicator, Indicator]]:
    """(first-level node, node) for every node of the tree and of the bonuses."""
    for top in [*model.indicators, *model.bonuses]:
        for _depth, n in top.walk():
            yield top, n


def _name(n: Indicator, lang: str, en: dict[str, str]) -> str:
    return (n.name_en or en.get(n.code) or n.name) if lang == "en" else n.name


def _window(w: Window | None, lang: str) -> str:
    en = lang == "en"
    if w is None:
        return "on file" if en else "在案"
    if w.months is not None:
        if w.months % 12 == 0:
            y = w.months // 12
            return ("the last year" if y == 1 else f"the last {y} years") if en else f"近{y}年"
        return f"the last {w.months} months" if en else f"近{w.months}个月"
    return f"the last {w.days} days" if en else f"近{w.days}天"


def _filter_why(f: RecordFilter, names: Names) -> str:
    en = names.lang == "en"
    parts = []
    if f.items:
        labels = "、".join(names.item(c) for c in f.items) if not en else ", ".join(names.item(c) for c in f.items)
        parts.append(f"by item ({labels})" if en else f"按事项（{labels}）")
    if f.severity:
        sv = (", " if en else "、").join(_t(SEVERITIES.get(s, (s, s)), names.lang) for s in f.severity)
        parts.append(f"by severity ({sv})" if en else f"按严重程度（{sv}）")
    if f.polarity and not f.severity:
        pv = (", " if en else "、").join(_t(POLARITIES.get(s, (s, s)), names.lang) for s in f.polarity)
        parts.append(f"by kind ({pv})" if en else f"按性质（{pv}）")
    return (" and " if en else "且").join(parts)


# ----------------------------------------------------------------------------- sentences


def record_label(r: dict[str, Any], names: Names) -> str:
    """A record as a reader knows it: its label, date, department and document number."""
    dept, doc = names.records.get(int(r["id"]), (None, None))
    en = names.lang == "en"
    bits = [b for b in (names.department(dept), (f"No. {doc}" if en else f"文号 {doc}") if doc else "") if b]
    where = (f" ({', '.join(bits)})" if en else f"（{'，'.join(bits)}）") if bits else ""
    if en:
        return f"{names.item(r['item'])} of {r['occurred_on']}{where}"
    return f"{r['occurred_on']} {names.item(r['item'])}{where}"


def _records_sentence(it: dict[str, Any], item: Records, names: Names, name: str) -> str:
    en = names.lang == "en"
    n = int(it["input"].get("records", 0))
    total = Decimal(it["input"].get("sum", "0"))
    base = Decimal(it["input"].get("base", "0"))
    pts = Decimal(it["points"])
    win = _window(item.match.window, names.lang)
    if n == 0:
        return (f"{name}: no such records in {win}; {shown(pts)} points." if en
                else f"{name}：{win}无相关记录，得 {shown(pts)} 分。")
    lost = total < 0
    clamp = "" if base + total == pts else (f", limited to {shown(pts)}" if en else f"，以 {shown(pts)} 分为限")
    recs = [r for r in it["records"] if r.get("points") is not None]
    recs.sort(key=lambda r: (r["occurred_on"], r["id"]), reverse=True)
    if en:
        head = (f"{name}: {n} record{'s' if n != 1 else ''} in {win} {'cost' if lost else 'add'} "
                f"{shown(abs(total))} points (from {shown(base)}, this indicator scores {shown(pts)}{clamp})")
        decay = "; each counts less as it ages" if item.decay is not None else ""
        each = "; ".join(f"{shown(r['points'], sign=True)} for {record_label(r, names)}" for r in recs)
        return f"{head}{decay}: {each}."
    head = (f"{name}：{win}有 {n} 条记录，共{'扣' if lost else '加'} {shown(abs(total))} 分"
            f"（自 {shown(base)} 分起，本项得 {shown(pts)} 分{clamp}）")
    decay = "；记录越久远扣分越少" if item.decay is not None and lost else (
        "；记录越久远加分越少" if item.decay is not None else "")
    each = "；".join(f"{record_label(r, names)} {shown(r['points'], sign=True)}" for r in recs)
    return f"{head}{decay}：{each}。"


def sentence(it: dict[str, Any], node: Indicator, names: Names, english: dict[str, str] | None = None) -> str:
    """One indicator's result in plain words."""
    en = names.lang == "en"
    name = _name(node, names.lang, english or {})
    item = node.item
    pts = shown(it["points"])
    inp = it["input"]
    if isinstance(item, Records):
        return _records_sentence(it, item, names, name)
    if it["missing"]:
        return (f"{name}: no data, counted as {pts} points by the model's rule." if en
                else f"{name}：无数据，按模型规则计 {pts} 分。")
    if isinstance(item, ListPresence):
        hit = [names.list_name(c) for c in inp.get("lists", [])]
        if hit:
            on = ", ".join(hit) if en else "、".join(hit)
            return f"{name}: on {on}; {pts} points." if en else f"{name}：列入{on}，计 {pts} 分。"
        return f"{name}: on none of these lists; {pts} points." if en else f"{name}：未列入相关名单，计 {pts} 分。"
    rated = ratings.sentence(name, it, pts, names) if it["kind"] in ("grade", "assessment") else None
    if rated is not None:
        return rated
    if isinstance(item, GradeItem):
        rec = record_label(it["records"][0], names) if it["records"] else ""
        return (f"{name}: latest grade {inp.get('grade')} ({rec}); {pts} points." if en
                else f"{name}：最近一次评定为 {inp.get('grade')}（{rec}），得 {pts} 分。")
    if it["kind"] == "ratio":
        good, tot = inp.get("good", 0), inp.get("records", 0)
        pct = shown(Decimal(good) * 100 / Decimal(tot)) if tot else "0.0"
        win = _window(getattr(item, "window", None), names.lang)
        return (f"{name}: {good} of {tot} records within the limit in {win} ({pct}%); {pts} points." if en
                else f"{name}：{win} {tot} 条记录中 {good} 条达标（{pct}%），得 {pts} 分。")
    if it["kind"] == "assessment":
        agg = _t(AGGREGATES.get(inp.get("aggregate", ""), ("", "")), names.lang)
        return (f"{name}: {agg} value {inp.get('value')}; {pts} points." if en
                else f"{name}：{agg}为 {inp.get('value')}，得 {pts} 分。")
    if isinstance(item, AttributeBand) and item.derived == "established_years":
        return (f"{name}: established {inp.get('years')} years ago ({inp.get('established_on')}); {pts} points."
                if en else f"{name}：成立 {inp.get('years')} 年（{inp.get('established_on')}），得 {pts} 分。")
    if isinstance(item, AttributeBand) and item.derived == "age":
        age = inp.get("age")
        age_s = "—" if age is None else str(int(age))
        return f"{name}: age {age_s}; {pts} points." if en else f"{name}：年龄 {age_s} 岁，得 {pts} 分。"
    value = next((v for v in inp.values()), None)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{name}: {value}; {pts} points." if en else f"{name}：{value}，得 {pts} 分。"


# ----------------------------------------------------------------------------- the whole


def narrate(session: Session, e: dict[str, Any], model: EvaluationModel, lang: str = "zh") -> dict[str, Any]:
    """`e` (an `Explanation.as_dict()`) with the reader's words added beside its codes
    and exact values: per item `label`, `dimension`, `points_display`, `sentence` and
    per record `label`, `department_name`, `document_no`, `points_display`; `notes`
    (a record counted twice), `summary`, `waterfall`, and `reason_text` on excluded
    records. Nothing already in `e` changes."""
    lang = "en" if lang == "en" else "zh"
    out = dict(e)
    results = [*e["items"], *e["bonuses"]]
    ids = {int(r["id"]) for it in results for r in it["records"]} | {int(r["id"]) for r in e["excluded_records"]}
    ids |= {int(r["id"]) for o in e["overrides"] for r in o["evidence"] if "item" in r}
    names = Names(session, ids, lang)
    nodes = {n.code: (top, n) for top, n in _nodes(model)}
    english = english_names(model.name)
    signed = model.aggregation.mode == "points"  # points are added to a base: show their sign

    def enrich(it: dict[str, Any]) -> dict[str, Any]:
        top, node = nodes[it["code"]]
        recs = []
        for r in it["records"]:
            dept, doc = names.records.get(int(r["id"]), (None, None))
            recs.append({**r, "label": names.item(r["item"]), "department_name": names.department(dept),
                         "document_no": doc, "description": record_label(r, names),
                         "points_display": None if r.get("points") is None else shown(r["points"], sign=True)})
        return {**it, "records": recs, "label": _name(node, lang, english), "dimension": _name(top, lang, english),
                "points_display": shown(it["points"], sign=signed), "sentence": sentence(it, node, names, english)}

    out["items"] = [enrich(i) for i in e["items"]]
    out["bonuses"] = [enrich(i) for i in e["bonuses"]]
    out["excluded_records"] = [{**r, "label": names.item(r["item"]), "description": record_label(r, names),
                                "reason_text": ratings.reason(r, reason_text(r.get("reason", ""), lang), names)}
                               for r in e["excluded_records"]]
    out["notes"] = _double_counts(out["items"] + out["bonuses"], nodes, names)
    out["overrides"] = [{**o, "label": o["name"] if lang == "zh" else
                         (_override_en(model, o["code"]) or english.get(o["code"]) or o["name"])}
                        for o in e["overrides"]]
    colour = _t(COLOURS.get(e["colour"], (e["colour"], e["colour"])), lang)
    out["colour_label"] = colour
    out["model_title"] = (model.title_en or model.title) if lang == "en" else model.title
    out["summary"] = (f"Score {e['score']}, grade {_grade_en(model, e['grade'])} ({colour}) by {out['model_title']} "
                      f"as of {e['as_of']}." if lang == "en" else
                      f"按「{out['model_title']}」，截至 {e['as_of']} 得分 {e['score']}，等级 {e['grade']}（{colour}）。")
    fired = [o for o in out["overrides"] if o["triggered"]]
    for o in fired:
        out["summary"] += (f" Override “{o['label']}”: the grade is at most {_grade_en(model, o['cap_grade'])}."
                           if lang == "en"
                           else f"一票否决「{o['label']}」：等级不高于 {o['cap_grade']}。")
        why = [ratings.phrase(r, names) for r in o["evidence"] if "item" in r and ratings.is_rating(r["item"], names)]
        if why:
            out["summary"] += (f" (The rating: {'; '.join(why)}.)" if lang == "en" else f"（依据：{'；'.join(why)}。）")
    # the ratings behind the grade, each named by issuer, level, date and validity
    out["ratings"] = ratings.behind(out["items"] + out["bonuses"], out["overrides"], names)
    out["waterfall"] = waterfall(e, model, lang, english)
    out["steps_line"] = steps_line(out["waterfall"], e["score"], lang)
    return out


def steps_line(w: dict[str, Any], score: object, lang: str) -> str:
    """The waterfall in one sentence, where the score comes from: the model's base (or
    full marks), each dimension's and bonus's points, the score ("基础分 80.0；公共信用
    0.0；得分 80.00。"). The own view, the file page and the report say it alike."""
    comma, sep, end = (", ", "; ", ".") if lang == "en" else ("，", "；", "。")
    label = w["labels"]["base"]
    parts = [f"{label[:1].upper()}{label[1:]} {shown(w['base'])}"]
    if w["steps"]:
        parts.append(comma.join(f"{s['name']} {shown(s['exact'], sign=True)}" for s in w["steps"]))
    parts.append(f"{w['labels']['total']} {score}")
    return sep.join(parts) + end


def _override_en(model: EvaluationModel, code: str) -> str | None:
    return next((o.name_en for o in model.overrides if o.code == code), None)


def _double_counts(items: list[dict[str, Any]], nodes: dict[str, tuple[Indicator, Indicator]],
                   names: Names) -> list[str]:
    """A note for each record that gives points in more than one indicator: each
    indicator chooses records by its own rule, so one fact can answer two questions."""
    en = names.lang == "en"
    where: dict[int, list[dict[str, Any]]] = {}
    recs: dict[int, dict[str, Any]] = {}
    for it in items:
        for r in it["records"]:
            if r.get("points") is not None:
                where.setdefault(int(r["id"]), []).append(it)
                recs[int(r["id"])] = r
    notes = []
    for rid, its in where.items():
        if len(its) < 2:
            continue
        parts = []
        for it in its:
            node = nodes[it["code"]][1]
            why = _filter_why(node.item.match, names) if isinstance(node.item, Records) else ""
            pts = next(r["points"] for r in it["records"] if int(r["id"]) == rid)
            parts.append((it["label"], why, shown(pts, sign=True)))
        label = record_label(recs[rid], names)
        if en:
            listed = " and ".join(f"“{n}” ({p}, chosen {w})" for n, w, p in parts)
            notes.append(f"{label} counts in {listed}: each indicator selects records by its own rule, "
                         f"so the model weighs the same fact under each question it asks.")
        else:
            listed = "和".join(f"「{n}」（{p}，{w}选取）" for n, w, p in parts)
            notes.append(f"{label} 同时计入{listed}：各指标按自己的规则选取记录，"
                         f"模型对同一事实从不同方面分别评价。")
    return notes



def _grade_en(model: EvaluationModel, grade: str) -> str:
    """A grade as an English sentence says it: a letter grade as it is, one written in
    Chinese characters (Changxing's 优/良/差) by its band in the model (Excellent …)."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in grade):
        return grade
    band = next((g.band for g in model.grades if g.label == grade and g.band), None)
    return band.capitalize() if band else grade

def waterfall(e: dict[str, Any], model: EvaluationModel, lang: str,
              english: dict[str, str] | None = None) -> dict[str, Any]:
    """From the model's base to the score: a points model starts at its base and each
    first-level dimension adds or takes its subtotal; a weighted model starts at full
    marks and each dimension takes what it lost, weighted by its share. Bonuses are
    steps of their own; what range limits and rounding change is a last step, so the
    bars end at the score. Values are exact (`exact`) and rounded (`value`, 0.1)."""
    en = lang == "en"
    english = english or {}
    agg = model.aggregation
    steps: list[dict[str, Any]] = []
    if agg.mode == "weighted":
        base = Decimal(agg.scale)
        total_w = sum((t.weight or Decimal(0)) for t in model.indicators) or Decimal(1)
        for t in model.indicators:
            d = Decimal(e["dimensions"].get(t.code, "100"))
            lost = -(Decimal(100) - d) * (t.weight or Decimal(0)) / total_w * Decimal(agg.scale) / 100
            steps.append({"code": t.code, "name": _name(t, lang, english), "exact": str(lost.quantize(Decimal("0.001")))})
    else:
        base = agg.base
        for t in model.indicators:
            steps.append({"code": t.code, "name": _name(t, lang, english), "exact": e["dimensions"].get(t.code, "0")})
    for b in e["bonuses"]:
        node = next(n for _top, n in _nodes(model) if n.code == b["code"])
        steps.append({"code": b["code"], "name": _name(node, lang, english), "exact": b["points"]})
    score = Decimal(e["score"])
    rest = score - base - sum(Decimal(s["exact"]) for s in steps)
    if abs(rest) >= Decimal("0.05"):
        steps.append({"code": "range", "name": "score range and rounding" if en else "分数范围与取整",
                      "exact": str(rest)})
    for s in steps:
        s["value"] = float(Decimal(s["exact"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return {"base": float(base), "steps": steps, "total": float(score),
            "labels": {"base": ("full marks" if agg.mode == "weighted" else "base") if en
                       else ("满分" if agg.mode == "weighted" else "基础分"),
                       "total": "score" if en else "得分"}}
