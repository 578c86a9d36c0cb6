"""Labels of a credit record's statuses (records/models.py STATUSES; no policy file
names them, so the names sit here beside the code). Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names

RECORD_STATUS: Names = {"active": ("有效", "In force"), "disputed": ("异议中", "Disputed"),
                        "repaired": ("已修复", "Repaired"), "revoked": ("已撤销", "Revoked"),
                        "expired": ("公示期满", "Publication ended"), "archived": ("已归档", "Archived")}

LABELS = {"record_status": RECORD_STATUS}
