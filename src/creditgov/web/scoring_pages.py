"""Scoring pages: the evaluation models (评价模型) with a side-by-side comparison of two
versions, and the evaluation runs (评价批次). A subject's score explained is on its
credit file (`web/subject_pages.py`); the rules of every page module are in
`web/pages.py`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgov.api.deps import DB, Who
from creditgov.scoring import model as M
from creditgov.scoring import service as scoring_service
from creditgov.scoring.narrative import english_names
from creditgov.security.scopes import authorize
from creditgov.web import i18n
from creditgov.web.render import _, clauses, label, listed, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# ----------------------------------------------------------------------------- models and runs


@router.get("/models")
def models_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "models.read")
    return render(request, "models.html", {"versions": scoring_service.versions(session)})


def _flat(tree: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(n: dict[str, Any]) -> None:
        kids = n.get("children") or []
        out[n["code"]] = json.dumps({k: v for k, v in n.items() if k != "children"}, sort_keys=True)
        for c in kids:
            walk(c)

    for n in tree.get("indicators", []):
        walk(n)
    return out


# ----------------------------------------------------------------------------- a model's tree in words
# What the model file says in codes (`records`, `{"months": 12}`, `cap_grade`), said in the
# page's language: each item what it counts and how it scores, each veto when it holds and
# the grade it caps, names in English where the pack or `scoring/data/indicator_names.yaml`
# gives them.


def _pts(v: Decimal | int | float) -> str:
    """A number of points as written: no trailing zeros, a real minus sign."""
    d = Decimal(str(v))
    text = f"{abs(d).normalize():,f}"
    return ("\u2212" if d < 0 else "") + text


def _window(w: M.Window | None) -> str:
    if w is None:
        return _("不限时间")
    if w.months is not None:
        if w.months % 12 == 0:
            return _("近一年") if w.months == 12 else _("近%(n)s年", n=w.months // 12)
        return _("近%(n)s个月", n=w.months)
    return _("近%(n)s天", n=w.days)


def _range(b: M.Band, share: bool = False) -> str:
    def v(x: Decimal) -> str:
        return f"{_pts(x * 100)}%" if share else _pts(x)

    if b.min is not None and b.max is not None:
        return _("≥ %(min)s 且 < %(max)s", min=v(b.min), max=v(b.max))
    if b.min is not None:
        return f"≥ {v(b.min)}"
    if b.max is not None:
        return f"< {v(b.max)}"
    return _("其他")


def _bands(bands: list[M.Band], default: Decimal | None = None, share: bool = False) -> str:
    parts = [_("%(when)s：%(n)s 分", when=_range(b, share), n=_pts(b.points)) for b in bands]
    if default is not None and all(b.min is not None or b.max is not None for b in bands):
        parts.append(_("%(when)s：%(n)s 分", when=_("其他"), n=_pts(default)))
    return clauses(parts)


def _what(f: M.RecordFilter) -> str:
    """Which records a filter takes: its items, else its severities or kinds."""
    if f.items:
        what = listed(label("item", c) for c in f.items)
    elif f.severity:
        what = listed(label("severity", c) for c in f.severity)
    else:
        what = listed(label("polarity", c) for c in f.polarity)
    if f.grades:
        what += _("（等级为 %(g)s）", g=listed(label("grade", g) for g in f.grades))
    return what


def _missing(m: M.Missing) -> str:
    how = {"lowest": _("最低分值"), "highest": _("最高分值")}.get(str(m)) or _("%(n)s 分", n=_pts(Decimal(str(m))))
    return _("无数据时：%(how)s", how=how)


def _item(it: Any) -> list[str]:
    """An item in sentences: what it reads, how it scores, what it gives without data."""
    if isinstance(it, M.Records):
        out = [_("%(what)s的记录（%(window)s）", what=_what(it.match), window=_window(it.match.window))]
        out.append(_("每条 %(n)s 分", n=_pts(it.points)) if it.measure == "count"
                   else _("按记录数值每 %(unit)s 计 %(n)s 分", unit=_pts(it.unit), n=_pts(it.points)))
        if it.base:
            out.append(_("起点 %(n)s 分", n=_pts(it.base)))
        if it.cap is not None:
            out.append(_("最多 %(n)s 分", n=_pts(it.cap)))
        if it.floor is not None:
            out.append(_("最少 %(n)s 分", n=_pts(it.floor)))
        if it.decay is not None:
            out.append(_("按半衰期 %(n)s 天逐渐递减", n=it.decay.half_life_days))
        return out
    if isinstance(it, M.GradeItem):
        grades = listed(_("%(what)s 得 %(n)s 分", what=label("grade", g), n=_pts(p)) for g, p in it.map.items())
        return [_("%(item)s的最近一次等级（%(window)s）", item=label("item", it.item), window=_window(it.window)),
                grades, _missing(it.missing)]
    if isinstance(it, M.Ratio):
        share = _("%(item)s中数值不超过 %(good)s 的记录所占比例（%(window)s）", item=label("item", it.item),
                  good=_pts(it.good_max), window=_window(it.window))
        if it.min_records > 1:
            share += _("，少于 %(n)s 条记录视为无数据", n=it.min_records)
        return [share,
                _bands(it.bands, it.default, share=True), _missing(it.missing)]
    if isinstance(it, M.Assessment):
        agg = {"latest": _("最近一次"), "mean": _("平均"), "min": _("最低"), "max": _("最高")}[it.aggregate]
        how = (_bands(it.bands) if it.bands else _("按数值计分") if it.factor == 1
               else _("按数值 × %(f)s 计分", f=_pts(it.factor)))
        return [_("%(item)s的%(agg)s值（%(window)s）", item=label("item", it.item), agg=agg, window=_window(it.window)),
                how, _missing(it.missing)]
    if isinstance(it, M.AttributeBand):
        what = {"established_years": _("成立年限（整年）"), "age": _("年龄")}.get(it.derived or "", _("主体登记的数值"))
        return [_("按%(what)s分档", what=what), _bands(it.bands, it.default), _missing(it.missing)]
    if isinstance(it, M.CategoryMap):
        kind = {"kind": "subject_kind", "industry": "industry"}.get(it.field or "", "")
        what = {"kind": _("主体类型"), "industry": _("行业")}.get(it.field or "", _("主体登记的类别"))
        cats = listed(_("%(what)s 得 %(n)s 分", what=label(kind, c) if kind else c, n=_pts(p)) for c, p in it.map.items())
        return [_("按%(what)s计分", what=what), cats, _("%(when)s：%(n)s 分", when=_("其他"), n=_pts(it.default)),
                _missing(it.missing)]
    if isinstance(it, M.ListPresence):
        return [_("列入%(lists)s：%(n)s 分；未列入：%(absent)s 分", lists=listed(label("list", c) for c in it.lists),
                  n=_pts(it.points), absent=_pts(it.absent))]
    return []


def _node(n: M.Indicator, en: dict[str, str]) -> dict[str, Any]:
    def shown(v: Decimal | None) -> str | None:
        return None if v is None else _pts(v)

    return {"code": n.code, "name": i18n.pick(n.name, n.name_en or en.get(n.code)), "weight": shown(n.weight),
            "min": shown(n.min), "max": shown(n.max), "item": _item(n.item) if n.item is not None else [],
            "children": [_node(c, en) for c in n.children or []]}


def _veto(o: M.Override, en: dict[str, str]) -> dict[str, Any]:
    w = o.when
    if isinstance(w, M.OverrideList):
        when = _("列入%(lists)s", lists=listed(label("list", c) for c in w.lists))
    elif w.latest:
        when = _("%(items)s的最近一条记录等级为 %(grades)s", items=listed(label("item", c) for c in w.items),
                 grades=listed(label("grade", g) for g in w.grades))
    elif w.min_count == 1:
        when = _("有%(what)s的记录（%(window)s）", what=_what(w), window=_window(w.window))
    else:
        when = _("%(what)s的记录（%(window)s）至少 %(n)s 条", what=_what(w), window=_window(w.window), n=w.min_count)
    return {"code": o.code, "name": i18n.pick(o.name, o.name_en or en.get(o.code)), "when": when,
            "cap": _("等级最高为 %(g)s", g=label("grade", o.cap_grade))}


def tree_view(m: M.EvaluationModel) -> dict[str, Any]:
    """The model as the model page shows it, in the page's language."""
    en = english_names(m.name)
    agg = m.aggregation
    how = (_("加权计分：各项 0–100 分，按权重合成，满分 %(n)s 分", n=agg.scale) if agg.mode == "weighted"
           else _("积分制：基础分 %(base)s，加减各项分值，总分限定在 %(min)s–%(max)s 分", base=_pts(agg.base),
                  min=_pts(agg.min), max=_pts(agg.upper)))
    scope = listed([*(label("subject_kind", k) for k in m.scope.kinds), *(label("industry", i) for i in m.scope.industries)])
    return {"name": m.name, "version": m.version, "title": i18n.pick(m.title, m.title_en), "citation": m.citation,
            "how": how, "scope": scope,
            "grades": [{"label": label("grade", g.label), "min": None if g.min is None else _pts(g.min),
                        "colour": g.colour} for g in m.grades],
            "indicators": [_node(n, en) for n in m.indicators], "bonuses": [_node(n, en) for n in m.bonuses],
            "overrides": [_veto(o, en) for o in m.overrides]}


@router.get("/models/compare")
def models_compare(request: Request, who: Who, session: DB, a: Annotated[str, Query(max_length=120)],
                   b: Annotated[str, Query(max_length=120)]) -> Response:
    """Two versions side by side, indicators whose definition differs marked."""
    authorize(who, "models.read")
    ma, mb = scoring_service.get(session, a)[1], scoring_service.get(session, b)[1]
    fa = _flat(ma.model_dump(mode="json", exclude_none=True))
    fb = _flat(mb.model_dump(mode="json", exclude_none=True))
    changed = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
    return render(request, "compare.html", {"a": a, "b": b, "ta": tree_view(ma), "tb": tree_view(mb),
                                            "changed": changed})


@router.get("/models/{ref}")
def model_page(request: Request, ref: str, who: Who, session: DB) -> Response:
    authorize(who, "models.read")
    row, m = scoring_service.get(session, ref)
    return render(request, "model.html", {"ref": f"{row.name}@{row.version}", "status": row.status,
                                          "t": tree_view(m)})


@router.get("/runs")
def runs_page(request: Request, who: Who, session: DB) -> Response:
    authorize(who, "runs.read")
    return render(request, "runs.html", {"runs": scoring_service.runs(session, limit=100)})


__all__ = ["router"]
