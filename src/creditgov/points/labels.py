"""Labels of the points domain's codes for the one label catalogue (`core.labels`):
ledger entry kinds and causes, redemption statuses, and the credit-merchant
selection's statuses, origins and objection outcomes. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names
from creditgov.points.access import CAUSE_LABELS, KIND_LABELS, STATUS_LABELS
from creditgov.points.merchants import STATUS_LABELS as SELECTION_LABELS

SELECTION_STATUS: Names = {k: SELECTION_LABELS[k] for k in ("open", "decided")}
CANDIDATE_STATUS: Names = {k: SELECTION_LABELS[k] for k in ("candidate", "awarded", "rejected")}
CANDIDATE_ORIGIN: Names = {k: SELECTION_LABELS[k] for k in ("criteria", "nomination")}
SELECTION_OBJECTION_OUTCOME: Names = {k: SELECTION_LABELS[k] for k in ("upheld", "dismissed")}

LABELS = {"points_entry_kind": KIND_LABELS, "points_cause": CAUSE_LABELS, "redemption_status": STATUS_LABELS,
          "selection_status": SELECTION_STATUS, "candidate_status": CANDIDATE_STATUS,
          "candidate_origin": CANDIDATE_ORIGIN, "selection_objection_outcome": SELECTION_OBJECTION_OUTCOME}
