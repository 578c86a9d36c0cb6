"""A small generated county built as `make demo` builds its own (generate, init,
ingest, two quarter-end runs, the list criteria and the three units' approvals, the
current runs, the warning rules and one delivery pass, one demo account per role), for
the tests that walk every page as every role (tests/web/test_plain_words.py). The source
files are generated once and loaded into each store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditgov import bootstrap
from creditgov.alerts import outbox, rules
from creditgov.core import db, schema
from creditgov.demo.county import generate
from creditgov.ingest import service as ingest_service
from creditgov.lists import criteria
from creditgov.lists import service as lists_service
from creditgov.scoring import service as scoring_service
from creditgov.security.crypto import create_key_file
from creditgov.security.demo import ensure_demo_accounts

TODAY = "2026-11-01"


@dataclass
class Demo:
    url: str
    key_file: Path
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> demo account row
    totp: dict[str, str] = field(default_factory=dict)
    recovery: dict[str, list[str]] = field(default_factory=dict)


def generate_county(folder: Path, *, subjects: int = 1000, seed: int = 7) -> Path:
    """The county's source files, generated once and loadable into any number of stores."""
    generate(folder / "county", subjects=subjects, seed=seed)
    return folder / "county"


def build(folder: Path, *, subjects: int = 1000, seed: int = 7, url: str | None = None,
          county: Path | None = None) -> Demo:
    """The demo county in the store at `url` (default: a SQLite file in `folder`), from
    the source files in `county` (default: generated into `folder`)."""
    bootstrap.wire()
    os.environ["CREDITGOV_TODAY"] = TODAY
    url = url or f"sqlite:///{folder / 'creditgov.db'}"
    key_file = folder / "creditgov.key"
    county = county or generate_county(folder, subjects=subjects, seed=seed)
    ring = create_key_file(key_file)
    schema.upgrade(url)
    with db.session_scope(url) as s:
        for _key, load in bootstrap.policies():
            load(s)
    ingest_service.ingest_paths(url, ring, [county], actor="test")
    for as_of in (dt.date(2026, 6, 30), dt.date(2026, 9, 30)):
        scoring_service.evaluate(url, ref="public-credit-enterprise", as_of=as_of, publish=True, actor="test")
    os.environ["CREDITGOV_TODAY"] = "2026-10-20"
    try:
        with db.session_scope(url) as s:
            criteria.run_criteria(s, notify_now=True, actor="test")
    finally:
        os.environ["CREDITGOV_TODAY"] = TODAY
    with db.session_scope(url) as s:
        for unit in ("court", "market", "credit"):
            lists_service.bulk_step(s, step="approve", unit=unit, actor="test")
        lists_service.bulk_step(s, step="publish", actor="test")
    for model in ("public-credit-enterprise", "community-resident"):
        scoring_service.evaluate(url, ref=model, publish=True, actor="test")
    rules.evaluate(url)
    outbox.drain(url)
    demo = Demo(url=url, key_file=key_file)
    with db.session_scope(url) as s:
        for row in ensure_demo_accounts(s, ring, actor="test"):
            demo.accounts[row["role"]] = row
            if row["totp_secret"]:
                demo.totp[row["username"]] = row["totp_secret"]
    return demo
