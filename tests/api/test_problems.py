"""How the API's error translation (api/problems.py) answers a failure of the
deployment underneath a request (a ServerFault, e.g. a record segment that could not
be written): 500 with the generic text, the detail — which may name hosts and paths —
only in the server log, with its traceback."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from creditgov.api import problems
from creditgov.core.errors import ConfigError
from creditgov.scoring.segments import SegmentError

DETAIL = "writing a record segment into s3a://bucket-of-the-city/creditgov failed: OSError: host 10.1.2.3 refused"


def test_a_server_fault_is_a_500_without_its_detail_and_logged_with_it(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/fault")
    def fault() -> None:
        raise SegmentError(DETAIL)

    @app.get("/config")
    def config() -> None:
        raise ConfigError("CREDITGOV_ANALYSIS_ENGINE='fast': one of auto, store, duckdb, spark")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="creditgov.api"):
        r = client.get("/fault")
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == problems.UNEXPECTED and "10.1.2.3" not in r.text and "s3a" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "creditgov.api"]
    assert logged and DETAIL in str(logged[-1].exc_info[1]) and logged[-1].exc_info[2] is not None
    # A configuration error written by the deployment's own settings still says what is wrong.
    r = client.get("/config")
    assert r.status_code == 500 and "CREDITGOV_ANALYSIS_ENGINE" in r.json()["detail"]
