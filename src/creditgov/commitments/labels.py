"""Labels of commitment codes: templates (data/templates.yaml) and statuses.
Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.commitments.service import TEMPLATES
from creditgov.core.labels import Names


def _templates() -> Names:
    return {t.code: (t.name_zh, t.name_en) for t in TEMPLATES.shipped().templates}


LABELS = {
    "commitment_template": _templates,
    "commitment_status": {"signed": ("已签署待核查", "Signed, awaiting verification"), "fulfilled": ("已履行", "Fulfilled"),
                          "breached": ("违背承诺", "Breached"), "withdrawn": ("已撤回", "Withdrawn")},
}
