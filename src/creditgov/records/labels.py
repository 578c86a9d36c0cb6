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

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
# (`record.correct`, written by an objection's or repair's outcome, is workflows'.)
AUDIT_ACTIONS: Names = {
    "record.copy": ("写入信用记录", "Credit record written"),
    "record.status": ("变更信用记录状态", "Credit record status changed"),
}
