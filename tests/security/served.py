"""A bare initialised store (SQLite and PostgreSQL) served by the real application, for
the sign-in tests: accounts are made through the services, requests go through the
API and the pages, and each client may come from its own address (the rate limits
key on it). Time is moved with `CREDITGOV_NOW` (core/clock.py); the fixture `served`
is in conftest.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from creditgov.core import db
from creditgov.security import users as user_service
from creditgov.security.crypto import KeyRing
from creditgov.security.models import AuditEntry

START = dt.datetime(2026, 11, 1, 2, 0, 0)  # 10:00 China Standard Time
STRONG = "correct horse battery"  # passes every role's rule (zxcvbn 4, 21 characters)


@dataclass
class Served:
    url: str
    key: Path
    ring: KeyRing
    app: FastAPI
    at: Callable[[dt.datetime], None]

    def client(self, address: str = "198.51.100.7") -> TestClient:
        return TestClient(self.app, base_url="https://testserver", follow_redirects=False, client=(address, 50000))

    def account(self, username: str, role: str = "department_officer", password: str | None = STRONG,
                **scope: Any) -> int:
        if role == "department_officer":
            scope.setdefault("department_code", "market")
        with db.session_scope(self.url) as s:
            return user_service.create_user(s, username=username, password=password, role=role, actor="test",
                                            **scope).id

    def audit(self, action: str) -> list[AuditEntry]:
        with db.session_scope(self.url) as s:
            return list(s.execute(select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).scalars())


def login(client: TestClient, username: str, password: str = STRONG, code: str | None = None) -> Any:
    """POST /auth/login with the body as JSON text of our own making, so a lone surrogate
    goes through as the escape a hostile client may send."""
    body: dict[str, str] = {"username": username, "password": password}
    if code is not None:
        body["code"] = code
    return client.post("/api/v1/auth/login", content=json.dumps(body), headers={"content-type": "application/json"})
