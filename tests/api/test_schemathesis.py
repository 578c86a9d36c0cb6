"""Property-based run of the API against its own OpenAPI document (schemathesis):
no generated request may produce a server error, and every documented response
must match its schema. Runs on a fresh county of its own, as the administrator
(who reaches every endpoint); sign-out, token revocation and rotation are left out
because a generated call would end the run's own credentials (test_auth and
tests/security cover them)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from creditgov.api.app import create_app
from tests.api.county import County, build


@pytest.fixture(scope="module")
def fuzz_county(tmp_path_factory: pytest.TempPathFactory) -> County:
    tmp = tmp_path_factory.mktemp("fuzz")
    return build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key", evaluate=False)


@pytest.fixture(scope="module")
def api_schema(fuzz_county: County):  # type: ignore[no-untyped-def]
    os.environ["CREDITGOV_PUBLIC_RATE"] = "1000000/60"
    try:
        app = create_app(fuzz_county.url, fuzz_county.key_file)
    finally:
        os.environ.pop("CREDITGOV_PUBLIC_RATE", None)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(operation_id=["auth_logout", "tokens_revoke", "tokens_rotate"]).parametrize()
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_has_no_server_errors(case, fuzz_county: County) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_county.tokens['admin']}"},
                           checks=[not_a_server_error])
