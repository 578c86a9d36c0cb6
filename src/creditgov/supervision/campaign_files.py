"""A campaign's closing summary as an Excel workbook (openpyxl), in the reader's
language: a sheet of the figures and a sheet of the targets with their tasks and
results. Names are data: a text starting with `=` is stored as text, never a formula,
and characters an .xlsx cannot hold (C0 controls) are dropped."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from creditgov.core import labels

WORDS: dict[str, tuple[str, str]] = {
    "summary": ("总结", "Summary"), "targets": ("对象", "Targets"), "code": ("编号", "Code"),
    "title": ("名称", "Title"), "period": ("期间", "Period"), "status": ("状态", "Status"),
    "basis": ("依据", "Basis"), "n_targets": ("整治对象", "Targets"), "tasks": ("检查任务", "Tasks"),
    "inspected": ("已检查", "Inspected"), "open": ("未完成", "Open"), "cancelled": ("已取消", "Cancelled"),
    "passed": ("未发现问题", "No problems"), "problems": ("发现问题", "Problems found"),
    "penalty": ("行政处罚", "Penalties"), "penalty_total": ("罚款合计（元）", "Penalties total (CNY)"),
    "records_created": ("形成信用记录", "Credit records created"), "subject": ("主体", "Subject"),
    "source": ("来源", "Source"), "reason": ("理由", "Reason"), "task": ("任务", "Task"),
    "outcome": ("结果", "Outcome"), "record": ("信用记录", "Credit record"),
}


def w(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return en if lang == "en" else zh


def _clean(v: Any) -> Any:
    return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v


def _append(ws: Any, row: list[Any]) -> None:
    ws.append([_clean(v) for v in row])
    for c in ws[ws.max_row]:
        if isinstance(c.value, str) and c.value.startswith("="):
            c.data_type = "s"   # text, not a formula


def workbook(view: dict[str, Any], lang: str = "zh") -> bytes:
    s = view["summary"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = w("summary", lang)
    for key, value in (("code", view["code"]), ("title", view["title"]),
                       ("period", f"{view['starts_on']} – {view['ends_on']}"),
                       ("status", labels.label("campaign_status", view["status"], lang)), ("basis", view["basis"]),
                       ("n_targets", s["targets"]), ("tasks", s["tasks"]), ("inspected", s["inspected"]),
                       ("open", s["open"]), ("cancelled", s["cancelled"]), ("passed", s["findings"]["passed"]),
                       ("problems", s["findings"]["problems"]), ("penalty", s["findings"]["penalty"]),
                       ("penalty_total", s["penalty_total"]), ("records_created", s["records_created"])):
        _append(ws, [w(key, lang), value])
    for item, n in s["records_by_item"].items():
        _append(ws, [labels.label("item", item, lang), n])
    t = wb.create_sheet(w("targets", lang))
    _append(t, [w(k, lang) for k in ("subject", "source", "reason", "task", "status", "outcome", "record")])
    for r in s["rows"]:
        why = r["reason"].get(lang) if isinstance(r["reason"], dict) else r["reason"]
        _append(t, [r["subject_name"], labels.label("campaign_target_source", r["source"], lang), why, r["task"],
                    labels.label("task_status", r["status"], lang) if r["status"] else "",
                    labels.label("task_outcome", r["outcome"], lang) if r["outcome"] else "", r["record_id"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
