"""Labels of the finance domain's codes for the one label catalogue (`core.labels`):
the statuses of products, needs, applications, loans and fund claims, the shared
bands as a lender reads them, the decline reasons named in `data/fund.yaml`, and the
post-loan warning `loans.monitor` raises (a warning rule no rules file names).
Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names
from creditgov.finance.access import BAND_LABELS, STATUS_LABELS
from creditgov.finance.loans import RULE
from creditgov.finance.policy import POLICY

FUND_CLAIM_STATUS: Names = {"submitted": ("待审核", "submitted"), "approved": ("已审核", "approved"),
                            "rejected": ("已驳回", "rejected"), "paid": ("已赔付", "paid")}


def _decline_reasons() -> Names:
    return {r.code: (r.name_zh, r.name_en) for r in POLICY.shipped().decline_reasons}


LABELS = {"finance_status": STATUS_LABELS, "finance_band": BAND_LABELS, "fund_claim_status": FUND_CLAIM_STATUS,
          "decline_reason": _decline_reasons, "warning_rule": {RULE: ("贷后预警", "Post-loan warning")}}
