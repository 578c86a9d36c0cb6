"""PNG charts of the analyses, with Chinese labels.

Why a font search: matplotlib's default fonts have no Chinese glyphs and silently draw
boxes. We look for a CJK font installed by the system packages (`scripts/system-deps.sh`
installs fonts-wqy-zenhei; Noto Sans CJK also works), or the file named by
`CREDITGOV_CJK_FONT`, register it, and refuse to draw without one.
"""

from __future__ import annotations

import glob
import logging
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from creditgov.core.errors import ConfigError

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
COLOUR_HEX = {"green": "#2e9e44", "yellow": "#f2b705", "red": "#d7263d"}
COLOUR_ZH = {"green": "绿码", "yellow": "黄码", "red": "红码"}
SEVERITY_ZH = {"info": "提示", "low": "低", "medium": "中", "high": "高", "critical": "严重"}
OUTCOME_ZH = {"passed": "未发现问题", "problems": "发现问题", "penalty": "行政处罚", "pending": "待检查"}
WHAT_ZH = {"grade": "信用等级", "colour": "三色码", "alerts": "预警", "inspections": "检查结果"}
BY_ZH = {"street": "街道(乡镇)", "grid": "网格", "industry": "行业", "kind": "主体类型"}


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The path of a font with Chinese glyphs."""
    wanted = os.environ.get("CREDITGOV_CJK_FONT")
    paths = [wanted] if wanted else [*CANDIDATES, *sorted(glob.glob("/usr/share/fonts/**/*CJK*.tt[cf]",
                                                                     recursive=True))]
    for p in paths:
        if p and Path(p).is_file():
            return p
    raise ConfigError("no Chinese font found for the charts: install fonts-wqy-zenhei (scripts/system-deps.sh) "
                      "or set CREDITGOV_CJK_FONT to a .ttc/.ttf/.otf with CJK glyphs")


@lru_cache(maxsize=1)
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    # WenQuanYi Zen Hei registers as weight 500; matplotlib logs a fallback note for
    # every text asking for "normal" and then uses it anyway. Keep its log for errors.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    path = cjk_font()
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    plt.rcParams["font.family"] = [name]
    plt.rcParams["axes.unicode_minus"] = False
    # Labels are data (region, industry and grid names): a `$` in one must print as
    # a dollar sign, not start mathtext (whose parser fails on unbalanced input).
    plt.rcParams["text.parse_math"] = False
    return plt


def _save(fig: Any, path: Path) -> Path:
    """Save, and fail if any glyph was missing (a chart of boxes is no chart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(path, dpi=120, bbox_inches="tight")
    _pyplot().close(fig)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message).lower()]
    if missing:
        raise ConfigError(f"the chart font lacks glyphs: {missing[0]}")
    return path


def _label(what: str, cat: str) -> str:
    if what == "colour":
        return COLOUR_ZH.get(cat, cat)
    if what == "alerts":
        return SEVERITY_ZH.get(cat, cat)
    if what == "inspections":
        return OUTCOME_ZH.get(cat, cat)
    return cat


def distribution_chart(dist: dict[str, Any], path: Path, *, title: str | None = None) -> Path:
    """Stacked bars: one bar per group, one segment per category."""
    plt = _pyplot()
    rows = dist["rows"]
    names = [r["name"] for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(rows) + 2), 4.8))
    bottom = [0] * len(rows)
    for i, cat in enumerate(dist["categories"]):
        vals = [r["counts"].get(cat, 0) for r in rows]
        colour = COLOUR_HEX.get(cat) if dist["what"] == "colour" else plt.get_cmap("RdYlGn_r")(
            i / max(1, len(dist["categories"]) - 1))
        ax.bar(names, vals, bottom=bottom, label=_label(dist["what"], cat), color=colour)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    what, by = WHAT_ZH.get(dist["what"], dist["what"]), BY_ZH.get(dist["by"], dist["by"])
    extra = f"（{dist['model']}，{dist['as_of']}）" if dist.get("model") else ""
    ax.set_title(title or f"按{by}统计的{what}分布{extra}")
    ax.set_ylabel("主体数")
    ax.legend(title=what, fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", fontsize=8)
    return _save(fig, path)


def trend_chart(tr: dict[str, Any], path: Path, *, title: str | None = None) -> Path:
    """Grade shares per run (lines) and the mean score (second axis)."""
    plt = _pyplot()
    xs = [p["as_of"] for p in tr["runs"]]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for g in tr["grades"]:
        ax.plot(xs, [100 * p["shares"].get(g, 0) for p in tr["runs"]], marker="o", label=f"{g} 级占比")
    ax.set_ylabel("占比 (%)")
    ax2 = ax.twinx()
    ax2.plot(xs, [p["mean_score"] for p in tr["runs"]], color="black", linestyle="--", label="平均分")
    ax2.set_ylabel("平均分")
    ax.set_title(title or f"{tr['model']} 历次评价趋势")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="upper right", fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right", fontsize=8)
    return _save(fig, path)


def risk_chart(risk: dict[str, Any], path: Path, *, top: int = 20, title: str | None = None) -> Path:
    """The riskiest grids by risk index, with what makes it up."""
    plt = _pyplot()
    rows = risk["rows"][:top][::-1]
    names = [f"{r['street']} {r['name']}" for r in rows]
    fig, ax = plt.subplots(figsize=(8, max(3.5, 0.35 * len(rows) + 1.5)))
    left = [0.0] * len(rows)
    parts = (("arrears_share", "水电欠费主体"), ("late_bill_share", "逾期缴费账单"),
             ("overdue_loan_share", "贷款逾期主体"), ("red_share", "红码主体"))
    for k, label in parts:
        vals = [100 * risk["weights"][k] * min(1.0, r[k]) for r in rows]
        ax.barh(names, vals, left=left, label=label)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("风险指数 (0–100)")
    ax.set_title(title or f"网格风险研判（近{risk['months']}个月，截至{risk['on']}）")
    ax.legend(fontsize=8)
    plt.setp(ax.get_yticklabels(), fontsize=8)
    return _save(fig, path)
