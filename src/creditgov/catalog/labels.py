"""Labels of the catalogue's codes: departments and items (data/catalog.yaml, and the
store's copy a deployment loaded from its own file), an item's polarity, severity and
data class, and a data request's status. Registered by `bootstrap.wire()`."""

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

# Data requests as a workflow (catalog/requests.py): how often, the form's state, each step.
REQUEST_FREQUENCY: Names = {"once": ("一次性", "Once"), "daily": ("每日", "Daily"), "weekly": ("每周", "Weekly"),
                            "monthly": ("每月", "Monthly"), "quarterly": ("每季度", "Quarterly"),
                            "yearly": ("每年", "Yearly")}
REQUEST_FORM_STATUS: Names = {"pending": ("待审批", "Awaiting decisions"), "decided": ("已审批", "Decided")}
REQUEST_ACTION: Names = {"requested": ("提出申请", "Requested"), "approved": ("批准", "Approved"),
                         "rejected": ("驳回", "Rejected"), "imported": ("导入", "Imported")}

LABELS = {"department": (_departments, Table(stored("departments"))),
          "item": (_items, Table(stored("catalog_items"))),
          "polarity": POLARITY, "severity": SEVERITY, "data_class": DATA_CLASS, "request_status": REQUEST_STATUS,
          "request_frequency": REQUEST_FREQUENCY, "request_form_status": REQUEST_FORM_STATUS,
          "request_action": REQUEST_ACTION}
