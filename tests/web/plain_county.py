"""A generated county built step by step as `make demo` builds its own, for the tests
that walk every page as every role (tests/web/test_plain_words.py): each command of the
Makefile's `demo` target (MAKE_DEMO) is here the service call its command makes, in the
same order and on the same days, so the points, shop, 信易贷 and board pages are walked
full. The source files are generated once and loaded into each store (SQLite and
PostgreSQL); `test_the_build_follows_make_demo` holds MAKE_DEMO to the Makefile."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditgov import bootstrap
from creditgov.alerts import outbox, rules
from creditgov.complaints import service as complaints
from creditgov.complaints.schemas import ComplaintIn
from creditgov.core import db, labels, schema
from creditgov.demo.county import generate
from creditgov.finance import book
from creditgov.finance import demo as finance_demo
from creditgov.ingest import service as ingest_service
from creditgov.lists import criteria
from creditgov.lists import service as lists_service
from creditgov.points import demo as points_demo
from creditgov.points import merchants
from creditgov.points import service as points_service
from creditgov.scoring import service as scoring_service
from creditgov.security import keys
from creditgov.security.crypto import create_key_file
from creditgov.security.demo import ensure_demo_accounts
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import service as supervision_service

TODAY = "2026-11-01"
ACTOR = "test"
# The Makefile's `demo` recipe: its `$(CG)` commands in order, each as its command words
# and the options that choose what it does (`make_demo_steps`), as `build` runs them.
MAKE_DEMO = (
    "generate", "init", "ingest", "ingest", "status",
    "evaluate -m public-credit-enterprise --as-of 2026-06-30",
    "evaluate -m public-credit-enterprise --as-of 2026-09-30",
    "lists run", "lists approve --unit court", "lists approve --unit market", "lists approve --unit credit",
    "lists publish",
    "evaluate -m public-credit-enterprise", "evaluate -m community-resident", "evaluate -m combined-supervision",
    "evaluate -m yiwu-ecommerce", "evaluate -m zhili-childrenswear",
    "points selection open 2026", "points selection decide 2026", "points board-demo",
    "evaluate -m changxing-homestay", "shop demo", "points run", "shop demo-redemptions",
    "finance demo", "finance export-records", "ingest",
    "supervise inspectors-load", "supervise draw --policy lindian-enterprise",
    "supervise draw --policy changxing-homestay",
    "complaints file", "complaints assign", "complaints file",
    "alerts scan", "alerts deliver", "users demo", "serve",
)
_KEPT = ("-m", "--policy", "--as-of", "--unit")


def make_demo_steps(makefile: str) -> tuple[str, ...]:
    """The `$(CG)` commands of the Makefile's demo recipe: the words before the first
    option or argument from the shell, and the options in _KEPT with their values."""
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    out = []
    for cmd in re.findall(r"\$\(CG\) ([^;\n|]*)", recipe):
        toks = cmd.replace("\\", " ").split()
        words = []
        for tok in toks:
            if tok.startswith("-") or "$" in tok or '"' in tok or ">" in tok:
                break
            words.append(tok)
        words += [f"{t} {v}" for t, v in zip(toks, toks[1:], strict=False) if t in _KEPT]
        out.append(" ".join(words))
    return tuple(out)


@dataclass
class Demo:
    url: str
    key_file: Path
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # role (or shop, borrower) -> account row
    totp: dict[str, str] = field(default_factory=dict)
    recovery: dict[str, list[str]] = field(default_factory=dict)


def generate_county(folder: Path, *, subjects: int = 1000, seed: int = 7) -> Path:
    """The county's source files, generated once and loadable into any number of stores."""
    generate(folder / "county", subjects=subjects, seed=seed)
    return folder / "county"


@contextmanager
def _today(day: str) -> Iterator[None]:
    """`CREDITGOV_TODAY=<day> creditgov …`: one command run on another day."""
    os.environ["CREDITGOV_TODAY"] = day
    try:
        yield
    finally:
        os.environ["CREDITGOV_TODAY"] = TODAY


def build(folder: Path, *, subjects: int = 1000, seed: int = 7, url: str | None = None,
          county: Path | None = None) -> Demo:
    """The demo county in the store at `url` (default: a SQLite file in `folder`), from
    the source files in `county` (default: generated into `folder`), as `make demo`
    leaves it (MAKE_DEMO, with `subjects` for DEMO_SUBJECTS)."""
    bootstrap.wire()
    os.environ["CREDITGOV_TODAY"] = TODAY
    url = url or f"sqlite:///{folder / 'creditgov.db'}"
    key_file = folder / "creditgov.key"
    county = county or generate_county(folder, subjects=subjects, seed=seed)
    with labels.store(url):  # as the commands' sessions bind it (cli.common.session)
        ring = _load(url, key_file, county)
        _lists_and_runs(url)
        _points_and_finance(url, ring, folder)
        _supervision_and_complaints(url, ring)
        rules.evaluate(url, thorough=True)  # alerts scan
        outbox.drain(url)  # alerts deliver
        demo = Demo(url=url, key_file=key_file)
        with db.session_scope(url) as s:  # users demo
            for row in ensure_demo_accounts(s, ring, actor=ACTOR):
                # one per role; the shop's and the borrower's subject accounts by their names
                demo.accounts[row["username"] if row["username"] in ("shop", "borrower") else row["role"]] = row
                if row["totp_secret"]:
                    demo.totp[row["username"]] = row["totp_secret"]
    return demo


