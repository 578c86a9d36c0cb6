"""Labels of joint measures and check scenarios (data/measures.yaml,
data/scenarios.yaml, and the store's copies) and measure kinds. Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.catalog.labels import stored
from creditgov.core.labels import Names, Table
from creditgov.measures.catalogue import MEASURES, SCENARIOS


def _measures() -> Names:
    return {m.code: (m.name_zh, m.name_en) for m in MEASURES.shipped().measures}


def _scenarios() -> Names:
    return {s.code: (s.name_zh, s.name_en) for s in SCENARIOS.shipped().scenarios}


# The refusals an officer meets running a credit check, by the code the services give them.
REFUSALS: Names = {
    "measures.scenario.unknown": ("没有核查场景“{scenario}”，请从列表中选择核查场景。",
                                  "There is no check scenario “{scenario}”; choose one from the list."),
    "measures.scenario.not_checked": ("核查场景“{scenario:scenario}”不适用于{kind:subject_kind}，不能对其核查。",
                                      "The scenario “{scenario:scenario}” does not check a subject of the kind "
                                      "“{kind:subject_kind}”: {why}"),
    "measures.scenario.no_model": ("核查场景“{scenario:scenario}”没有为{kind:subject_kind}设置评价模型，请联系管理员。",
                                   "The scenario “{scenario:scenario}” names no model for the kind “{kind:subject_kind}”; "
                                   "ask the administrator to reload the scenarios."),
}

LABELS = {
    "refusal": REFUSALS,
    "measure": (_measures, Table(stored("measures"))),
    "scenario": (_scenarios, Table(stored("check_scenarios"))),
    "measure_kind": {"incentive": ("激励措施", "Incentive"), "punishment": ("惩戒措施", "Punishment"),
                     "supervision": ("监管措施", "Supervision")},
}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "measures.load": ("载入联合奖惩措施", "Measures loaded"),
    "check": ("信用核查", "Credit check"),
    "check.feedback": ("反馈措施落实情况", "Measure feedback given"),
    "checks.export": ("导出信用核查", "Credit checks exported"),
}
