"""The whole API against its own OpenAPI document with hostile text in the store and in
the requests: no answer may be a server error (5xx).

The store is the mini county with the hostile firms of tests/hostile.py ingested on
top (markup, quotes, image tags, bidi marks, control characters, 300-character names,
20,000-character record texts), each put on a list with a hostile basis and number.
Three passes, as the administrator (who reaches every endpoint):
1. schemathesis generates requests for every operation (a few examples each: the
   property is "no 5xx", and every operation is reached);
2. every GET operation whose path takes one subject id is called for each hostile
   firm, so the hostile names and texts are read and serialised by every such view;
3. every GET operation's string query parameters are sent each hostile string.
Sign-out and token revocation and rotation are left out: a generated call would end
the run's own credentials (test_auth and tests/security cover them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from creditgov.api.app import create_app
from creditgov.core import db
from creditgov.ingest import service as ingest_service
from creditgov.lists import service as lists_service
from creditgov.security.crypto import load_key_file
from creditgov.subjects.models import Subject
from tests.api.county import County, build
from tests.hostile import LONG_TEXT, Listener, names, write_folder

EXCLUDED = ["auth_logout", "tokens_revoke", "tokens_rotate"]


class Hostile:
    def __init__(self, county: County, ids: dict[str, int], strings: dict[str, str]) -> None:
        self.county, self.ids, self.strings = county, ids, strings
        self.app: Any = None


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    tmp = tmp_path_factory.mktemp("fuzz-hostile")
    county = build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key", evaluate=False)
    listener = Listener()
    try:
        strings = names(listener.port)
        codes = write_folder(tmp / "in", strings)
        ingest_service.ingest_paths(county.url, load_key_file(county.key_file), [tmp / "in"], actor="test")
        with db.session_scope(county.url) as s:
            ids = {k: s.execute(select(Subject.id).where(Subject.uscc == c)).scalar_one() for k, c in codes.items()}
            for k, sid in ids.items():
                lists_service.propose(s, list_code="serious-dishonesty", subject_id=sid, criterion="manual",
                                      basis=strings[k], decision_no=f'<b>"{k}"</b>&')
        h = Hostile(county, ids, {**strings, "long_text": LONG_TEXT[:5000]})
        os.environ["CREDITGOV_PUBLIC_RATE"] = "1000000/60"
        try:
            h.app = create_app(county.url, county.key_file)
        finally:
            os.environ.pop("CREDITGOV_PUBLIC_RATE", None)
        yield h
    finally:
        listener.close()


@pytest.fixture(scope="module")
def api_schema(hostile: Hostile):  # type: ignore[no-untyped-def]  # schemathesis' schema class is not exported
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", hostile.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(operation_id=EXCLUDED).parametrize()
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_generated_requests_never_get_a_server_error(case, hostile: Hostile) -> None:  # type: ignore[no-untyped-def]  # schemathesis' Case
    case.call_and_validate(headers={"Authorization": f"Bearer {hostile.county.tokens['admin']}"},
                           checks=[not_a_server_error])


def _gets(client: TestClient) -> list[tuple[str, dict[str, Any]]]:
    doc = client.get("/api/v1/openapi.json").json()
    return [(path, op) for path, ops in doc["paths"].items() for method, op in ops.items()
            if method == "get" and op.get("operationId") not in EXCLUDED]


def test_every_view_of_a_hostile_firm_and_every_hostile_query_answers_below_500(hostile: Hostile) -> None:
    client = TestClient(hostile.app, raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {hostile.county.tokens['admin']}"}
    failures, calls = [], 0
    for path, op in _gets(client):
        params = [p for p in op.get("parameters", []) if p.get("in") == "path"]
        if len(params) == 1 and re.search(r"\{subject_id\}", path):
            for k, sid in hostile.ids.items():
                r = client.get(path.replace("{subject_id}", str(sid)), params={"purpose": "fuzz"}, headers=auth)
                calls += 1
                if r.status_code >= 500:
                    failures.append((path, k, r.status_code, r.text[:200]))
        if params:
            continue
        queries = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"
                   and p.get("schema", {}).get("type", "string") == "string"]
        for name in queries:
            for k, text in hostile.strings.items():
                r = client.get(path, params={name: text}, headers=auth)
                calls += 1
                if r.status_code >= 500:
                    failures.append((path, f"{name}={k}", r.status_code, r.text[:200]))
    assert calls > 50
    assert not failures, failures