def _load(url: str, key_file: Path, county: Path) -> Any:
    """init; ingest the county; then each earlier delivery on its own day."""
    ring = create_key_file(key_file)
    schema.upgrade(url)
    with db.session_scope(url) as s:
        for _key, load in bootstrap.policies():
            load(s)
        keys.check(s, ring, keys.FileKeySource(key_file))  # the store records its key's fingerprint
    ingest_service.ingest_paths(url, ring, [county], actor=ACTOR)
    for day in sorted((county / "deliveries").iterdir()) if (county / "deliveries").is_dir() else ():
        with _today(day.name):
            ingest_service.ingest_paths(url, ring, [day], actor=ACTOR)
    return ring


def _lists_and_runs(url: str) -> None:
    """The quarter-end runs, the list criteria, approvals and publication, then the
    current runs of every model the demo publishes before its points."""
    for as_of in (dt.date(2026, 6, 30), dt.date(2026, 9, 30)):
        scoring_service.evaluate(url, ref="public-credit-enterprise", as_of=as_of, publish=True, actor=ACTOR)
    with _today("2026-10-20"), db.session_scope(url) as s:
        criteria.run_criteria(s, notify_now=True, actor=ACTOR)
    with db.session_scope(url) as s:
        for unit in ("court", "market", "credit"):
            lists_service.bulk_step(s, step="approve", unit=unit, actor=ACTOR)
        lists_service.bulk_step(s, step="publish", actor=ACTOR)
    for model in ("public-credit-enterprise", "community-resident", "combined-supervision", "yiwu-ecommerce",
                  "zhili-childrenswear"):
        scoring_service.evaluate(url, ref=model, publish=True, actor=ACTOR)


def _points_and_finance(url: str, ring: Any, folder: Path) -> None:
    """The credit-merchant selection (opened 2026-10-20, decided today), the board
    opt-ins, the homestays' run, the shops, the points run, the residents' redemptions,
    信易贷 and its loan book ingested as credit records."""
    with _today("2026-10-20"), db.session_scope(url) as s:
        merchants.open_selection(s, code="2026", title="2026年度诚信商户评选", actor=ACTOR)
    with db.session_scope(url) as s:
        merchants.decide(s, code="2026", decision_no="县信用办〔2026〕12号", actor=ACTOR)
    with db.session_scope(url) as s:
        points_demo.board_opt_ins(s, actor=ACTOR)
    scoring_service.evaluate(url, ref="changxing-homestay", publish=True, actor=ACTOR)
    with db.session_scope(url) as s:
        points_demo.seed(s, actor=ACTOR)
    with db.session_scope(url) as s:
        points_service.run_daily(s, actor=ACTOR)
    with db.session_scope(url) as s:
        points_demo.redemptions(s, actor=ACTOR)
    with db.session_scope(url) as s:
        finance_demo.seed(s, ring, actor=ACTOR)
    with db.session_scope(url) as s:
        book.export(s, folder / "finance-book", actor=ACTOR)
    ingest_service.ingest_paths(url, ring, [folder / "finance-book"], actor=ACTOR)


def _supervision_and_complaints(url: str, ring: Any) -> None:
    """The inspector roster, the two random draws on today with their published seed,
    and two complaints at the counter, the first assigned to the market department."""
    with db.session_scope(url) as s:
        supervision_service.load_inspectors(s, roster=supervision_service.demo_roster(s), actor=ACTOR)
    for policy in ("lindian-enterprise", "changxing-homestay"):
        with db.session_scope(url) as s:
            supervision_draws.draw(s, policy_name=policy, scope={}, seed="20261101", as_of=None, dry_run=False,
                                   create_tasks=True, actor=ACTOR)
    with db.session_scope(url) as s:
        c, _ = complaints.file_complaint(s, ring, ComplaintIn(
            category="quality", respondent_name="城东某餐馆", content="就餐后腹泻，餐馆拒不承认，请求查处",
            complainant_name="王女士", contact="13800000001"), channel="counter", actor=ACTOR)
        first = c.id
    with db.session_scope(url) as s:
        complaints.assign(s, first, department="market", note="食品安全，转市场监管局", actor=ACTOR)
    with db.session_scope(url) as s:
        complaints.file_complaint(s, ring, ComplaintIn(
            category="credit_work", respondent_name="县信用办", content="信用修复办理指引不清楚，希望公布材料清单",
            complainant_name="李先生"), channel="counter", actor=ACTOR)

