"""Labels of the catalogue's codes: departments and items (data/catalog.yaml, and the
store's copy a deployment loaded from its own file), an item's polarity, severity and
data class, the units its values are given in, and a data request's status. Registered
by `bootstrap.wire()`."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from creditgov.catalog.service import CATALOG
from creditgov.core.labels import Names, Table


def _departments() -> Names:
    return {d.code: (d.name_zh, d.name_en) for d in CATALOG.shipped().departments}


def _items() -> Names:
    return {i.code: (i.name_zh, i.name_en) for i in CATALOG.shipped().items}


def stored(table: str) -> Callable[[Connection], Names]:
    """Names a deployment loaded into `table` (code, name_zh, name_en)."""
    def read(conn: Connection) -> Names:
        rows = conn.execute(text(f"SELECT code, name_zh, name_en FROM {table}"))  # noqa: S608 - a fixed table name
        return {c: (zh, en) for c, zh, en in rows}
    return read


POLARITY: Names = {"positive": ("守信", "Positive"), "negative": ("失信", "Negative"),
                   "neutral": ("中性", "Neutral"), "basic": ("基础信息", "Basic")}
SEVERITY: Names = {"minor": ("轻微失信", "Minor"), "general": ("一般失信", "General"),
                   "serious": ("严重失信", "Serious")}
DATA_CLASS: Names = {"public": ("公开", "Public"), "shared": ("共享", "Shared"),
                     "restricted": ("受限", "Restricted"), "secret": ("涉密", "Secret")}
REQUEST_STATUS: Names = {"requested": ("待审批", "Requested"), "approved": ("已批准", "Approved"),
                         "rejected": ("已驳回", "Rejected")}

# The units the catalogue's items give their values in (`unit:`, catalog.yaml), in words:
# the English plural, and (`unit_one`) the singular for a value of exactly one. A unit a
# deployment's own catalogue adds and these do not name is shown as written.
UNIT: Names = {"元": ("元", "yuan"), "天": ("天", "days"), "人": ("人", "people"), "小时": ("小时", "hours"),
               "分": ("分", "points")}
UNIT_ONE: Names = {"天": ("天", "day"), "人": ("人", "person"), "小时": ("小时", "hour"), "分": ("分", "point")}

# Data requests as a workflow (catalog/requests.py): how often, the form's state, each step.
REQUEST_FREQUENCY: Names = {"once": ("一次性", "Once"), "daily": ("每日", "Daily"), "weekly": ("每周", "Weekly"),
                            "monthly": ("每月", "Monthly"), "quarterly": ("每季度", "Quarterly"),
                            "yearly": ("每年", "Yearly")}
REQUEST_FORM_STATUS: Names = {"pending": ("待审批", "Awaiting decisions"), "decided": ("已审批", "Decided")}
REQUEST_ACTION: Names = {"requested": ("提出申请", "Requested"), "approved": ("批准", "Approved"),
                         "rejected": ("驳回", "Rejected"), "imported": ("导入", "Imported")}

# The texts a data request form and a decision ask for (`requests.TEXT_FIELDS`), as a refusal names them.
REQUEST_FIELD: Names = {"request.legal_basis": ("法律依据", "Legal basis"), "request.purpose": ("用途", "Purpose"),
                        "request.reason": ("理由", "Reason")}

# The refusals the data request pages (and a manual entry's department) meet, by the
# code the services give them.
REFUSALS: Names = {
    "catalog.department.unknown": ("数据目录中没有“{department}”这个部门，请从列表中选择。",
                                   "The data catalogue has no department “{department}”; choose one from the list."),
    "catalog.account.no_department": ("您的账号没有设置所属部门，请联系管理员。",
                                      "Your account has no department; ask the administrator to set it."),
    "catalog.request.text_missing": ("请填写{field:request_field}。", "Fill in “{field:request_field}”."),
    "catalog.request.text_long": ("{field:request_field}不能超过 {max} 个字。",
                                  "“{field:request_field}” may be at most {max} characters long."),
    "catalog.request.frequency": ("请从列表中选择报送频率。", "Choose the frequency from the list."),
    "catalog.request.no_items": ("请至少选择一个信息目录项。", "Choose at least one catalogue item."),
    "catalog.item.unknown": ("数据目录中没有“{item}”这一项，请刷新页面后重新选择。",
                             "The data catalogue has no item “{item}”; reload the page and choose again."),
    "catalog.request.other_department": ("“{item:item}”由{owner:department}提供，不能向{department:department}申请。",
                                         "“{item:item}” is supplied by {owner:department}, not by "
                                         "{department:department}."),
    "catalog.request.approved": ("{department:department}已批准提供“{item:item}”，无需再次申请。",
                                 "{department:department} already approved “{item:item}”; there is no need to ask "
                                 "again."),
    "catalog.request.pending": ("已向{department:department}申请“{item:item}”，正在等待审批。",
                                "“{item:item}” is already requested from {department:department} and awaits a "
                                "decision."),
    "catalog.request.not_found": ("找不到数据申请事项 #{id}。", "Data request #{id} was not found."),
    "catalog.request.decided": ("数据申请事项 #{id} 已是“{status:request_status}”状态，不能再审批。",
                                "Data request #{id} is already “{status:request_status}”; it cannot be decided "
                                "again."),
    "catalog.request_form.not_found": ("找不到数据申请单 #{id}。", "Data request form #{id} was not found."),
}

LABELS = {"refusal": REFUSALS, "request_field": REQUEST_FIELD,
          "department": (_departments, Table(stored("departments"))),
          "item": (_items, Table(stored("catalog_items"))),
          "polarity": POLARITY, "severity": SEVERITY, "data_class": DATA_CLASS, "request_status": REQUEST_STATUS,
          "request_frequency": REQUEST_FREQUENCY, "request_form_status": REQUEST_FORM_STATUS,
          "request_action": REQUEST_ACTION, "unit": UNIT, "unit_one": UNIT_ONE}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "catalog.load": ("载入数据目录", "Data catalogue loaded"),
    "catalog.requests.load": ("载入数据需求", "Data requests loaded"),
    "catalog.request.file": ("提交数据需求", "Data request filed"),
    "catalog.request.decide": ("审核数据需求", "Data request decided"),
}
