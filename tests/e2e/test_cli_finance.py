"""信易贷 through the real command line, as `make demo` runs it: generate → init →
ingest → publish the enterprise and homestay evaluations → `finance demo` (two banks,
products, needs from firms and homestays, matches, loans, one default, one fund claim)
→ the read commands with --json → a repayment file loaded twice → consent revoked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("e2e-finance")
    env = {**os.environ, "CREDITGOV_TODAY": "2026-11-01", "CREDITGOV_DB": str(work / "creditgov.db"),
           "COLUMNS": "200"}
    env.pop("CREDITGOV_KEY_FILE", None)

    def cg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run([sys.executable, "-m", "creditgov.cli", *args], cwd=work, env=env,
                             capture_output=True, text=True, timeout=600)
        if check and res.returncode != 0:
            raise AssertionError(f"creditgov {' '.join(args)} failed ({res.returncode}):\n{res.stderr}")
        return res

    cg("generate", "--out", "d", "--subjects", "1000", "--seed", "7")
    cg("init")
    cg("ingest", "d")
    cg("evaluate", "-m", "public-credit-enterprise", "--publish")
    cg("evaluate", "-m", "changxing-homestay", "--publish")
    demo = json.loads(cg("finance", "demo", "--json").stdout)
    return {"work": work, "cg": cg, "demo": demo}


def _json(county: dict, *args: str) -> object:
    return json.loads(county["cg"]("finance", *args, "--json").stdout)


def test_the_demo_has_banks_products_needs_matches_loans_a_default_and_a_claim(county) -> None:
    d = county["demo"]
    assert d["banks"] == 2 and d["products"] == 4 and d["needs"] >= 8
    assert d["eligible"] > 0 and d["loans"] >= 2 and d["defaults"] == 1 and d["claims_paid"] == 1
    again = json.loads(county["cg"]("finance", "demo", "--json").stdout)
    assert "skipped" in again  # safe to run twice
    products = _json(county, "products")
    assert {p["status"] for p in products} == {"approved"} and len(products) == 4
    loans = _json(county, "loans")
    assert sum(1 for x in loans if x["status"] == "default") == 1
    fund = _json(county, "fund")
    assert fund["balance"] == fund["ledger_sum"] and len(fund["entries"]) == 2
    stats = _json(county, "stats")
    assert stats["loans"] == len(loans) and stats["defaults"] == 1
    homestay_needs = [m for m in _json(county, "matches", "1")]
    assert all("reasons" in m for m in homestay_needs)


def test_a_repayment_file_loaded_twice_adds_once_and_a_consent_is_revoked(county) -> None:
    loans = _json(county, "loans")
    open_loan = next(x for x in loans if x["status"] == "open")
    f = Path(county["work"]) / "repay.csv"
    f.write_text(f"loan_id,ref,paid_on,amount\n{open_loan['id']},R-1,2026-11-01,1000.00\n", encoding="utf-8")
    bank = open_loan["bank"]   # the bank's code, as `--bank` takes it (and its name beside it)
    assert bank in ("demo-bank", "demo-bank-2") and open_loan["bank_name"]
    first = _json(county, "repayments-load", str(f), "--bank", bank)
    second = _json(county, "repayments-load", str(f), "--bank", bank)
    assert (first["added"], second["added"]) == (1, 0)
    monitor = _json(county, "monitor")
    assert monitor["loans"] >= 1
    res = county["cg"]("consent", "list", "--json", check=False)
    assert res.returncode == 0, res.stderr
    consents = json.loads(res.stdout)
    # The loan book as records through ingestion, as `make demo` does.
    exported = _json(county, "export-records", "book")
    assert exported["loans"] == len(loans) and exported["overdue"] == 1
    ingested = json.loads(county["cg"]("ingest", "book", "--json").stdout)
    assert ingested["accepted"] == exported["loans"] + 1 and ingested["rejected"] == 0, ingested
    cid = next(c["id"] for c in consents if c["purpose"].startswith("信易贷 need") and c["revoked_on"] is None)
    county["cg"]("finance", "consent-revoke", str(cid))
    after = json.loads(county["cg"]("consent", "list", "--json").stdout)
    assert next(c for c in after if c["id"] == cid)["revoked_on"] == "2026-11-01"


def test_model_backtest_judges_a_model_on_loan_defaults(county) -> None:
    res = county["cg"]("model", "backtest", "public-credit-enterprise", "--as-of", "2025-10-31",
                       "--outcomes", "loans", "--json")
    out = json.loads(res.stdout)
    assert out["outcome"]["source"] == "loans" and out["outcomes"] == 1  # the demo's one default
    bad = county["cg"]("model", "backtest", "public-credit-enterprise", "--as-of", "2025-10-31",
                       "--outcomes", "nonsense", check=False)
    assert bad.returncode == 2 and "unknown outcome source" in bad.stderr
