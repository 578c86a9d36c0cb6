"""Labels of supervision's codes: a task's status, kind and outcome, an inspector's
kind, a draw's status, a campaign's status and its targets' sources. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

LABELS: dict[str, Names] = {
    "task_status": {"assigned": ("待检查", "Assigned"), "done": ("已完成", "Done"), "cancelled": ("已取消", "Cancelled")},
    "task_kind": {"random": ("双随机抽查", "Random inspection"), "patrol": ("网格巡查", "Grid patrol"),
                  "targeted": ("定向检查", "Targeted inspection"), "campaign": ("专项整治检查", "Campaign inspection")},
    "task_outcome": {"passed": ("未发现问题", "No problems found"), "problems": ("发现问题", "Problems found"),
                     "penalty": ("行政处罚", "Administrative penalty"), "pending": ("待检查", "Pending")},
    "inspector_kind": {"inspector": ("检查人员", "Inspector"), "grid_worker": ("网格员", "Grid worker")},
    "campaign_status": {"open": ("进行中", "Open"), "closed": ("已结束", "Closed")},
    "campaign_target_source": {"grade": ("评价等级", "Grade"), "list": ("信用名单", "Credit list"),
                               "query": ("条件查询", "Query")},
    "draw_status": {"drawn": ("已抽取", "Drawn"), "tasked": ("已派发检查任务", "Tasks assigned"),
                    "published": ("已公示", "Published"), "cancelled": ("已取消", "Cancelled")},
}
