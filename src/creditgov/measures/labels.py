"""Labels of joint measures and check scenarios (data/measures.yaml,
data/scenarios.yaml, and the store's copies) and measure kinds. Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.catalog.labels import stored
from creditgov.core.labels import Names, Table
from creditgov.measures.catalogue import MEASURES, SCENARIOS


def _measures() -> Names:
    return {m.code: (m.name_zh, m.name_en) for m in MEASURES.shipped().measures}


def _scenarios() -> Names:
    return {s.code: (s.name_zh, s.name_en) for s in SCENARIOS.shipped().scenarios}


LABELS = {
    "measure": (_measures, Table(stored("measures"))),
    "scenario": (_scenarios, Table(stored("check_scenarios"))),
    "measure_kind": {"incentive": ("激励措施", "Incentive"), "punishment": ("惩戒措施", "Punishment"),
                     "supervision": ("监管措施", "Supervision")},
}
