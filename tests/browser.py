"""Debian's chromium for the browser tests, driven by Playwright's sync API. One
Playwright per test session (the `browser` fixture in tests/conftest.py): a second
one started beside it finds the first one's event loop running and refuses."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CREDITGOV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
