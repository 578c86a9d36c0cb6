"""docs/rules.md lists every rule the product applies with the test that holds it:
every shipped rule is named there, and every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from creditgov.catalog import service as catalog_service
from creditgov.commitments import service as commitments_service
from creditgov.lists import service as lists_service
from creditgov.measures import service as measures_service
from creditgov.reports import recommend
from creditgov.scoring import service as scoring_service
from creditgov.supervision import service as supervision_service
from creditgov.workflows import rules as workflow_rules

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "rules.md").read_text("utf-8")


def _named(code: str) -> bool:
    return f"`{code}`" in PAGE


def test_every_shipped_rule_is_on_the_page() -> None:
    cat = catalog_service.read_catalog()
    assert cat.publication is not None
    codes = [f"{c}" for c in ("ndrc-order-36", "samr-order-45")] + [r.code for r in cat.publication.rules]
    codes += [f"{t}" for t in cat.severity_periods] + ["secret"]
    codes += [p.aspect for p in cat.publication.precedence]
    codes += [d.code for d in lists_service.read_lists().lists]
    codes += [m.code for m in measures_service.read_measures().measures]
    codes += list(scoring_service.shipped_texts())
    codes += [p.name for p in supervision_service.read_policies().policies]
    codes += list(recommend.definitions())
    codes += [t.code for t in commitments_service.read_templates().templates]
    warnings = yaml.safe_load((ROOT / "src/creditgov/alerts/data/warning_rules.yaml").read_text("utf-8"))
    codes += [r["code"] for r in warnings["rules"]]
    retention = workflow_rules.read_rules().retention
    assert retention is not None
    codes += ["adverse_years", "query_log_years"]
    missing = sorted({c for c in codes if not _named(c)})
    assert not missing, f"docs/rules.md does not name: {missing}"
    for sc in measures_service.read_scenarios().scenarios:  # every scenario appears with its measures
        assert sc.code in PAGE, sc.code


def test_every_test_the_page_names_exists() -> None:
    named = set(re.findall(r"tests/[\w/]+\.py", PAGE))
    assert len(named) > 20
    assert not [t for t in sorted(named) if not (ROOT / t).is_file()]
