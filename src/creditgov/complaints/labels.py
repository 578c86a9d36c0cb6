"""Labels of the complaints domain's codes for the one label catalogue (`core.labels`)."""

from __future__ import annotations

from creditgov.complaints.access import (
          CHANNEL_LABELS,
          OUTCOME_LABELS,
          STATUS_LABELS,
          category_labels,
)

LABELS = {"complaint_status": STATUS_LABELS, "complaint_outcome": OUTCOME_LABELS,
          "complaint_channel": CHANNEL_LABELS, "complaint_category": category_labels(),
          # the inbox's categories of the steps complaints/service.py tells
          "message_topic": {"complaint.received": ("收到投诉", "Complaint received"),
                            "complaint.assigned": ("投诉已分派", "Complaint assigned")}}
