"""Labels of supervision's codes: a policy (its title) and its bands, a task's status,
kind and outcome, an inspector's kind, a draw's status, a campaign's status and its
targets' sources. Registered by `bootstrap.wire()`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from creditgov.core.labels import Names, Table

# The refusals an inspector or a department meets on the supervision pages, by the
# code the services give them.
REFUSALS: Names = {
    "supervision.task.cancelled": ("检查任务 #{id} 已取消，不能登记结果。", "Task #{id} was cancelled."),
    "supervision.task.no_policy": ("检查任务 #{id} 不属于任何监管方案，没有可登记的结果项：请通过本部门的数据来源报送检查结果。",
                                   "Task #{id} has no policy, so no result items: record its findings through the "
                                   "department's own source."),
    "supervision.task.no_penalty": ("该监管方案不在此登记处罚：处罚由作出决定的部门作为其自身的信用记录报送。",
                                    "This policy records no penalties: the deciding department's penalty is its own "
                                    "record."),
    "supervision.task.penalty_incomplete": ("登记处罚须填写罚款金额和处罚决定书文号。",
                                            "A penalty needs its amount and the decision's document number."),
    "supervision.task.no_finding": ("发现问题须填写问题描述。", "Problems found need a description."),
    "supervision.task.not_yours": ("只有指派给检查任务 #{id} 的检查人员（{inspectors}）、实施部门（{department:department}）"
                                   "或信用办可以登记这项检查的结果。",
                                   "Only the inspectors assigned to task #{id} ({inspectors}), the inspecting "
                                   "department ({department:department}) or the credit office may record its result."),
    "supervision.task.not_yours_unassigned": ("检查任务 #{id} 尚未指派检查人员：只有实施部门（{department:department}）"
                                              "或信用办可以登记这项检查的结果。",
                                              "Task #{id} is not assigned to any inspector yet: only the inspecting "
                                              "department ({department:department}) or the credit office may record "
                                              "its result."),
    "supervision.task.no_reason": ("取消检查任务须填写理由。", "Cancelling a task needs a reason."),
    "supervision.task.not_open": ("检查任务 #{id} 已是“{status:task_status}”状态。",
                                  "Task #{id} is already “{status:task_status}”."),
    "supervision.task.due_early": ("任务的完成期限不能早于检查活动的开始日期。",
                                   "A task cannot be due before the campaign starts."),
    "supervision.task.reassign_no_reason": ("改派检查任务须填写理由。", "Re-assigning a task needs a reason."),
    "supervision.task.no_assignees": ("请填写改派给哪些检查人员（检查人员编号）。",
                                      "Name the inspectors the task goes to (their codes)."),
    "supervision.task.same_assignees": ("检查任务 #{id} 已由这些检查人员承担，无需改派。",
                                        "Task #{id} is already assigned to these inspectors."),
    "supervision.task.unknown_inspectors": ("没有在岗的检查人员“{inspectors}”，请核对检查人员编号。",
                                            "No inspector “{inspectors}” is on duty; check the inspectors' codes."),
    "supervision.task.own_region": ("检查人员“{inspectors}”在被检查对象所在区域工作，按回避规定不能承担这项检查。",
                                    "Inspector(s) “{inspectors}” work in the subject's own region and must stand "
                                    "aside from this inspection."),
    "supervision.task.not_in_pool": ("检查人员“{inspectors}”不在监管方案“{policy:supervision_policy}”抽取的检查人员库（或人员类别）中。",
                                     "Inspector(s) “{inspectors}” are not among the inspectors “{policy:supervision_policy}” "
                                     "draws from (its pool and kinds)."),
    "supervision.task.previous_inspectors": ("检查人员“{inspectors}”上一次检查过该对象，按回避规定不能再承担这项检查。",
                                             "Inspector(s) “{inspectors}” inspected this subject last time and must "
                                             "stand aside from this inspection."),
    "supervision.task.load_cap": ("检查人员“{inspectors}”在本次抽查中已承担 {max} 项检查任务，达到监管方案规定的上限。",
                                  "Inspector(s) “{inspectors}” already hold {max} tasks of this draw, the policy's "
                                  "limit."),
    "supervision.task.not_grid_worker": ("“{inspectors}”不是被巡查对象所在网格的网格员：网格巡查只能交给本网格的网格员。",
                                         "“{inspectors}” are not grid workers of the subject's grid: a patrol goes to "
                                         "its grid's workers."),
    "supervision.task.team_size": ("按监管方案，每项检查由 {n} 名检查人员承担，本次选了 {given} 名。",
                                   "Under the policy an inspection is carried out by {n} inspectors; {given} were "
                                   "chosen."),
    "supervision.campaign.code": ("检查活动编号须为 1–40 个字母、数字或“-”“_”“.”。",
                                  "A campaign code is 1–40 letters, digits, '-', '_' or '.'."),
    "supervision.campaign.no_title": ("检查活动须填写名称和所依据的文件。",
                                      "A campaign needs a title and the notice it carries out."),
    "supervision.campaign.dates": ("检查活动的结束日期不能早于开始日期。", "A campaign cannot end before it starts."),
    "supervision.campaign.other_policy": ("该监管方案属于{department:department}：部门只能按本部门的方案开展检查活动。",
                                          "This policy belongs to {department:department}: a department opens "
                                          "campaigns under its own policies."),
    "supervision.campaign.exists": ("检查活动编号“{code}”已被使用。", "Campaign code “{code}” is already used."),
    "supervision.campaign.closed": ("检查活动“{code}”已结束。", "Campaign “{code}” is closed."),
    "supervision.campaign.open_tasks": ("检查活动“{code}”还有 {count} 个任务未完成：请先登记检查结果，或选择同时取消未完成的任务。",
                                        "{count} task(s) of campaign “{code}” are still open: record their results "
                                        "or close it cancelling them."),
    "supervision.targets.no_grades": ("按评价等级选取对象，须选择评价模型和至少一个等级。",
                                      "Targets from grades need a model and one or more grades."),
    "supervision.targets.no_run": ("评价模型“{model:model}”还没有已发布的评价结果。",
                                   "Model “{model:model}” has no published run."),
    "supervision.targets.no_lists": ("按信用名单选取对象，须选择至少一个名单。", "Targets from lists need one or more lists."),
    "supervision.targets.unknown_lists": ("没有编码为“{lists}”的信用名单，请核对名单编码。",
                                          "There is no credit list “{lists}”; check the list codes."),
    "supervision.campaign.not_found": ("找不到检查活动 #{id}，或它不在您的数据范围内。",
                                       "Campaign #{id} was not found, or is outside your data scope."),
    "supervision.campaign.unknown_inspectors": ("没有在岗的检查人员“{inspectors}”，请核对检查人员编号。",
                                                "No inspector “{inspectors}” is on duty; check the inspectors' codes."),
    "supervision.policy.not_found": ("找不到监管方案“{name}”，请从列表中选择监管方案。",
                                     "There is no supervision policy “{name}”; choose one from the list."),
    "supervision.region.unknown": ("找不到区域“{region}”，请核对区域编码。", "There is no region “{region}”; check its code."),
    "supervision.region.out_of_scope": ("找不到区域“{region}”，或它不在您的数据范围内。",
                                        "Region “{region}” was not found, or is outside your data scope."),
    "supervision.draw.bad_seed": ("随机种子须是不超过 {max} 位的整数（只能填数字），也可以不填，由系统生成。",
                                  "A seed is a whole number of at most {max} digits, or leave it empty to get one."),
    "supervision.draw.not_found": ("找不到抽查 #{id}。", "Draw #{id} was not found."),
    "supervision.task.not_found": ("找不到检查任务 #{id}，或它不在您的数据范围内。",
                                   "Inspection task #{id} was not found, or is outside your data scope."),
    "supervision.task.refused": ("检查结果未能生成信用记录：{reason:quarantine_reason}。请核对后重新登记。",
                                 "The result could not become a credit record ({reason:quarantine_reason}): {why}"),
    "supervision.other_department": ("这项监管事项属于{department:department}，您只能办理本部门的监管事项。",
                                     "This belongs to {department:department}; you act on your own department's "
                                     "supervision only."),
}


def _titles(policies: Iterable[dict[str, Any]]) -> Names:
    return {p["name"]: (p["title"], p.get("title_en") or p["title"]) for p in policies}


def _bands(policies: Iterable[dict[str, Any]]) -> Names:
    """A band by its label (`at-least-85`), in words where the policy names it; the
    first policy naming a label names it for all (the shipped ones agree: A is A)."""
    out: dict[str, tuple[str, str]] = {}
    for p in policies:
        for b in p.get("bands") or ():
            zh, en = b.get("name_zh"), b.get("name_en")
            if zh or en:
                out.setdefault(b["label"], (zh or en, en or zh))
    return out


def _shipped() -> list[dict[str, Any]]:
    from creditgov.supervision.service import read_policies

    return [p.model_dump(mode="json") for p in read_policies().policies]


def _stored(conn: Connection) -> list[dict[str, Any]]:
    """The policies a store holds, as their stored definitions (JSON of `PolicyDef`)."""
    return [json.loads(d) for (d,) in conn.execute(text("SELECT definition FROM supervision_policies ORDER BY name"))]


LABELS: dict[str, Any] = {
    # A policy by its title, a band by its name: the shipped file's, then the store's own
    # (a deployment loads its own policies with `creditgov supervise policies load`).
    "supervision_policy": (lambda: _titles(_shipped()), Table(lambda conn: _titles(_stored(conn)))),
    "supervision_band": (lambda: _bands(_shipped()), Table(lambda conn: _bands(_stored(conn)))),
    "refusal": REFUSALS,
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

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "supervision.policies.load": ("载入分级监管政策", "Supervision policies loaded"),
    "supervision.inspectors.load": ("载入检查人员名录", "Inspectors loaded"),
    "supervision.draw": ("双随机抽取", "Random draw"),
    "supervision.patrol.assign": ("分派巡查任务", "Patrol assigned"),
    "supervision.result": ("录入检查结果", "Inspection result recorded"),
    "supervision.task.cancel": ("取消检查任务", "Inspection task cancelled"),
    "supervision.task.reassign": ("改派检查任务", "Inspection task reassigned"),
    "supervision.campaign.create": ("创建专项整治", "Campaign created"),
    "supervision.campaign.targets": ("确定整治对象", "Campaign targets added"),
    "supervision.campaign.tasks": ("分派整治任务", "Campaign tasks assigned"),
    "supervision.campaign.close": ("结束专项整治", "Campaign closed"),
    "supervision.export": ("导出检查任务", "Inspection tasks exported"),
}
