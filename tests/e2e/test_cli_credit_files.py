"""The whole path through the real command line, as a user runs it:
generate → init → ingest → ingest again → subject show → trace → quarantine → audit."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "CREDITGOV_TODAY": "2026-11-01", "CREDITGOV_DB": str(work / "creditgov.db"),
           "COLUMNS": "200"}
    env.pop("CREDITGOV_KEY_FILE", None)

    def cg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run([sys.executable, "-m", "creditgov.cli", *args], cwd=work, env=env,
                             capture_output=True, text=True, timeout=600)
        if check and res.returncode != 0:
            raise AssertionError(f"creditgov {' '.join(args)} failed ({res.returncode}):\n{res.stderr}")
        return res

    cg("generate", "--out", "d", "--subjects", "2000", "--seed", "7")
    cg("init")
    first = json.loads(cg("ingest", "d", "--json").stdout)
    second = json.loads(cg("ingest", "d", "--json").stdout)
    return {"work": work, "cg": cg, "first": first, "second": second}


def test_first_ingest_accepts_most_and_quarantines_the_dirt(county) -> None:
    first = county["first"]
    assert {"read", "accepted", "rejected", "duplicates"} <= set(first)
    assert first["accepted"] / first["read"] > 0.95
    assert first["rejected"] > 0
    reasons = " ".join(first["reasons"])
    assert "invalid unified social credit code" in reasons and "invalid resident ID number" in reasons
    assert "not approved from department" in reasons and "unknown code" in reasons
    assert first["setup"]["data_requests"] == {"requested": 40, "approved": 34, "rejected": 6}


def test_second_ingest_reports_zero_accepted_and_all_duplicates(county) -> None:
    """The same files again add nothing: every stored row is a duplicate, and the rows
    refused the first time are checked again and refused again (never counted as
    duplicates of rows that were never stored: docs/ingestion.md, "A file sent again")."""
    second = county["second"]
    assert second["accepted"] == 0 and second["corrected"] == 0
    assert second["rejected"] == county["first"]["rejected"]
    assert second["duplicates"] == second["read"] - second["filtered"] - second["rejected"]
    assert second["read"] == county["first"]["read"]


def test_credit_file_trace_and_audit(county) -> None:
    cg, work = county["cg"], county["work"]
    con = sqlite3.connect(work / "creditgov.db")
    rec_id, uscc = con.execute(
        "SELECT r.id, s.uscc FROM credit_records r JOIN subjects s ON s.id = r.subject_id "
        "WHERE s.uscc IS NOT NULL AND r.item_code LIKE 'market.penalty%' ORDER BY r.id LIMIT 1").fetchone()
    person_id = con.execute("SELECT id FROM subjects WHERE kind = 'individual' ORDER BY id LIMIT 1").fetchone()[0]
    con.close()
    shown = json.loads(cg("subject", "show", uscc, "--json").stdout)
    assert shown["uscc"] == uscc and shown["region"] and any(r["id"] == rec_id for r in shown["records"])
    assert any(ln["role"] == "legal_representative" for ln in shown["links"])
    person = json.loads(cg("subject", "show", str(person_id), "--json", "--purpose", "e2e check").stdout)
    assert person["resident_id"].count("*") == 11
    log = json.loads(cg("audit", "log", "--subject", str(person_id), "--json").stdout)
    assert any(e["action"] == "subject.read" and e["purpose"] == "e2e check" for e in log)

    tr = json.loads(cg("ingest", "trace", str(rec_id), "--json").stdout)
    assert tr["raw_hash_matches"] and tr["spec"]["name"] and tr["raw"]
    assert any(st["step"] == "date" for st in tr["steps"])
    human = cg("ingest", "trace", str(rec_id)).stdout
    assert "raw row hash" in human and "matches" in human

    assert cg("audit", "verify").returncode == 0


def test_quarantine_list_and_retry(county) -> None:
    cg = county["cg"]
    rows = json.loads(cg("quarantine", "list", "--json", "--limit", "1000").stdout)
    assert rows and all(r["reason"] and r["raw"] for r in rows)
    unapproved = [r for r in rows if "not approved" in r["reason"]]
    assert unapproved
    retried = json.loads(cg("quarantine", "retry", "--json").stdout)
    # nothing was fixed, so nothing is accepted and every row stays quarantined with its reason
    assert retried["accepted"] == 0 and retried["rejected"] + retried["duplicates"] == len(
        json.loads(cg("quarantine", "list", "--json", "--limit", "100000").stdout))


def test_errors_are_one_line_with_nonzero_exit(county) -> None:
    cg = county["cg"]
    missing = cg("ingest", "no-such-folder", check=False)
    assert missing.returncode != 0 and missing.stderr.strip().count("\n") == 0 and "no such file" in missing.stderr
    bad = cg("subject", "show", "91330000000000000X", check=False)
    assert bad.returncode != 0 and "no subject" in bad.stderr


def test_editing_an_audit_row_makes_verify_fail(county) -> None:
    cg, work = county["cg"], county["work"]
    con = sqlite3.connect(work / "creditgov.db")
    con.execute("UPDATE audit_entries SET actor = 'someone else' WHERE id = 3")
    con.commit()
    con.close()
    res = cg("audit", "verify", check=False)
    assert res.returncode == 1 and "broken at entry 3" in res.stderr


def test_status_summary(county) -> None:
    # runs last in the module on purpose: it reads a store whose audit chain was broken above
    out = json.loads(county["cg"]("status", "--json").stdout)
    assert out["subjects"] >= 2000 and out["records"] > 10_000 and out["audit_intact"] is False
