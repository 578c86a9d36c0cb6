"""Labels of a credit record's statuses (records/models.py STATUSES; no policy file
names them, so the names sit here beside the code), and the refusal of a status change
an officer can meet deciding a repair or an objection. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

RECORD_STATUS: Names = {"active": ("有效", "In force"), "disputed": ("异议中", "Disputed"),
                        "repaired": ("已修复", "Repaired"), "revoked": ("已撤销", "Revoked"),
                        "expired": ("公示期满", "Publication ended"), "archived": ("已归档", "Archived")}

# A status change the record's current status does not allow (`service.TRANSITIONS`):
# e.g. a repair approved while the record is under objection.
REFUSALS: Names = {
    "records.record.cannot_become": ("信用记录 #{id} 当前是“{status:record_status}”状态，不能改为“{to:record_status}”。",
                                     "Credit record #{id} is “{status:record_status}”; it cannot become "
                                     "“{to:record_status}”."),
}

LABELS = {"record_status": RECORD_STATUS, "refusal": REFUSALS}
