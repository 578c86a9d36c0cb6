"""A small real county for the API and browser tests: the hand-made mini county
ingested through the real pipeline, evaluated by the real engine, with one account
per role whose data scope is known, so each test can say exactly what each role may
see. Shared by tests/api and tests/web."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp

from creditgov.commitments import service as commitments_service
from creditgov.core import db
from creditgov.ingest import service as ingest_service
from creditgov.lists import service as lists_service
from creditgov.measures import service as measures_service
from creditgov.reports import service as report_service
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun
from creditgov.security import mfa
from creditgov.security import users as user_service
from creditgov.security.crypto import create_key_file
from tests import store_template

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
TODAY = "2026-11-01"
PASSWORD = "correct horse battery"  # every test account's password

# role -> (username, scope columns). Mini county: 1 enterprise, 2 merchant in
# CX-S01 with market records; 3 homestay, 4 social org, 7 resident in CX-S02-G01;
# 5 and 6 residents in CX-S01 with civility records.
ACCOUNTS: dict[str, dict[str, object]] = {
    "admin": {},
    "credit_office": {},
    "department_officer": {"department_code": "market"},
    "grid_worker": {"region_code": "CX-S02-G01"},
    "inspector": {"region_code": "CX-S01"},
    "bank_officer": {"organisation": "test-bank"},
    "subject": {"subject_id": 1},
}
ROLES = [*ACCOUNTS, "public"]
# A subject inside and one outside each role's data scope (None: the role sees all).
IN_SCOPE = {"admin": 1, "credit_office": 1, "department_officer": 1, "grid_worker": 7, "inspector": 1,
            "bank_officer": 1, "subject": 1, "public": 1}
OUT_OF_SCOPE = {"admin": None, "credit_office": None, "department_officer": 5, "grid_worker": 1,
                "inspector": 3, "bank_officer": 3, "subject": 2, "public": 5}
MODEL_FOR = {1: "public-credit-enterprise", 7: "community-resident", 5: "community-resident",
             3: "changxing-homestay", 2: "public-credit-enterprise"}


@dataclass
class County:
    url: str
    key_file: Path
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    entry_id: int = 0
    check_id: str = ""
    report_serial: str = ""
    alert_id: int = 0  # an alert about subject 1 (county_supervision.py)
    draw_id: int = 0
    task_id: int = 0  # the draw's inspection task about subject 1
    objection_id: int = 0  # subject 1's decided objection (county_workflows.py)
    repair_id: int = 0  # subject 1's refused repair application
    repair_record_id: int = 0  # the record of that application (subject 1's serious penalty)
    material_sha256: str = ""  # the evidence file of both cases
    commitment_id: int = 0  # subject 1's signed self-commitment, verified by market (commitments API)
    # username -> TOTP key and unused recovery codes, for the accounts whose role must sign
    # in with a second factor (admin, credit office): enrolled as `creditgov users totp enrol` does.
    totp: dict[str, str] = field(default_factory=dict)
    recovery: dict[str, list[str]] = field(default_factory=dict)


def build(url: str, key_file: Path, *, evaluate: bool = True) -> County:
    """Initialise, ingest, evaluate and create the accounts; minutes matter, so the
    evaluation runs once per store on the embedded engine."""
    os.environ["CREDITGOV_TODAY"] = TODAY
    ring = create_key_file(key_file)
    store_template.fill(url)
    with db.session_scope(url) as s:
        lists_service.load_lists(s, actor="test")
        measures_service.load_measures(s, actor="test")
        commitments_service.load_templates(s, actor="test")
    ingest_service.ingest_paths(url, ring, [MINI], actor="test")
    if evaluate:
        for model in ("public-credit-enterprise", "community-resident"):
            r = scoring_service.evaluate(url, ref=model, actor="test")
            with db.session_scope(url) as s:  # published, as the office does before checks use it
                run = s.get(EvaluationRun, r.run_id)
                assert run is not None
                run.published = True
    c = County(url=url, key_file=key_file)
    with db.session_scope(url) as s:
        for role, scope in ACCOUNTS.items():
            u = user_service.create_user(s, username=f"t-{role}", password=PASSWORD, role=role,
                                         display_name=role, actor="test", **scope)  # type: ignore[arg-type]
            c.user_ids[role] = u.id
            c.tokens[role], _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
            if mfa.required(u):
                e, codes = mfa.enrol_now(s, ring, u, actor="test")
                c.totp[u.username], c.recovery[u.username] = e.secret, codes
        for sid in (1, 2):
            user_service.grant_consent(s, subject_id=sid, organisation="test-bank", purpose="loan", actor="test")
        e = lists_service.propose(s, list_code="key-attention", subject_id=1, criterion="manual", basis="测试",
                                  decision_no="T-1")
        c.entry_id = e.id
        chk = measures_service.check(s, scenario=measures_service.scenarios(s)[0].code, subject_id=1, actor="test")
        c.check_id = chk.check_id
        _pdf, rep = report_service.issue(s, ring, subject_id=1, actor="test", purpose="test",
                                         verify_base="https://testserver/verify")
        c.report_serial = rep.serial
    from tests.api.county_supervision import seed as seed_supervision

    seeded = seed_supervision(url)
    c.alert_id, c.draw_id, c.task_id = seeded.alert_id, seeded.draw_id, seeded.task_id
    from tests.api.county_workflows import seed as seed_workflows

    cases = seed_workflows(url, key_file)
    c.objection_id, c.repair_id, c.repair_record_id = cases.objection_id, cases.repair_id, cases.repair_record_id
    c.material_sha256 = cases.material_sha256
    with db.session_scope(url) as s:  # no measure asks for a self-commitment: checks are unchanged
        c.commitment_id = commitments_service.sign(s, subject_id=1, template_code="industry-self-discipline",
                                                   signed_by="法定代表人", actor="test").id
    return c


# (store, username) -> the last TOTP time step a test signed in with: the server accepts
# each code once (RFC 6238, section 5.2), so sign-ins in quick succession use the next step.
_used_steps: dict[tuple[str, str], int] = {}


def second_factor_code(c: County, username: str) -> str:
    """A code the account's authenticator app would show that the server has not seen:
    the current step's or the next one's (both within the accepted drift); when a test
    signs the account in more often than that, one of its recovery codes; only when
    those are used up, the next step after a wait."""
    totp = pyotp.TOTP(c.totp[username])
    key = (c.url, username)
    while True:
        now = int(time.time()) // mfa.STEP
        step = max(now, _used_steps.get(key, now - 1) + 1)
        if step <= now + 1:
            _used_steps[key] = step
            return totp.generate_otp(step)
        if c.recovery.get(username):
            return c.recovery[username].pop()
        time.sleep(mfa.STEP - time.time() % mfa.STEP + 0.1)


def form_sign_in(client: Any, c: County, username: str, next: str = "/") -> Any:
    """Sign a TestClient in through the login form and, for an account with an
    authenticator, the code page; returns the last redirect (to `next` or home)."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1),
                                    "next": next})
    assert r.status_code == 303, r.text
    if r.headers["location"].startswith("/login/code"):
        page = client.get(r.headers["location"])
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        nxt = re.search(r'name="next" value="([^"]*)"', page.text)
        assert csrf is not None and nxt is not None, page.text
        r = client.post("/login/code", data={"code": second_factor_code(c, username), "csrf_token": csrf.group(1),
                                             "next": nxt.group(1)})
        assert r.status_code == 303 and not r.headers["location"].startswith("/login"), r.text
    return r


def api_sign_in(client: Any, c: County, username: str) -> Any:
    """Sign in through POST /auth/login (with the authenticator's code when the account
    has one); returns the response, whose body holds the CSRF token."""
    body = {"username": username, "password": PASSWORD}
    if username in c.totp:
        body["code"] = second_factor_code(c, username)
    return client.post("/api/v1/auth/login", json=body)


def publish_date() -> dt.date:
    return dt.date.fromisoformat(TODAY)


@contextmanager
def county_on(request: Any, tmp: Path, *, evaluate: bool = False) -> Iterator[County]:
    """A private mini county on the fixture's database (`request.param`: "sqlite" or
    "postgres", the latter in a schema of its own), for tests that change it."""
    if request.param == "sqlite":
        yield build(f"sqlite:///{tmp / 'creditgov.db'}", tmp / "creditgov.key", evaluate=evaluate)
        return
    with store_template.pg_schema(request.getfixturevalue("pg_base"), "t_county_") as url:
        yield build(url, tmp / "creditgov.key", evaluate=evaluate)
