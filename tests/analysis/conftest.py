"""The analysis tests run on the demo county (built once per session)."""

from tests.alerts.conftest import demo_store, demo_template  # noqa: F401 - fixtures, re-exported
