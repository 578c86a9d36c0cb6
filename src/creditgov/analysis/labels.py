"""The refusals of the regional analysis page (区域信用分析), by the code the service
gives them. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

REFUSALS: Names = {
    "analysis.trend.no_run": ("还没有已发布的评价结果，暂时无法显示趋势。",
                              "No model has a published evaluation yet, so there is no trend to show."),
    "analysis.grade.no_model": ("信用等级分布要按评价模型查看，请选择一个已发布评价结果的模型。",
                                "Grades are shown per evaluation model; choose a model with a published "
                                "evaluation."),
}

LABELS = {"refusal": REFUSALS}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "analysis.export": ("导出信用分析", "Analysis exported"),
}
