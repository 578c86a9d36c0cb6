"""Labels of the service-hall codes for the one label catalogue (`core.labels`)."""

from __future__ import annotations

from creditgov.core.labels import Names

END_REASON: Names = {"ended": ("已结束", "Ended"), "timeout": ("超时结束", "Timed out")}

LABELS = {"counter_end_reason": END_REASON}
